//! Connector tests against in-process fake servers on 127.0.0.1.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use xmpp_parsers::jid::BareJid;

use super::*;
use crate::connector::Outgoing;
use crate::error::StreamCondition;
use crate::xml_stream::StreamParser;

const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";
const PRE_AUTH: &str = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const STARTTLS_FEATURES: &str = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";
const POST_AUTH: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";
pub(crate) const PASSWORD: &str = "pass1001";

pub(crate) struct Cert {
    pub(crate) pem: String,
    pub(crate) acceptor: TlsAcceptor,
}

pub(crate) fn cert() -> Cert {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(ck.cert.der().to_vec())], key)
        .unwrap();
    Cert {
        pem: ck.cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(server)),
    }
}

pub(crate) fn creds(password: &str) -> Credentials {
    Credentials {
        jid: BareJid::new("1001-1@localhost").unwrap(),
        password: password.into(),
    }
}

/// The server's view of one client connection.
struct Peer<S> {
    io: S,
    buf: Vec<u8>,
    parser: StreamParser,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Peer<S> {
    fn new(io: S) -> Self {
        Self {
            io,
            buf: Vec::new(),
            parser: StreamParser::new(1 << 20),
        }
    }

    async fn frame(&mut self) -> Option<Frame> {
        loop {
            let mut data = &self.buf[..];
            let before = data.len();
            let frame = self.parser.next_frame(&mut data).unwrap();
            let used = before - data.len();
            self.buf.drain(..used);
            if frame.is_some() {
                return frame;
            }
            let mut chunk = [0u8; 4096];
            let n = self.io.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn stanza(&mut self) -> Element {
        match self.frame().await {
            Some(Frame::Stanza(el)) => el,
            other => panic!("expected a stanza, got {other:?}"),
        }
    }

    async fn send(&mut self, text: &str) {
        self.io.write_all(text.as_bytes()).await.unwrap();
        self.io.flush().await.unwrap();
    }

    /// Client header in, our header and `features` out.
    async fn open(&mut self, features: &str) {
        self.parser = StreamParser::new(1 << 20);
        assert!(
            matches!(self.frame().await, Some(Frame::Header(h)) if h.attr("to") == Some("localhost"))
        );
        self.send(&format!("{SERVER_HEADER}{features}")).await;
    }

    /// SASL PLAIN: checks the password, answers, and on success restarts the stream.
    async fn auth(&mut self) -> bool {
        let auth = xmpp_parsers::sasl::Auth::try_from(self.stanza().await).unwrap();
        if auth.data == format!("1001-1@localhost\u{0}1001-1\u{0}{PASSWORD}").as_bytes() {
            self.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
                .await;
            self.open(POST_AUTH).await;
            true
        } else {
            self.send(
                "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
            )
            .await;
            false
        }
    }
}

async fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn config(mode: ConnectionMode, port: u16, pem: Option<&str>) -> ConnectionConfig {
    let mut c = match mode {
        ConnectionMode::DirectTls => ConnectionConfig::direct_tls("localhost", port),
        _ => ConnectionConfig::starttls("localhost", port),
    }
    .with_address("127.0.0.1");
    if let Some(pem) = pem {
        c = c.with_custom_root_ca_pem(pem.as_bytes());
    }
    c
}

/// A direct TLS server that logs the client in, then runs `after` on the authenticated stream.
fn tls_server<F, Fut>(listener: TcpListener, acceptor: TlsAcceptor, after: F) -> JoinHandle<()>
where
    F: FnOnce(Peer<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.unwrap();
        let mut peer = Peer::new(tls);
        peer.open(PRE_AUTH).await;
        if peer.auth().await {
            after(peer).await;
        }
    })
}

#[tokio::test]
async fn direct_tls_login_then_stanzas_both_ways_and_clean_close() {
    let cert = cert();
    let (l, port) = listener().await;
    let server = tls_server(l, cert.acceptor, |mut peer| async move {
        let got = peer.stanza().await;
        assert!(got.is("iq", "jabber:client"), "{got:?}");
        assert_eq!(got.attr("id"), Some("b1"));
        peer.send("<message from='1002-1@localhost' id='m1'><body>hi</body></message>")
            .await;
        // Dropping the client's sender closes the stream politely.
        assert_eq!(peer.frame().await, Some(Frame::End));
    });
    let connector =
        XmppConnector::new(config(ConnectionMode::DirectTls, port, Some(&cert.pem))).unwrap();
    let stream = connector.connect(&creds(PASSWORD)).await.unwrap();
    assert!(stream.features.can_bind());
    assert!(stream.features.stream_management.is_some());
    let AuthenticatedStream {
        mut incoming,
        outgoing,
        ..
    } = stream;
    let iq: Element = "<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>".parse().unwrap();
    outgoing
        .send(Outgoing::serialize(&iq).unwrap())
        .await
        .unwrap();
    let msg = incoming
        .recv()
        .await
        .unwrap()
        .unwrap()
        .into_element()
        .unwrap();
    assert_eq!(msg.get_child("body", "jabber:client").unwrap().text(), "hi");
    drop(outgoing);
    server.await.unwrap();
}

#[tokio::test]
async fn wrong_password_is_a_typed_non_retryable_failure() {
    let cert = cert();
    let (l, port) = listener().await;
    let server = tls_server(l, cert.acceptor, |_| async { panic!("must not log in") });
    let connector =
        XmppConnector::new(config(ConnectionMode::DirectTls, port, Some(&cert.pem))).unwrap();
    let err = connector.connect(&creds("wrong")).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::AuthenticationFailure { condition } if condition == "not-authorized"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(!format!("{err:?} {err}").contains("wrong"));
    server.await.unwrap();
}

#[tokio::test]
async fn untrusted_certificate_is_rejected_without_the_custom_root() {
    let cert = cert();
    let (l, port) = listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        // The handshake fails on the client side; the server just sees it end.
        assert!(cert.acceptor.accept(tcp).await.is_err());
    });
    let connector = XmppConnector::new(config(ConnectionMode::DirectTls, port, None)).unwrap();
    let err = connector.connect(&creds(PASSWORD)).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::UntrustedCertificate(e) if e.to_string().contains("certificate")),
        "{err:?}"
    );
    // The error says what to configure.
    assert!(err.to_string().contains("custom_root_ca_pem"), "{err}");
    server.await.unwrap();
}

#[tokio::test]
async fn starttls_upgrades_then_logs_in() {
    let cert = cert();
    let (l, port) = listener().await;
    let server = starttls_server(l, cert.acceptor);
    let connector =
        XmppConnector::new(config(ConnectionMode::StartTls, port, Some(&cert.pem))).unwrap();
    let stream = connector.connect(&creds(PASSWORD)).await.unwrap();
    assert!(stream.features.can_bind());
    stream.outgoing.send(presence_out()).await.unwrap();
    server.await.unwrap();
}

/// A STARTTLS server: plaintext header and features, `<proceed/>`, TLS, login, then expects
/// one `<presence/>`.
fn starttls_server(l: TcpListener, acceptor: TlsAcceptor) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let mut plain = Peer::new(tcp);
        plain.open(STARTTLS_FEATURES).await;
        let req = plain.stanza().await;
        assert!(
            req.is("starttls", "urn:ietf:params:xml:ns:xmpp-tls"),
            "{req:?}"
        );
        plain
            .send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .await;
        let tls = acceptor.accept(plain.io).await.unwrap();
        let mut peer = Peer::new(tls);
        peer.open(PRE_AUTH).await;
        assert!(peer.auth().await);
        let got = peer.stanza().await;
        assert!(got.is("presence", "jabber:client"));
    })
}

/// A plaintext server that offers no STARTTLS; reports whether it received `<auth>`.
fn plaintext_server(l: TcpListener) -> JoinHandle<bool> {
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let mut peer = Peer::new(tcp);
        peer.open(PRE_AUTH).await;
        match peer.frame().await {
            Some(Frame::Stanza(el)) if el.is("auth", "urn:ietf:params:xml:ns:xmpp-sasl") => {
                peer.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
                    .await;
                peer.open(POST_AUTH).await;
                true
            }
            _ => false,
        }
    })
}

#[tokio::test]
async fn plaintext_login_is_refused_unless_allowed() {
    let (l, port) = listener().await;
    let server = plaintext_server(l);
    let connector = XmppConnector::new(config(ConnectionMode::StartTls, port, None)).unwrap();
    let err = connector.connect(&creds(PASSWORD)).await.unwrap_err();
    assert!(matches!(err, ConnectError::EncryptionRequired), "{err:?}");
    drop(connector);
    assert!(!server.await.unwrap(), "the password went out in clear");

    let (l, port) = listener().await;
    let server = plaintext_server(l);
    let connector = XmppConnector::new(
        config(ConnectionMode::StartTls, port, None).allow_plaintext_for_tests(true),
    )
    .unwrap();
    let stream = connector.connect(&creds(PASSWORD)).await.unwrap();
    assert!(stream.features.can_bind());
    assert!(server.await.unwrap());
}

async fn after_login_server_sends(bytes: &'static str, limit: Option<usize>) -> StreamError {
    let cert = cert();
    let (l, port) = listener().await;
    let closed_by_client = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let closed = closed_by_client.clone();
    let server = tls_server(l, cert.acceptor, move |mut peer| async move {
        peer.send(bytes).await;
        // Hold the connection until the client closes its side.
        while let Some(frame) = peer.frame().await {
            if frame == Frame::End {
                closed.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let mut cfg = config(ConnectionMode::DirectTls, port, Some(&cert.pem));
    if let Some(limit) = limit {
        cfg = cfg.with_max_stanza_size(limit);
    }
    let connector = XmppConnector::new(cfg).unwrap();
    let mut stream = connector.connect(&creds(PASSWORD)).await.unwrap();
    let err = loop {
        match stream
            .incoming
            .recv()
            .await
            .expect("an error before the channel closes")
        {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert!(
        stream.incoming.recv().await.is_none(),
        "nothing after the error"
    );
    // The client closes the broken stream by itself (the session still holds its ends)...
    server.await.unwrap();
    assert!(closed_by_client.load(std::sync::atomic::Ordering::SeqCst));
    // ...and sends fail at once instead of vanishing.
    let presence: Element = "<presence xmlns='jabber:client'/>".parse().unwrap();
    assert!(
        stream
            .outgoing
            .send(Outgoing::serialize(&presence).unwrap())
            .await
            .is_err()
    );
    err
}

#[tokio::test]
async fn malformed_xml_ends_the_stream_with_an_xml_error() {
    let err = after_login_server_sends("<message><body>x</bdy></message>", None).await;
    assert!(matches!(err, StreamError::Xml { .. }), "{err:?}");
}

#[tokio::test]
async fn oversized_stanza_ends_the_stream() {
    // 64 KiB of text against a 4 KiB limit, after a stanza that fits.
    let big: &'static str = Box::leak(
        format!(
            "<message id='ok'/><message><body>{}</body></message>",
            "z".repeat(64 * 1024)
        )
        .into_boxed_str(),
    );
    let err = after_login_server_sends(big, Some(4096)).await;
    assert!(
        matches!(err, StreamError::StanzaTooLarge { limit: 4096 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn deeply_nested_stanza_ends_the_stream_instead_of_the_process() {
    // 100,000 unclosed levels (300 KB): this overflowed the reader task's stack before.
    let deep: &'static str =
        Box::leak(format!("<message id='ok'/><message>{}", "<a>".repeat(100_000)).into_boxed_str());
    let err = after_login_server_sends(deep, None).await;
    assert!(
        matches!(err, StreamError::NestingTooDeep { limit: 128 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_stream_error_is_typed() {
    let err = after_login_server_sends(
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        None,
    )
    .await;
    assert!(
        matches!(&err, StreamError::Server { condition } if *condition == StreamCondition::Conflict),
        "{err:?}"
    );
}

#[tokio::test]
async fn dtd_during_negotiation_is_refused() {
    let (l, port) = listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let mut peer = Peer::new(tcp);
        assert!(matches!(peer.frame().await, Some(Frame::Header(_))));
        peer.send("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>").await;
        while peer.frame().await.is_some() {}
    });
    let connector = XmppConnector::new(
        config(ConnectionMode::StartTls, port, None).allow_plaintext_for_tests(true),
    )
    .unwrap();
    let err = connector.connect(&creds(PASSWORD)).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::Stream(StreamError::Xml { .. })),
        "{err:?}"
    );
    server.await.unwrap();
}

/// Forwards one connection to `target`, delaying everything the server sends by `delay` (each
/// chunk keeps its own arrival time, so chunks of one flight share one delay).
async fn delaying_proxy(target: u16, delay: std::time::Duration) -> u16 {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (client, _) = l.accept().await.unwrap();
        let server = tokio::net::TcpStream::connect(("127.0.0.1", target))
            .await
            .unwrap();
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = sr.read(&mut buf).await {
                if n == 0
                    || tx
                        .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                {
                    break;
                }
            }
        });
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if cw.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    port
}

/// Direct TLS login takes exactly the protocol's round trips after TCP connect: TLS 1.3
/// handshake, stream header, SASL, restarted stream header = 4.
#[tokio::test]
async fn direct_tls_login_uses_four_round_trips_after_tcp_connect() {
    // Long enough that CPU time on a loaded machine stays well under one delay.
    const DELAY: std::time::Duration = std::time::Duration::from_millis(250);
    let cert = cert();
    let (l, port) = listener().await;
    let server = tls_server(l, cert.acceptor, |_| async {});
    let proxy = delaying_proxy(port, DELAY).await;
    let connector =
        XmppConnector::new(config(ConnectionMode::DirectTls, proxy, Some(&cert.pem))).unwrap();
    let start = std::time::Instant::now();
    let stream = connector.connect(&creds(PASSWORD)).await.unwrap();
    let elapsed = start.elapsed();
    let round_trips = elapsed.as_secs_f64() / DELAY.as_secs_f64();
    println!("direct TLS login: {elapsed:?} = {round_trips:.2} round trips of {DELAY:?}");
    assert!(
        (4.0..4.9).contains(&round_trips),
        "{round_trips:.2} round trips"
    );
    drop(stream);
    server.await.unwrap();
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let (l, port) = listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        // Accept and never answer; hold the socket until the client gives up.
        let mut peer = Peer::new(tcp);
        while peer.frame().await.is_some() {}
    });
    let timeout = std::time::Duration::from_millis(200);
    let connector = XmppConnector::new(
        config(ConnectionMode::StartTls, port, None).with_connect_timeout(timeout),
    )
    .unwrap();
    let err = connector.connect(&creds(PASSWORD)).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::Timeout(t) if t == timeout),
        "{err:?}"
    );
    assert!(err.is_retryable());
    server.await.unwrap();
}

#[test]
fn connector_is_send_sync_debug_and_config_hides_nothing_secret() {
    fn assert_traits<T: Send + Sync + std::fmt::Debug + 'static>() {}
    assert_traits::<XmppConnector>();
    assert_traits::<ConnectionConfig>();
    let debug = format!("{:?}", creds("hunter2"));
    assert!(!debug.contains("hunter2"), "{debug}");
}

/// Collects everything the trace log prints.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn trace_log_shows_the_exchange_but_never_the_password() {
    // A global subscriber: a thread-local one races with the callsite interest cache that
    // tests on other threads fill while no subscriber is set. Other tests' logs land here too,
    // which only widens what the assertions below check.
    static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    let logs = LOGS
        .get_or_init(|| {
            let logs = LogBuffer::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            logs
        })
        .clone();
    let cert = cert();
    let (l, port) = listener().await;
    let server = tls_server(l, cert.acceptor, |_| async {});
    let connector =
        XmppConnector::new(config(ConnectionMode::DirectTls, port, Some(&cert.pem))).unwrap();
    let stream = connector.connect(&creds(PASSWORD)).await.unwrap();
    drop(stream);
    server.await.unwrap();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("mechanism='PLAIN'>[redacted]</auth>"),
        "{text}"
    );
    assert!(text.contains("<success"), "{text}");
    // Neither the password nor the base64 SASL payload that carries it.
    let payload =
        xmpp_parsers::sasl::Auth::try_from(crate::sasl::plain_auth(&creds(PASSWORD))).unwrap();
    let b64 = String::from(&Element::from(payload));
    let b64 = b64
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(!b64.is_empty());
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!text.contains(&b64), "{text}");
}

/// STARTTLS costs two round trips more than direct TLS: the plaintext stream header and
/// `<starttls/>` -> `<proceed/>`; 6 after TCP connect.
#[tokio::test]
async fn starttls_login_uses_six_round_trips_after_tcp_connect() {
    // Long enough that CPU time on a loaded machine stays well under one delay.
    const DELAY: std::time::Duration = std::time::Duration::from_millis(250);
    let cert = cert();
    let (l, port) = listener().await;
    let server = starttls_server(l, cert.acceptor);
    let proxy = delaying_proxy(port, DELAY).await;
    let connector =
        XmppConnector::new(config(ConnectionMode::StartTls, proxy, Some(&cert.pem))).unwrap();
    let start = std::time::Instant::now();
    let stream = connector.connect(&creds(PASSWORD)).await.unwrap();
    let round_trips = start.elapsed().as_secs_f64() / DELAY.as_secs_f64();
    println!("STARTTLS login: {round_trips:.2} round trips of {DELAY:?}");
    assert!(
        (6.0..6.9).contains(&round_trips),
        "{round_trips:.2} round trips"
    );
    stream.outgoing.send(presence_out()).await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn stream_error_during_negotiation_is_typed() {
    let (l, port) = listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let mut peer = Peer::new(tcp);
        assert!(matches!(peer.frame().await, Some(Frame::Header(_))));
        peer.send(&format!(
            "{SERVER_HEADER}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
        ))
        .await;
    });
    let connector = XmppConnector::new(
        config(ConnectionMode::StartTls, port, None).allow_plaintext_for_tests(true),
    )
    .unwrap();
    let err = connector.connect(&creds(PASSWORD)).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::Stream(StreamError::Server { condition }) if *condition == StreamCondition::HostUnknown),
        "{err:?}"
    );
    server.await.unwrap();
}

fn presence_out() -> Outgoing {
    Outgoing::serialize(&"<presence xmlns='jabber:client'/>".parse().unwrap()).unwrap()
}
