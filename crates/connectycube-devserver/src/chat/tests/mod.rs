//! The chat server driven by the SDK's own transport (trusting the generated CA) and by raw
//! sockets for what a well-behaved client never sends.

mod history;
mod hostile;
mod muc;
mod privacy;
mod routing;
mod sm;
mod websocket;

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use connectycube_protocol::ids::{AppId, UserId};
use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::Credentials;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{ChatConnection, Incoming, SessionSettings};
use connectycube_transport::tls;
use connectycube_transport::xml_stream::{Frame, StreamParser};
use minidom::Element;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use xmpp_parsers::jid::BareJid;

use super::memory::MemoryBackend;
use super::{ChatConfig, ChatHandle, ChatServer};
use crate::push::{self, PushSender};

pub(super) const APP: AppId = AppId(1);
/// A safety net so a broken server fails a test instead of hanging it; never an assertion.
pub(super) const WAIT: Duration = Duration::from_secs(20);

pub(super) struct Server {
    pub handle: ChatHandle,
    pub backend: Arc<MemoryBackend>,
    pub push: PushSender,
}

pub(super) async fn server() -> Server {
    server_with(ChatConfig::default()).await
}

pub(super) async fn server_with(config: ChatConfig) -> Server {
    let backend = Arc::new(MemoryBackend::new());
    for u in 1..=20 {
        backend.add_user(APP, UserId(u), &format!("pw{u}"));
    }
    let (push, rx) = push::channel();
    let handle = ChatServer::start(config, backend.clone(), rx)
        .await
        .unwrap();
    Server {
        handle,
        backend,
        push,
    }
}

pub(super) fn jid(u: u64) -> String {
    format!("{u}-1@localhost")
}

impl Server {
    pub fn config(&self) -> ConnectionConfig {
        ConnectionConfig::direct_tls("localhost", self.handle.ports().direct_tls)
            .with_address("127.0.0.1")
            .with_custom_root_ca_pem(self.handle.ca_pem().as_bytes().to_vec())
    }

    pub async fn login_with(
        &self,
        config: ConnectionConfig,
        user: u64,
        password: &str,
        resource: &str,
    ) -> (ChatConnection, Incoming) {
        let connector = XmppConnector::new(config).unwrap();
        let credentials = Credentials {
            jid: BareJid::new(&jid(user)).unwrap(),
            password: password.into(),
        };
        let settings = SessionSettings::default()
            .with_resource(resource)
            .with_total_reconnections(0);
        let (conn, incoming) = ChatConnection::new(connector, credentials, settings);
        tokio::time::timeout(WAIT, conn.login())
            .await
            .unwrap()
            .unwrap();
        (conn, incoming)
    }

    pub async fn login(&self, user: u64, resource: &str) -> (ChatConnection, Incoming) {
        self.login_with(self.config(), user, &format!("pw{user}"), resource)
            .await
    }

    pub async fn raw(&self) -> Raw {
        let config = self.config();
        let tcp = TcpStream::connect(("127.0.0.1", self.handle.ports().direct_tls))
            .await
            .unwrap();
        let tls = tls::handshake(tcp, &config, tls::client_config(&config).unwrap())
            .await
            .unwrap();
        Raw {
            io: Box::new(tls),
            parser: StreamParser::new(4 * 1024 * 1024),
            buf: BytesMut::new(),
        }
    }

    /// A raw client logged in and bound, stream management not yet enabled.
    pub async fn raw_bound(&self, user: u64, resource: &str) -> Raw {
        let mut r = self.raw().await;
        r.login(user).await;
        r.send(&format!(
            "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{resource}</resource></bind></iq>"
        ))
        .await;
        let bound = r.next().await;
        assert_eq!(
            bound.attr("type"),
            Some("result"),
            "{}",
            String::from(&bound)
        );
        r
    }
}

pub(super) trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A hand-driven client.
pub(super) struct Raw {
    pub io: Box<dyn Io>,
    parser: StreamParser,
    buf: BytesMut,
}

impl Raw {
    /// Writes; a server that already closed on bad input makes this fail, which is fine.
    pub async fn send(&mut self, s: &str) {
        let _ = self.io.write_all(s.as_bytes()).await;
        let _ = self.io.flush().await;
    }

    /// The next frame, or `None` when the server closed the connection.
    pub async fn frame(&mut self) -> Option<Frame> {
        tokio::time::timeout(WAIT, async {
            loop {
                let mut data: &[u8] = &self.buf;
                let before = data.len();
                let frame = self.parser.next_frame(&mut data).ok()?;
                let used = before - data.len();
                let _ = self.buf.split_to(used);
                if let Some(f) = frame {
                    return Some(f);
                }
                let mut chunk = [0u8; 8192];
                match self.io.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await
        .unwrap()
    }

    pub async fn next(&mut self) -> Element {
        loop {
            match self.frame().await {
                Some(Frame::Stanza(el)) => return el,
                Some(Frame::Header(_)) => continue,
                other => panic!("expected a stanza, got {other:?}"),
            }
        }
    }

    /// Skips to the first element `f` accepts.
    pub async fn until(&mut self, f: impl Fn(&Element) -> bool) -> Element {
        loop {
            let el = self.next().await;
            if f(&el) {
                return el;
            }
        }
    }

    pub async fn open(&mut self) {
        self.parser = StreamParser::new(4 * 1024 * 1024);
        self.send("<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>").await;
        assert!(matches!(self.frame().await, Some(Frame::Header(_))));
        let features = self.next().await;
        assert_eq!(features.name(), "features");
    }

    /// Opens the stream and authenticates with SASL PLAIN.
    pub async fn login(&mut self, user: u64) {
        self.open().await;
        let payload = format!("\0{user}-1\0pw{user}");
        let b64 = base64(payload.as_bytes());
        self.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{b64}</auth>"
        ))
        .await;
        let outcome = self.next().await;
        assert_eq!(outcome.name(), "success");
        self.open().await;
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) fn parse(xml: &str) -> Element {
    xml.parse().unwrap()
}

/// The next stanza from the transport that `f` accepts.
pub(super) async fn until(incoming: &mut Incoming, f: impl Fn(&Element) -> bool) -> Element {
    tokio::time::timeout(WAIT, async {
        loop {
            let el = incoming.recv().await.expect("session ended");
            if f(&el) {
                return el;
            }
        }
    })
    .await
    .unwrap()
}

pub(super) fn body(el: &Element) -> Option<String> {
    el.get_child("body", "jabber:client").map(|b| b.text())
}

/// The next message with a body.
pub(super) async fn next_body(incoming: &mut Incoming) -> Element {
    until(incoming, |e| e.name() == "message" && body(e).is_some()).await
}

pub(super) fn chat(to: &str, id: &str, text: &str) -> Element {
    parse(&format!(
        "<message xmlns='jabber:client' to='{to}' id='{id}' type='chat'><body>{text}</body></message>"
    ))
}

pub(super) fn saved_chat(to: &str, id: &str, text: &str) -> Element {
    parse(&format!(
        "<message xmlns='jabber:client' to='{to}' id='{id}' type='chat'><body>{text}</body>\
         <extraParams xmlns='jabber:client'><save_to_history>1</save_to_history>\
         <attachment type='image' id='f1' url='http://x/1.png'/><mood>good</mood></extraParams>\
         <markable xmlns='urn:xmpp:chat-markers:0'/></message>"
    ))
}

pub(super) fn extra(el: &Element, name: &str) -> Option<String> {
    el.get_child("extraParams", "jabber:client")?
        .get_child(name, "jabber:client")
        .map(|c| c.text())
}

#[test]
fn base64_matches_rfc4648() {
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fooba"), "Zm9vYmE=");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
}
