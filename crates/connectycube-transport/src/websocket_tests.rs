//! WebSocket connector tests against an in-process `wss://` fake server on 127.0.0.1.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use super::*;
use crate::connector::Connector;
use crate::connectors::XmppConnector;
use crate::connectors::tests::{PASSWORD, cert, creds};
use crate::error::StreamCondition;

const OPEN: &str =
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='localhost' id='w1' version='1.0'/>";
const PRE_AUTH: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const POST_AUTH: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";

async fn next_el<S>(ws: &mut S) -> Option<Element>
where
    S: futures_util::Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => return Some(t.as_str().parse().unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Serves one wss client: login, then sends `after_login` messages and returns what it got.
// The callback type is tungstenite's; its large error type is not ours to shrink.
#[allow(clippy::result_large_err)]
async fn serve(after_login: Vec<String>) -> (u16, String, tokio::task::JoinHandle<Vec<Element>>) {
    let cert = cert();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let pem = cert.pem.clone();
    let task = tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let tls = cert.acceptor.accept(tcp).await.unwrap();
        let mut ws =
            tokio_tungstenite::accept_hdr_async(tls, |req: &Request, mut resp: Response| {
                assert_eq!(req.headers().get("Sec-WebSocket-Protocol").unwrap(), "xmpp");
                resp.headers_mut()
                    .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("xmpp"));
                Ok(resp)
            })
            .await
            .unwrap();
        let open = next_el(&mut ws).await.unwrap();
        assert!(open.is("open", FRAMING_NS) && open.attr("to") == Some("localhost"));
        ws.send(Message::text(OPEN)).await.unwrap();
        ws.send(Message::text(PRE_AUTH)).await.unwrap();
        let auth = xmpp_parsers::sasl::Auth::try_from(next_el(&mut ws).await.unwrap()).unwrap();
        if auth.data != format!("1001-1@localhost\u{0}1001-1\u{0}{PASSWORD}").as_bytes() {
            ws.send(Message::text(
                "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
            ))
            .await
            .unwrap();
            return Vec::new();
        }
        ws.send(Message::text(
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        ))
        .await
        .unwrap();
        assert!(next_el(&mut ws).await.unwrap().is("open", FRAMING_NS));
        ws.send(Message::text(OPEN)).await.unwrap();
        ws.send(Message::text(POST_AUTH)).await.unwrap();
        for m in after_login {
            ws.send(Message::text(m)).await.unwrap();
        }
        let mut got = Vec::new();
        while let Some(el) = next_el(&mut ws).await {
            let close = el.is("close", FRAMING_NS);
            got.push(el);
            if close {
                break;
            }
        }
        got
    });
    (port, pem, task)
}

fn connector(port: u16, pem: &str, limit: usize) -> XmppConnector {
    let config = ConnectionConfig::websocket("localhost", format!("wss://localhost:{port}/ws"))
        .with_address("127.0.0.1")
        .with_custom_root_ca_pem(pem.as_bytes())
        .with_max_stanza_size(limit);
    XmppConnector::new(config).unwrap()
}

#[tokio::test]
async fn wss_login_exchange_and_close() {
    let (port, pem, server) = serve(vec![
        "<message xmlns='jabber:client' id='m1'><body>hey</body></message>".into(),
    ])
    .await;
    let stream = connector(port, &pem, 1 << 20)
        .connect(&creds(PASSWORD))
        .await
        .unwrap();
    assert!(stream.features.can_bind());
    let AuthenticatedStream {
        mut incoming,
        outgoing,
        ..
    } = stream;
    let msg = incoming
        .recv()
        .await
        .unwrap()
        .unwrap()
        .into_element()
        .unwrap();
    assert_eq!(
        msg.get_child("body", "jabber:client").unwrap().text(),
        "hey"
    );
    outgoing
        .send(
            crate::connector::Outgoing::serialize(
                &"<presence xmlns='jabber:client'/>".parse().unwrap(),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    drop(outgoing);
    let got = server.await.unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].is("presence", "jabber:client"));
    assert!(got[1].is("close", FRAMING_NS));
}

#[tokio::test]
async fn wss_wrong_password() {
    let (port, pem, server) = serve(Vec::new()).await;
    let err = connector(port, &pem, 1 << 20)
        .connect(&creds("nope"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectError::AuthenticationFailure { condition } if condition == "not-authorized"),
        "{err:?}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn wss_stream_error_and_oversized_message() {
    let (port, pem, server) = serve(vec![
        "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>".into(),
    ])
    .await;
    let mut stream = connector(port, &pem, 1 << 20)
        .connect(&creds(PASSWORD))
        .await
        .unwrap();
    let err = stream.incoming.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(&err, StreamError::Server { condition } if *condition == StreamCondition::Conflict),
        "{err:?}"
    );
    drop(stream);
    server.await.unwrap();

    let big = format!(
        "<message xmlns='jabber:client'><body>{}</body></message>",
        "q".repeat(8000)
    );
    let (port, pem, server) = serve(vec![big]).await;
    let mut stream = connector(port, &pem, 4096)
        .connect(&creds(PASSWORD))
        .await
        .unwrap();
    let err = stream.incoming.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(err, StreamError::StanzaTooLarge { limit: 4096 }),
        "{err:?}"
    );
    drop(stream);
    server.await.unwrap();
}

#[tokio::test]
async fn wss_deeply_nested_message_is_a_typed_error() {
    let deep = format!(
        "<message xmlns='jabber:client'>{}{}</message>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let (port, pem, server) = serve(vec![deep]).await;
    let config = ConnectionConfig::websocket("localhost", format!("wss://localhost:{port}/ws"))
        .with_address("127.0.0.1")
        .with_custom_root_ca_pem(pem.as_bytes())
        .with_max_stanza_depth(16);
    let mut stream = XmppConnector::new(config)
        .unwrap()
        .connect(&creds(PASSWORD))
        .await
        .unwrap();
    let err = stream.incoming.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(err, StreamError::NestingTooDeep { limit: 16 }),
        "{err:?}"
    );
    drop(stream);
    server.await.unwrap();
}

#[tokio::test]
async fn plain_ws_and_other_schemes_are_refused_before_connecting() {
    // Port 9 (discard) on loopback: nothing listens, and nothing may be tried.
    let plain = ConnectionConfig::websocket("localhost", "ws://127.0.0.1:9/ws");
    let err = XmppConnector::new(plain)
        .unwrap()
        .connect(&creds(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::EncryptionRequired), "{err:?}");
    let http = ConnectionConfig::websocket("localhost", "https://127.0.0.1:9/ws");
    let err = XmppConnector::new(http)
        .unwrap()
        .connect(&creds(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::InvalidConfig(_)), "{err:?}");
}
