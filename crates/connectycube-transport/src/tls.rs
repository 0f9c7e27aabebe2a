//! TLS client setup: rustls with the ring provider, webpki roots plus an optional custom root.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::ConnectionConfig;
use crate::error::ConnectError;

/// Builds the rustls client configuration for `config`: certificates are always verified, against
/// the webpki roots and the configured custom root, if any.
///
/// # Errors
/// [`ConnectError::InvalidConfig`] when the custom root is not a usable PEM certificate.
pub fn client_config(config: &ConnectionConfig) -> Result<Arc<rustls::ClientConfig>, ConnectError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = &config.custom_root_ca_pem {
        let mut added = 0usize;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| {
                ConnectError::InvalidConfig(format!("custom root CA is not valid PEM: {e}"))
            })?;
            roots.add(cert).map_err(|e| {
                ConnectError::InvalidConfig(format!("custom root CA rejected: {e}"))
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(ConnectError::InvalidConfig(
                "custom root CA PEM holds no certificate".into(),
            ));
        }
    }
    // An explicit provider, so the choice does not depend on which crypto features other crates
    // in the build happen to enable.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::InvalidConfig(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = Vec::new();
    Ok(Arc::new(tls))
}

/// Runs the TLS handshake over `io` for the configured domain.
///
/// # Errors
/// [`ConnectError::Tls`] when the handshake fails, e.g. the certificate does not verify.
pub async fn handshake<IO>(
    io: IO,
    config: &ConnectionConfig,
    tls: Arc<rustls::ClientConfig>,
) -> Result<TlsStream<IO>, ConnectError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(config.domain.clone()).map_err(|e| {
        ConnectError::InvalidConfig(format!("bad TLS server name {:?}: {e}", config.domain))
    })?;
    TlsConnector::from(tls)
        .connect(name, io)
        .await
        .map_err(ConnectError::Tls)
}
