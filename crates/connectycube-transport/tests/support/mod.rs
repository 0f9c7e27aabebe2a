//! What the integration tests share: the test server's coordinates (set by `cargo xtask test`)
//! and a loopback proxy that breaks connections on demand.
//!
//! The same tests run against ejabberd and against the devserver: `CC_XMPP_SERVER` says which
//! (`ejabberd` when unset). What only one server offers (ejabberdctl; the devserver's REST API)
//! is behind a method here that does the equivalent on the other, or says why a test skips.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

// Not every test binary that includes this module cuts connections.
#[allow(unused_imports)]
pub use connectycube_fixtures::proxy;
pub mod rest;

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::ids::{AppId, DialogId};
use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::Credentials;
use xmpp_parsers::jid::BareJid;

/// Which server the tests run against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The private ejabberd, driven by ejabberdctl.
    Ejabberd {
        /// The ejabberdctl wrapper (`CC_EJABBERDCTL`).
        ctl: String,
    },
    /// The devserver binary, driven by its REST API like the cloud.
    Devserver {
        /// `CC_DEVSERVER_API_URL`.
        api_url: String,
        /// `CC_DEVSERVER_AUTH_KEY`.
        auth_key: String,
    },
}

/// The test server's coordinates, from the environment `cargo xtask test` sets.
pub struct Server {
    pub domain: String,
    pub addr: String,
    pub tls_port: u16,
    pub starttls_port: u16,
    pub ws_url: String,
    pub ca_pem: Vec<u8>,
    pub app_id: u32,
    pub kind: Kind,
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

fn kind() -> Kind {
    match std::env::var("CC_XMPP_SERVER").as_deref() {
        Err(_) | Ok("ejabberd") => Kind::Ejabberd {
            ctl: var("CC_EJABBERDCTL"),
        },
        Ok("devserver") => Kind::Devserver {
            api_url: var("CC_DEVSERVER_API_URL"),
            auth_key: var("CC_DEVSERVER_AUTH_KEY"),
        },
        Ok(other) => panic!("CC_XMPP_SERVER={other:?}: expected ejabberd or devserver"),
    }
}

/// Reads the environment. `None` when it is missing (no `cargo xtask`): the test is skipped
/// with a message saying how to run it, or fails under `cargo xtask test`
/// ([`connectycube_fixtures::needs::xmpp_server`]).
pub fn server() -> Option<Server> {
    if !connectycube_fixtures::needs::xmpp_server() {
        return None;
    }
    let ca = var("CC_XMPP_CA_PEM");
    Some(Server {
        domain: var("CC_XMPP_DOMAIN"),
        addr: var("CC_XMPP_ADDR"),
        tls_port: number("CC_XMPP_TLS_PORT"),
        starttls_port: number("CC_XMPP_STARTTLS_PORT"),
        ws_url: var("CC_XMPP_WS_URL"),
        ca_pem: std::fs::read(&ca).unwrap_or_else(|e| panic!("reading {ca}: {e}")),
        app_id: number("CC_XMPP_APP_ID"),
        kind: kind(),
    })
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

    /// A group dialog whose room `owner` and `others` may join: on ejabberd a room made with
    /// ejabberdctl under a fresh id (ejabberd knows no dialogs); on the devserver a group
    /// dialog created over REST by `owner`, as an app does.
    pub async fn group_dialog(&self, owner: u32, others: &[u32]) -> DialogId {
        match &self.kind {
            Kind::Ejabberd { .. } => {
                let dialog = DialogId::generate();
                let domain = ChatDomain::new(self.domain.as_str(), AppId(self.app_id.into()));
                let room = domain.room_jid(dialog).unwrap();
                let name = room.node().unwrap().to_string();
                let service = format!("muc.{}", self.domain);
                self.ctl(&["create_room", &name, &service, &self.domain]);
                dialog
            }
            Kind::Devserver { api_url, auth_key } => {
                let token = rest::user_token(api_url, auth_key, self.app_id, owner).await;
                let id = rest::create_group_dialog(api_url, &token, others, "transport test").await;
                id.parse().unwrap()
            }
        }
    }

    /// Whether the tests run against the devserver.
    pub fn is_devserver(&self) -> bool {
        matches!(self.kind, Kind::Devserver { .. })
    }

    /// Runs ejabberdctl on the test instance; panics on the devserver (use the REST
    /// equivalents in [`rest`] there).
    pub fn ctl(&self, args: &[&str]) -> String {
        let Kind::Ejabberd { ctl } = &self.kind else {
            panic!("ejabberdctl {args:?}: the devserver has no ejabberdctl");
        };
        let out = std::process::Command::new(ctl).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ejabberdctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
