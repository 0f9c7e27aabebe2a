//! Login against the test server, ejabberd or the devserver (`cargo xtask test` starts each
//! in turn and sets the environment).

use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::{AuthenticatedStream, Connector};
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::error::ConnectError;
use minidom::Element;

mod support;

#[cfg(test)]
mod env {
    pub use super::support::server;
    use super::*;

    /// Binds a resource over the authenticated stream: proves the stream works past login.
    pub async fn bind(stream: &mut AuthenticatedStream) -> String {
        bind_resource(stream, None).await
    }

    /// Binds `resource`, or one the server picks.
    pub async fn bind_resource(stream: &mut AuthenticatedStream, resource: Option<&str>) -> String {
        assert!(stream.features.can_bind(), "{:?}", stream.features);
        let mut bind = Element::builder("bind", "urn:ietf:params:xml:ns:xmpp-bind");
        if let Some(resource) = resource {
            bind = bind.append(
                Element::builder("resource", "urn:ietf:params:xml:ns:xmpp-bind")
                    .append(resource)
                    .build(),
            );
        }
        let iq: Element = format!(
            "<iq xmlns='jabber:client' type='set' id='bind1'>{}</iq>",
            String::from(&bind.build())
        )
        .parse()
        .unwrap();
        stream
            .outgoing
            .send(connectycube_transport::connector::Outgoing::serialize(&iq).unwrap())
            .await
            .unwrap();
        let reply = stream
            .incoming
            .recv()
            .await
            .unwrap()
            .unwrap()
            .into_element()
            .unwrap();
        assert_eq!(
            reply.attr("type"),
            Some("result"),
            "{}",
            String::from(&reply)
        );
        reply
            .get_child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
            .and_then(|b| b.get_child("jid", "urn:ietf:params:xml:ns:xmpp-bind"))
            .map(Element::text)
            .unwrap()
    }
}

use env::{bind, bind_resource, server};

#[tokio::test]
async fn login_over_direct_tls() {
    let Some(s) = server() else {
        return;
    };
    let connector = XmppConnector::new(s.direct_tls()).unwrap();
    let mut stream = connector.connect(&s.user(1001, None)).await.unwrap();
    assert!(
        stream.features.stream_management.is_some(),
        "the server offers XEP-0198"
    );
    let jid = bind(&mut stream).await;
    assert!(jid.starts_with("1001-1@localhost/"), "{jid}");
}

#[tokio::test]
async fn login_over_starttls() {
    let Some(s) = server() else {
        return;
    };
    let config = ConnectionConfig::starttls(&s.domain, s.starttls_port)
        .with_address(&s.addr)
        .with_custom_root_ca_pem(s.ca_pem.clone());
    let connector = XmppConnector::new(config).unwrap();
    let mut stream = connector.connect(&s.user(1002, None)).await.unwrap();
    let jid = bind(&mut stream).await;
    assert!(jid.starts_with("1002-1@localhost/"), "{jid}");
}

#[cfg(feature = "websocket")]
#[tokio::test]
async fn login_over_websocket() {
    let Some(s) = server() else {
        return;
    };
    let config = ConnectionConfig::websocket(&s.domain, &s.ws_url)
        .with_address(&s.addr)
        .with_custom_root_ca_pem(s.ca_pem.clone());
    let connector = XmppConnector::new(config).unwrap();
    let mut stream = connector.connect(&s.user(1003, None)).await.unwrap();
    let jid = bind(&mut stream).await;
    assert!(jid.starts_with("1003-1@localhost/"), "{jid}");
}

#[tokio::test]
async fn wrong_password_is_not_authorized() {
    let Some(s) = server() else {
        return;
    };
    let connector = XmppConnector::new(s.direct_tls()).unwrap();
    let err = connector
        .connect(&s.user(1004, Some("definitely-wrong")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectError::AuthenticationFailure { condition } if condition == "not-authorized"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn self_signed_certificate_is_rejected_without_the_custom_root() {
    let Some(s) = server() else {
        return;
    };
    let mut config = s.direct_tls();
    config.custom_root_ca_pem = None;
    let connector = XmppConnector::new(config).unwrap();
    let err = connector.connect(&s.user(1005, None)).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::UntrustedCertificate(_)),
        "{err:?}"
    );
}

#[cfg(feature = "websocket")]
#[tokio::test]
async fn websocket_certificate_is_rejected_without_the_custom_root() {
    let Some(s) = server() else {
        return;
    };
    let config = ConnectionConfig::websocket(&s.domain, &s.ws_url).with_address(&s.addr);
    let connector = XmppConnector::new(config).unwrap();
    let err = connector.connect(&s.user(1005, None)).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::UntrustedCertificate(_)),
        "{err:?}"
    );
}

/// The server (ejabberd, and the devserver like it) ends the older connection with `<conflict/>` when a new one binds the same
/// resource; the error says so, so the session can refuse to reconnect.
#[tokio::test]
async fn binding_a_taken_resource_ends_the_older_stream_with_conflict() {
    let Some(s) = server() else {
        return;
    };
    let connector = XmppConnector::new(s.direct_tls()).unwrap();
    let mut first = connector.connect(&s.user(1006, None)).await.unwrap();
    bind_resource(&mut first, Some("phone")).await;
    let mut second = connector.connect(&s.user(1006, None)).await.unwrap();
    let jid = bind_resource(&mut second, Some("phone")).await;
    assert_eq!(jid, "1006-1@localhost/phone");
    let err = loop {
        match first.incoming.recv().await.unwrap() {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert!(err.is_resource_conflict(), "{err:?}");
}
