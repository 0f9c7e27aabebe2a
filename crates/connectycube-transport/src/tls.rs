//! TLS client setup: rustls with the crypto provider and trusted roots the crate's features
//! choose, optional custom roots, and the pinning that lets a local server use the self-signed
//! certificate `openssl req -x509` makes.
//!
//! Features only add, so any combination builds and picks deterministically:
//! - crypto provider: `aws-lc-rs` when that feature is on (an explicit choice wins over the
//!   default), else `ring` (the default), else the process-wide default provider an app
//!   installed with [`rustls::crypto::CryptoProvider::install_default`].
//! - roots: `platform-verifier` verifies with the operating system's verifier and trust store,
//!   and replaces the bundled roots when `webpki-roots` is on too; `webpki-roots` alone (the
//!   default) trusts the Mozilla roots compiled in. A configured custom root CA always takes the
//!   built-in verifier: the bundled roots (when on) plus that root, pinned.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::pki_types::UnixTime;
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::ConnectionConfig;
use crate::error::ConnectError;

/// Builds the rustls client configuration for `config`: certificates are always verified, against
/// the roots the features choose (see the [module](self)) and the configured custom roots, if any.
///
/// A certificate in [`ConnectionConfig::custom_root_ca_pem`] is also pinned: when the server
/// presents exactly that certificate (same DER) as its own and the only objection is that it is
/// a CA certificate (`CA:TRUE`, what `openssl req -x509` makes by default), it is accepted, still
/// inside its validity period and, if it names any hosts, for the configured domain. A
/// certificate without subject alternative names (openssl's default, the name only in the CN) is
/// accepted on the pin alone, since its exact bytes identify it.
///
/// # Errors
/// [`ConnectError::InvalidConfig`] when the custom root is not a usable PEM certificate, or
/// when the features leave no crypto provider or no trusted root.
///
/// ```
/// use connectycube_transport::config::ConnectionConfig;
/// use connectycube_transport::tls::client_config;
///
/// let tls = client_config(&ConnectionConfig::connectycube())?;
/// assert!(tls.alpn_protocols.is_empty());
/// let broken = ConnectionConfig::connectycube().with_custom_root_ca_pem("not a certificate");
/// assert!(client_config(&broken).is_err());
/// # Ok::<(), connectycube_transport::error::ConnectError>(())
/// ```
pub fn client_config(config: &ConnectionConfig) -> Result<Arc<rustls::ClientConfig>, ConnectError> {
    let provider = crypto_provider()?;
    let mut roots = bundled_roots();
    let mut pinned = Vec::new();
    if let Some(pem) = &config.custom_root_ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| {
                ConnectError::InvalidConfig(format!("custom root CA is not valid PEM: {e}"))
            })?;
            roots.add(cert.clone()).map_err(|e| {
                ConnectError::InvalidConfig(format!("custom root CA rejected: {e}"))
            })?;
            pinned.push(cert);
        }
        if pinned.is_empty() {
            return Err(ConnectError::InvalidConfig(
                "custom root CA PEM holds no certificate".into(),
            ));
        }
    }
    let verifier: Arc<dyn ServerCertVerifier> = match platform_verifier(&pinned, &provider) {
        Some(platform) => platform?,
        None => {
            if roots.is_empty() {
                return Err(ConnectError::InvalidConfig(
                    "no trusted root: enable the `webpki-roots` or `platform-verifier` feature, \
                     or configure a custom root CA"
                        .into(),
                ));
            }
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| ConnectError::InvalidConfig(format!("TLS setup: {e}")))?;
            if pinned.is_empty() {
                webpki
            } else {
                Arc::new(PinningVerifier { webpki, pinned })
            }
        }
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::InvalidConfig(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = Vec::new();
    Ok(Arc::new(tls))
}

/// The crypto provider the features choose: `aws-lc-rs`, else `ring`, else the process-wide
/// default. An explicit provider, so the choice does not depend on which crypto features other
/// crates in the build happen to enable.
fn crypto_provider() -> Result<Arc<rustls::crypto::CryptoProvider>, ConnectError> {
    #[cfg(feature = "aws-lc-rs")]
    let provider = Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let provider = Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    let provider = rustls::crypto::CryptoProvider::get_default().cloned();
    provider.ok_or_else(|| {
        ConnectError::InvalidConfig(
            "no TLS crypto provider: enable the `ring` or `aws-lc-rs` feature, or install a \
             process-wide default with rustls::crypto::CryptoProvider::install_default"
                .into(),
        )
    })
}

/// The roots compiled in with the `webpki-roots` feature (none without it).
fn bundled_roots() -> RootCertStore {
    #[cfg(feature = "webpki-roots")]
    let roots = webpki_roots::TLS_SERVER_ROOTS.to_vec();
    #[cfg(not(feature = "webpki-roots"))]
    let roots = Vec::new();
    RootCertStore { roots }
}

/// The operating system's verifier (`platform-verifier` feature) when no custom root is
/// configured; `None` leaves the choice to the built-in verifier. It replaces the bundled roots:
/// the platform's trust decisions (an enterprise's added or removed roots) are the ones to keep.
#[cfg(feature = "platform-verifier")]
fn platform_verifier(
    pinned: &[CertificateDer<'static>],
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Option<Result<Arc<dyn ServerCertVerifier>, ConnectError>> {
    if !pinned.is_empty() {
        return None;
    }
    Some(
        rustls_platform_verifier::Verifier::new(provider.clone())
            .map(|v| Arc::new(v) as Arc<dyn ServerCertVerifier>)
            .map_err(|e| ConnectError::InvalidConfig(format!("TLS setup: {e}"))),
    )
}

/// Without the `platform-verifier` feature, the built-in verifier always decides.
#[cfg(not(feature = "platform-verifier"))]
fn platform_verifier(
    _pinned: &[CertificateDer<'static>],
    _provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Option<Result<Arc<dyn ServerCertVerifier>, ConnectError>> {
    None
}

/// Runs the TLS handshake over `io` for the configured domain.
///
/// # Errors
/// [`ConnectError::UntrustedCertificate`] when the server's certificate does not verify,
/// [`ConnectError::Tls`] when the handshake fails otherwise.
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
        .map_err(handshake_error)
}

/// Sorts a failed handshake: a certificate that did not verify gets the error that says how to
/// trust it.
pub(crate) fn handshake_error(e: std::io::Error) -> ConnectError {
    let untrusted = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|tls| matches!(tls, rustls::Error::InvalidCertificate(_)));
    if untrusted {
        ConnectError::UntrustedCertificate(e)
    } else {
        ConnectError::Tls(e)
    }
}

/// The webpki verifier, plus acceptance of a pinned self-signed CA certificate used as the
/// server's own.
#[derive(Debug)]
struct PinningVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    /// The DER of each configured custom certificate.
    pinned: Vec<CertificateDer<'static>>,
}

impl PinningVerifier {
    /// Whether `end_entity` is a pinned certificate refused only for being a CA. webpki checks a
    /// certificate's validity period before its basic constraints, so that refusal also means
    /// the certificate is in date.
    fn pinned_ca(&self, end_entity: &CertificateDer<'_>, error: &rustls::Error) -> bool {
        let ca_as_end_entity = matches!(
            error,
            rustls::Error::InvalidCertificate(CertificateError::Other(other))
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::CaUsedAsEndEntity)
                )
        );
        ca_as_end_entity
            && self
                .pinned
                .iter()
                .any(|pin| pin.as_ref() == end_entity.as_ref())
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let error = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(error) => error,
        };
        if !self.pinned_ca(end_entity, &error) {
            return Err(error);
        }
        let parsed = ParsedCertificate::try_from(end_entity)?;
        match verify_server_name(&parsed, server_name) {
            Ok(()) => {}
            // No subject alternative name at all: the pin is the identity.
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                presented,
                ..
            })) if presented.is_empty() => {}
            Err(e) => return Err(e),
        }
        tracing::debug!("server certificate accepted: it is the pinned custom certificate");
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
