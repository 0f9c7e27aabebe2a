//! Errors of the transport layer.

/// Why a connection attempt failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The server refused the credentials (`<failure>` with its condition); never retried.
    #[error("authentication failed: {condition}")]
    AuthenticationFailure {
        /// The SASL condition the server gave, e.g. `not-authorized`.
        condition: String,
    },
    /// The TCP connection failed.
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// The TLS handshake failed, e.g. the server certificate did not verify.
    #[error("TLS handshake failed: {0}")]
    Tls(#[source] std::io::Error),
    /// The server's certificate did not verify (unknown issuer, wrong name, expired...). For a
    /// local server with its own certificate, put that certificate's PEM in
    /// [`ConnectionConfig::custom_root_ca_pem`](crate::config::ConnectionConfig::custom_root_ca_pem).
    #[error(
        "the server's TLS certificate is not trusted ({0}); for a server with its own \
         certificate, set ConnectionConfig::custom_root_ca_pem (with_custom_root_ca_pem) to \
         that certificate's PEM"
    )]
    UntrustedCertificate(#[source] std::io::Error),
    /// The configuration cannot be used (bad PEM, bad server name or URL).
    #[error("invalid connection configuration: {0}")]
    InvalidConfig(String),
    /// The stream is not encrypted and the configuration does not allow plaintext login.
    #[error("refusing to send credentials over an unencrypted stream")]
    EncryptionRequired,
    /// The connection attempt took longer than the configured connect timeout.
    #[error("connection attempt timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The server does not offer what we need (STARTTLS, SASL PLAIN) or answered out of turn.
    #[error("stream negotiation failed: {0}")]
    Negotiation(String),
    /// The stream ended or broke during negotiation.
    #[error(transparent)]
    Stream(#[from] StreamError),
}

impl ConnectError {
    /// Whether trying again later may succeed (network trouble, a server hiccup, even a
    /// certificate failure behind a captive portal) or never will: bad credentials, or a
    /// configuration that refuses to connect the way the server allows.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::AuthenticationFailure { .. } | Self::InvalidConfig(_) | Self::EncryptionRequired
        )
    }
}

/// Why an established stream ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The socket failed.
    #[error("stream I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The server sent bytes that are not well-formed XML.
    #[error("malformed XML from the server: {0}")]
    Xml(String),
    /// A stanza exceeded the configured maximum size; the stream was closed.
    #[error("stanza larger than the {limit}-byte limit")]
    StanzaTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// An element nested deeper than the configured limit; the stream was closed before the
    /// element was built.
    #[error("element nested deeper than the {limit}-level limit")]
    NestingTooDeep {
        /// The depth limit in force.
        limit: usize,
    },
    /// The server closed the stream with a stream error.
    #[error("stream error from the server: {condition}")]
    Server {
        /// The stream error condition, e.g. `conflict`.
        condition: String,
    },
    /// The server closed the stream or the TCP connection.
    #[error("the server closed the stream")]
    Closed,
}

impl StreamError {
    /// Whether the server ended the stream because another connection took over our resource
    /// (`<conflict/>`); reconnecting would only kick that other connection out in turn.
    pub fn is_resource_conflict(&self) -> bool {
        matches!(self, Self::Server { condition } if condition == "conflict")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_classification() {
        let auth = ConnectError::AuthenticationFailure {
            condition: "not-authorized".into(),
        };
        assert!(!auth.is_retryable());
        assert!(!ConnectError::EncryptionRequired.is_retryable());
        assert!(!ConnectError::InvalidConfig("pem".into()).is_retryable());
        assert!(ConnectError::Timeout(std::time::Duration::from_secs(1)).is_retryable());
        assert!(ConnectError::Stream(StreamError::Closed).is_retryable());
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(ConnectError::Io(refused).is_retryable());
    }

    #[test]
    fn conflict_is_recognised() {
        let conflict = StreamError::Server {
            condition: "conflict".into(),
        };
        assert!(conflict.is_resource_conflict());
        let shutdown = StreamError::Server {
            condition: "system-shutdown".into(),
        };
        assert!(!shutdown.is_resource_conflict());
        assert!(!StreamError::Closed.is_resource_conflict());
    }
}
