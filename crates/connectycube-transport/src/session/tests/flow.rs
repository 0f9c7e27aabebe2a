//! The error classifier, states as events, acks at the pace of reading, bounces, pacing and
//! inbound backpressure (issue 8 parts 5-7, issue 11 parts 1, 2 and 5).

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;

use super::fake::*;
use crate::session::*;

fn inbound(n: usize) -> String {
    format!(
        "<message xmlns='{C}' type='chat' from='1002-1@localhost/x' id='in{n}'><body>{n}</body></message>"
    )
}

#[tokio::test]
async fn encryption_required_on_reconnection_is_final() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.with(|s| s.connect_error = Some("encryption"));
    fake.cut();
    wait_for(&conn, ConnectionState::ForceClosed).await;
    assert_eq!(
        fake.connects.load(Ordering::SeqCst),
        2,
        "one login and one attempt: not retried"
    );
    let lost = conn.send(message(1)).await;
    assert!(matches!(lost, Err(SendError::NotConnected)), "{lost:?}");
}

#[tokio::test]
async fn twenty_cut_and_resume_rounds_show_resumed_twenty_times_to_every_subscriber() {
    let fake = Fake::default();
    fake.with(|s| s.resumable = true);
    let (conn, _incoming) = session(&fake, settings());
    let a = conn.state_changes();
    let b = conn.state_changes();
    let mut waiter = Box::pin(conn.state_changes());
    let mut until_ready = async || {
        while waiter.next().await != Some(ConnectionState::Ready) {}
    };
    conn.login().await.unwrap();
    until_ready().await;
    for _ in 0..20 {
        fake.cut();
        until_ready().await;
    }
    fake.with(|s| s.resumable = false);
    fake.cut();
    until_ready().await;
    conn.logout().await;
    async fn take(s: impl futures_util::Stream<Item = ConnectionState>) -> Vec<ConnectionState> {
        let mut s = Box::pin(s);
        let mut out = Vec::new();
        while let Some(x) = s.next().await {
            out.push(x);
            if x == ConnectionState::Closed {
                return out;
            }
        }
        out
    }
    let (a, b) = (take(a).await, take(b).await);
    assert_eq!(a, b, "every subscriber sees the same transitions");
    use ConnectionState::*;
    let mut want = vec![Idle, Authenticated, Ready];
    for _ in 0..20 {
        want.extend([Reconnecting, Authenticated, Resumed, Ready]);
    }
    want.extend([Reconnecting, Authenticated, NewSession, Ready, Closed]);
    assert_eq!(a, want);
    assert_eq!(a.iter().filter(|s| **s == Resumed).count(), 20);
}

/// A state change says how many stanzas the app was handed before it, so a reader of both
/// streams can put it in place.
#[tokio::test]
async fn a_state_change_knows_how_many_stanzas_came_before_it() {
    let fake = Fake::default();
    fake.with(|s| s.resumable = true);
    let (conn, mut incoming) = session(&fake, settings());
    let mut changes = Box::pin(conn.state_changes_in_order());
    conn.login().await.unwrap();
    for n in 0..3 {
        fake.push(&inbound(n)).await;
    }
    for _ in 0..3 {
        incoming.recv().await.unwrap();
    }
    fake.cut();
    let mut seen = Vec::new();
    while let Ok(Some(change)) = tokio::time::timeout(Duration::from_secs(5), changes.next()).await
    {
        seen.push((change.state, change.after_stanzas));
        if seen
            .iter()
            .filter(|(s, _)| *s == ConnectionState::Ready)
            .count()
            == 2
        {
            break;
        }
    }
    use ConnectionState::*;
    let ready = seen.iter().position(|(s, _)| *s == Ready).unwrap();
    // What the setup handed the app (its carbons answer) counts before the first Ready.
    let at_ready = seen[ready].1;
    let lost = seen.iter().find(|(s, _)| *s == Reconnecting).unwrap();
    assert_eq!(
        lost.1,
        at_ready + 3,
        "the cut came after the three messages: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&(Ready, at_ready + 3)), "{seen:?}");
}

#[tokio::test]
async fn inbound_stanzas_are_acknowledged_unprompted() {
    let fake = Fake::default();
    let paced = settings().with_ack_pace(10, Duration::from_millis(50));
    let (conn, mut incoming) = session(&fake, paced);
    conn.login().await.unwrap();
    for n in 0..25 {
        fake.push(&inbound(n)).await;
    }
    for _ in 0..25 {
        incoming.recv().await.unwrap();
    }
    // Every 10 stanzas, then the rest on the timer; the fake server never sends <r/>.
    // The carbons answer that ended the setup counts too: h runs one ahead of the messages.
    fake.until("the timer's ack", |s| s.client_acks.last() == Some(&26))
        .await;
    assert_eq!(fake.with(|s| s.client_acks.clone()), [10, 20, 26]);
}

#[tokio::test]
async fn a_stanza_whose_ack_cannot_go_out_is_still_delivered() {
    let fake = Fake::default();
    fake.with(|s| s.resumable = true);
    // An ack after every stanza: the message's own ack is the write that fails.
    let (conn, mut incoming) = session(&fake, settings().with_ack_pace(1, Duration::ZERO));
    conn.login().await.unwrap();
    fake.push(&inbound(1)).await;
    assert_eq!(incoming.recv().await.unwrap().attr("id"), Some("in1"));
    fake.deafen().await;
    fake.push(&inbound(2)).await;
    // Counted in the `h` the resumption reports, so the server will not send it again: the
    // app must have it (before the fix it was dropped with the broken link).
    let got = tokio::time::timeout(Duration::from_secs(5), incoming.recv()).await;
    assert_eq!(got.unwrap().unwrap().attr("id"), Some("in2"));
    wait_for(&conn, ConnectionState::Ready).await;
    assert!(fake.connects.load(Ordering::SeqCst) >= 2, "it reconnected");
}

#[tokio::test]
async fn a_bounce_after_the_ack_is_correlated_and_can_be_resent() {
    let fake = Fake::default();
    // Automatic resends off: the app decides.
    let no_retries = settings().with_bounce_retries(0, Duration::ZERO);
    let (conn, _incoming) = session(&fake, no_retries);
    let mut bounces = Box::pin(conn.bounces());
    conn.login().await.unwrap();
    let mut handle = conn.send(message(5));
    assert!((&mut handle).await.is_ok(), "acked by the server");
    fake.push(&format!(
        "<message xmlns='{C}' type='error' id='m5' from='1002-1@localhost'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>User session terminated</text></error></message>"
    ))
    .await;
    let bounced = bounces.next().await.unwrap();
    assert_eq!(bounced.id, "m5");
    assert_eq!(
        bounced.bounce.condition,
        StanzaErrorCondition::ServiceUnavailable
    );
    assert!(bounced.bounce.after_ack);
    assert!(
        matches!(handle.stage(), SendStage::Bounced(b) if b.text.as_deref() == Some("User session terminated"))
    );
    assert!(conn.resend(&bounced).await.is_ok());
    assert_eq!(
        fake.with(|s| s.messages.clone()),
        ["m5", "m5"],
        "resent with its id"
    );
}

fn terminated(id: &str) -> String {
    format!(
        "<message xmlns='{C}' type='error' id='{id}' from='1002-1@localhost'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>User session terminated</text></error></message>"
    )
}

#[tokio::test]
async fn a_transient_bounce_is_resent_with_its_id_until_the_retries_run_out() {
    let fake = Fake::default();
    let retries = settings().with_bounce_retries(2, Duration::from_millis(20));
    let (conn, mut incoming) = session(&fake, retries);
    let mut bounces = Box::pin(conn.bounces());
    conn.login().await.unwrap();
    let mut handle = conn.send(message(7));
    assert!((&mut handle).await.is_ok(), "acked by the server");
    for sent in 2..=3 {
        fake.push(&terminated("m7")).await;
        fake.until("the resend", |s| s.messages.len() == sent).await;
    }
    assert!(
        matches!(handle.stage(), SendStage::Acked),
        "the resend's ack: {:?}",
        handle.stage()
    );
    fake.push(&terminated("m7")).await;
    let bounced = bounces.next().await.unwrap();
    assert_eq!(bounced.id, "m7");
    assert!(matches!(handle.stage(), SendStage::Bounced(_)));
    assert_eq!(fake.with(|s| s.messages.clone()), ["m7", "m7", "m7"]);
    let error = incoming.recv().await.unwrap();
    assert_eq!(
        error.attr("type"),
        Some("error"),
        "only the final bounce reaches the app"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(100), incoming.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn at_most_max_in_flight_sends_are_unacknowledged_and_order_holds() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings().with_max_in_flight(3));
    conn.login().await.unwrap();
    fake.with(|s| s.hold_acks = true);
    let handles: Vec<_> = (0..10).map(|n| conn.send(message(n))).collect();
    fake.until("three messages", |s| s.messages.len() == 3)
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fake.with(|s| s.messages.len()), 3, "the window is full");
    fake.with(|s| s.hold_acks = false);
    let h = fake.with(|s| s.h);
    fake.push(&format!("<a xmlns='{SM}' h='{h}'/>")).await;
    for h in handles {
        assert!(h.await.is_ok());
    }
    let want: Vec<String> = (0..10).map(|n| format!("m{n}")).collect();
    assert_eq!(fake.with(|s| s.messages.clone()), want);
}

#[tokio::test]
async fn try_send_fails_fast_and_send_paced_waits_for_room() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings().with_max_pending_sends(2));
    conn.login().await.unwrap();
    fake.with(|s| s.hold_acks = true);
    let a = conn.try_send(message(1)).unwrap();
    let b = conn.try_send(message(2)).unwrap();
    assert!(matches!(
        conn.try_send(message(3)),
        Err(SendError::QueueFull(2))
    ));
    let waiting = tokio::spawn({
        let conn = conn.clone();
        async move { conn.send_paced(message(4)).await.await }
    });
    fake.until("two messages", |s| s.messages.len() == 2).await;
    assert!(!waiting.is_finished());
    fake.with(|s| s.hold_acks = false);
    let h = fake.with(|s| s.h);
    fake.push(&format!("<a xmlns='{SM}' h='{h}'/>")).await;
    assert!(a.await.is_ok() && b.await.is_ok());
    assert!(waiting.await.unwrap().is_ok());
    assert_eq!(fake.with(|s| s.messages.clone()), ["m1", "m2", "m4"]);
}

#[tokio::test]
async fn a_full_inbound_queue_stops_reading_but_not_send_handles() {
    let fake = Fake::default();
    let (conn, mut incoming) = session(&fake, settings().with_inbound_capacity(4));
    conn.login().await.unwrap();
    fake.with(|s| s.hold_acks = true);
    let handle = conn.send(message(1));
    fake.until("the message", |s| s.messages.len() == 1).await;
    // The app reads nothing: 4 queued for it, 2 held by the session, then the ack.
    for n in 0..6 {
        fake.push(&inbound(n)).await;
    }
    let h = fake.with(|s| s.h);
    fake.push(&format!("<a xmlns='{SM}' h='{h}'/>")).await;
    assert!(
        handle.await.is_ok(),
        "the ack behind unread stanzas arrived"
    );
    // Fill what the session holds; then it stops reading and the connection's channel fills.
    let push = fake.with(|s| s.push.clone()).unwrap();
    let mut pushed = 6;
    loop {
        let el: Element = inbound(pushed).parse().unwrap();
        if push.try_send(Ok(Stanza::from(el))).is_err() {
            break;
        }
        pushed += 1;
        if pushed > 1000 {
            panic!("the session kept reading");
        }
        tokio::task::yield_now().await;
    }
    assert!(pushed < 4 + 4 + 64 + 8, "stopped at {pushed}");
    for n in 0..pushed {
        let el = incoming.recv().await.unwrap();
        assert_eq!(
            el.attr("id"),
            Some(format!("in{n}").as_str()),
            "in order, none lost"
        );
    }
}
