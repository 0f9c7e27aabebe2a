//! The test server's coordinates, from the environment `cargo xtask bench xmpp` sets (the
//! same variables the transport's integration tests read).

use std::net::SocketAddr;

/// Where the ejabberd listens and how to log in to it.
#[derive(Debug, Clone)]
pub struct Server {
    /// The XMPP domain (`localhost`).
    pub domain: String,
    /// The address to dial (`127.0.0.1`).
    pub addr: String,
    /// The direct TLS port.
    pub tls_port: u16,
    /// The server's self-signed certificate, trusted by our client as a custom root.
    pub ca_pem: Vec<u8>,
    /// The ConnectyCube application id in user names (`{id}-{app}@domain`).
    pub app_id: u32,
    /// Whether the tokio-xmpp clients enable message carbons after login, as our session
    /// always does, so the server does the same work per message for both.
    pub tokio_xmpp_carbons: bool,
}

fn var(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set: run this through `cargo xtask bench xmpp`"))
}

fn number<T: std::str::FromStr>(name: &str) -> Result<T, String> {
    let value = var(name)?;
    value
        .parse()
        .map_err(|_| format!("{name}={value:?} is not a number"))
}

impl Server {
    /// Reads the environment.
    ///
    /// # Errors
    /// A missing or malformed variable, or an unreadable certificate.
    pub fn from_env() -> Result<Self, String> {
        let ca = var("CC_XMPP_CA_PEM")?;
        // tokio-xmpp trusts only the platform roots; rustls-native-certs reads this file.
        if std::env::var_os("SSL_CERT_FILE").is_none() {
            return Err(format!(
                "SSL_CERT_FILE is not set: tokio-xmpp needs it to trust {ca}"
            ));
        }
        Ok(Self {
            domain: var("CC_XMPP_DOMAIN")?,
            addr: var("CC_XMPP_ADDR")?,
            tls_port: number("CC_XMPP_TLS_PORT")?,
            ca_pem: std::fs::read(&ca).map_err(|e| format!("reading {ca}: {e}"))?,
            app_id: number("CC_XMPP_APP_ID")?,
            tokio_xmpp_carbons: true,
        })
    }

    /// The direct TLS socket address.
    ///
    /// # Errors
    /// When `CC_XMPP_ADDR` is not an IP address.
    pub fn tls_addr(&self) -> Result<SocketAddr, String> {
        format!("{}:{}", self.addr, self.tls_port)
            .parse()
            .map_err(|e| format!("CC_XMPP_ADDR={:?}: {e}", self.addr))
    }

    /// The bare JID of test user `id`.
    pub fn jid(&self, id: u32) -> String {
        format!("{id}-{}@{}", self.app_id, self.domain)
    }

    /// The password of test user `id` (set by `cargo xtask ejabberd register`).
    pub fn password(&self, id: u32) -> String {
        format!("pass{id}")
    }
}
