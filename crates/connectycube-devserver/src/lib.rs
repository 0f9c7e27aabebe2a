//! A local stand-in for the ConnectyCube cloud: the REST API and real-time chat on SQLite, so
//! apps (and this SDK's own tests) run end to end offline, on 127.0.0.1 only.
//!
//! `store` keeps everything in SQLite (in memory by default, a file to survive restarts:
//! offline messages included); `rest` answers the documented REST API; `chat` is the XMPP
//! server (direct TLS, STARTTLS, WebSocket) with ConnectyCube's semantics on top; `push`
//! carries what a REST call makes the chat tell connected users.
//!
//! As a test kit (docs/TESTING.md): the pushes the cloud would have delivered are recorded
//! ([`DevServer::pushes_delivered`]), faults are injected into the chat
//! ([`DevServer::chat_faults`]) and REST ([`RestState::fail_next_requests_with`]), and both
//! are reachable over `/_devserver/` for clients in other languages.
//!
//! ```no_run
//! # async fn run() -> Result<(), connectycube_devserver::DevServerError> {
//! use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};
//!
//! let mut config = DevServerConfig::default();
//! config.users.push(SeedUser::new("ann", "password1"));
//! let server = DevServer::start(config).await?;
//! println!("REST at {} (app {})", server.api_url(), server.app_id());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod chat;
pub mod push;
pub mod rest;
pub mod store;
pub mod tls;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use connectycube_protocol::ids::UserId;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::push::PushReceiver;
use crate::rest::{RestSettings, RestState};
use crate::store::{NewUser, Store, StoreError};

/// What can stop the devserver from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevServerError {
    /// The chat server could not start.
    #[error("chat server")]
    Chat(#[from] chat::ChatError),
    /// The store failed (opening, migrating, seeding).
    #[error("store")]
    Store(#[from] StoreError),
    /// A port could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The seed file could not be read.
    #[error("cannot read seed file {path}")]
    SeedFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The seed file is not the expected JSON.
    #[error("seed file {path} is not a valid seed")]
    SeedJson {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// A user to create at start (skipped when the login exists, so a `--db` restart keeps it).
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SeedUser {
    /// A fixed id; `None` takes the next free one.
    pub id: Option<u64>,
    /// The login.
    pub login: String,
    /// The password (a secret: not in Debug).
    pub password: String,
    /// The email.
    pub email: Option<String>,
    /// The full name.
    pub full_name: Option<String>,
    /// The phone.
    pub phone: Option<String>,
    /// Comma-joined tags.
    pub tags: Option<String>,
    /// The id in an external system.
    pub external_user_id: Option<u64>,
}

impl SeedUser {
    /// A user with `login` and `password`.
    pub fn new(login: &str, password: &str) -> Self {
        Self {
            login: login.into(),
            password: password.into(),
            ..Self::default()
        }
    }
}

impl fmt::Debug for SeedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedUser")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The seed file's application.
#[derive(Clone, Deserialize, PartialEq, Eq)]
pub struct SeedApp {
    /// The application id.
    pub id: u64,
    /// Its auth key.
    pub auth_key: String,
}

/// The seed file: `{"app": {"id": 1, "auth_key": "…"}, "users": [{"login": "…",
/// "password": "…", …}]}`; both keys optional.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Seed {
    /// The application.
    pub app: Option<SeedApp>,
    /// Users to create.
    pub users: Vec<SeedUser>,
}

impl Seed {
    /// Reads a seed file.
    ///
    /// # Errors
    /// [`DevServerError::SeedFile`] or [`DevServerError::SeedJson`].
    pub fn from_file(path: &Path) -> Result<Self, DevServerError> {
        let text = std::fs::read_to_string(path).map_err(|source| DevServerError::SeedFile {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| DevServerError::SeedJson {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// How to start the devserver.
#[derive(Debug, Clone)]
pub struct DevServerConfig {
    /// The SQLite file; `None` keeps everything in memory.
    pub db: Option<PathBuf>,
    /// The address to listen on (127.0.0.1 by default).
    pub bind: IpAddr,
    /// The REST port; 0 takes a free one.
    pub port: u16,
    /// The application id.
    pub app_id: u64,
    /// The application's auth key; `None` keeps the stored one, or makes a random one.
    pub auth_key: Option<String>,
    /// Users to create at start.
    pub users: Vec<SeedUser>,
    /// A seed file, applied after the fields above (its app wins).
    pub seed_file: Option<PathBuf>,
    /// How the REST half behaves (session lifetime, rate limit, …).
    pub rest: RestSettings,
    /// The chat half's settings (host, ports, ack limit); `None` serves REST only. Its
    /// `app_id` is set to the devserver's application.
    pub chat: Option<chat::ChatConfig>,
}

impl Default for DevServerConfig {
    fn default() -> Self {
        Self {
            db: None,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            app_id: 1,
            auth_key: None,
            users: Vec::new(),
            seed_file: None,
            rest: RestSettings::default(),
            chat: Some(chat::ChatConfig::default()),
        }
    }
}

/// A running devserver; stops when [`DevServer::shutdown`] is called or it is dropped.
pub struct DevServer {
    api_addr: SocketAddr,
    app_id: u64,
    auth_key: String,
    store: Store,
    rest: Arc<RestState>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    pushes: Mutex<Option<PushReceiver>>,
    chat: Option<chat::ChatHandle>,
}

impl fmt::Debug for DevServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevServer")
            .field("api_addr", &self.api_addr)
            .field("app_id", &self.app_id)
            .field("auth_key", &"<redacted>")
            .field("chat", &self.chat.as_ref().map(chat::ChatHandle::ports))
            .finish_non_exhaustive()
    }
}

impl DevServer {
    /// Opens the store, seeds it, and starts answering REST on `config.bind:config.port`.
    ///
    /// # Errors
    /// [`DevServerError`] when the store, the seed or the port fails.
    pub async fn start(config: DevServerConfig) -> Result<Self, DevServerError> {
        let store = match &config.db {
            Some(path) => Store::open(path)?,
            None => Store::in_memory()?,
        };
        let seed = match &config.seed_file {
            Some(path) => Seed::from_file(path)?,
            None => Seed::default(),
        };
        let (app_id, auth_key) = match &seed.app {
            Some(app) => {
                store.put_app(app.id, &app.auth_key)?;
                (app.id, app.auth_key.clone())
            }
            None => {
                let stored = store.app(config.app_id)?;
                let key = match (&config.auth_key, stored) {
                    (Some(k), _) => k.clone(),
                    (None, Some(app)) => app.auth_key,
                    (None, None) => store::random_hex(12),
                };
                store.put_app(config.app_id, &key)?;
                (config.app_id, key)
            }
        };
        let users: Vec<NewUser> = config
            .users
            .iter()
            .chain(&seed.users)
            .map(new_user)
            .collect();
        store.seed_users(app_id, &users)?;
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| DevServerError::Bind { addr, source })?;
        let api_addr = listener
            .local_addr()
            .map_err(|source| DevServerError::Bind { addr, source })?;
        let (push_tx, push_rx) = push::channel();
        let rest = Arc::new(RestState::new(
            store.clone(),
            push_tx,
            config.rest.clone(),
            format!("http://{api_addr}"),
        ));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(rest::serve(listener, rest.clone(), stop_rx));
        tracing::info!(%api_addr, app_id, "devserver REST listening");
        let (chat, push_rx) = match config.chat.clone() {
            Some(mut chat_config) => {
                chat_config.app_id = connectycube_protocol::ids::AppId(app_id);
                let backend = Arc::new(store::StoreBackend::new(store.clone(), app_id));
                let handle = chat::ChatServer::start(chat_config, backend, push_rx).await?;
                rest.attach_chat_faults(handle.faults().clone());
                (Some(handle), None)
            }
            None => (None, Some(push_rx)),
        };
        Ok(Self {
            api_addr,
            app_id,
            auth_key,
            store,
            rest,
            stop,
            task: Some(task),
            pushes: Mutex::new(push_rx),
            chat,
        })
    }

    /// The REST API's base URL (`http://127.0.0.1:PORT`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// The REST API's address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The application id.
    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// The application's auth key.
    pub fn auth_key(&self) -> &str {
        &self.auth_key
    }

    /// The store, to seed or inspect state directly (tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The REST half's state (fault injection: [`RestState::fail_next_requests`]).
    pub fn rest(&self) -> &RestState {
        &self.rest
    }

    /// The chat's fault injection (cut, stall, refuse the next resumption, delay delivery),
    /// unless the config turned the chat off. REST faults: [`RestState::fail_next_requests_with`].
    pub fn chat_faults(&self) -> Option<&chat::faults::ChatFaults> {
        self.chat.as_ref().map(|c| &**c.faults())
    }

    /// The pushes delivered so far to `user`'s subscribed devices (every user's when `None`):
    /// chat alerts for messages they got while offline or in the background, and push events.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn pushes_delivered(
        &self,
        user: Option<UserId>,
    ) -> Result<Vec<store::PushDelivery>, StoreError> {
        self.store.push_deliveries(user)
    }

    /// The chat server (host, ports, WebSocket URLs, CA certificate), unless the config
    /// turned it off.
    pub fn chat(&self) -> Option<&chat::ChatHandle> {
        self.chat.as_ref()
    }

    /// The pushes REST calls make for the chat (system messages, reactions, removed
    /// occupants, messages sent to chat), when no chat server runs to take them; once.
    pub fn take_pushes(&self) -> Option<PushReceiver> {
        self.pushes.lock().ok().and_then(|mut p| p.take())
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(chat) = self.chat.take() {
            chat.shutdown().await;
        }
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The user a seed entry describes (created unless its login or id is there already).
fn new_user(u: &SeedUser) -> NewUser {
    NewUser {
        id: u.id.map(UserId),
        login: Some(u.login.clone()),
        password: Some(u.password.clone()),
        email: u.email.clone(),
        full_name: u.full_name.clone(),
        phone: u.phone.clone(),
        user_tags: u.tags.clone(),
        external_user_id: u.external_user_id,
        ..NewUser::default()
    }
}
