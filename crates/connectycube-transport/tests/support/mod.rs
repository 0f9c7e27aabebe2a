//! What the integration tests share: the test server's coordinates (set by `cargo xtask test`)
//! and a loopback proxy that breaks connections on demand.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod proxy;

use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::Credentials;
use xmpp_parsers::jid::BareJid;

/// The test server's coordinates, from the environment `cargo xtask test` sets.
pub struct Server {
    pub domain: String,
    pub addr: String,
    pub tls_port: u16,
    pub starttls_port: u16,
    pub ws_url: String,
    pub ca_pem: Vec<u8>,
    pub app_id: u32,
    pub ctl: String,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: start the test server: cargo xtask test (or cargo xtask ejabberd up)")
    })
}

fn number<T: std::str::FromStr>(name: &str) -> T {
    let value = var(name);
    value
        .parse()
        .unwrap_or_else(|_| panic!("{name}={value:?} is not a number"))
}

/// Reads the environment; panics with how to start the server when it is missing.
pub fn server() -> Server {
    let ca = var("CC_XMPP_CA_PEM");
    Server {
        domain: var("CC_XMPP_DOMAIN"),
        addr: var("CC_XMPP_ADDR"),
        tls_port: number("CC_XMPP_TLS_PORT"),
        starttls_port: number("CC_XMPP_STARTTLS_PORT"),
        ws_url: var("CC_XMPP_WS_URL"),
        ca_pem: std::fs::read(&ca).unwrap_or_else(|e| panic!("reading {ca}: {e}")),
        app_id: number("CC_XMPP_APP_ID"),
        ctl: var("CC_EJABBERDCTL"),
    }
}

impl Server {
    /// Test user `id` (1001..=1020), with its password unless another is given.
    pub fn user(&self, id: u32, password: Option<&str>) -> Credentials {
        Credentials {
            jid: BareJid::new(&format!("{id}-{}@{}", self.app_id, self.domain)).unwrap(),
            password: password.map_or_else(|| format!("pass{id}"), str::to_owned),
        }
    }

    /// Direct TLS to the server, trusting its self-signed certificate.
    pub fn direct_tls(&self) -> ConnectionConfig {
        self.direct_tls_via(self.tls_port)
    }

    /// Direct TLS through a local port (a proxy in front of the server).
    pub fn direct_tls_via(&self, port: u16) -> ConnectionConfig {
        ConnectionConfig::direct_tls(&self.domain, port)
            .with_address(&self.addr)
            .with_custom_root_ca_pem(self.ca_pem.clone())
    }

    /// Runs ejabberdctl on the test instance.
    pub fn ctl(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(&self.ctl)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ejabberdctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
