//! The real [`Connector`]: TCP with direct TLS or STARTTLS, and
//! (feature `websocket`) RFC 7395 WebSocket.
//!
//! Round trips of a direct TLS login, each one forced by the protocol: TCP handshake, TLS
//! handshake (one with TLS 1.3), stream header -> header + features, `<auth/>` -> `<success/>`,
//! restarted header -> header + features. We never wait where XMPP lets us go on: `<auth/>` goes
//! out as soon as the features arrive and the restarted header as soon as `<success/>` does.
//! STARTTLS adds one round trip (header + features) and `<starttls/>` -> `<proceed/>`.

pub(crate) mod stream_io;

use std::sync::Arc;

use minidom::Element;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use xmpp_parsers::starttls::{self, Request as StartTlsRequest};
use xmpp_parsers::stream_features::StreamFeatures;

use crate::config::{ConnectionConfig, ConnectionMode};
use crate::connector::{AuthenticatedStream, BoxFuture, Connector, Credentials};
use crate::error::{ConnectError, StreamError};
use crate::sasl;
use crate::tls;
use crate::xml_stream::Frame;

use stream_io::StreamIo;

/// Connects to a chat server as its [`ConnectionConfig`] says.
#[derive(Debug, Clone)]
pub struct XmppConnector {
    config: ConnectionConfig,
    tls: Arc<rustls::ClientConfig>,
}

impl XmppConnector {
    /// A connector for `config`.
    ///
    /// # Errors
    /// [`ConnectError::InvalidConfig`] when the custom root certificate is not usable PEM.
    ///
    /// ```
    /// use connectycube_transport::config::ConnectionConfig;
    /// use connectycube_transport::connectors::XmppConnector;
    ///
    /// // Builds the TLS configuration now; no socket is opened until `connect`.
    /// let connector = XmppConnector::new(ConnectionConfig::connectycube())?;
    /// let broken = ConnectionConfig::connectycube().with_custom_root_ca_pem("not PEM");
    /// assert!(XmppConnector::new(broken).is_err());
    /// # drop(connector);
    /// # Ok::<(), connectycube_transport::error::ConnectError>(())
    /// ```
    pub fn new(config: ConnectionConfig) -> Result<Self, ConnectError> {
        let tls = tls::client_config(&config)?;
        Ok(Self { config, tls })
    }

    /// The configuration this connector uses.
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    async fn connect_inner(
        &self,
        credentials: &Credentials,
    ) -> Result<AuthenticatedStream, ConnectError> {
        match &self.config.mode {
            ConnectionMode::DirectTls => {
                let tcp = self.tcp().await?;
                let tls = tls::handshake(tcp, &self.config, self.tls.clone()).await?;
                let mut io = StreamIo::new(tls, self.config.stream_limits());
                let features = open(&mut io, &self.config.domain).await?;
                login(io, features, &self.config, credentials, true).await
            }
            ConnectionMode::StartTls => {
                let tcp = self.tcp().await?;
                let mut io = StreamIo::new(tcp, self.config.stream_limits());
                let features = open(&mut io, &self.config.domain).await?;
                if features.can_starttls() {
                    let tcp = starttls(io).await?;
                    let tls = tls::handshake(tcp, &self.config, self.tls.clone()).await?;
                    let mut io = StreamIo::new(tls, self.config.stream_limits());
                    let features = open(&mut io, &self.config.domain).await?;
                    login(io, features, &self.config, credentials, true).await
                } else {
                    login(io, features, &self.config, credentials, false).await
                }
            }
            #[cfg(feature = "websocket")]
            ConnectionMode::WebSocket { url } => {
                crate::websocket::connect(url, &self.config, self.tls.clone(), credentials).await
            }
        }
    }

    async fn tcp(&self) -> Result<TcpStream, ConnectError> {
        let tcp = connect_tcp(self.config.connect_host(), self.config.port).await?;
        // Stanzas are small and latency matters more than segment count.
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }
}

/// The socket's receive buffer. ejabberd counts a stanza as waiting for our ack once it is
/// written to its socket, and closes the session at `max_ack_queue` (5,000) of them. With
/// the kernel's autotuned buffers (up to tens of MiB) a burst parks far more than 5,000
/// stanzas between the server and our reader before TCP pushes back; a fixed 128 KiB buffer
/// (a few hundred stanzas, still megabytes per second at 100 ms RTT) makes the server wait
/// for our reading instead, its queue for us held in its own process, uncounted.
const RECV_BUFFER: u32 = 128 * 1024;

/// Connects to `host:port` (each resolved address in turn) with a bounded receive buffer.
pub(crate) async fn connect_tcp(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // Set before connecting: the window scale is agreed in the handshake.
        socket.set_recv_buffer_size(RECV_BUFFER)?;
        match socket.connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")
    }))
}

impl Connector for XmppConnector {
    fn connect<'a>(
        &'a self,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<AuthenticatedStream, ConnectError>> {
        Box::pin(async move {
            let limit = self.config.connect_timeout;
            tokio::time::timeout(limit, self.connect_inner(credentials))
                .await
                .map_err(|_| ConnectError::Timeout(limit))?
        })
    }
}

/// Sends a stream header and reads the server's header and features.
pub(crate) async fn open<S>(
    io: &mut StreamIo<S>,
    domain: &str,
) -> Result<StreamFeatures, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    io.queue_header(domain)?;
    io.flush().await?;
    read_features(io).await
}

async fn read_features<S>(io: &mut StreamIo<S>) -> Result<StreamFeatures, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    match io.recv().await? {
        Frame::Header(header) => {
            if header.name() != "stream" {
                return Err(ConnectError::Negotiation(format!(
                    "expected a stream header, got <{}>",
                    header.name()
                )));
            }
        }
        other => return Err(unexpected("a stream header", other)),
    }
    match io.recv().await? {
        Frame::Stanza(el) => features(el),
        other => Err(unexpected("stream features", other)),
    }
}

/// Parses `<stream:features/>`.
pub(crate) fn features(el: Element) -> Result<StreamFeatures, ConnectError> {
    StreamFeatures::try_from(el)
        .map_err(|e| ConnectError::Negotiation(format!("expected stream features: {e}")))
}

/// Asks for TLS and returns the socket once the server says `<proceed/>`.
async fn starttls<S>(mut io: StreamIo<S>) -> Result<S, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let request = Element::from(StartTlsRequest);
    io.queue(&request, &String::from(&request))?;
    io.flush().await?;
    match io.recv().await? {
        Frame::Stanza(el) => match starttls::Nonza::try_from(el) {
            Ok(starttls::Nonza::Proceed(_)) => {}
            Ok(other) => {
                return Err(ConnectError::Negotiation(format!(
                    "STARTTLS refused: {other:?}"
                )));
            }
            Err(e) => {
                return Err(ConnectError::Negotiation(format!(
                    "expected <proceed/>: {e}"
                )));
            }
        },
        other => return Err(unexpected("<proceed/>", other)),
    }
    if io.has_unread() {
        // Plaintext bytes after <proceed/> would be injected into the TLS session (CVE-2011-0411 class).
        return Err(ConnectError::Negotiation("data after <proceed/>".into()));
    }
    Ok(io.into_inner())
}

/// SASL PLAIN, then the stream restart; hands back the authenticated stream.
async fn login<S>(
    mut io: StreamIo<S>,
    features: StreamFeatures,
    config: &ConnectionConfig,
    credentials: &Credentials,
    encrypted: bool,
) -> Result<AuthenticatedStream, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if !encrypted && !config.allow_plaintext_for_tests {
        return Err(ConnectError::EncryptionRequired);
    }
    sasl::require_plain(&features)?;
    io.queue(&sasl::plain_auth(credentials), sasl::REDACTED_AUTH)?;
    io.flush().await?;
    match io.recv().await? {
        Frame::Stanza(el) => sasl::outcome(el)?,
        other => return Err(unexpected("the SASL outcome", other)),
    }
    let features = open(&mut io, &config.domain).await?;
    Ok(io.into_authenticated(features))
}

pub(crate) fn unexpected(wanted: &str, got: Frame) -> ConnectError {
    match got {
        Frame::End => ConnectError::Stream(StreamError::Closed),
        Frame::Header(_) => {
            ConnectError::Negotiation(format!("expected {wanted}, got a second stream header"))
        }
        Frame::Stanza(el) => ConnectError::Negotiation(format!(
            "expected {wanted}, got <{} xmlns='{}'>",
            el.name(),
            el.ns()
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests;
