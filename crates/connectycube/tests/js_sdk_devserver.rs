//! A Rust user and a user of the official JS SDK (npm `connectycube`, pinned in
//! `fixtures/js-peer/`) chat through the local devserver, each with their own SDK: the JS SDK
//! makes its REST session and dialog and connects over wss, ours over direct TLS with its
//! session token. Messages, markers and typing cross both ways, and the history the JS SDK
//! reads back holds what both sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::MessageId;
use connectycube::protocol::message::chat_state::TypingState;
use connectycube::protocol::model::Message;
use connectycube::{Event, Peer, Subscription};
use serde_json::{Value, json};

use support::{WAIT, js_user, server, user};

async fn wait<T>(events: &mut Subscription, mut pick: impl FnMut(ChatEvent) -> Option<T>) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = events.next().await.expect("client gone");
            if let Event::Chat(received) = event
                && let Some(found) = pick(received.into_event())
            {
                return found;
            }
        }
    })
    .await
    .expect("no such event")
}

#[tokio::test]
async fn a_rust_user_and_a_js_sdk_user_chat_through_the_devserver() {
    if !connectycube_fixtures::needs::js_peer() {
        return;
    }
    let srv = server(&["ann", "bob"]).await;
    let (mut js, ann) = js_user(&srv, "ann").await;
    let (bob_session, mut bob_events, _) = user(&srv, "bob").await;
    let bob = bob_session.chat().clone();

    let create =
        json!({"cmd": "dialog_create", "params": {"type": 3, "occupants_ids": [bob.user().0]}});
    let dialog = js.call(create, WAIT).await.unwrap()["dialog"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The JS SDK's message reaches our app whole, with its dialog and custom field.
    let send = json!({"cmd": "send", "to": bob.user().0, "body": "hello from JS",
        "extension": {"save_to_history": 1, "dialog_id": dialog, "mood": "fine"}});
    let js_id: MessageId = js.call(send, WAIT).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let got = wait(&mut bob_events, |e| match e {
        ChatEvent::ChatMessage(m) if m.payload.id == js_id => Some(m.payload),
        _ => None,
    })
    .await;
    assert_eq!(got.body.as_deref(), Some("hello from JS"));
    assert_eq!(got.dialog_id.map(|d| d.to_string()), Some(dialog.clone()));
    assert_eq!(got.custom.get("mood"), Some(&json!("fine")));

    // Our markers and typing reach the JS SDK's listeners.
    bob.send_delivered(Peer::User(ann, got.dialog_id), js_id)
        .await
        .unwrap();
    bob.send_read(Peer::User(ann, got.dialog_id), js_id)
        .await
        .unwrap();
    bob.send_typing(Peer::User(ann, None), TypingState::Composing)
        .await
        .unwrap();
    for kind in ["delivered", "read"] {
        let seen = js
            .event(WAIT, |v: &Value| {
                v["event"] == kind && v["messageId"] == json!(js_id.to_string())
            })
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(seen["userId"], json!(bob.user().0));
    }
    let typing = js
        .event(WAIT, |v: &Value| v["event"] == "typing")
        .await
        .unwrap();
    assert_eq!(typing["isTyping"], json!(true));

    // Ours reaches the JS SDK, and its 'read' comes back to us.
    let mut reply = Message::new("hello from Rust");
    reply.dialog_id = got.dialog_id;
    bob.send_private(ann, &reply).await.unwrap();
    let msg = js
        .event(WAIT, |v: &Value| {
            v["event"] == "message" && v["message"]["id"] == json!(reply.id.to_string())
        })
        .await
        .unwrap();
    assert_eq!(msg["message"]["body"], json!("hello from Rust"));
    let read = json!({"cmd": "read", "messageId": reply.id.to_string(), "dialogId": dialog, "userId": bob.user().0});
    js.call(read, WAIT).await.unwrap();
    let read_id = wait(&mut bob_events, |e| match e {
        ChatEvent::Read(r) => Some(r.payload),
        _ => None,
    })
    .await;
    assert_eq!(read_id, reply.id);

    // The history the JS SDK reads over REST holds both messages.
    let history = json!({"cmd": "history", "params": {"chat_dialog_id": dialog}});
    let items = js.call(history, WAIT).await.unwrap()["messages"]["items"].clone();
    let bodies: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert!(bodies.contains(&"hello from JS"), "{bodies:?}");
    assert!(bodies.contains(&"hello from Rust"), "{bodies:?}");

    js.call(json!({"cmd": "disconnect"}), WAIT).await.unwrap();
    bob.logout().await;
    srv.shutdown().await;
}
