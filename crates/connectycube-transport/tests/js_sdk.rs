//! Interoperability with the official ConnectyCube JS SDK (npm `connectycube`, pinned in
//! `fixtures/js-peer/`) over the local ejabberd: a peer nobody here wrote. The JS SDK logs in
//! over WebSocket, our transport over direct TLS, and each reads what the other wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use connectycube_fixtures::js_peer::JsPeer;
use connectycube_protocol::ids::MessageId;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{ChatConnection, Incoming, SessionSettings};
use minidom::Element;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

async fn js_peer(s: &support::Server, user: u32) -> JsPeer {
    let ca = std::env::var("CC_XMPP_CA_PEM").unwrap();
    let mut peer = JsPeer::spawn(Some(ca.as_ref())).await.expect("JS SDK peer");
    let init = json!({
        "cmd": "init", "app_id": s.app_id, "auth_key": "unused",
        "api_url": "http://127.0.0.1:9", "chat_host": s.domain, "chat_url": s.ws_url,
    });
    peer.call(init, WAIT).await.unwrap();
    let connect = json!({"cmd": "connect", "user_id": user, "password": format!("pass{user}")});
    peer.call(connect, WAIT).await.unwrap();
    peer
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
    .expect("no message from the JS SDK")
}

#[tokio::test]
async fn messages_and_markers_cross_between_the_js_sdk_and_our_transport() {
    let Some(s) = support::server() else {
        return;
    };
    if !connectycube_fixtures::needs::js_peer() {
        return;
    }
    let mut js = js_peer(&s, 1019).await;
    let (ours, mut incoming) = ChatConnection::new(
        XmppConnector::new(s.direct_tls()).unwrap(),
        s.user(1020, None),
        SessionSettings::default(),
    );
    ours.login().await.unwrap();

    // The JS SDK's message, with an extension as apps send it, reaches us whole.
    let dialog = "5f0c5e2e1c2d3e4f5a6b7c8d";
    let sent = json!({"cmd": "send", "to": 1020, "body": "hello from JS <&>",
        "extension": {"save_to_history": 1, "dialog_id": dialog, "mood": "fine"}});
    let js_id = js.call(sent, WAIT).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = next_message(&mut incoming).await;
    assert_eq!(got.attr("id"), Some(js_id.as_str()));
    assert_eq!(
        got.get_child("body", "jabber:client").unwrap().text(),
        "hello from JS <&>"
    );
    let extra = got
        .get_child("extraParams", "jabber:client")
        .expect("extraParams");
    assert_eq!(
        extra
            .get_child("dialog_id", "jabber:client")
            .unwrap()
            .text(),
        dialog
    );
    assert_eq!(
        extra.get_child("mood", "jabber:client").unwrap().text(),
        "fine"
    );

    // Ours reaches the JS SDK's message listener with body and extension.
    let id = MessageId::generate().to_string();
    let xml = format!(
        "<message xmlns='jabber:client' type='chat' to='1019-1@localhost' id='{id}'>\
         <body>hello from Rust</body><extraParams xmlns='jabber:client'>\
         <save_to_history>1</save_to_history><dialog_id>{dialog}</dialog_id></extraParams>\
         <markable xmlns='urn:xmpp:chat-markers:0'/></message>"
    );
    ours.send(xml.parse().unwrap()).await.unwrap();
    let msg = js
        .event(WAIT, |v: &Value| {
            v["event"] == "message" && v["message"]["id"] == json!(id)
        })
        .await
        .unwrap();
    assert_eq!(msg["from"], json!(1020));
    assert_eq!(msg["message"]["body"], json!("hello from Rust"));
    assert_eq!(msg["message"]["dialog_id"], json!(dialog));

    // Markers both ways: the JS SDK's 'read' for our message, and ours for its message.
    let read = json!({"cmd": "read", "messageId": id, "dialogId": dialog, "userId": 1020});
    js.call(read, WAIT).await.unwrap();
    let marker = tokio::time::timeout(WAIT, async {
        loop {
            let el = incoming.recv().await.expect("session ended");
            if let Some(m) = el.get_child("displayed", "urn:xmpp:chat-markers:0") {
                return m.attr("id").map(str::to_owned);
            }
        }
    })
    .await
    .expect("no read marker from the JS SDK");
    assert_eq!(marker.as_deref(), Some(id.as_str()));
    let delivered = format!(
        "<message xmlns='jabber:client' type='chat' to='1019-1@localhost' id='{}'>\
         <received xmlns='urn:xmpp:chat-markers:0' id='{js_id}'/><extraParams xmlns='jabber:client'>\
         <dialog_id>{dialog}</dialog_id></extraParams></message>",
        MessageId::generate()
    );
    ours.send(delivered.parse().unwrap()).await.unwrap();
    let seen = js
        .event(WAIT, |v: &Value| {
            v["event"] == "delivered" && v["messageId"] == json!(js_id)
        })
        .await
        .unwrap();
    assert_eq!(seen["userId"], json!(1020));
    assert_eq!(seen["dialogId"], json!(dialog));

    js.call(json!({"cmd": "disconnect"}), WAIT).await.unwrap();
    ours.logout().await;
}
