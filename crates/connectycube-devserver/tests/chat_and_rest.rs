//! The devserver's two halves on one store: a user logs in to chat with the REST session's
//! token, a message sent over chat with `save_to_history` is in the REST history (with the
//! dialog the server gave it), and its 'read' marker over chat shows in the REST answer; an
//! edit and a force-delete made over REST reach the other user as the chat's own stanzas.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

use std::time::Duration;

use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};
use connectycube_protocol::ids::{AppId, MessageId, UserId};
use connectycube_rest::chat::messages::{DeleteMessages, ListMessages, UpdateMessages};
use connectycube_rest::session::{CreateSession, Secret, SessionUser};
use connectycube_rest::{RestClient, RestConfig};
use connectycube_transport::connector::Credentials;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{ChatConnection, Incoming, SessionSettings};
use minidom::Element;
use xmpp_parsers::jid::BareJid;

const WAIT: Duration = Duration::from_secs(10);

fn rest(srv: &DevServer) -> RestClient {
    let mut config = RestConfig::new().with_api_url(&srv.api_url()).unwrap();
    config.allow_plain_http = true;
    RestClient::new(config).unwrap()
}

/// A REST session for `login`, and a chat session that logs in with its token.
async fn user(srv: &DevServer, login: &str) -> (RestClient, UserId, ChatConnection, Incoming) {
    let client = rest(srv);
    let who = SessionUser::Login {
        login: login.into(),
        password: Secret(format!("{login}-password1")),
    };
    let session = client
        .create_session(&CreateSession::new(
            AppId(srv.app_id()),
            srv.auth_key(),
            who,
        ))
        .await
        .unwrap();
    let id = session.user_id.unwrap();
    let chat = srv.chat().expect("the chat half runs by default");
    let config = chat.connection_config();
    let credentials = Credentials {
        jid: BareJid::new(&format!("{}-{}@{}", id.0, srv.app_id(), chat.host())).unwrap(),
        password: session.token.expose().to_owned(),
    };
    let (conn, incoming) = ChatConnection::new(
        XmppConnector::new(config).unwrap(),
        credentials,
        SessionSettings::default().with_total_reconnections(0),
    );
    tokio::time::timeout(WAIT, conn.login())
        .await
        .unwrap()
        .unwrap();
    (client, id, conn, incoming)
}

async fn next_message(incoming: &mut Incoming) -> Element {
    tokio::time::timeout(WAIT, async {
        loop {
            let el = incoming.recv().await.expect("session ended");
            if el.name() == "message" && el.get_child("body", "jabber:client").is_some() {
                return el;
            }
        }
    })
    .await
    .expect("no message")
}

#[tokio::test]
async fn a_chat_message_saved_to_history_is_read_back_over_rest() {
    let mut config = DevServerConfig::default();
    config.users.push(SeedUser::new("ann", "ann-password1"));
    config.users.push(SeedUser::new("bob", "bob-password1"));
    let srv = DevServer::start(config).await.unwrap();
    let (_ann_rest, ann, ann_chat, _ann_in) = user(&srv, "ann").await;
    let (bob_rest, bob, bob_chat, mut bob_in) = user(&srv, "bob").await;

    let id = MessageId::generate().to_string();
    let host = srv.chat().unwrap().host().to_owned();
    let xml = format!(
        "<message xmlns='jabber:client' type='chat' to='{}-{}@{host}' id='{id}'>\
         <body>hello over chat</body><extraParams xmlns='jabber:client'>\
         <save_to_history>1</save_to_history></extraParams>\
         <markable xmlns='urn:xmpp:chat-markers:0'/></message>",
        bob.0,
        srv.app_id()
    );
    ann_chat.send(xml.parse().unwrap()).await.unwrap();
    let got = next_message(&mut bob_in).await;
    assert_eq!(got.attr("id"), Some(id.as_str()));
    let extra = got.get_child("extraParams", "jabber:client").unwrap();
    let dialog = extra
        .get_child("dialog_id", "jabber:client")
        .expect("the server adds the dialog id")
        .text();
    assert!(extra.get_child("date_sent", "jabber:client").is_some());

    // Bob reads it over chat; the stored message then counts him among its readers.
    let read = format!(
        "<message xmlns='jabber:client' type='chat' to='{}-{}@{host}' id='{}'>\
         <displayed xmlns='urn:xmpp:chat-markers:0' id='{id}'/><extraParams xmlns='jabber:client'>\
         <dialog_id>{dialog}</dialog_id></extraParams></message>",
        ann.0,
        srv.app_id(),
        MessageId::generate()
    );
    bob_chat.send(read.parse().unwrap()).await.unwrap();

    let dialog_id = dialog.parse().unwrap();
    let history = tokio::time::timeout(WAIT, async {
        loop {
            let page = bob_rest.send(&ListMessages::new(dialog_id)).await.unwrap();
            let done = page.items.iter().any(|m| m.read_ids.contains(&bob));
            if done {
                return page;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the read marker never reached the stored message");
    assert_eq!(history.items.len(), 1);
    let stored = &history.items[0];
    assert_eq!(stored.id.to_string(), id);
    assert_eq!(stored.body.as_deref(), Some("hello over chat"));
    assert_eq!(stored.sender_id, Some(ann));

    ann_chat.logout().await;
    bob_chat.logout().await;
    srv.shutdown().await;
}

/// The next message with a child `name` in `ns`.
async fn next_with(incoming: &mut Incoming, name: &str, ns: &str) -> Element {
    tokio::time::timeout(WAIT, async {
        loop {
            let el = incoming.recv().await.expect("session ended");
            if el.name() == "message" && el.get_child(name, ns).is_some() {
                return el;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no message with <{name} xmlns='{ns}'/>"))
}

#[tokio::test]
async fn an_edit_and_a_force_delete_over_rest_reach_the_other_user_over_chat() {
    let mut config = DevServerConfig::default();
    config.users.push(SeedUser::new("cat", "cat-password1"));
    config.users.push(SeedUser::new("dan", "dan-password1"));
    let srv = DevServer::start(config).await.unwrap();
    let (cat_rest, cat, cat_chat, _cat_in) = user(&srv, "cat").await;
    let (_dan_rest, dan, dan_chat, mut dan_in) = user(&srv, "dan").await;
    let id = MessageId::generate();
    let host = srv.chat().unwrap().host().to_owned();
    let xml = format!(
        "<message xmlns='jabber:client' type='chat' to='{}-{}@{host}' id='{id}'>\
         <body>befor</body><extraParams xmlns='jabber:client'>\
         <save_to_history>1</save_to_history></extraParams></message>",
        dan.0,
        srv.app_id()
    );
    cat_chat.send(xml.parse().unwrap()).await.unwrap();
    let got = next_message(&mut dan_in).await;
    let extra = got.get_child("extraParams", "jabber:client").unwrap();
    let dialog = extra
        .get_child("dialog_id", "jabber:client")
        .unwrap()
        .text()
        .parse()
        .unwrap();
    let before = cat_rest
        .send(&ListMessages::new(dialog))
        .await
        .unwrap()
        .items[0]
        .updated_at;

    // updated_at has whole seconds: wait for the next one so the bump is visible.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let edit = UpdateMessages::messages(dialog, [id]).text("before");
    cat_rest.send(&edit).await.unwrap();
    let corrected = next_with(&mut dan_in, "replace", "urn:xmpp:message-correct:0").await;
    let replace = corrected
        .get_child("replace", "urn:xmpp:message-correct:0")
        .unwrap();
    assert_eq!(replace.attr("id"), Some(id.to_string().as_str()));
    let text = corrected
        .get_child("body", "jabber:client")
        .map(Element::text);
    assert_eq!(text.as_deref(), Some("before"));
    assert!(
        corrected
            .attr("from")
            .unwrap()
            .starts_with(&format!("{}-", cat.0))
    );
    let stored = cat_rest.send(&ListMessages::new(dialog)).await.unwrap();
    assert_eq!(stored.items[0].body.as_deref(), Some("before"));
    assert!(
        stored.items[0].updated_at > before,
        "updated_at moves on an edit: {:?} -> {:?}",
        before,
        stored.items[0].updated_at
    );

    let gone = cat_rest
        .send(&DeleteMessages::new([id]).force())
        .await
        .unwrap();
    assert_eq!(gone.deleted, [id.to_string()]);
    let removed = next_with(&mut dan_in, "remove", "urn:xmpp:message-delete:0").await;
    let remove = removed
        .get_child("remove", "urn:xmpp:message-delete:0")
        .unwrap();
    assert_eq!(remove.attr("id"), Some(id.to_string().as_str()));
    let left = cat_rest.send(&ListMessages::new(dialog)).await.unwrap();
    assert!(left.items.is_empty(), "{:?}", left.items);

    cat_chat.logout().await;
    dan_chat.logout().await;
    srv.shutdown().await;
}
