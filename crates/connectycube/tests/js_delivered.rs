//! The automatic 'delivered' marker with the official JS SDK (npm `connectycube` 6.x, which
//! never writes `<markable/>`) as the peer, through the devserver: with the JS SDK's policy
//! (`AutoDelivered::MarkableOrDialog`; the default is the guide's markable-only) a Rust user
//! and a JS SDK user each see the other's 'delivered' for their messages, 1-1 and in a group,
//! without either app sending a marker itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use connectycube::protocol::address::ChatDomain;
use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::{AppId, DialogId, MessageId, UserId};
use connectycube::protocol::model::Message;
use connectycube::{AutoDelivered, ChatClient, DeliverySettings, EventKind, Subscription};
use connectycube_fixtures::js_peer::JsPeer;
use serde_json::{Value, json};
use support::{WAIT, js_user, server, user_with, wait};

async fn delivered_to_us(sub: &mut Subscription, id: MessageId) -> UserId {
    wait(sub, |e| match e.chat() {
        Some(ChatEvent::Delivered(d)) if d.payload == id => d
            .envelope
            .from
            .as_ref()
            .and_then(|f| connectycube::protocol::address::user_id_of(f).ok()),
        _ => None,
    })
    .await
}

async fn delivered_to_js(js: &mut JsPeer, id: &str, by: &ChatClient) {
    let seen = js
        .event(WAIT, |v: &Value| {
            v["event"] == "delivered" && v["messageId"] == json!(id)
        })
        .await
        .expect("the JS SDK saw our automatic 'delivered'");
    assert_eq!(seen["userId"], json!(by.user().0));
}

#[tokio::test]
async fn rust_and_js_sdk_users_see_each_others_automatic_delivered_markers() {
    if !connectycube_fixtures::needs::js_peer() {
        return;
    }
    let srv = server(&["ann", "bob"]).await;
    let (mut js, ann) = js_user(&srv, "ann").await;
    // The JS SDK never writes <markable/>: marking its messages is the opt-in policy.
    let js_rule = DeliverySettings::default().with_auto_delivered(AutoDelivered::MarkableOrDialog);
    let (bob_session, bob_events, _) = user_with(&srv, "bob", js_rule).await;
    let bob = bob_session.chat().clone();
    drop(bob_events);
    let mut statuses = bob_session.events(EventKind::Statuses);

    // 1-1: the JS SDK's message (no <markable/>) gets bob's marker with no call of his.
    let create =
        json!({"cmd": "dialog_create", "params": {"type": 3, "occupants_ids": [bob.user().0]}});
    let private: DialogId = js.call(create, WAIT).await.unwrap()["dialog"]["_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let send = json!({"cmd": "send", "to": bob.user().0, "body": "1-1 from JS",
        "extension": {"save_to_history": 1, "dialog_id": private.to_string()}});
    let js_id = js.call(send, WAIT).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    delivered_to_js(&mut js, &js_id, &bob).await;
    // Ours gets the JS SDK's.
    let mut m = Message::new("1-1 from Rust");
    m.dialog_id = Some(private);
    bob.send_private(ann, &m).await.unwrap();
    assert_eq!(delivered_to_us(&mut statuses, m.id).await, ann);

    // Group: both joined, each side's message gets the other's marker.
    let create = json!({"cmd": "dialog_create", "params": {"type": 2, "name": "both",
        "occupants_ids": [bob.user().0]}});
    let group: DialogId = js.call(create, WAIT).await.unwrap()["dialog"]["_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut joins = bob_session.events(EventKind::Presence);
    bob.join(group).await.unwrap();
    js.call(
        json!({"cmd": "join_nowait", "dialog_id": group.to_string()}),
        WAIT,
    )
    .await
    .unwrap();
    // In the room once bob sees the JS SDK user arrive.
    wait(&mut joins, |e| match e.chat() {
        Some(ChatEvent::OccupantJoined(o)) if o.user == ann => Some(()),
        _ => None,
    })
    .await;
    let room = ChatDomain::new(srv.chat().unwrap().host(), AppId(srv.app_id()))
        .room_jid(group)
        .unwrap()
        .to_string();
    let send = json!({"cmd": "send", "to": room, "type": "groupchat", "body": "group from JS",
        "extension": {"save_to_history": 1, "dialog_id": group.to_string()}});
    let js_id = js.call(send, WAIT).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    delivered_to_js(&mut js, &js_id, &bob).await;
    let mut m = Message::new("group from Rust");
    m.dialog_id = Some(group);
    bob.send_to_dialog(group, &m).await.unwrap();
    assert_eq!(delivered_to_us(&mut statuses, m.id).await, ann);

    js.call(json!({"cmd": "disconnect"}), WAIT).await.unwrap();
    bob.logout().await;
    srv.shutdown().await;
}
