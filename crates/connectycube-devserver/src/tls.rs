//! The devserver's TLS: a throwaway CA and a server certificate for `localhost` and 127.0.0.1,
//! made with rcgen at start. Clients trust the CA explicitly (its PEM is handed out), so nothing
//! is installed in any system trust store.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Making the certificates or the TLS configuration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rcgen could not make a key or certificate.
    #[error("certificate generation failed")]
    Generate(#[source] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration failed")]
    Config(#[source] rustls::Error),
}

/// A fresh CA and the server configuration signed by it.
#[derive(Clone)]
pub struct DevTls {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for DevTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevTls").finish_non_exhaustive()
    }
}

impl DevTls {
    /// Makes a CA and a server certificate for `localhost`, 127.0.0.1 and the extra `hosts`
    /// (e.g. a chat host other than `localhost`).
    ///
    /// # Errors
    /// [`TlsError`] when rcgen or rustls fail.
    pub fn generate(hosts: &[&str]) -> Result<Self, TlsError> {
        let ca_key = KeyPair::generate().map_err(TlsError::Generate)?;
        let mut ca = CertificateParams::default();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "ConnectyCube devserver local CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).map_err(TlsError::Generate)?;

        let mut names = vec!["localhost".to_owned()];
        names.extend(hosts.iter().map(|h| h.to_string()));
        names.dedup();
        let mut params = CertificateParams::new(names).map_err(TlsError::Generate)?;
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params
            .distinguished_name
            .push(DnType::CommonName, "ConnectyCube devserver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().map_err(TlsError::Generate)?;
        let cert = params
            .signed_by(&key, &ca_cert, &ca_key)
            .map_err(TlsError::Generate)?;

        let chain = vec![
            CertificateDer::from(cert.der().to_vec()),
            CertificateDer::from(ca_cert.der().to_vec()),
        ];
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(TlsError::Config)?;
        Ok(Self {
            ca_pem: ca_cert.pem(),
            server: Arc::new(server),
        })
    }

    /// The CA certificate in PEM, for clients to trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The rustls server configuration.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server.clone()
    }

    /// A tokio-rustls acceptor.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.server.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_a_ca_pem_and_a_server_config() {
        let tls = DevTls::generate(&["chat.local"]).unwrap();
        assert!(tls.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let other = DevTls::generate(&[]).unwrap();
        assert_ne!(tls.ca_pem(), other.ca_pem(), "a fresh CA each start");
    }
}
