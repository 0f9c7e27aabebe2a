//! The one entry point: a [`Client`] built from the application's credentials and endpoints;
//! [`Client::login`] creates the user's REST session and connects the chat, giving a
//! [`Session`] that does everything the guide does.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use connectycube_protocol::ids::{AppId, DialogId, UserId};
use connectycube_rest::client::SessionRenewer;
use connectycube_rest::session::{CreateSession, DestroySession, GetSession, Secret, SessionUser};
use connectycube_rest::{RestClient, RestConfig, RestError};
use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::Credentials;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{CredentialsProvider, SessionSettings};

use crate::chat::ChatConfig;
use crate::store::Store;
use crate::{ChatClient, DeliverySettings, Error, EventFilter, Retry, StoreConfig, Subscription};

/// What the chat logs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChatAuth {
    /// The user's password for login/email logins, the REST session token for every other
    /// login (Facebook, Twitter, Firebase, custom identity), as the guide says.
    #[default]
    Auto,
    /// Always the REST session token (read again, and renewed when expired, before every
    /// connection attempt).
    SessionToken,
}

/// An application's credentials and where its servers are.
#[derive(Clone)]
pub struct AppConfig {
    /// The application id.
    pub app_id: AppId,
    /// The application's auth key; never printed.
    pub auth_key: Secret,
    /// The REST API (URL, timeouts, retries).
    pub rest: RestConfig,
    /// The chat server.
    pub chat: ConnectionConfig,
    /// Chat reconnection and keepalive.
    pub settings: SessionSettings,
    /// Chat duplicate filtering and event buffering.
    pub delivery: DeliverySettings,
    /// What the chat logs in with.
    pub chat_auth: ChatAuth,
    /// What the client keeps between runs (in memory unless a file is named).
    pub store: StoreConfig,
}

impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfig")
            .field("app_id", &self.app_id)
            .field("rest", &self.rest)
            .field("chat", &self.chat)
            .field("chat_auth", &self.chat_auth)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl AppConfig {
    /// The application on ConnectyCube's cloud (`api.connectycube.com`, `chat.connectycube.com`).
    ///
    /// ```
    /// use connectycube::AppConfig;
    /// use connectycube::protocol::ids::AppId;
    ///
    /// let app = AppConfig::new(AppId(105), "auth key");
    /// assert_eq!(app.chat.domain, "chat.connectycube.com");
    /// assert_eq!(app.rest.api_url.host_str(), Some("api.connectycube.com"));
    /// assert!(!format!("{app:?}").contains("auth key"), "the key is never printed");
    /// ```
    pub fn new(app_id: AppId, auth_key: impl Into<String>) -> Self {
        Self {
            app_id,
            auth_key: Secret(auth_key.into()),
            rest: RestConfig::new(),
            chat: ConnectionConfig::connectycube(),
            settings: SessionSettings::default(),
            delivery: DeliverySettings::default(),
            chat_auth: ChatAuth::Auto,
            store: StoreConfig::memory(),
        }
    }

    /// Another installation (enterprise, self-hosted, the local devserver): its API URL and
    /// chat server. An `http://` URL is allowed only because it was asked for by name.
    ///
    /// # Errors
    /// [`Error::Rest`] when `api_url` is not a URL.
    ///
    /// ```
    /// use connectycube::AppConfig;
    /// use connectycube::protocol::ids::AppId;
    /// use connectycube::transport::config::ConnectionConfig;
    ///
    /// let chat = ConnectionConfig::direct_tls("chat.example.com", 5223);
    /// let app = AppConfig::new(AppId(1), "key").with_endpoints("https://api.example.com", chat.clone())?;
    /// assert_eq!(app.rest.api_url.host_str(), Some("api.example.com"));
    /// assert!(!app.rest.allow_plain_http);
    /// let local = AppConfig::new(AppId(1), "key").with_endpoints("http://127.0.0.1:8080", chat.clone())?;
    /// assert!(local.rest.allow_plain_http, "asked for by name");
    /// assert!(AppConfig::new(AppId(1), "key").with_endpoints("not a url", chat).is_err());
    /// # Ok::<(), connectycube::Error>(())
    /// ```
    pub fn with_endpoints(mut self, api_url: &str, chat: ConnectionConfig) -> Result<Self, Error> {
        self.rest = self.rest.with_api_url(api_url)?;
        self.rest.allow_plain_http = self.rest.api_url.scheme() == "http";
        self.chat = chat;
        Ok(self)
    }

    /// Chooses what the chat logs in with.
    ///
    /// ```
    /// use connectycube::{AppConfig, ChatAuth};
    /// use connectycube::protocol::ids::AppId;
    ///
    /// let app = AppConfig::new(AppId(1), "key");
    /// assert_eq!(app.chat_auth, ChatAuth::Auto);
    /// let app = app.with_chat_auth(ChatAuth::SessionToken);
    /// assert_eq!(app.chat_auth, ChatAuth::SessionToken);
    /// ```
    pub fn with_chat_auth(mut self, auth: ChatAuth) -> Self {
        self.chat_auth = auth;
        self
    }

    /// Keeps dialogs, history and the send queue in `store` (a SQLite file survives restarts
    /// and crashes: the app opens on what it had, and queued sends go out after a restart).
    ///
    /// ```
    /// use connectycube::{AppConfig, StoreConfig};
    /// use connectycube::protocol::ids::AppId;
    ///
    /// let app = AppConfig::new(AppId(1), "key").with_store(StoreConfig::sqlite("chat.sqlite3"));
    /// assert!(app.store.path().is_some());
    /// ```
    pub fn with_store(mut self, store: StoreConfig) -> Self {
        self.store = store;
        self
    }
}

/// The application's client: logs users in. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    config: Arc<AppConfig>,
    /// What every user's session shares, made at the first login.
    shared: Arc<OnceLock<Shared>>,
}

/// The HTTP connection pool and the TLS setups (root stores, verifiers) of an application's
/// users: made once, so a program with thousands of users does not hold thousands of copies
/// (with a pooled REST connection each).
#[derive(Debug)]
struct Shared {
    rest: RestClient,
    chat: XmppConnector,
    store: Store,
}

impl Client {
    /// A client for `config`.
    ///
    /// ```
    /// use connectycube::{AppConfig, Client};
    /// use connectycube::protocol::ids::AppId;
    ///
    /// let client = Client::new(AppConfig::new(AppId(105), "auth key"));
    /// assert_eq!(client.config().app_id, AppId(105));
    /// ```
    pub fn new(config: AppConfig) -> Self {
        Self {
            config: Arc::new(config),
            shared: Arc::default(),
        }
    }

    /// The shared setup, made on first use (two first logins at once may both make it; one
    /// is kept).
    fn shared(&self) -> Result<&Shared, Error> {
        if let Some(shared) = self.shared.get() {
            return Ok(shared);
        }
        let made = Shared {
            rest: RestClient::new(self.config.rest.clone())?,
            chat: XmppConnector::new(self.config.chat.clone())?,
            store: self.config.store.open()?,
        };
        Ok(self.shared.get_or_init(|| made))
    }

    /// The configuration.
    ///
    /// ```
    /// use connectycube::{AppConfig, Client};
    /// use connectycube::protocol::ids::AppId;
    ///
    /// let client = Client::new(AppConfig::new(AppId(7), "key"));
    /// assert_eq!(client.config().chat.domain, "chat.connectycube.com");
    /// ```
    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// Logs `user` in: creates the REST session (renewed by itself when it expires) and
    /// connects the chat with the password or the session token (see [`ChatAuth`]).
    /// Must be called within a tokio runtime.
    ///
    /// # Errors
    /// [`Error::Rest`] when the session cannot be created, [`Error::Login`] when the chat
    /// refuses, [`Error::Unsupported`] for a login that names no user.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// use connectycube::rest::session::{Secret, SessionUser};
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// let user = SessionUser::Login { login: "ann".into(), password: Secret("ann-password1".into()) };
    /// let (ann, _events) = client.login(user).await?; // dropping the events is fine
    /// assert_eq!(ann.chat().state(), ConnectionState::Ready);
    ///
    /// let wrong = SessionUser::Login { login: "ann".into(), password: Secret("wrong".into()) };
    /// let refused = client.login(wrong).await.unwrap_err();
    /// assert!(!refused.is_retryable(), "bad credentials are final");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login(&self, user: SessionUser) -> Result<(Session, Subscription), Error> {
        let create = CreateSession::new(self.config.app_id, self.config.auth_key.0.clone(), user);
        let ended = Arc::new(AtomicBool::new(false));
        let plain = self.shared()?.rest.without_session();
        let rest =
            plain
                .clone()
                .with_session_renewer(renewer(plain, create.clone(), ended.clone()));
        let identity = crate::reopen::identity(&create.user);
        let store = self.shared()?.store.clone();
        let session = match rest.create_session(&create).await {
            Ok(session) => session,
            Err(e) => {
                let e = Error::from(e);
                let known = match &identity {
                    Some(id) if e.retry() == Retry::Network => store.user_of(id)?,
                    _ => None,
                };
                let Some(user_id) = known else { return Err(e) };
                let session = self.session_for(rest, &create.user, user_id, ended)?;
                return Ok(crate::reopen::open_offline(session, create));
            }
        };
        let user_id = session
            .user_id
            .ok_or_else(|| Error::Unsupported("the session has no user".into()))?;
        if let Some(id) = &identity {
            store.set_user_of(id, user_id)?;
        }
        let session = self.session_for(rest, &create.user, user_id, ended)?;
        let (session, events) = session.connect().await?;
        session.resend_queued().await?;
        Ok((session, events))
    }

    /// The session of `user`, not connected yet.
    fn session_for(
        &self,
        rest: RestClient,
        login: &SessionUser,
        user: UserId,
        ended: Arc<AtomicBool>,
    ) -> Result<Session, Error> {
        let password = match (self.config.chat_auth, login) {
            (ChatAuth::Auto, SessionUser::Login { password, .. })
            | (ChatAuth::Auto, SessionUser::Email { password, .. }) => Some(password.0.clone()),
            _ => None,
        };
        let chat = self.chat_for(&rest, user, password)?;
        // After a new (not resumed) chat session, what the rooms and recent dialogs got
        // meanwhile comes from the REST history, since what the store last saw.
        chat.enable_gap_fill(rest.clone());
        Ok(Session {
            rest,
            chat,
            user,
            ended,
        })
    }

    /// Logs `user` in to the chat only, with its password: for a chat server without
    /// ConnectyCube's REST API (a plain XMPP server such as the test ejabberd), or a chat
    /// password obtained elsewhere. The session's REST half has no session, so its REST
    /// calls fail with [`Error::Rest`] (dialogs and history answer from the store instead),
    /// and no gap is filled from the REST history after a new chat session. Must be called
    /// within a tokio runtime.
    ///
    /// # Errors
    /// [`Error::Login`] when the chat refuses, [`Error::Address`] for a user that makes no
    /// address on the configured domain.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, _) = login(&client, "ann").await?;
    /// use connectycube::rest::session::Secret;
    ///
    /// let (chat_only, _events) = client.login_chat(ann.user(), Secret("ann-password1".into())).await?;
    /// chat_only.chat().ping().await?;
    /// assert!(chat_only.rest().token().is_none(), "no REST session");
    /// chat_only.logout().await?; // ends the chat; there is no REST session to end
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login_chat(
        &self,
        user: UserId,
        password: Secret,
    ) -> Result<(Session, Subscription), Error> {
        let rest = self.shared()?.rest.without_session();
        let chat = self.chat_for(&rest, user, Some(password.0))?;
        let session = Session {
            rest,
            chat,
            user,
            ended: Arc::new(AtomicBool::new(true)),
        };
        session.connect().await
    }

    fn chat_for(
        &self,
        rest: &RestClient,
        user: UserId,
        password: Option<String>,
    ) -> Result<ChatClient, Error> {
        let config = ChatConfig {
            connection: self.config.chat.clone(),
            app_id: self.config.app_id,
            user,
            password: password.clone().unwrap_or_default(),
            settings: self.config.settings.clone(),
            delivery: self.config.delivery,
            store: self.shared()?.store.clone(),
        };
        let jid = connectycube_protocol::address::ChatDomain::new(
            config.connection.domain.clone(),
            config.app_id,
        )
        .user_jid(user)?;
        let provider = match password {
            Some(_) => None,
            None => Some(token_provider(rest.clone(), jid)),
        };
        let connector = self.shared()?.chat.clone();
        ChatClient::with_connector(connector, config, provider)
    }
}

/// Renews an expired session with `create` (restamped), until the user logged out: after
/// that a request must not quietly log them in again.
fn renewer(plain: RestClient, create: CreateSession, ended: Arc<AtomicBool>) -> SessionRenewer {
    Arc::new(move || {
        let (rest, mut create, ended) = (plain.clone(), create.clone(), ended.clone());
        Box::pin(async move {
            if ended.load(Ordering::SeqCst) {
                return Err(RestError::InvalidRequest("the user logged out".into()));
            }
            create.timestamp = crate::unix_now();
            Ok(rest.send(&create).await?.session.token.expose().to_owned())
        })
    })
}

/// Chat credentials from the REST session, asked for before every connection attempt: a
/// `GET /session` first renews an expired session (the REST client's single flight), so a
/// reconnect after expiry logs in with the new token rather than failing on the old one.
fn token_provider(rest: RestClient, jid: xmpp_parsers::jid::BareJid) -> CredentialsProvider {
    Arc::new(move || {
        let rest = rest.clone();
        let jid = jid.clone();
        Box::pin(async move {
            if let Err(e) = rest.send(&GetSession).await {
                // The chat attempt goes on with the token there is; its own failure is the
                // one the state reports.
                tracing::debug!(error = %e, "checking the REST session before chat login");
            }
            let password = rest.token().ok_or("no REST session token")?;
            Ok(Credentials { jid, password })
        })
    })
}

/// A logged-in user: the REST session and the chat, together. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Session {
    rest: RestClient,
    chat: ChatClient,
    user: UserId,
    /// Set by logout/destroy: the REST session is not renewed any more.
    ended: Arc<AtomicBool>,
}

impl Session {
    /// A handle for the client's own tasks: it does not keep the session alive.
    pub(crate) fn internal(&self) -> Self {
        Self {
            chat: self.chat.internal(),
            ..self.clone()
        }
    }

    /// Whether the REST half has no session: opened offline, or a chat-only login.
    pub(crate) fn offline(&self) -> bool {
        self.rest.token().is_none()
    }

    /// Whether the user logged out (the REST session is not renewed any more).
    pub(crate) fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Connects the chat, listening from before the first stanza so nothing is missed.
    async fn connect(self) -> Result<(Self, Subscription), Error> {
        let events = self.events(EventFilter::ALL);
        self.chat.login().await?;
        // What came while the app was closed, since what the store saw last (a no-op
        // without a REST session or anything seen).
        self.chat.fill_gaps();
        Ok((self, events))
    }

    /// The logged-in user.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// assert_eq!(ann.chat().user(), ann.user());
    /// assert_ne!(ann.user().0, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn user(&self) -> UserId {
        self.user
    }

    /// The chat half (typing, markers, privacy lists, last activity, raw stanzas).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// assert_eq!(ann.chat().state(), ConnectionState::Ready);
    /// ann.chat().ping().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn chat(&self) -> &ChatClient {
        &self.chat
    }

    /// The REST half, for any endpoint the facade has no call for.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::rest::chat::dialogs::ListDialogs;
    ///
    /// assert!(ann.rest().token().is_some(), "a REST session is open");
    /// let page = ann.rest().send(&ListDialogs::new()).await?;
    /// assert!(page.items.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn rest(&self) -> &RestClient {
        &self.rest
    }

    /// Joins `dialog`'s room unless the chat already did; resolves on the room's
    /// self-presence, and the room is rejoined after every new chat session.
    ///
    /// # Errors
    /// [`Error::Join`] when the room refuses or does not answer.
    pub(crate) async fn ensure_joined(&self, dialog: DialogId) -> Result<(), Error> {
        self.chat.join(dialog).await
    }

    /// Ends the chat (no reconnection) and the REST session.
    ///
    /// # Errors
    /// [`Error::Rest`] when the REST session could not be destroyed (the chat is closed).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// ann.logout().await?;
    /// assert_eq!(ann.rest().token(), None);
    /// assert_ne!(ann.chat().state(), ConnectionState::Ready);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn logout(&self) -> Result<(), Error> {
        self.chat.logout().await;
        self.end_rest().await
    }

    /// Ends both halves and stops the chat client for good.
    ///
    /// # Errors
    /// As [`Session::logout`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// ann.destroy().await?;
    /// assert_eq!(ann.rest().token(), None);
    /// assert!(ann.chat().ping().await.is_err(), "the chat client is stopped");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn destroy(&self) -> Result<(), Error> {
        self.chat.destroy().await;
        self.end_rest().await
    }

    async fn end_rest(&self) -> Result<(), Error> {
        self.ended.store(true, Ordering::SeqCst);
        // A chat-only login (or one already ended) has no REST session to end.
        if self.rest.token().is_none() {
            return Ok(());
        }
        self.rest.send(&DestroySession).await?;
        self.rest.set_token(None);
        Ok(())
    }
}
