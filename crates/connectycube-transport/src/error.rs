//! Errors of the transport layer, and the one classifier of what is worth retrying:
//! [`RetryKind`], asked of every error the reconnection manager sees.

/// Whether another connection attempt may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryKind {
    /// Network trouble, a timeout, a server hiccup: trying again later may work.
    Retry,
    /// Refused credentials, an untrusted certificate, a configuration that forbids what the
    /// server allows, a resource conflict: trying again only repeats the failure.
    Fatal,
}

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
    /// Whether trying again later may succeed: final are bad credentials, a certificate that
    /// does not verify, a configuration that refuses to connect the way the server allows, and
    /// a resource conflict; network errors and timeouts are retried.
    pub fn retry_kind(&self) -> RetryKind {
        match self {
            Self::AuthenticationFailure { .. }
            | Self::InvalidConfig(_)
            | Self::EncryptionRequired => RetryKind::Fatal,
            Self::Tls(e) if is_certificate_error(e) => RetryKind::Fatal,
            Self::Stream(e) => e.retry_kind(),
            _ => RetryKind::Retry,
        }
    }

    /// `retry_kind() == RetryKind::Retry`.
    pub fn is_retryable(&self) -> bool {
        self.retry_kind() == RetryKind::Retry
    }
}

/// Whether a TLS failure is the certificate's (rustls's error inside the I/O error).
fn is_certificate_error(e: &std::io::Error) -> bool {
    use rustls::Error as R;
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<R>());
    matches!(
        inner,
        Some(
            R::InvalidCertificate(_) | R::NoCertificatesPresented | R::InvalidCertRevocationList(_)
        )
    )
}

/// A stream error condition (RFC 6120 section 4.9.3): xmpp-parsers' type.
pub use xmpp_parsers::stream_error::DefinedCondition as StreamCondition;

/// Why an established stream ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The socket failed.
    #[error("stream I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The server sent bytes that are not well-formed XML (or XML we cannot write).
    #[error("malformed XML: {context}")]
    Xml {
        /// What was wrong, in a few words.
        context: String,
        /// The parser's or serializer's own error, when there is one.
        #[source]
        source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
    },
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
        /// The stream error condition.
        condition: StreamCondition,
    },
    /// The server closed the stream or the TCP connection.
    #[error("the server closed the stream")]
    Closed,
}

impl StreamError {
    /// Whether the server ended the stream because another connection took over our resource
    /// (`<conflict/>`); reconnecting would only kick that other connection out in turn.
    pub fn is_resource_conflict(&self) -> bool {
        matches!(
            self,
            Self::Server {
                condition: StreamCondition::Conflict,
            }
        )
    }

    /// A resource conflict is final; every other end of a stream is worth a reconnection.
    pub fn retry_kind(&self) -> RetryKind {
        if self.is_resource_conflict() {
            RetryKind::Fatal
        } else {
            RetryKind::Retry
        }
    }
}

impl StreamError {
    /// A malformed-XML error with no underlying error.
    pub(crate) fn xml(context: impl Into<String>) -> Self {
        Self::Xml {
            context: context.into(),
            source: None,
        }
    }

    /// A malformed-XML error that keeps the parser's or serializer's error as its source.
    pub(crate) fn xml_from(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Xml {
            context: e.to_string(),
            source: Some(std::sync::Arc::new(e)),
        }
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
        assert_eq!(auth.retry_kind(), RetryKind::Fatal);
        assert_eq!(
            ConnectError::EncryptionRequired.retry_kind(),
            RetryKind::Fatal
        );
        assert!(!ConnectError::InvalidConfig("pem".into()).is_retryable());
        assert!(ConnectError::Timeout(std::time::Duration::from_secs(1)).is_retryable());
        assert!(ConnectError::Stream(StreamError::Closed).is_retryable());
        let conflict = StreamError::Server {
            condition: StreamCondition::Conflict,
        };
        assert_eq!(
            ConnectError::Stream(conflict).retry_kind(),
            RetryKind::Fatal
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(ConnectError::Io(refused).is_retryable());
    }

    #[test]
    fn an_untrusted_certificate_is_final_other_tls_failures_are_not() {
        let bad_cert = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(ConnectError::Tls(bad_cert).retry_kind(), RetryKind::Fatal);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(ConnectError::Tls(reset).retry_kind(), RetryKind::Retry);
    }

    #[test]
    fn conflict_is_recognised() {
        let conflict = StreamError::Server {
            condition: StreamCondition::Conflict,
        };
        assert!(conflict.is_resource_conflict());
        assert_eq!(conflict.retry_kind(), RetryKind::Fatal);
        let shutdown = StreamError::Server {
            condition: StreamCondition::SystemShutdown,
        };
        assert!(!shutdown.is_resource_conflict());
        assert_eq!(shutdown.retry_kind(), RetryKind::Retry);
        assert!(!StreamError::Closed.is_resource_conflict());
        assert_eq!(
            shutdown.to_string(),
            "stream error from the server: system-shutdown"
        );
    }
}
