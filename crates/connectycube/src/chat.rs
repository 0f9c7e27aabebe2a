//! The real-time chat client: a [`ChatClient`] to act, a [`ChatEvents`] stream to listen.

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
use futures_util::Stream;
use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::jid::Jid;

use crate::Error;
use crate::activity::{LastActivityUpdates, SystemMessages, Watchers};
use crate::delivery::{Counters, DeliveryFilter, DeliverySettings, DeliveryStats};
use crate::events::{ChatEvents, Pump};
use crate::fanout::{EventFilter, EventKind, Hub, Subscription};
use crate::flow::Flow;
use crate::rooms::{JoinError, Rooms};
use crate::sending::Sending;
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
pub struct ChatConfig {
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
    /// Users whose last activity a stream watches.
    watchers: Watchers,
    /// The rooms to stay in.
    rooms: Arc<Rooms>,
    /// Fills the gaps after a new session, once enabled.
    gap: Arc<GapFill>,
    /// Paces 1-1 sends by the recipients' 'delivered' markers.
    flow: Arc<Flow>,
}

impl ChatClient {
    /// A client for `config`, and the stream of its events. Call [`ChatClient::login`] next.
    /// Must be called within a tokio runtime: the client runs its session and event tasks on it.
    ///
    /// # Errors
    /// [`Error::Connect`] for an unusable TLS configuration, [`Error::Address`] for a host that
    /// makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// use connectycube::protocol::ids::AppId;
    /// use connectycube::transport::session::{ConnectionState, SessionSettings};
    /// use connectycube::{ChatClient, ChatConfig, DeliverySettings};
    ///
    /// # let (ann, _) = login(&client, "ann").await?;
    /// let config = ChatConfig {
    ///     connection: srv.chat().ok_or("no chat")?.connection_config(),
    ///     app_id: AppId(srv.app_id()),
    ///     user: ann.user(),
    ///     password: "ann-password1".into(),
    ///     settings: SessionSettings::default(),
    ///     delivery: DeliverySettings::default(),
    /// };
    /// let (chat, _events) = ChatClient::new(config)?;
    /// assert_eq!(chat.state(), ConnectionState::Idle);
    /// chat.login().await?;
    /// assert_eq!(chat.state(), ConnectionState::Ready);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(config: ChatConfig) -> Result<(Self, ChatEvents), Error> {
        let connector = XmppConnector::new(config.connection.clone())?;
        Self::with_connector(connector, config, None)
    }

    /// As [`ChatClient::new`], through `connector` (shared by an application's users; its
    /// configuration wins over `config.connection`); with `provider`, the password is asked
    /// for before every connection attempt (a renewed session token) instead of taken from
    /// `config`.
    pub(crate) fn with_connector(
        connector: XmppConnector,
        config: ChatConfig,
        provider: Option<CredentialsProvider>,
    ) -> Result<(Self, ChatEvents), Error> {
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
        let client = Self {
            connection,
            domain,
            user: config.user,
            counters: counters.clone(),
            hub: hub.clone(),
            watchers: Watchers::default(),
            rooms: Arc::default(),
            gap: Arc::new(gap),
            flow: Arc::new(Flow::new(&config.delivery)),
        };
        let (tx, rx) = mpsc::channel(config.delivery.event_buffer.max(1));
        let pump = Pump {
            ack: client.clone(),
            outbox: Default::default(),
            user: config.user,
            own: Jid::from(jid),
            filter: DeliveryFilter::new(config.delivery, counters),
            hub: hub.clone(),
            rooms: client.rooms.clone(),
            auto_delivered: config.delivery.auto_delivered,
            gap: client.gap.clone(),
            injected: Some(injected),
            fetched: Default::default(),
            flow: client.flow.clone(),
        };
        tokio::spawn(pump.run(incoming, tx));
        tokio::spawn(crate::lifecycle::run(
            client.state_changes(),
            hub,
            client.clone(),
        ));
        Ok((client, ChatEvents::new(rx)))
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

    /// A new listener for every event from now on, connection states included, or for the
    /// kinds in `filter` (`EventKind::Messages.into()`, `EventFilter::ALL`). Any number may
    /// listen; each gets its own bounded queue and, when it falls behind, an exact account of
    /// what it missed instead of holding the others back ([`crate::fanout`]).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use std::time::Duration;
    /// use connectycube::EventKind;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let mut messages = bob.chat().subscribe(EventKind::Messages);
    /// dialog.send_text("hi").await?;
    /// let event = tokio::time::timeout(Duration::from_secs(10), messages.next()).await?;
    /// let event = event.ok_or("the client stopped")?;
    /// assert!(matches!(event.chat(), Some(ChatEvent::ChatMessage(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe(&self, filter: impl Into<EventFilter>) -> Subscription {
        self.hub.subscribe(filter.into())
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

    /// Every state change, starting with the current state.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::transport::session::ConnectionState;
    /// use futures_util::StreamExt;
    ///
    /// let mut changes = Box::pin(ann.chat().state_changes());
    /// assert_eq!(changes.next().await, Some(ConnectionState::Ready), "the current state first");
    /// ann.chat().logout().await;
    /// assert_eq!(changes.next().await, Some(ConnectionState::Closed));
    /// # Ok(())
    /// # }
    /// ```
    pub fn state_changes(&self) -> impl Stream<Item = ConnectionState> + use<> {
        self.connection.state_changes()
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
