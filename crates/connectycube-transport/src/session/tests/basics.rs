//! The session's everyday rules: login, sends, reconnection, keepalive, logout.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use minidom::Element;

use super::fake::*;
use crate::error::{StreamCondition, StreamError};
use crate::session::*;

#[tokio::test]
async fn fifty_concurrent_logins_open_one_connection() {
    let fake = Fake {
        server: Arc::new(Mutex::new(Server {
            resumable: true,
            ..Default::default()
        })),
        ..Default::default()
    };
    let (conn, _incoming) = session(&fake, settings());
    let logins: Vec<_> = (0..50)
        .map(|_| {
            let c = conn.clone();
            tokio::spawn(async move { c.login().await })
        })
        .collect();
    for l in logins {
        assert!(l.await.unwrap().is_ok());
    }
    assert_eq!(fake.connects.load(Ordering::SeqCst), 1);
    assert_eq!(
        conn.state(),
        ConnectionState::Ready,
        "login() returns once Ready"
    );
    assert_eq!(conn.jid().unwrap().to_string(), "1001-1@localhost/sdk");
}

#[tokio::test]
async fn a_send_completes_when_the_server_acks_it() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    for n in 0..20 {
        conn.send(message(n)).await.unwrap();
    }
    assert_eq!(fake.with(|s| s.messages.len()), 20);
}

#[tokio::test]
async fn sends_before_login_fail_and_auth_failure_is_never_retried() {
    let fake = Fake::default();
    fake.with(|s| s.refuse_auth = true);
    let (conn, _incoming) = session(&fake, settings());
    assert!(matches!(
        conn.send(message(1)).await,
        Err(SendError::NotConnected)
    ));
    assert!(matches!(
        conn.login().await,
        Err(LoginError::Authentication(c)) if c == "not-authorized"
    ));
    assert_eq!(conn.state(), ConnectionState::AuthenticationFailure);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.connects.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_cut_connection_resumes_and_resends_what_was_not_acked() {
    let fake = Fake::default();
    fake.with(|s| s.resumable = true);
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    conn.send(message(0)).await.unwrap();
    fake.with(|s| s.silent = true); // the next sends reach a server that no longer answers
    let pending: Vec<_> = (1..5).map(|n| conn.send(message(n))).collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // What reached the silent server was neither counted nor kept: lost with the connection.
    fake.with(|s| s.silent = false);
    fake.cut();
    wait_for(&conn, ConnectionState::Ready).await;
    for p in pending {
        p.await.unwrap();
    }
    let ids = fake.with(|s| s.messages.clone());
    assert_eq!(
        ids,
        ["m0", "m1", "m2", "m3", "m4"],
        "every message exactly once, in order"
    );
    assert_eq!(fake.connects.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_resume_logs_in_afresh_and_resends_messages_with_their_ids() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.with(|s| s.silent = true);
    let msg = conn.send(message(7));
    let iq = conn.send(
        format!("<iq xmlns='{C}' type='get' id='q1'><query xmlns='jabber:iq:last'/></iq>")
            .parse()
            .unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    fake.with(|s| s.silent = false);
    fake.cut();
    assert!(msg.await.is_ok());
    assert!(matches!(iq.await, Err(SendError::SessionRestarted)));
    assert_eq!(fake.with(|s| s.messages.clone()), ["m7"]);
}

#[tokio::test]
async fn reconnection_gives_up_and_fails_every_waiting_send() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.with(|s| s.down = true);
    fake.cut();
    wait_for(&conn, ConnectionState::Reconnecting).await;
    let queued = conn.send(message(1));
    assert!(matches!(queued.await, Err(SendError::ConnectionLost(_))));
    assert_eq!(conn.state(), ConnectionState::ForceClosed);
    assert_eq!(
        fake.connects.load(Ordering::SeqCst),
        1 + 3,
        "one login and three reconnections"
    );
}

#[tokio::test]
async fn a_resource_conflict_is_never_reconnected() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.stream_error(StreamCondition::Conflict).await;
    wait_for(&conn, ConnectionState::ForceClosed).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(fake.connects.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_silent_server_is_detected_by_the_keepalive() {
    let fake = Fake::default();
    let quick = settings().with_keepalive(Duration::from_millis(100), Duration::from_millis(100));
    let (conn, _incoming) = session(&fake, quick);
    conn.login().await.unwrap();
    fake.with(|s| s.silent = true);
    let started = std::time::Instant::now();
    wait_for(&conn, ConnectionState::Reconnecting).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    fake.with(|s| s.silent = false);
    wait_for(&conn, ConnectionState::Ready).await;
}

#[tokio::test]
async fn an_error_answering_a_message_fails_its_handle() {
    let fake = Fake::default();
    let (conn, mut incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    fake.with(|s| s.bounce = true);
    assert!(matches!(
        conn.send(message(3)).await,
        Err(SendError::Bounced(b)) if b.condition == StanzaErrorCondition::ServiceUnavailable
            && b.text.as_deref() == Some("blocked") && !b.after_ack
    ));
    let bounced = incoming.recv().await.unwrap();
    assert_eq!(
        bounced.attr("type"),
        Some("error"),
        "the app sees the error too"
    );
}

#[tokio::test]
async fn logout_closes_and_later_sends_fail() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    conn.logout().await;
    conn.logout().await;
    assert_eq!(conn.state(), ConnectionState::Closed);
    assert!(matches!(
        conn.send(message(1)).await,
        Err(SendError::NotConnected)
    ));
    conn.relogin().await.unwrap();
    assert_eq!(conn.state(), ConnectionState::Ready);
    conn.destroy().await;
    assert!(matches!(conn.login().await, Err(LoginError::Closed)));
}

#[tokio::test]
async fn server_pings_are_answered_and_client_pings_measured() {
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let rtt = conn
        .ping_with_timeout(Duration::from_secs(2))
        .await
        .unwrap();
    assert!(rtt < Duration::from_secs(2));
}

/// A burst of sends larger than any internal buffer reaches the server in the order of the
/// calls (found by `cargo xtask bench xmpp`: sends past a full command queue overtook each
/// other on a multi-threaded runtime).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sends_reaches_the_server_in_call_order() {
    const N: usize = 20_000;
    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let handles: Vec<_> = (0..N).map(|n| conn.send(message(n))).collect();
    for h in handles {
        h.await.unwrap();
    }
    let got = fake.with(|s| s.messages.clone());
    let want: Vec<String> = (0..N).map(|n| format!("m{n}")).collect();
    let first_wrong = got.iter().zip(&want).position(|(g, w)| g != w);
    assert_eq!(got.len(), N);
    assert_eq!(first_wrong, None, "first out of order at {first_wrong:?}");
}

#[tokio::test]
async fn sends_wait_in_a_bounded_queue_while_reconnecting() {
    let fake = Fake::default();
    let small = settings()
        .with_max_queued_sends(2)
        .with_reconnection_timeout(Duration::from_millis(300));
    let (conn, _incoming) = session(&fake, small);
    conn.login().await.unwrap();
    fake.with(|s| s.down = true);
    fake.cut();
    wait_for(&conn, ConnectionState::Reconnecting).await;
    let first = conn.send(message(1));
    let second = conn.send(message(2));
    assert!(matches!(
        conn.send(message(3)).await,
        Err(SendError::QueueFull(2))
    ));
    fake.with(|s| s.down = false);
    assert!(first.await.is_ok());
    assert!(second.await.is_ok());
    assert_eq!(
        fake.with(|s| s.messages.clone()),
        ["m1", "m2"],
        "queued sends go out in order"
    );
}

#[tokio::test]
async fn nothing_from_an_old_connection_reaches_the_app_after_a_new_one() {
    let fake = Fake::default();
    fake.with(|s| s.resumable = false);
    let (conn, mut incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let old = fake.with(|s| s.push.clone()).unwrap();
    old.send(Err(StreamError::Closed)).await.unwrap();
    for _ in 0..100 {
        if fake.connects.load(Ordering::SeqCst) == 2 && conn.state() == ConnectionState::Ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.connects.load(Ordering::SeqCst), 2);
    // The session dropped the old connection's channel: a late stanza from it goes nowhere.
    let late: Element =
        format!("<message xmlns='{C}' type='chat' id='late'><body>x</body></message>")
            .parse()
            .unwrap();
    assert!(old.send(Ok(late.into())).await.is_err());
    let fresh: Element =
        format!("<message xmlns='{C}' type='chat' id='new'><body>y</body></message>")
            .parse()
            .unwrap();
    let push = fake.with(|s| s.push.clone()).unwrap();
    push.send(Ok(fresh.into())).await.unwrap();
    assert_eq!(incoming.recv().await.unwrap().attr("id"), Some("new"));
}

/// Logout tells the server what we received (XEP-0198 stream closure), so it does not route the
/// last messages it sent us again (ejabberd would store them offline: duplicates next login).
#[tokio::test]
async fn logout_acknowledges_every_stanza_received() {
    let fake = Fake::default();
    let (conn, mut incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let push = fake.with(|s| s.push.clone()).unwrap();
    let request: Element = format!("<r xmlns='{SM}'/>").parse().unwrap();
    push.send(Ok(request.into())).await.unwrap();
    let h0 = loop {
        if let Some(h) = fake.with(|s| s.client_acks.last().copied()) {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    for n in 0..3 {
        let inbound: Element = format!(
            "<message xmlns='{C}' type='chat' from='1002-1@localhost/x' id='in{n}'><body>{n}</body></message>"
        )
        .parse()
        .unwrap();
        push.send(Ok(inbound.into())).await.unwrap();
        assert_eq!(
            incoming.recv().await.unwrap().attr("id"),
            Some(format!("in{n}").as_str())
        );
    }
    conn.logout().await;
    assert_eq!(conn.state(), ConnectionState::Closed);
    assert_eq!(fake.with(|s| s.client_acks.last().copied()), Some(h0 + 3));
}

/// `login()` returns only once the server has processed the initial presence, which its answer
/// to the carbons IQ (sent after the presence) proves; before that a message to the user's bare
/// JID finds no available session and goes to offline storage.
#[tokio::test]
async fn login_waits_until_the_server_processed_the_presence() {
    let fake = Fake::default();
    fake.with(|s| s.hold_carbons = true);
    let (conn, _incoming) = session(&fake, settings());
    let login = tokio::spawn({
        let conn = conn.clone();
        async move { conn.login().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !login.is_finished(),
        "login returned before the carbons answer"
    );
    assert_ne!(conn.state(), ConnectionState::Ready);
    let sent = fake.with(|s| s.stanzas.clone());
    let presence = sent.iter().position(|n| n == "presence");
    let iq = sent.iter().rposition(|n| n == "iq");
    assert!(presence.is_some() && presence < iq, "{sent:?}");
    let answer: Element = format!(
        "<iq xmlns='{C}' type='result' id='{}'/>",
        negotiate::CARBONS_ID
    )
    .parse()
    .unwrap();
    let push = fake.with(|s| s.push.clone()).unwrap();
    push.send(Ok(answer.into())).await.unwrap();
    login.await.unwrap().unwrap();
    assert_eq!(conn.state(), ConnectionState::Ready);
}

/// Hot messages reach the session already read (no tree): they count for stream management
/// like any stanza, and the app gets them as read through the stream, or as trees from `recv`.
#[tokio::test]
async fn read_messages_are_counted_and_reach_the_app() {
    use crate::stanza::Stanza;
    use crate::xml_stream::{StreamLimits, parse_stanza_with_limits};
    use connectycube_protocol::ChatEvent;
    use futures_util::StreamExt;

    let fake = Fake::default();
    let (conn, mut incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let push = fake.with(|s| s.push.clone()).unwrap();
    let request: Element = format!("<r xmlns='{SM}'/>").parse().unwrap();
    push.send(Ok(request.into())).await.unwrap();
    let h0 = loop {
        if let Some(h) = fake.with(|s| s.client_acks.last().copied()) {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    for n in 0..3 {
        let xml = format!(
            "<message xmlns='{C}' type='chat' from='1002-1@localhost/x' id='5c094687e588ce59fff8742{n}'><body>{n}</body></message>"
        );
        let read = parse_stanza_with_limits(xml.as_bytes(), StreamLimits::new(1 << 16), true);
        let read = read.unwrap();
        assert!(matches!(read, Stanza::Read(_)));
        push.send(Ok(read)).await.unwrap();
        if n == 2 {
            let el = incoming.recv().await.unwrap();
            assert_eq!(el, xml.parse::<Element>().unwrap(), "recv gives the tree");
            continue;
        }
        match incoming.next().await {
            Some(Stanza::Read(r)) => match r.event() {
                ChatEvent::ChatMessage(m) => assert_eq!(m.payload.body, Some(n.to_string())),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }
    conn.logout().await;
    assert_eq!(fake.with(|s| s.client_acks.last().copied()), Some(h0 + 3));
}

/// A message or event written straight to text goes through the same books as a tree.
#[tokio::test]
async fn written_sends_are_acknowledged_like_tree_sends() {
    use connectycube_protocol::ChatEvent;
    use connectycube_protocol::event::Inbound;
    use connectycube_protocol::message::chat_state::TypingState;
    use connectycube_protocol::message::{ChatKind, Envelope};
    use connectycube_protocol::model::Message;
    use xmpp_parsers::message::MessageType;

    let fake = Fake::default();
    let (conn, _incoming) = session(&fake, settings());
    conn.login().await.unwrap();
    let m = Message::new("written");
    let to: xmpp_parsers::jid::Jid = "1002-1@localhost".parse().unwrap();
    let handle = conn.send_message(&m, &to, ChatKind::Chat).unwrap();
    handle.await.unwrap();
    let mut env = Envelope::new(MessageType::Chat, Some(to));
    env.id = Some("typing-1".into());
    let typing = ChatEvent::Typing(Box::new(Inbound {
        envelope: env,
        payload: TypingState::Composing,
    }));
    // Built first (a build error is the Result), then awaited to the ack.
    let handle = conn.send_event(&typing).unwrap();
    handle.await.unwrap();
    let seen = fake.with(|s| s.messages.clone());
    assert_eq!(seen, [m.id.to_string(), "typing-1".to_owned()]);
}
