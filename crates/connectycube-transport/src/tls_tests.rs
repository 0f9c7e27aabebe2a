//! Certificate trust against a loopback rustls server: the pinned self-signed CA certificate
//! users make with `openssl req -x509`, and what stays refused.

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};
use rustls_pki_types::PrivateKeyDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::*;

/// A certificate and its key, both PEM.
struct Made {
    cert: String,
    key: String,
}

/// A self-signed certificate like `openssl req -x509` makes: CA:TRUE, the server's own.
fn make(sans: &[&str], cn: &str, ca: bool, expired: bool) -> Made {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    Made {
        cert: params.self_signed(&key).unwrap().pem(),
        key: key.serialize_pem(),
    }
}

/// Serves one TLS handshake with `made` on loopback, echoing one byte; returns the port.
async fn server(made: &Made) -> u16 {
    let certs = CertificateDer::pem_slice_iter(made.cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(made.key.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        // A refused handshake is the client's verdict; the server just sees it end.
        if let Ok(mut tls) = acceptor.accept(tcp).await {
            let mut byte = [0u8; 1];
            if tls.read_exact(&mut byte).await.is_ok() {
                let _ = tls.write_all(&byte).await;
                let _ = tls.flush().await;
            }
        }
    });
    port
}

/// Connects to `localhost` on `port` trusting `pem` (if any) and exchanges one byte.
async fn connect(port: u16, pem: Option<&str>) -> Result<(), ConnectError> {
    let mut config = ConnectionConfig::direct_tls("localhost", port).with_address("127.0.0.1");
    if let Some(pem) = pem {
        config = config.with_custom_root_ca_pem(pem.as_bytes());
    }
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut tls = handshake(tcp, &config, client_config(&config)?).await?;
    tls.write_all(b"x").await.unwrap();
    tls.flush().await.unwrap();
    let mut byte = [0u8; 1];
    tls.read_exact(&mut byte).await.unwrap();
    assert_eq!(&byte, b"x");
    Ok(())
}

#[tokio::test]
async fn a_self_signed_ca_certificate_used_by_the_server_is_trusted_when_configured() {
    let made = make(&["localhost"], "localhost", true, false);
    let port = server(&made).await;
    connect(port, Some(&made.cert)).await.unwrap();
}

#[tokio::test]
async fn openssl_default_certificate_without_alt_names_is_trusted_by_its_pin() {
    // `openssl req -x509 -subj /CN=localhost`: CA:TRUE and the name only in the CN.
    let made = make(&[], "localhost", true, false);
    let port = server(&made).await;
    connect(port, Some(&made.cert)).await.unwrap();
}

#[tokio::test]
async fn a_plain_self_signed_certificate_is_still_trusted() {
    let made = make(&["localhost"], "localhost", false, false);
    let port = server(&made).await;
    connect(port, Some(&made.cert)).await.unwrap();
}

#[tokio::test]
async fn the_pin_still_checks_the_name_and_the_dates() {
    let other_name = make(&["chat.example.org"], "chat.example.org", true, false);
    let port = server(&other_name).await;
    let err = connect(port, Some(&other_name.cert)).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::UntrustedCertificate(e) if e.to_string().contains("not valid for name")),
        "{err:?}"
    );

    let expired = make(&["localhost"], "localhost", true, true);
    let port = server(&expired).await;
    let err = connect(port, Some(&expired.cert)).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::UntrustedCertificate(e) if e.to_string().contains("expired")),
        "{err:?}"
    );
}

#[tokio::test]
async fn only_the_exact_pinned_certificate_is_accepted() {
    let served = make(&["localhost"], "localhost", true, false);
    let configured = make(&["localhost"], "localhost", true, false);
    let port = server(&served).await;
    let err = connect(port, Some(&configured.cert)).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::UntrustedCertificate(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_untrusted_certificate_says_which_option_to_set() {
    let made = make(&["localhost"], "localhost", true, false);
    let port = server(&made).await;
    let err = connect(port, None).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::UntrustedCertificate(_)),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("custom_root_ca_pem") && text.contains("with_custom_root_ca_pem"),
        "{text}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

/// The certificate the `openssl` command line makes with its defaults, when it is installed.
#[tokio::test]
async fn a_certificate_from_openssl_req_x509_is_trusted_when_configured() {
    let dir = std::env::temp_dir().join(format!("cc-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    let Ok(out) = made else {
        eprintln!("openssl not installed: covered by the rcgen tests above");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made = Made {
        cert: std::fs::read_to_string(&cert).unwrap(),
        key: std::fs::read_to_string(&key).unwrap(),
    };
    std::fs::remove_dir_all(&dir).unwrap();
    let port = server(&made).await;
    connect(port, Some(&made.cert)).await.unwrap();
}
