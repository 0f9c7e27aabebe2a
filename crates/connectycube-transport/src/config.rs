//! Where and how to connect: host, port, transport mode and the security knobs.

use std::fmt;
use std::time::Duration;

use crate::xml_stream::StreamLimits;

/// The default maximum size of one stanza: 1 MiB.
pub const DEFAULT_MAX_STANZA_SIZE: usize = 1024 * 1024;

/// The default limit on how deep elements may nest within one stanza (the stanza is depth 1).
/// ConnectyCube's deepest stanzas (a MUC presence, a message with attachments) nest 4 levels.
pub const DEFAULT_MAX_STANZA_DEPTH: usize = 128;

/// The most [`ConnectionConfig::max_stanza_depth`] can lift the depth limit to: parsing, dropping
/// and serializing an element recurse once per level, and this depth is tested to fit a 2 MiB
/// stack (a tokio worker's) with room to spare, even in a debug build (which overflowed at
/// about 600 levels).
pub const MAX_STANZA_DEPTH_CEILING: usize = 256;

/// The default limit on one whole connection attempt (TCP, TLS, login): 30 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How the socket is secured and framed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionMode {
    /// TLS from the first byte (ConnectyCube's port 5223).
    DirectTls,
    /// Plain TCP upgraded with `<starttls/>` (the standard port 5222).
    StartTls,
    /// RFC 7395 XMPP over WebSocket at this `wss://` (or, for tests, `ws://`) URL.
    #[cfg(feature = "websocket")]
    WebSocket {
        /// The URL, e.g. `wss://chat.connectycube.com:5291`.
        url: String,
    },
}

/// The connection settings of one chat server.
#[derive(Clone)]
pub struct ConnectionConfig {
    /// The XMPP domain (the `to` of the stream header and the TLS server name), e.g. `chat.connectycube.com`.
    pub domain: String,
    /// The host or IP address to open the TCP connection to; `None` uses `domain`.
    pub address: Option<String>,
    /// The TCP port (ignored for WebSocket, whose URL carries it).
    pub port: u16,
    /// Direct TLS, STARTTLS or WebSocket.
    pub mode: ConnectionMode,
    /// The largest stanza accepted from the server; a larger one closes the stream.
    pub max_stanza_size: usize,
    /// The deepest element nesting accepted within one stanza; deeper closes the stream with
    /// [`StreamError::NestingTooDeep`](crate::error::StreamError::NestingTooDeep). Capped at
    /// [`MAX_STANZA_DEPTH_CEILING`].
    pub max_stanza_depth: usize,
    /// Extra trusted root certificates in PEM (e.g. a local server's self-signed certificate),
    /// added to the webpki roots.
    pub custom_root_ca_pem: Option<Vec<u8>>,
    /// Allow SASL PLAIN over an unencrypted stream. Only for local tests: it sends the password
    /// in clear.
    pub allow_plaintext_for_tests: bool,
    /// How long one connection attempt may take, from TCP connect to the restarted stream's
    /// features; a server that accepts and then stays silent must not hang the caller.
    pub connect_timeout: Duration,
}

impl ConnectionConfig {
    /// ConnectyCube's production chat: `chat.connectycube.com:5223`, direct TLS.
    ///
    /// ```
    /// use connectycube_transport::config::{ConnectionConfig, ConnectionMode};
    ///
    /// let config = ConnectionConfig::connectycube();
    /// assert_eq!((config.domain.as_str(), config.port), ("chat.connectycube.com", 5223));
    /// assert_eq!(config.mode, ConnectionMode::DirectTls);
    /// ```
    pub fn connectycube() -> Self {
        Self::direct_tls("chat.connectycube.com", 5223)
    }

    /// Direct TLS to `domain:port`.
    ///
    /// ```
    /// use connectycube_transport::config::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::direct_tls("chat.example.com", 5223).with_address("10.0.0.7");
    /// assert_eq!(config.connect_host(), "10.0.0.7");
    /// assert_eq!(config.domain, "chat.example.com", "the certificate is checked for the domain");
    /// ```
    pub fn direct_tls(domain: impl Into<String>, port: u16) -> Self {
        Self::new(domain.into(), port, ConnectionMode::DirectTls)
    }

    /// STARTTLS to `domain:port`.
    ///
    /// ```
    /// use connectycube_transport::config::{ConnectionConfig, ConnectionMode};
    ///
    /// let config = ConnectionConfig::starttls("localhost", 5222);
    /// assert_eq!(config.mode, ConnectionMode::StartTls);
    /// assert_eq!(config.connect_host(), "localhost");
    /// ```
    pub fn starttls(domain: impl Into<String>, port: u16) -> Self {
        Self::new(domain.into(), port, ConnectionMode::StartTls)
    }

    /// ConnectyCube's production chat over WebSocket: `wss://chat.connectycube.com:5291`.
    #[cfg(feature = "websocket")]
    pub fn connectycube_websocket() -> Self {
        Self::websocket("chat.connectycube.com", "wss://chat.connectycube.com:5291")
    }

    /// XMPP over WebSocket at `url` for the XMPP `domain`.
    #[cfg(feature = "websocket")]
    pub fn websocket(domain: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(
            domain.into(),
            0,
            ConnectionMode::WebSocket { url: url.into() },
        )
    }

    fn new(domain: String, port: u16, mode: ConnectionMode) -> Self {
        Self {
            domain,
            address: None,
            port,
            mode,
            max_stanza_size: DEFAULT_MAX_STANZA_SIZE,
            max_stanza_depth: DEFAULT_MAX_STANZA_DEPTH,
            custom_root_ca_pem: None,
            allow_plaintext_for_tests: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Connects to `address` (host name or IP) instead of resolving the domain.
    pub fn with_address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// Trusts the root certificate(s) in this PEM in addition to the webpki roots.
    ///
    /// ```
    /// use connectycube_transport::config::ConnectionConfig;
    ///
    /// let pem = b"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n".to_vec();
    /// let config = ConnectionConfig::direct_tls("localhost", 5223).with_custom_root_ca_pem(pem.clone());
    /// assert_eq!(config.custom_root_ca_pem, Some(pem));
    /// ```
    pub fn with_custom_root_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.custom_root_ca_pem = Some(pem.into());
        self
    }

    /// Sets the largest accepted stanza in bytes.
    ///
    /// ```
    /// use connectycube_transport::config::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::connectycube().with_max_stanza_size(64 * 1024);
    /// assert_eq!(config.max_stanza_size, 64 * 1024);
    /// ```
    pub fn with_max_stanza_size(mut self, bytes: usize) -> Self {
        self.max_stanza_size = bytes;
        self
    }

    /// Sets the deepest accepted element nesting within one stanza (at most
    /// [`MAX_STANZA_DEPTH_CEILING`]).
    pub fn with_max_stanza_depth(mut self, depth: usize) -> Self {
        self.max_stanza_depth = depth;
        self
    }

    /// The parser limits this configuration asks for.
    pub fn stream_limits(&self) -> StreamLimits {
        StreamLimits {
            max_stanza_size: self.max_stanza_size,
            max_depth: self.max_stanza_depth,
        }
    }

    /// Sets the limit on one whole connection attempt.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Allows SASL PLAIN without TLS (local tests only).
    pub fn allow_plaintext_for_tests(mut self, allow: bool) -> Self {
        self.allow_plaintext_for_tests = allow;
        self
    }

    /// The host the TCP connection goes to.
    pub fn connect_host(&self) -> &str {
        self.address.as_deref().unwrap_or(&self.domain)
    }
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("domain", &self.domain)
            .field("address", &self.address)
            .field("port", &self.port)
            .field("mode", &self.mode)
            .field("max_stanza_size", &self.max_stanza_size)
            .field("max_stanza_depth", &self.max_stanza_depth)
            .field("custom_root_ca", &self.custom_root_ca_pem.is_some())
            .field("allow_plaintext_for_tests", &self.allow_plaintext_for_tests)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_safe() {
        let c = ConnectionConfig::connectycube();
        assert_eq!((c.domain.as_str(), c.port), ("chat.connectycube.com", 5223));
        assert_eq!(c.mode, ConnectionMode::DirectTls);
        assert_eq!(c.max_stanza_size, 1024 * 1024);
        assert_eq!(c.max_stanza_depth, 128);
        assert_eq!(c.stream_limits().max_depth, 128);
        assert!(!c.allow_plaintext_for_tests);
        assert!(c.custom_root_ca_pem.is_none());
        assert_eq!(c.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(c.connect_host(), "chat.connectycube.com");
        assert_eq!(c.with_address("127.0.0.1").connect_host(), "127.0.0.1");
    }

    #[test]
    fn debug_does_not_dump_the_certificate() {
        let c = ConnectionConfig::starttls("localhost", 5222)
            .with_custom_root_ca_pem("-----BEGIN CERTIFICATE-----");
        let debug = format!("{c:?}");
        assert!(debug.contains("custom_root_ca: true"), "{debug}");
        assert!(!debug.contains("BEGIN"), "{debug}");
    }
}
