//! A restart on the same `--db` keeps what the chat and REST halves were told: a message
//! sent to an offline user (the offline queue was in memory and lost before), the group
//! dialog its room is, a privacy list set over chat, and a REST session whose token still
//! logs in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use connectycube_devserver::store::{Dialog, dialog_type};
use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};
use connectycube_protocol::ids::{AppId, MessageId, UserId};
use connectycube_rest::session::{CreateSession, Secret, SessionUser};
use connectycube_rest::{RestClient, RestConfig};
use connectycube_transport::connector::Credentials;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{ChatConnection, Incoming, SessionSettings};
use minidom::Element;
use xmpp_parsers::jid::BareJid;

const WAIT: Duration = Duration::from_secs(15);

async fn start(db: &Path) -> DevServer {
    let mut config = DevServerConfig {
        db: Some(db.to_path_buf()),
        auth_key: Some("restart-key".into()),
        ..DevServerConfig::default()
    };
    for l in ["ann", "bob"] {
        config
            .users
            .push(SeedUser::new(l, &format!("{l}-password1")));
    }
    DevServer::start(config).await.unwrap()
}

/// A REST session's token and user id.
async fn session(srv: &DevServer, login: &str) -> (String, UserId) {
    let mut config = RestConfig::new().with_api_url(&srv.api_url()).unwrap();
    config.allow_plain_http = true;
    let client = RestClient::new(config).unwrap();
    let who = SessionUser::Login {
        login: login.into(),
        password: Secret(format!("{login}-password1")),
    };
    let s = client
        .create_session(&CreateSession::new(
            AppId(srv.app_id()),
            srv.auth_key(),
            who,
        ))
        .await
        .unwrap();
    (s.token.expose().to_owned(), s.user_id.unwrap())
}

/// Logs `user` in to chat with a REST session's token as the password.
async fn chat(srv: &DevServer, user: UserId, token: &str) -> (ChatConnection, Incoming) {
    let chat = srv.chat().unwrap();
    let credentials = Credentials {
        jid: BareJid::new(&format!("{}-{}@{}", user.0, srv.app_id(), chat.host())).unwrap(),
        password: token.to_owned(),
    };
    let (conn, incoming) = ChatConnection::new(
        XmppConnector::new(chat.connection_config()).unwrap(),
        credentials,
        SessionSettings::default().with_total_reconnections(0),
    );
    tokio::time::timeout(WAIT, conn.login())
        .await
        .unwrap()
        .unwrap();
    (conn, incoming)
}

async fn next(incoming: &mut Incoming, wanted: impl Fn(&Element) -> bool) -> Element {
    tokio::time::timeout(WAIT, async {
        loop {
            let el = incoming.recv().await.expect("session ended");
            if wanted(&el) {
                return el;
            }
        }
    })
    .await
    .expect("nothing wanted arrived")
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
