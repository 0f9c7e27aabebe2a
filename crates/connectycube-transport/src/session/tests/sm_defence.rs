//! Truthful sends and defended stream-management counters (issue 8, parts 3 and 4): each test
//! fails on the code before them.

use std::sync::atomic::Ordering;
use std::time::Duration;

use minidom::Element;

use super::fake::*;
use crate::session::*;

/// A message that serializes to nothing valid: a control character in its body.
fn unserializable() -> Element {
    Element::builder("message", C)
        .attr("id".try_into().unwrap(), "bad")
        .append(Element::builder("body", C).append("\u{1}").build())
        .build()
}

#[tokio::test]
async fn an_unserializable_stanza_fails_its_own_handle_and_shifts_nothing() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let first = conn.send(message(1));
    let bad = conn.send(unserializable());
    let second = conn.send(message(2));
    assert!(matches!(bad.await, Err(SendError::Serialize(_))));
    assert!(first.await.is_ok());
    assert!(second.await.is_ok());
    assert_eq!(fake.with(|s| s.messages.clone()), ["m1", "m2"]);
    assert_eq!(fake.connects.load(Ordering::SeqCst), 1, "the books held");
}

#[tokio::test]
async fn a_handle_shows_written_then_acked() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.with(|s| s.hold_acks = true);
    let mut handle = conn.send(message(1));
    assert!(matches!(handle.stage(), SendStage::Queued));
    assert!(matches!(handle.next_stage().await, SendStage::Written));
    fake.until("the message", |s| s.messages.len() == 1).await;
    let h = fake.with(|s| s.h);
    fake.push(&format!("<a xmlns='{SM}' h='{h}'/>")).await;
    assert!(matches!(handle.next_stage().await, SendStage::Acked));
    assert!(handle.await.is_ok());
}

/// Sends m0 (acked), then m1..m3 into a silent server, cuts, and lets the client reconnect.
async fn cut_with_three_unacked(fake: &Fake, conn: &ChatConnection) -> Vec<SendHandle> {
    conn.login().await.unwrap();
    conn.send(message(0)).await.unwrap();
    fake.with(|s| s.silent = true);
    let pending: Vec<_> = (1..4).map(|n| conn.send(message(n))).collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    fake.with(|s| s.silent = false);
    fake.cut();
    pending
}

async fn an_impossible_resumed_h_is_refused(h: u32) {
    let fake = Fake::default();
    fake.with(|s| {
        s.resumable = true;
        s.bogus_resumed = Some(h);
    });
    let (conn, _incoming) = session(&fake, settings());
    let pending = cut_with_three_unacked(&fake, &conn).await;
    for p in pending {
        assert!(p.await.is_ok());
    }
    let errors = fake.with(|s| s.stream_errors.clone());
    assert!(
        errors.iter().any(|e| e == "handled-count-too-high"),
        "{errors:?}"
    );
    // Nothing completed falsely: all three were sent again, once, in order.
    assert_eq!(fake.with(|s| s.messages.clone()), ["m0", "m1", "m2", "m3"]);
    assert_eq!(
        fake.connects.load(Ordering::SeqCst),
        3,
        "resume refused, then fresh"
    );
}

#[tokio::test]
async fn a_resumed_h_beyond_what_was_sent_closes_the_stream_and_resends() {
    an_impossible_resumed_h_is_refused(1000).await;
}

#[tokio::test]
async fn a_resumed_h_going_backwards_closes_the_stream_and_resends() {
    // m0 was acknowledged (h = 1 after the setup's two stanzas... any h below the last ack).
    an_impossible_resumed_h_is_refused(0).await;
}

#[tokio::test]
async fn an_ack_beyond_what_was_sent_completes_nothing() {
    let fake = Fake::default();
    fake.with(|s| s.resumable = true);
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.with(|s| s.bogus_ack = Some(1000));
    let mut handle = conn.send(message(1));
    // The bogus ack closes the stream; the message goes again on a fresh session.
    wait_for(&conn, ConnectionState::Reconnecting).await;
    assert!(
        !matches!(handle.stage(), SendStage::Acked),
        "not acked falsely"
    );
    assert!((&mut handle).await.is_ok());
    assert_eq!(fake.with(|s| s.messages.clone()), ["m1", "m1"]);
    assert!(fake.with(|s| {
        s.stream_errors
            .contains(&"handled-count-too-high".to_owned())
    }));
}

#[tokio::test]
async fn failed_h_completes_what_the_old_session_handled_and_resends_nothing_twice() {
    let fake = Fake::default();
    fake.with(|s| s.failed_with_h = true);
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    conn.send(message(0)).await.unwrap();
    fake.with(|s| s.hold_acks = true);
    let pending: Vec<_> = (1..3).map(|n| conn.send(message(n))).collect();
    fake.until("m1 and m2", |s| s.messages.len() == 3).await;
    fake.with(|s| s.hold_acks = false);
    fake.cut();
    let late = conn.send(message(3));
    for p in pending {
        assert!(p.await.is_ok());
    }
    assert!(late.await.is_ok());
    assert_eq!(
        fake.with(|s| s.messages.clone()),
        ["m0", "m1", "m2", "m3"],
        "the server's <failed h/> said m1 and m2 were handled"
    );
}

#[tokio::test]
async fn a_stale_ack_does_not_drive_a_busy_loop_of_requests() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let h = fake.with(|s| s.h);
    fake.with(|s| s.stale_ack = Some(h));
    let handle = conn.send(message(1));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let requests = fake.with(|s| s.r_count);
    // One request per send or per `ack_request_interval` (1 s): a handful, not thousands.
    assert!(requests <= 3, "{requests} <r/> in 300 ms");
    fake.with(|s| s.stale_ack = None);
    assert!(handle.await.is_ok(), "the timer asks again");
}

#[tokio::test]
async fn a_pong_to_a_peer_is_counted() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.push(&format!(
        "<iq xmlns='{C}' type='get' id='p1' from='1002-1@localhost/js' to='1001-1@localhost/sdk'>\
         <ping xmlns='urn:xmpp:ping'/></iq>"
    ))
    .await;
    fake.until("the pong", |s| s.stanzas.iter().any(|n| n == "iq-answer"))
        .await;
    assert!(conn.send(message(1)).await.is_ok());
    conn.send(message(2)).await.unwrap();
    assert_eq!(fake.with(|s| s.stream_errors.len()), 0, "the books agree");
    assert_eq!(fake.connects.load(Ordering::SeqCst), 1);
    assert_eq!(fake.with(|s| s.messages.clone()), ["m1", "m2"]);
}

#[tokio::test]
async fn pings_from_a_server_that_never_acks_do_not_grow_the_books() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings().with_max_in_flight(2));
    conn.login().await.unwrap();
    let h = fake.with(|s| s.h);
    fake.with(|s| s.stale_ack = Some(h));
    for n in 0..10 {
        fake.push(&format!(
            "<iq xmlns='{C}' type='get' id='p{n}' from='1002-1@localhost/js' \
             to='1001-1@localhost/sdk'><ping xmlns='urn:xmpp:ping'/></iq>"
        ))
        .await;
    }
    fake.push(&format!(
        "<message xmlns='{C}' id='after' type='chat'><body>x</body></message>"
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pongs = fake.with(|s| s.stanzas.iter().filter(|n| *n == "iq-answer").count());
    assert!(pongs >= 1, "pings are answered while there is room");
    assert!(
        pongs <= 4,
        "{pongs} pongs unacked, more than twice the window of 2"
    );
    assert_eq!(
        fake.connects.load(Ordering::SeqCst),
        1,
        "the connection stays up"
    );
}

/// Any number of cuts and resumptions: the server gets every message once, in send order.
#[tokio::test]
async fn across_many_cuts_nothing_is_lost_duplicated_or_reordered() {
    let fake = Fake::default();
    fake.with(|s| s.resumable = true);
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let mut handles = Vec::new();
    for round in 0..10 {
        for n in 0..20 {
            handles.push(conn.send(message(round * 20 + n)));
        }
        // Cut at a different point of the burst each round.
        tokio::time::sleep(Duration::from_millis(round as u64)).await;
        fake.cut();
        wait_for(&conn, ConnectionState::Ready).await;
    }
    for h in handles {
        assert!(h.await.is_ok());
    }
    let want: Vec<String> = (0..200).map(|n| format!("m{n}")).collect();
    assert_eq!(fake.with(|s| s.messages.clone()), want);
}

/// What arrives while logout waits for the last acks is counted by the same rule as while
/// serving: stanzas only (a nonza of another namespace is not), a ping answered. The code
/// before counted every non-SM element there, so its closing `<a/>` claimed one too many.
#[tokio::test]
async fn logout_counts_what_arrives_by_the_serving_rule() {
    let fake = Fake::default();
    let (conn, mut incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.push(&format!("<r xmlns='{SM}'/>")).await;
    fake.until("the client's h", |s| !s.client_acks.is_empty())
        .await;
    let h0 = fake.with(|s| s.client_acks[s.client_acks.len() - 1]);
    fake.with(|s| s.hold_acks = true);
    let sent = conn.send(message(1));
    fake.until("the message and its <r/>", |s| {
        s.messages.len() == 1 && s.r_count >= 1
    })
    .await;
    let r0 = fake.with(|s| s.r_count);
    let logout = tokio::spawn({
        let conn = conn.clone();
        async move { conn.logout().await }
    });
    fake.until("logout's <r/>", |s| s.r_count > r0).await;
    fake.push(&format!(
        "<message xmlns='{C}' type='chat' id='late'><body>x</body></message>"
    ))
    .await;
    fake.push(&format!(
        "<iq xmlns='{C}' type='get' id='srv-ping'><ping xmlns='urn:xmpp:ping'/></iq>"
    ))
    .await;
    fake.push("<active xmlns='urn:xmpp:csi:0'/>").await;
    fake.until("the pong", |s| s.stanzas.iter().any(|n| n == "iq-answer"))
        .await;
    let h = fake.with(|s| s.h);
    fake.push(&format!("<a xmlns='{SM}' h='{h}'/>")).await;
    logout.await.unwrap();
    assert!(sent.await.is_ok(), "acknowledged before the close");
    assert_eq!(incoming.recv().await.unwrap().attr("id"), Some("late"));
    assert_eq!(
        fake.with(|s| s.client_acks.last().copied()),
        Some(h0 + 2),
        "the message and the ping count, the CSI nonza does not"
    );
}
