//! Login, routing, carbons, offline storage and ping through the SDK's transport.

use std::time::Duration;

use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::{Connector, Credentials};
use connectycube_transport::connectors::XmppConnector;
use xmpp_parsers::jid::BareJid;

use super::*;

#[tokio::test]
async fn direct_tls_users_chat_by_bare_jid() {
    let s = server().await;
    let (a, _ai) = s.login(1, "a").await;
    let (_b, mut bi) = s.login(2, "b").await;
    a.send(chat(&jid(2), "m1", "hello")).await.unwrap();
    let got = next_body(&mut bi).await;
    assert_eq!(body(&got).as_deref(), Some("hello"));
    assert_eq!(got.attr("from"), Some("1-1@localhost/a"));
    s.handle.shutdown().await;
}

#[tokio::test]
async fn starttls_login_and_chat() {
    let s = server().await;
    let config = ConnectionConfig::starttls("localhost", s.handle.ports().starttls)
        .with_address("127.0.0.1")
        .with_custom_root_ca_pem(s.handle.ca_pem().as_bytes().to_vec());
    let (a, _ai) = s.login_with(config, 1, "pw1", "a").await;
    let (_b, mut bi) = s.login(2, "b").await;
    a.send(chat(&jid(2), "m1", "over starttls")).await.unwrap();
    assert_eq!(
        body(&next_body(&mut bi).await).as_deref(),
        Some("over starttls")
    );
}

#[tokio::test]
async fn starttls_refuses_auth_before_tls() {
    let s = server().await;
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", s.handle.ports().starttls))
        .await
        .unwrap();
    tcp.write_all(b"<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>").await.unwrap();
    let mut all = Vec::new();
    let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut all)).await;
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("starttls"), "{text}");
    assert!(
        text.contains("policy-violation") && !text.contains("success"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_password_fails_and_session_token_logs_in() {
    let s = server().await;
    let connector = XmppConnector::new(s.config()).unwrap();
    let bad = Credentials {
        jid: BareJid::new(&jid(3)).unwrap(),
        password: "nope".into(),
    };
    let err = connector.connect(&bad).await.unwrap_err();
    assert!(err.to_string().contains("not-authorized"), "{err}");
    s.backend.add_token(UserId(3), "session-token-3");
    let (_c, _ci) = s.login_with(s.config(), 3, "session-token-3", "t").await;
    // Another user's token does not log user 4 in.
    let stolen = Credentials {
        jid: BareJid::new(&jid(4)).unwrap(),
        password: "session-token-3".into(),
    };
    assert!(connector.connect(&stolen).await.is_err());
}

#[tokio::test]
async fn full_jid_goes_to_that_resource_and_carbons_copy_the_rest() {
    let s = server().await;
    let (_a1, mut a1i) = s.login(1, "phone").await;
    let (_a2, mut a2i) = s.login(1, "web").await;
    let (b1, _b1i) = s.login(2, "one").await;
    let (_b2, mut b2i) = s.login(2, "two").await;
    b1.send(chat(&format!("{}/phone", jid(1)), "m1", "to the phone"))
        .await
        .unwrap();
    let direct = next_body(&mut a1i).await;
    assert_eq!(body(&direct).as_deref(), Some("to the phone"));
    let received = until(&mut a2i, |e| e.has_child("received", "urn:xmpp:carbons:2")).await;
    assert_eq!(received.attr("to"), Some("1-1@localhost/web"));
    let sent = until(&mut b2i, |e| e.has_child("sent", "urn:xmpp:carbons:2")).await;
    let inner = sent
        .get_child("sent", "urn:xmpp:carbons:2")
        .and_then(|s| s.get_child("forwarded", "urn:xmpp:forward:0"))
        .and_then(|f| f.get_child("message", "jabber:client"))
        .unwrap();
    assert_eq!(body(inner).as_deref(), Some("to the phone"));
}

#[tokio::test]
async fn offline_messages_arrive_on_login_with_a_delay_stamp() {
    let s = server().await;
    let (a, _ai) = s.login(1, "a").await;
    a.send(chat(&jid(5), "m1", "while you were away"))
        .await
        .unwrap();
    a.send(chat(&jid(5), "m2", "second")).await.unwrap();
    let (_b, mut bi) = s.login(5, "b").await;
    let first = next_body(&mut bi).await;
    assert_eq!(body(&first).as_deref(), Some("while you were away"));
    let delay = first.get_child("delay", "urn:xmpp:delay").unwrap();
    assert_eq!(delay.attr("from"), Some("localhost"));
    assert!(delay.attr("stamp").is_some_and(|s| s.ends_with('Z')));
    assert_eq!(body(&next_body(&mut bi).await).as_deref(), Some("second"));
}

/// Past its offline limit a message bounces to its sender in ejabberd's words, instead of
/// pushing the oldest kept one out unseen.
#[tokio::test]
async fn a_full_offline_store_bounces_the_message_instead_of_dropping_one() {
    let s = server_with(ChatConfig {
        max_offline: 2,
        ..ChatConfig::default()
    })
    .await;
    let mut a = s.raw_bound(1, "a").await;
    for n in 1..=3 {
        a.send(&String::from(&chat(
            &jid(5),
            &format!("m{n}"),
            &format!("msg {n}"),
        )))
        .await;
    }
    let bounced = a.until(|e| e.attr("type") == Some("error")).await;
    assert_eq!(bounced.attr("id"), Some("m3"));
    let error = bounced.get_child("error", "jabber:client").unwrap();
    assert_eq!(error.attr("type"), Some("wait"));
    assert!(error.has_child("resource-constraint", "urn:ietf:params:xml:ns:xmpp-stanzas"));
    assert!(String::from(error).contains("offline message queue is full"));
    let (_b, mut bi) = s.login(5, "b").await;
    assert_eq!(body(&next_body(&mut bi).await).as_deref(), Some("msg 1"));
    assert_eq!(body(&next_body(&mut bi).await).as_deref(), Some("msg 2"));
}

#[tokio::test]
async fn ping_is_answered() {
    let s = server().await;
    let (a, _ai) = s.login(1, "a").await;
    a.ping_with_timeout(WAIT).await.unwrap();
}

#[tokio::test]
async fn binding_a_taken_resource_replaces_the_old_session() {
    let s = server().await;
    let mut old = s.raw_bound(1, "same").await;
    let (_new, _ni) = s.login(1, "same").await;
    let err = old.until(|e| e.name() == "error").await;
    assert!(err.has_child("conflict", "urn:ietf:params:xml:ns:xmpp-streams"));
}

#[tokio::test]
async fn shutdown_closes_sessions_with_system_shutdown() {
    let s = server().await;
    let mut raw = s.raw_bound(1, "r").await;
    s.handle.shutdown().await;
    let err = raw.until(|e| e.name() == "error").await;
    assert!(err.has_child("system-shutdown", "urn:ietf:params:xml:ns:xmpp-streams"));
    let _ = Duration::ZERO;
}
