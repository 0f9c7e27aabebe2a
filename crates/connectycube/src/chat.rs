//! The real-time chat half of a [`crate::Session`]: [`ChatClient`], for chat-level calls.

use std::sync::Arc;
use std::time::Duration;

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::ids::{AppId, DialogId, MessageId, UserId};
use connectycube_protocol::iq::activity::ClientState;
use connectycube_protocol::iq::last_activity::{self, LastActivity};
use connectycube_protocol::iq::status_streaming::Subscribe;
use connectycube_protocol::message::ChatKind;
use connectycube_protocol::model::Message;
use connectycube_protocol::muc;
use connectycube_rest::RestClient;
use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::Credentials;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{
    ChatConnection, ConnectionState, CredentialsProvider, LoginError, SendError, SendHandle,
    SessionSettings,
};
use minidom::Element;
use xmpp_parsers::jid::Jid;

use crate::Error;
use crate::delivery::{Counters, DeliveryFilter, DeliverySettings, DeliveryStats};
use crate::events::{Alive, Pump};
use crate::fanout::{Event, EventFilter, Hub, Subscription};
use crate::flow::Flow;
use crate::rooms::{JoinError, Rooms};
use crate::sending::Sending;
use crate::store::Store;
use crate::sync::GapFill;

// The send side of the guide beyond messages, each in its own file (`chat/*.rs`).
mod joins;
mod presence;
mod privacy;
mod sending;
mod statuses;

pub use privacy::{BLOCK_LIST, allow, deny, privacy_list};
pub use statuses::Peer;

/// How long IQ requests (last activity, privacy lists) wait for an answer.
const IQ_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a join waits for the room's presence.
const JOIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Who to log in as and where.
#[derive(Clone)]
pub(crate) struct ChatConfig {
    /// Where the chat server is and how to reach it.
    pub connection: ConnectionConfig,
    /// The application.
    pub app_id: AppId,
    /// The user.
    pub user: UserId,
    /// The user's password, or a REST session token for provider logins; never printed.
    pub password: String,
    /// Reconnection and keepalive.
    pub settings: SessionSettings,
    /// Duplicate filtering and event buffering.
    pub delivery: DeliverySettings,
    /// What the client keeps (shared by an application's users).
    pub store: Store,
}

impl std::fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatConfig")
            .field("connection", &self.connection)
            .field("app_id", &self.app_id)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

/// A logged-in ConnectyCube user in real time. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ChatClient {
    connection: ChatConnection,
    domain: ChatDomain,
    user: UserId,
    counters: Arc<Counters>,
    /// Every subscriber's queue.
    hub: Arc<Hub>,
    /// The rooms to stay in.
    rooms: Arc<Rooms>,
    /// Fills the gaps after a new session, once enabled.
    gap: Arc<GapFill>,
    /// Paces 1-1 sends by the recipients' 'delivered' markers.
    flow: Arc<Flow>,
    /// Messages, dialogs and the send queue, kept.
    store: Store,
    /// Keeps the event task running; `None` in the handles the client's own tasks hold,
    /// so that they do not keep themselves alive.
    _alive: Option<Arc<Alive>>,
}

impl ChatClient {
    /// A client for `config` through `connector` (shared by an application's users; its
    /// configuration wins over `config.connection`), not logged in; with `provider`, the
    /// password is asked for before every connection attempt (a renewed session token)
    /// instead of taken from `config`. Must be called within a tokio runtime: the client runs
    /// its session and event tasks on it.
    pub(crate) fn with_connector(
        connector: XmppConnector,
        config: ChatConfig,
        provider: Option<CredentialsProvider>,
    ) -> Result<Self, Error> {
        let domain = ChatDomain::new(connector.config().domain.clone(), config.app_id);
        let jid = domain.user_jid(config.user)?;
        let credentials = Credentials {
            jid: jid.clone(),
            password: config.password,
        };
        let (connection, incoming) = match provider {
            Some(p) => ChatConnection::with_credentials_provider(connector, p, config.settings),
            None => ChatConnection::new(connector, credentials, config.settings),
        };
        let counters = Arc::new(Counters::default());
        let (gap, injected) = GapFill::new();
        let hub = Arc::new(Hub::new(config.delivery.subscriber_buffer));
        let (alive, alive_rx) = Alive::new();
        let tasks = Self {
            connection,
            domain,
            user: config.user,
            counters: counters.clone(),
            hub: hub.clone(),
            rooms: Arc::default(),
            gap: Arc::new(gap),
            flow: Arc::new(Flow::new(&config.delivery)),
            store: config.store.clone(),
            _alive: None,
        };
        let pump = Pump {
            ack: tasks.clone(),
            outbox: Default::default(),
            user: config.user,
            own: Jid::from(jid),
            filter: DeliveryFilter::new(config.delivery, counters),
            hub: hub.clone(),
            rooms: tasks.rooms.clone(),
            auto_delivered: config.delivery.auto_delivered,
            gap: tasks.gap.clone(),
            injected: Some(injected),
            fetched: Default::default(),
            flow: tasks.flow.clone(),
            store: config.store,
            echoes: Vec::new(),
        };
        let states = tasks.connection.state_changes_in_order();
        tokio::spawn(pump.run(incoming, states, alive_rx));
        let states = tasks.connection.state_changes();
        tokio::spawn(crate::lifecycle::run(states, hub, tasks.clone()));
        Ok(Self {
            _alive: Some(alive),
            ..tasks
        })
    }

    /// A handle for the client's own tasks: it does not keep the event task running.
    pub(crate) fn internal(&self) -> Self {
        Self {
            _alive: None,
            ..self.clone()
        }
    }

    /// Resolves once the event task ended (every handle of the app dropped, or destroyed).
    pub(crate) async fn ended(&self) {
        self.hub.ended().await;
    }

    /// The store.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Publishes a local echo of a send (from the send's own task, not the event task).
    pub(crate) async fn echo(&self, echo: crate::store::LocalEcho) {
        self.hub.publish(Event::Echo(echo)).await;
    }

    /// A new subscription to this client's events (see [`crate::fanout`]).
    pub(crate) fn subscribe(&self, filter: EventFilter, lossless: bool) -> Subscription {
        self.hub.subscribe(filter, lossless)
    }

    /// Connects and logs in (idempotent: concurrent calls share one attempt).
    ///
    /// # Errors
    /// [`LoginError`] as the transport reports it.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// let chat = ann.chat();
    /// chat.logout().await;
    /// assert_ne!(chat.state(), ConnectionState::Ready);
    /// chat.login().await?;
    /// assert_eq!(chat.state(), ConnectionState::Ready);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login(&self) -> Result<(), LoginError> {
        self.connection.login().await
    }

    /// Logs out; no reconnection follows.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// ann.chat().logout().await;
    /// assert_eq!(ann.chat().state(), ConnectionState::Closed);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn logout(&self) {
        self.connection.logout().await;
    }

    /// Logs out and stops the client for good.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// ann.chat().destroy().await;
    /// assert!(ann.chat().login().await.is_err(), "a destroyed client stays down");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn destroy(&self) {
        self.connection.destroy().await;
    }

    /// Logs in again (e.g. when the network is back after the client gave up).
    ///
    /// # Errors
    /// As [`ChatClient::login`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// ann.chat().logout().await;
    /// ann.chat().relogin().await?;
    /// assert_eq!(ann.chat().state(), ConnectionState::Ready);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn relogin(&self) -> Result<(), LoginError> {
        self.connection.relogin().await
    }

    /// What the event stream dropped and flagged so far (duplicates, out-of-order messages).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// dialog.send_text("hello").await?;
    /// let stats = bob.chat().delivery_stats();
    /// assert_eq!((stats.duplicates_dropped, stats.out_of_order), (0, 0));
    /// # Ok(())
    /// # }
    /// ```
    pub fn delivery_stats(&self) -> DeliveryStats {
        DeliveryStats {
            paced_waits: self.flow.waits(),
            ..self.counters.snapshot()
        }
    }

    /// The connection state now.
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
    /// # Ok(())
    /// # }
    /// ```
    pub fn state(&self) -> ConnectionState {
        self.connection.state()
    }

    /// The underlying session, for raw stanzas.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// let jid = ann.chat().connection().jid().ok_or("not bound")?;
    /// assert!(jid.to_string().starts_with(&format!("{}-", ann.user())));
    /// # Ok(())
    /// # }
    /// ```
    pub fn connection(&self) -> &ChatConnection {
        &self.connection
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
    /// # Ok(())
    /// # }
    /// ```
    pub fn user(&self) -> UserId {
        self.user
    }
}

/// A fresh id for an IQ request (an ObjectId, as the official SDKs use), to match its answer.
pub(crate) fn iq_id() -> String {
    MessageId::generate().to_string()
}

fn expect_result(answer: &Element) -> Result<(), Error> {
    match answer.attr("type") {
        Some("result") => Ok(()),
        _ => Err(Error::Refused(String::from(answer))),
    }
}
