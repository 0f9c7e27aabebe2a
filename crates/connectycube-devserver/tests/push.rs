//! Push notifications as `server-push_notifications.md` describes them, through the typed
//! endpoints of `connectycube-rest`: a device subscribes, a push event reaches it, a chat
//! message to its offline user alerts it unless silent or muted, and every push is
//! observable from Rust (`DevServer::pushes_delivered`) and over the admin endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

mod kit;
mod support;

use connectycube_devserver::store::PushSource;
use connectycube_protocol::ids::{MessageId, UserId};
use connectycube_rest::chat::dialogs::CreateDialog;
use connectycube_rest::chat::notifications::UpdateNotifications;
use connectycube_rest::push::{
    CreateEvent, CreateSubscription, DeleteSubscription, ListSubscriptions, Recipients,
};
use connectycube_transport::session::SessionSettings;
use kit::{chat, message_to, rest, server};
use serde_json::json;

#[tokio::test]
async fn a_subscribed_device_gets_events_and_can_unsubscribe() {
    let srv = server(&["ann", "bob"]).await;
    let (ann, _, _) = rest(&srv, "ann").await;
    let (bob, bob_id, _) = rest(&srv, "bob").await;
    let made = bob
        .send(&CreateSubscription::new(
            "gcm",
            "android",
            "bob-phone",
            "fcm-token-1",
        ))
        .await
        .unwrap();
    assert_eq!(made[0].subscription.notification_channel.name, "gcm");
    assert_eq!(made[0].subscription.device.udid, "bob-phone");
    let listed = bob.send(&ListSubscriptions).await.unwrap();
    assert_eq!(listed, made);

    let event = CreateEvent::universal(
        Recipients::Users(vec![bob_id.0]),
        &json!({"message": "Bob wants to play"}),
    );
    let answer = ann.send(&event).await.unwrap();
    let event_id = answer[0].event.id;
    let pushes = srv.pushes_delivered(Some(bob_id)).unwrap();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].source, PushSource::Event(event_id));
    assert_eq!(pushes[0].payload["message"], "Bob wants to play");
    assert_eq!(pushes[0].subscription, made[0].subscription.id);

    // The same over the admin endpoint, for tests in other languages.
    let admin = support::send(
        srv.api_addr(),
        "GET",
        &format!("/_devserver/pushes?user_id={}", bob_id.0),
        &[("cb-authkey", srv.auth_key())],
        Vec::new(),
    )
    .await;
    assert_eq!(admin.status, 200);
    let items = admin.json()["items"].clone();
    assert_eq!(items[0]["event_id"], event_id);
    assert_eq!(items[0]["payload"]["message"], "Bob wants to play");
    let refused = support::send(
        srv.api_addr(),
        "GET",
        "/_devserver/pushes",
        &[("cb-authkey", "wrong")],
        Vec::new(),
    )
    .await;
    assert_eq!(refused.status, 401);

    bob.send(&DeleteSubscription {
        id: made[0].subscription.id,
    })
    .await
    .unwrap();
    assert!(bob.send(&ListSubscriptions).await.unwrap().is_empty());
    ann.send(&event).await.unwrap();
    assert_eq!(srv.pushes_delivered(Some(bob_id)).unwrap().len(), 1);
}

#[tokio::test]
async fn chat_alerts_reach_an_offline_users_devices_unless_silent_or_muted() {
    let srv = server(&["ann", "bob"]).await;
    let (_, ann_id, ann_token) = rest(&srv, "ann").await;
    let (bob, bob_id, _) = rest(&srv, "bob").await;
    bob.send(&CreateSubscription::new(
        "apns",
        "ios",
        "bob-iphone",
        "apns-token",
    ))
    .await
    .unwrap();
    let dialog = bob.send(&CreateDialog::private(ann_id)).await.unwrap().id;
    let (ann_chat, _ann_in) = chat(&srv, ann_id, &ann_token, SessionSettings::default()).await;
    let with_dialog =
        format!("<dialog_id>{dialog}</dialog_id><save_to_history>1</save_to_history>");
    let send = |id: &MessageId, body: &str, extra: &str| {
        ann_chat.send(message_to(&srv, bob_id, &id.to_string(), body, extra))
    };

    let alerted = MessageId::generate();
    send(&alerted, "are you there?", &with_dialog)
        .await
        .unwrap();
    let silent = MessageId::generate();
    send(
        &silent,
        "no push for this",
        &format!("{with_dialog}<silent>1</silent>"),
    )
    .await
    .unwrap();
    let pushes = wait_for_pushes(&srv, bob_id, 1).await;
    assert_eq!(pushes[0].source, PushSource::ChatAlert);
    assert_eq!(pushes[0].message, Some(alerted));
    assert_eq!(pushes[0].sender, Some(ann_id));
    assert_eq!(pushes[0].payload["message"], "are you there?");

    // Bob mutes the dialog: no alert, neither recorded for his devices nor in the log.
    bob.send(&UpdateNotifications {
        id: dialog,
        enabled: false,
    })
    .await
    .unwrap();
    let muted = MessageId::generate();
    send(&muted, "muted", &with_dialog).await.unwrap();
    let after = MessageId::generate();
    bob.send(&UpdateNotifications {
        id: dialog,
        enabled: true,
    })
    .await
    .unwrap();
    send(&after, "unmuted again", &with_dialog).await.unwrap();
    let pushes = wait_for_pushes(&srv, bob_id, 2).await;
    let ids: Vec<_> = pushes.iter().map(|p| p.message).collect();
    assert_eq!(
        ids,
        [Some(alerted), Some(after)],
        "silent and muted make no push"
    );
    let logged: Vec<_> = srv
        .chat()
        .unwrap()
        .notifications()
        .iter()
        .map(|n| n.message)
        .collect();
    assert_eq!(logged, [Some(alerted), Some(after)]);
    ann_chat.logout().await;
}

/// The pushes to `user` once there are `n` (chat alerts are recorded as the chat routes).
async fn wait_for_pushes(
    srv: &connectycube_devserver::DevServer,
    user: UserId,
    n: usize,
) -> Vec<connectycube_devserver::store::PushDelivery> {
    tokio::time::timeout(kit::WAIT, async {
        loop {
            let p = srv.pushes_delivered(Some(user)).unwrap();
            if p.len() >= n {
                // A moment more: anything beyond `n` would be a push too many.
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                return srv.pushes_delivered(Some(user)).unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the pushes were recorded")
}

#[tokio::test]
async fn a_group_message_alerts_the_offline_occupants_devices_unless_silent() {
    let srv = server(&["ann", "bob"]).await;
    let (_, ann_id, ann_token) = rest(&srv, "ann").await;
    let (bob, bob_id, _) = rest(&srv, "bob").await;
    bob.send(&CreateSubscription::new(
        "gcm",
        "android",
        "bob-phone",
        "fcm",
    ))
    .await
    .unwrap();
    let group = bob
        .send(&CreateDialog::group("team", [ann_id]))
        .await
        .unwrap()
        .id;
    let (ann_chat, mut ann_in) = chat(&srv, ann_id, &ann_token, SessionSettings::default()).await;
    let (host, app) = (srv.chat().unwrap().host().to_owned(), srv.app_id());
    let room = format!("{app}_{group}@muc.{host}");
    let join: minidom::Element = format!(
        "<presence xmlns='jabber:client' to='{room}/{}'><x xmlns='http://jabber.org/protocol/muc'>\
         <history maxstanzas='0'/></x></presence>",
        ann_id.0
    )
    .parse()
    .unwrap();
    ann_chat.send(join).await.unwrap();
    kit::next(&mut ann_in, |e| e.name() == "presence").await;
    let say = |id: &MessageId, extra: &str| -> minidom::Element {
        format!(
            "<message xmlns='jabber:client' type='groupchat' to='{room}' id='{id}'>\
             <body>to the team</body><extraParams xmlns='jabber:client'>{extra}</extraParams>\
             </message>"
        )
        .parse()
        .unwrap()
    };
    let silent = MessageId::generate();
    ann_chat
        .send(say(&silent, "<silent>1</silent>"))
        .await
        .unwrap();
    let loud = MessageId::generate();
    ann_chat.send(say(&loud, "")).await.unwrap();
    let pushes = wait_for_pushes(&srv, bob_id, 1).await;
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0].message, Some(loud));
    assert_eq!(pushes[0].dialog, Some(group));
    // Ann is online and in the foreground: none for her.
    assert!(srv.pushes_delivered(Some(ann_id)).unwrap().is_empty());
    ann_chat.logout().await;
}
