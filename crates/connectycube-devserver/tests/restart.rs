//! A restart on the same `--db` keeps what the chat and REST halves were told: a message
//! sent to an offline user (the offline queue was in memory and lost before), the group
//! dialog its room is, a privacy list set over chat, and a REST session whose token still
//! logs in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use connectycube_devserver::store::{Dialog, dialog_type};
use connectycube_devserver::{DevServer, DevServerConfig};
use connectycube_protocol::ids::{MessageId, UserId};
use connectycube_transport::session::{ChatConnection, Incoming, SessionSettings};
use minidom::Element;

mod kit;

use kit::{WAIT, next};

async fn start(db: &Path) -> DevServer {
    let config = DevServerConfig {
        db: Some(db.to_path_buf()),
        auth_key: Some("restart-key".into()),
        ..DevServerConfig::default()
    };
    kit::server_with(config, &["ann", "bob"]).await
}

/// A REST session's token and user id.
async fn session(srv: &DevServer, login: &str) -> (String, UserId) {
    let (_, user, token) = kit::rest(srv, login).await;
    (token, user)
}

/// Logs `user` in to chat with a REST session's token as the password.
async fn chat(srv: &DevServer, user: UserId, token: &str) -> (ChatConnection, Incoming) {
    kit::chat(
        srv,
        user,
        token,
        SessionSettings::default().with_total_reconnections(0),
    )
    .await
}

#[tokio::test]
async fn a_restart_on_the_same_db_keeps_offline_messages_rooms_privacy_lists_and_sessions() {
    let dir = std::env::temp_dir().join(format!(
        "cc-devserver-restart-{}",
        connectycube_devserver::store::random_hex(6)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("dev.sqlite");

    let srv = start(&db).await;
    let (ann_token, ann) = session(&srv, "ann").await;
    let (bob_token, bob) = session(&srv, "bob").await;
    let host = srv.chat().unwrap().host().to_owned();
    let app = srv.app_id();
    let mut group = Dialog::new(app, dialog_type::GROUP, ann);
    group.occupants = vec![ann, bob];
    srv.store().put_dialog(&group).unwrap();

    // Bob blocks nobody in particular but keeps a list; ann writes to bob, who is offline.
    let (bob_chat, _bob_in) = chat(&srv, bob, &bob_token).await;
    let privacy: Element = format!(
        "<iq xmlns='jabber:client' type='set' id='p1'><query xmlns='jabber:iq:privacy'>\
         <list name='quiet'><item type='jid' value='99-{app}@{host}' action='deny' order='1'/>\
         </list></query></iq>"
    )
    .parse()
    .unwrap();
    bob_chat.send(privacy).await.unwrap();
    tokio::time::timeout(WAIT, async {
        while srv.store().privacy_list(bob, "quiet").unwrap().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the privacy list was stored");
    bob_chat.logout().await;

    let (ann_chat, _ann_in) = chat(&srv, ann, &ann_token).await;
    let id = MessageId::generate();
    let to_bob: Element = format!(
        "<message xmlns='jabber:client' type='chat' to='{}-{app}@{host}' id='{id}'>\
         <body>while you were away</body></message>",
        bob.0
    )
    .parse()
    .unwrap();
    // Bob's session may take a moment to go offline; then the message is queued for him.
    tokio::time::sleep(Duration::from_millis(200)).await;
    ann_chat.send(to_bob).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    ann_chat.logout().await;
    srv.shutdown().await;

    let srv = start(&db).await;
    // The sessions: both tokens still log in to chat.
    let (_ann_chat, _) = chat(&srv, ann, &ann_token).await;
    let (bob_chat, mut bob_in) = chat(&srv, bob, &bob_token).await;
    // The offline message, stamped as offline storage.
    let got = next(&mut bob_in, |e| {
        e.name() == "message" && e.attr("id") == Some(id.to_string().as_str())
    })
    .await;
    assert_eq!(
        got.get_child("body", "jabber:client").map(Element::text),
        Some("while you were away".to_owned())
    );
    assert!(got.has_child("delay", "urn:xmpp:delay"), "delivered late");
    // The room: bob joins the group dialog's room.
    let join: Element = format!(
        "<presence xmlns='jabber:client' to='{app}_{}@muc.{host}/{}'>\
         <x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>",
        group.id, bob.0
    )
    .parse()
    .unwrap();
    bob_chat.send(join).await.unwrap();
    let own = next(&mut bob_in, |e| {
        e.name() == "presence"
            && e.get_child("x", "http://jabber.org/protocol/muc#user")
                .is_some_and(|x| x.children().any(|c| c.attr("code") == Some("110")))
    })
    .await;
    assert!(own.attr("type").is_none(), "joined: {}", String::from(&own));
    // The privacy list.
    let list = srv.store().privacy_list(bob, "quiet").unwrap().unwrap();
    assert_eq!(list.items.len(), 1);
    bob_chat.logout().await;
    srv.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
