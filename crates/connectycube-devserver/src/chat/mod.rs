//! The real-time chat server (XMPP) with ConnectyCube's semantics: direct TLS (as port 5223),
//! STARTTLS (5222) and WebSocket (RFC 7395, ws and wss) on ephemeral 127.0.0.1 ports; SASL
//! PLAIN with a password or a REST session token; bind, presence, 1-1 routing with carbons and
//! offline storage; XEP-0198 with resumption; MUC rooms for group and public dialogs; privacy
//! lists; last activity; history through a [`backend::ChatBackend`]; the push notifications
//! the cloud would send for recipients offline or inactive, recorded ([`notifications`]).

mod auth;
pub mod backend;
pub mod codec;
pub mod faults;
mod iq;
mod listener;
pub mod memory;
mod messages;
mod muc;
pub mod notifications;
mod privacy;
mod pushes;
mod router;
mod session;
pub mod sm;
pub mod wire;
mod ws;
mod xml;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::ids::{AppId, UserId};
use minidom::Element;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::push::PushReceiver;

/// Locks `m`, also after a panic elsewhere while it was held: the chat's locks guard maps and
/// queues that every update leaves consistent, so a poisoned one holds nothing half-done.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
use crate::tls::{DevTls, TlsError};
use backend::ChatBackend;
use notifications::Notifications;
use router::Router;

/// How the chat server runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChatConfig {
    /// The XMPP domain, the host part of every user JID (`localhost` by default).
    pub host: String,
    /// The application whose rooms live on `muc.{host}`.
    pub app_id: AppId,
    /// The address to listen on: 127.0.0.1 unless told otherwise.
    pub bind: IpAddr,
    /// Fixed ports (direct TLS, STARTTLS, ws, wss); 0 picks a free one.
    pub ports: ChatPorts,
    /// Unacknowledged stanzas a session may owe before it is closed (ejabberd's
    /// `max_ack_queue`, 5000).
    pub max_ack_queue: usize,
    /// Messages kept per offline user; past it a message bounces (`resource-constraint`,
    /// ejabberd's words) instead of being kept (10,000 by default).
    pub max_offline: usize,
    /// How long a broken session with XEP-0198 resumption waits to be resumed.
    pub resume_timeout: Duration,
    /// The TLS certificates; made fresh when `None`.
    pub tls: Option<DevTls>,
}

/// The listening ports; 0 means any free port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatPorts {
    /// TLS from the first byte (like 5223).
    pub direct_tls: u16,
    /// STARTTLS (like 5222).
    pub starttls: u16,
    /// WebSocket without TLS.
    pub ws: u16,
    /// WebSocket over TLS (like 5291).
    pub wss: u16,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            app_id: AppId(1),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: ChatPorts::default(),
            max_ack_queue: 5000,
            max_offline: router::MAX_OFFLINE,
            resume_timeout: Duration::from_secs(300),
            tls: None,
        }
    }
}

impl ChatConfig {
    /// The defaults for `app_id` on `host`.
    pub fn new(host: impl Into<String>, app_id: AppId) -> Self {
        Self {
            host: host.into(),
            app_id,
            ..Self::default()
        }
    }
}

/// Starting the chat server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// A port could not be bound.
    #[error("could not listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificates could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The host is not a valid XMPP domain.
    #[error("`{0}` is not a valid chat host")]
    Host(String),
}

/// What every connection shares.
pub(crate) struct Shared {
    pub config: ChatConfig,
    pub domain: ChatDomain,
    pub backend: Arc<dyn ChatBackend>,
    pub router: Router,
    /// The push notifications the cloud would have sent.
    pub notifications: Arc<Notifications>,
    /// The faults a test injected.
    pub faults: Arc<faults::ChatFaults>,
    pub tls: DevTls,
    next_conn: AtomicU64,
}

impl Shared {
    /// Keeps a message for an offline user: in the backend when it persists them (the
    /// devserver's SQLite, so a restart loses none), else in the router's memory. `false`
    /// when the user's storage is full: the message is not kept and must bounce.
    pub fn store_offline(&self, user: UserId, el: Element) -> bool {
        let kept = match self.backend.offline_count(user) {
            Ok(Some(n)) => n,
            Ok(None) | Err(_) => self.router.offline_len(user),
        };
        if kept >= self.config.max_offline {
            return false;
        }
        match self
            .backend
            .store_offline(user, &String::from(&el), self.config.max_offline)
        {
            Ok(true) => {}
            Ok(false) => self.router.store_offline(user, el),
            Err(e) => {
                tracing::warn!(error = %e, "offline storage failed; kept in memory");
                self.router.store_offline(user, el);
            }
        }
        true
    }

    /// The push alert a chat message `el` from `sender` makes for `user` (offline or in the
    /// background): none for a silent message, an edit, or a dialog `user` muted.
    pub fn alert(&self, user: UserId, sender: UserId, el: &Element) {
        let Some(n) = notifications::alert_of(user, sender, el) else {
            return;
        };
        let dialog = notifications::dialog_of(el);
        match self.backend.alert(user, sender, dialog, n.message, &n.body) {
            Ok(true) => self.notifications.record(n),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "push alert not recorded by the backend");
                self.notifications.record(n);
            }
        }
    }

    /// Takes a user's offline messages, oldest first (those kept in memory, then persisted).
    pub fn take_offline(&self, user: UserId) -> Vec<Element> {
        let mut out = self.router.take_offline(user);
        match self.backend.take_offline(user) {
            Ok(stored) => out.extend(stored.iter().filter_map(|x| x.parse::<Element>().ok())),
            Err(e) => tracing::warn!(error = %e, "offline storage unreadable"),
        }
        out
    }

    pub fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub fn host(&self) -> &str {
        &self.config.host
    }

    /// `{user}-{app}@{host}`; the app is the configured one.
    pub fn user_jid(&self, user: UserId) -> String {
        format!("{user}-{}@{}", self.config.app_id, self.config.host)
    }

    pub fn full_jid(&self, user: UserId, resource: &str) -> String {
        format!("{}/{resource}", self.user_jid(user))
    }
}

/// The running chat server. [`ChatHandle::shutdown`] stops it and waits; dropping the handle
/// stops it too (without waiting).
#[derive(Debug)]
pub struct ChatHandle {
    host: String,
    ports: ChatPorts,
    bind: IpAddr,
    ca_pem: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    notifications: Arc<Notifications>,
    faults: Arc<faults::ChatFaults>,
}

impl ChatHandle {
    /// The XMPP domain (the host of user JIDs and the TLS name), e.g. `localhost`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The address the listeners are on.
    pub fn address(&self) -> IpAddr {
        self.bind
    }

    /// The ports actually bound.
    pub fn ports(&self) -> ChatPorts {
        self.ports
    }

    /// `ws://127.0.0.1:{port}/` for RFC 7395 over plain WebSocket.
    pub fn ws_url(&self) -> String {
        format!("ws://{}:{}/", self.bind, self.ports.ws)
    }

    /// `wss://localhost:{port}/` (the certificate names `localhost` and 127.0.0.1).
    pub fn wss_url(&self) -> String {
        format!("wss://localhost:{}/", self.ports.wss)
    }

    /// The push notifications the cloud would have sent so far, oldest first: one per chat
    /// message to a user who was offline or whose every session was inactive
    /// ([`notifications`]).
    pub fn notifications(&self) -> Vec<notifications::Notification> {
        self.notifications.snapshot()
    }

    /// The chat's fault injection: cut, stall, refuse resumption, delay delivery.
    pub fn faults(&self) -> &Arc<faults::ChatFaults> {
        &self.faults
    }

    /// The CA certificate (PEM) that signed the server's certificate: trust it explicitly.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// How the SDK's transport reaches this server: direct TLS to its port on loopback,
    /// trusting its CA (and only for this connection).
    pub fn connection_config(&self) -> connectycube_transport::config::ConnectionConfig {
        connectycube_transport::config::ConnectionConfig::direct_tls(
            self.host.as_str(),
            self.ports.direct_tls,
        )
        .with_address(self.bind.to_string())
        .with_custom_root_ca_pem(self.ca_pem.as_bytes().to_vec())
    }

    /// Stops listening and closes every session with `system-shutdown`.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

/// The chat server.
#[derive(Debug)]
pub struct ChatServer;

impl ChatServer {
    /// Binds the listeners and starts serving; REST pushes arrive through `pushes`.
    ///
    /// # Errors
    /// [`ChatError`] when a port cannot be bound or the certificates cannot be made.
    pub async fn start(
        config: ChatConfig,
        backend: Arc<dyn ChatBackend>,
        pushes: PushReceiver,
    ) -> Result<ChatHandle, ChatError> {
        if xmpp_parsers::jid::BareJid::new(&config.host).is_err() {
            return Err(ChatError::Host(config.host.clone()));
        }
        let tls = match &config.tls {
            Some(t) => t.clone(),
            None => DevTls::generate(&[config.host.as_str()])?,
        };
        let (shutdown, stop) = watch::channel(false);
        let notifications = Arc::new(Notifications::default());
        let faults = Arc::new(faults::ChatFaults::default());
        let shared = Arc::new(Shared {
            faults: faults.clone(),
            domain: ChatDomain::new(config.host.clone(), config.app_id),
            backend,
            router: Router::default(),
            notifications: notifications.clone(),
            tls: tls.clone(),
            next_conn: AtomicU64::new(1),
            config: config.clone(),
        });
        let (ports, mut tasks) = listener::bind_all(&shared, stop.clone()).await?;
        tasks.push(tokio::spawn(pushes::run(shared.clone(), pushes, stop)));
        Ok(ChatHandle {
            host: config.host,
            ports,
            bind: config.bind,
            ca_pem: tls.ca_pem().to_owned(),
            shutdown,
            tasks,
            notifications,
            faults,
        })
    }
}
