//! The facade against the local ejabberd (`cargo xtask test`): a message with its statuses,
//! typed end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use connectycube::Peer;
use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::message::chat_state::TypingState;
use connectycube::protocol::model::{Attachment, Message};
use connectycube::transport::session::ConnectionState;

use support::ejabberd::{client, next};

#[tokio::test]
async fn a_message_and_its_statuses_arrive_typed() {
    if !support::ejabberd::available() {
        return;
    }
    let (alice_session, mut alice_events) = client(1017).await;
    let alice = alice_session.chat().clone();
    let (bob_session, mut bob_events) = client(1018).await;
    let bob = bob_session.chat().clone();
    tokio::try_join!(alice.login(), bob.login()).unwrap();
    assert_eq!(alice.state(), ConnectionState::Ready);

    alice
        .send_typing(Peer::User(bob.user(), None), TypingState::Composing)
        .await
        .unwrap();
    let ChatEvent::Typing(typing) = next(&mut bob_events, "Typing").await else {
        unreachable!()
    };
    assert_eq!(typing.payload, TypingState::Composing);

    let mut message = Message::new("café ☕ & <tags>");
    message
        .custom
        .insert("meta".into(), serde_json::json!({"a": {"b": "c"}}));
    message.attachments.push(
        Attachment::new("image")
            .with_id("3004")
            .with_url("https://x/y.png"),
    );
    alice.send_private(bob.user(), &message).await.unwrap();

    let ChatEvent::ChatMessage(got) = next(&mut bob_events, "ChatMessage").await else {
        unreachable!()
    };
    let got = got.payload;
    assert_eq!(got.id, message.id);
    assert_eq!(got.body, message.body);
    assert_eq!(got.sender_id, Some(alice.user()));
    assert_eq!(got.custom["meta"]["a"]["b"], "c");
    assert_eq!(got.attachments, message.attachments);
    assert!(got.markable);

    let ChatEvent::Delivered(d) = next(&mut alice_events, "Delivered").await else {
        unreachable!()
    };
    assert_eq!(
        d.payload, message.id,
        "bob's client sent 'received' by itself"
    );
    bob.send_read(Peer::User(alice.user(), got.dialog_id), got.id)
        .await
        .unwrap();
    let ChatEvent::Read(r) = next(&mut alice_events, "Read").await else {
        unreachable!()
    };
    assert_eq!(r.payload, message.id);

    assert_eq!(
        alice.last_activity(bob.user()).await.unwrap(),
        0,
        "bob is online"
    );
    tokio::join!(alice.logout(), bob.logout());
    assert_eq!(bob.state(), ConnectionState::Closed);
}

/// The facade's own promises on a real server: bob's app never polls, yet alice gets bob's
/// automatic 'delivered' marker; a message sent twice with one id (as a resend after a cut
/// does) reaches bob's app once, and the drop is counted.
#[tokio::test]
async fn markers_do_not_wait_for_the_app_and_duplicates_are_dropped() {
    if !support::ejabberd::available() {
        return;
    }
    let (alice_session, mut alice_events) = client(1019).await;
    let alice = alice_session.chat().clone();
    let (bob_session, mut bob_events) = client(1020).await;
    let bob = bob_session.chat().clone();
    tokio::try_join!(alice.login(), bob.login()).unwrap();

    let first = Message::new("once");
    alice.send_private(bob.user(), &first).await.unwrap();
    let ChatEvent::Delivered(d) = next(&mut alice_events, "Delivered").await else {
        unreachable!()
    };
    assert_eq!(
        d.payload, first.id,
        "marked while bob's app was not polling"
    );

    alice.send_private(bob.user(), &first).await.unwrap();
    let last = Message::new("after");
    alice.send_private(bob.user(), &last).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let ChatEvent::ChatMessage(m) = next(&mut bob_events, "ChatMessage").await else {
            unreachable!()
        };
        seen.push(m.payload.id);
        if m.payload.id == last.id {
            break;
        }
    }
    assert_eq!(seen, [first.id, last.id]);
    assert_eq!(bob.delivery_stats().duplicates_dropped, 1);
    tokio::join!(alice.logout(), bob.logout());
}
