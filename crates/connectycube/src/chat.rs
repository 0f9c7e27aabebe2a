//! The real-time chat client: a [`ChatClient`] to act, a [`ChatEvents`] stream to listen.

use std::sync::Arc;
use std::time::Duration;

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::{AppId, DialogId, MessageId, UserId};
use connectycube_protocol::iq::activity::ClientState;
use connectycube_protocol::iq::last_activity::{self, LastActivity};
use connectycube_protocol::iq::status_streaming::Subscribe;
use connectycube_protocol::message::ChatKind;
use connectycube_protocol::message::chat_state::TypingState;
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
use crate::sync::GapFill;

// The send side of the guide beyond messages, each in its own file (`chat/*.rs`).
mod privacy;
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

    /// Sends a 1-1 message; the handle completes when the server has it ("sent").
    ///
    /// # Errors
    /// [`Error::Build`] when a custom property name is not an XML name.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::Message;
    ///
    /// let message = Message::new("straight to bob");
    /// ann.chat().send_private(bob.user(), &message)?.await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.id, message.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_private(&self, to: UserId, message: &Message) -> Result<SendHandle, Error> {
        let to = Jid::from(self.domain.user_jid(to)?);
        Ok(self.connection.send(message.to_stanza(to, ChatKind::Chat)?))
    }

    /// Sends a 1-1 message once the recipient has answered enough of the earlier ones with
    /// 'delivered' markers ([`DeliverySettings::delivered_window`]): what a program that sends
    /// many messages should call. The server acknowledges a message as soon as it routed it,
    /// so without this a sender faster than its recipient's reader fills the recipient's
    /// queue at the server until the server closes the recipient (ejabberd's
    /// `max_ack_queue`) and bounces the queue back. With several of the recipient's devices
    /// answering, the slowest one sets the pace (the server queues for each apart). A
    /// recipient that sends no markers slows the first window's worth of sends by
    /// [`DeliverySettings::delivered_timeout`] once.
    ///
    /// # Errors
    /// As [`ChatClient::send_private`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::Message;
    ///
    /// for n in 0..3 {
    ///     let handle = ann.chat().send_private_paced(bob.user(), &Message::new(format!("{n}"))).await?;
    ///     handle.await?;
    /// }
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.body.as_deref(), Some("0"));
    /// assert_eq!(ann.chat().delivery_stats().paced_waits, 0, "bob keeps up");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_private_paced(
        &self,
        to: UserId,
        message: &Message,
    ) -> Result<SendHandle, Error> {
        self.flow.admit(to, message.id).await;
        let sent = self.send_private(to, message);
        if sent.is_err() {
            self.flow.forget(to, &message.id);
        }
        sent
    }

    /// Sends a message to a group, public or broadcast dialog. A room the client is not in
    /// is joined on demand: the join presence goes out first, so the server takes the message
    /// after it (a refused join shows as the message bouncing). It does not wait for a room
    /// being rejoined after a drop: `join(dialog).await` first does ([`ChatClient::join`]),
    /// and so does [`crate::Dialog::send`].
    ///
    /// # Errors
    /// [`Error::Build`] when a custom property name is not an XML name.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::Message;
    ///
    /// ann.chat().join(dialog.id()).await?;
    /// ann.chat().send_to_dialog(dialog.id(), &Message::new("hello, group"))?.await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.dialog_id, Some(dialog.id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_to_dialog(&self, dialog: DialogId, message: &Message) -> Result<SendHandle, Error> {
        let room = Jid::from(self.domain.room_jid(dialog)?);
        if self.rooms.want(dialog) {
            drop(self.send_join(dialog)?);
        }
        let mut message = message.clone();
        message.dialog_id = Some(dialog);
        Ok(self
            .connection
            .send(message.to_stanza(room, ChatKind::Groupchat)?))
    }

    /// Tells the sender that their message arrived (`received` marker).
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("hi").await?;
    /// bob.chat().mark_delivered(ann.user(), Some(dialog.id()), sent.id)?.await?;
    /// let delivered = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Delivered(d) => Some(d.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(delivered, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn mark_delivered(
        &self,
        sender: UserId,
        dialog: Option<DialogId>,
        id: MessageId,
    ) -> Result<SendHandle, Error> {
        self.send_event(Peer::User(sender, dialog), id, ChatEvent::Delivered)
    }

    /// Tells the sender that their message was read (`displayed` marker).
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("hi").await?;
    /// bob.chat().mark_read(ann.user(), Some(dialog.id()), sent.id)?.await?;
    /// let read = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Read(r) => Some(r.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(read, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn mark_read(
        &self,
        sender: UserId,
        dialog: Option<DialogId>,
        id: MessageId,
    ) -> Result<SendHandle, Error> {
        self.send_event(Peer::User(sender, dialog), id, ChatEvent::Read)
    }

    /// Says that this user is typing (or stopped) in a 1-1 dialog.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::message::chat_state::TypingState;
    ///
    /// ann.chat().typing(bob.user(), TypingState::Composing)?.await?;
    /// let typing = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some(t.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(typing, TypingState::Composing);
    /// # Ok(())
    /// # }
    /// ```
    pub fn typing(&self, to: UserId, state: TypingState) -> Result<SendHandle, Error> {
        self.send_event(Peer::User(to, None), state, ChatEvent::Typing)
    }

    /// Joins a group or public dialog's room, to send and receive its messages; resolves
    /// when the room confirms (its presence for us, status 110). The client stays in the room:
    /// after a reconnect that could not resume it joins again, until
    /// [`ChatClient::leave_dialog`] (or a removal by an admin). From a drop of the connection
    /// until the room is known again (the session resumed, or the rejoin after a new one was
    /// answered) it resolves on that outcome, so a message sent after it never reaches the
    /// server ahead of the rejoin; [`ChatClient::send_to_dialog`] alone does not wait.
    ///
    /// # Errors
    /// [`Error::Join`]: refused by the room (an error presence), no answer within 15 s (also
    /// when the connection is not back by then), or the presence did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// ann.chat().join(dialog.id()).await?;
    /// assert!(ann.chat().joined_dialogs().contains(&dialog.id()));
    /// ann.chat().join(dialog.id()).await?; // already in: returns at once
    /// # Ok(())
    /// # }
    /// ```
    pub async fn join(&self, dialog: DialogId) -> Result<(), Error> {
        if self.rooms.is_joined(dialog) {
            return Ok(());
        }
        // A rejoin (or the resumption) will settle it; a join of our own would only race it.
        if let Some(settled) = self.rooms.settled(dialog) {
            return self.join_outcome(dialog, settled).await;
        }
        let outcome = self.rooms.expect_join(dialog);
        if let Err(e) = self.send_join(dialog)?.await {
            let e = JoinError::Send(e);
            self.rooms.fail(dialog, &e);
            return Err(e.into());
        }
        self.join_outcome(dialog, outcome).await
    }

    /// Waits, bounded, for the outcome of `dialog`'s join.
    async fn join_outcome(
        &self,
        dialog: DialogId,
        outcome: tokio::sync::oneshot::Receiver<Result<(), JoinError>>,
    ) -> Result<(), Error> {
        match tokio::time::timeout(JOIN_TIMEOUT, outcome).await {
            Ok(Ok(result)) => Ok(result?),
            // The event task is gone: the client is closing.
            Ok(Err(_)) => Err(JoinError::Send(SendError::Closed).into()),
            Err(_) => Err(JoinError::Timeout {
                dialog,
                timeout: JOIN_TIMEOUT,
            }
            .into()),
        }
    }

    /// Sends the join presence of `dialog`'s room without waiting for the room's answer (see
    /// [`ChatClient::join`], which does). The client stays in the room as `join` does.
    ///
    /// # Errors
    /// [`Error::Protocol`] for a host that makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// ann.chat().join_dialog(dialog.id())?.await?; // the server has the presence
    /// assert!(ann.chat().joined_dialogs().contains(&dialog.id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn join_dialog(&self, dialog: DialogId) -> Result<SendHandle, Error> {
        self.rooms.want(dialog);
        self.send_join(dialog)
    }

    pub(crate) fn send_join(&self, dialog: DialogId) -> Result<SendHandle, Error> {
        Ok(self
            .connection
            .send(muc::join(&self.domain, dialog, self.user)?))
    }

    /// Leaves a dialog's room; it is no longer rejoined.
    ///
    /// # Errors
    /// [`Error::Protocol`] for a host that makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// assert!(bob.chat().joined_dialogs().contains(&dialog.id()));
    /// bob.chat().leave_dialog(dialog.id())?.await?;
    /// assert!(bob.chat().joined_dialogs().is_empty(), "not rejoined any more");
    /// # Ok(())
    /// # }
    /// ```
    pub fn leave_dialog(&self, dialog: DialogId) -> Result<SendHandle, Error> {
        self.rooms.forget(dialog);
        Ok(self
            .connection
            .send(muc::leave(&self.domain, dialog, self.user)?))
    }

    /// After every new session (a reconnect that could not resume), fetches from the REST
    /// history what the joined and recently active dialogs got while the client was away,
    /// since the last message seen in each: delivered oldest first, without duplicates of
    /// what arrived live, marked [`crate::Received::from_history`], then one
    /// [`crate::fanout::Synced`] per dialog for subscribers. `rest` must be logged in as
    /// this user. A dialog whose history cannot be fetched gets no `Synced` (logged).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// // Client::login has done this already; a ChatClient built alone needs it for gap filling.
    /// ann.chat().enable_gap_fill(ann.rest().clone());
    /// ann.chat().ping().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn enable_gap_fill(&self, rest: RestClient) {
        self.gap.enable(rest);
    }

    /// Starts filling the gaps of a new session (a no-op unless enabled).
    pub(crate) fn fill_gaps(&self) {
        let me = crate::sync::Me {
            domain: self.domain.clone(),
            user: self.user,
        };
        self.gap.start(self.rooms.wanted(), me);
    }

    /// Notes that the connection dropped, for the gap filler's since-time.
    pub(crate) fn went_offline(&self) {
        self.gap.went_offline();
        self.rooms.went_offline();
    }

    /// The session resumed: the rooms are still joined.
    pub(crate) fn resumed(&self) {
        self.rooms.resumed();
    }

    /// The connection ended for good: no room is joined any more.
    pub(crate) fn closed(&self) {
        self.rooms.closed();
    }

    /// The rooms the client stays in (joined, or a join under way).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// assert_eq!(bob.chat().joined_dialogs(), [dialog.id()]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn joined_dialogs(&self) -> Vec<DialogId> {
        self.rooms.wanted()
    }

    /// After a new session: joins every room again (the server forgot them with the old
    /// session). Failures are logged; the room's answer shows in the events.
    pub(crate) fn rejoin(&self) {
        for dialog in self.rooms.new_session() {
            if let Err(e) = self.send_join(dialog) {
                tracing::warn!(%dialog, error = %e, "could not rejoin a room");
            }
        }
    }

    /// Seconds since `user` was last active (0: online now).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came, [`Error::Refused`] when the server refused (e.g. the
    /// user never logged in).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let seconds = ann.chat().last_activity(bob.user()).await?;
    /// assert!(seconds < 60, "bob is online");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn last_activity(&self, user: UserId) -> Result<u64, Error> {
        let answer = self
            .connection
            .request(
                last_activity::request(iq_id(), self.domain.user_jid(user)?),
                IQ_TIMEOUT,
            )
            .await?;
        match LastActivity::from_iq(&answer) {
            Some(Ok(activity)) => Ok(activity.seconds),
            Some(Err(e)) => Err(e.into()),
            None => Err(Error::Refused(String::from(&answer))),
        }
    }

    /// Subscribes to (or stops) pushes of `user`'s last activity; they arrive as
    /// [`ChatEvent::LastActivity`].
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// ann.chat().subscribe_last_activity(bob.user(), true).await?;
    /// bob.logout().await?;
    /// let who = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::LastActivity(a) => Some(a.user),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(who, bob.user());
    /// ann.chat().subscribe_last_activity(bob.user(), false).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe_last_activity(&self, user: UserId, enable: bool) -> Result<(), Error> {
        let sub = Subscribe {
            user_jid: self.domain.user_jid(user)?,
            enable,
        };
        let answer = self
            .connection
            .request(sub.request(iq_id()), IQ_TIMEOUT)
            .await?;
        expect_result(&answer)
    }

    /// Watches `user`'s last activity: subscribes on the server and gives a stream of their
    /// pushes (seconds since active, 0: online now). Dropping the stream, or
    /// [`LastActivityUpdates::unsubscribe`], ends the server subscription when no other stream
    /// watches the user.
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came, [`Error::Refused`] when the server refused.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use std::time::Duration;
    /// use futures_util::StreamExt;
    ///
    /// let mut updates = ann.chat().watch_last_activity(bob.user()).await?;
    /// assert_eq!(updates.user(), bob.user());
    /// bob.logout().await?; // the server pushes bob's activity
    /// let pushed = tokio::time::timeout(Duration::from_secs(10), updates.next()).await?;
    /// assert!(matches!(pushed, Some(Ok(_))));
    /// updates.unsubscribe().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn watch_last_activity(&self, user: UserId) -> Result<LastActivityUpdates, Error> {
        // Listening first: a push right after the answer is not missed.
        let events = self.subscribe(EventKind::Presence);
        let updates = LastActivityUpdates::new(
            user,
            events,
            self.connection.clone(),
            self.domain.clone(),
            self.watchers.clone(),
        );
        self.subscribe_last_activity(user, true).await?;
        Ok(updates)
    }

    /// The system messages from now on.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use std::time::Duration;
    /// use connectycube::protocol::model::CustomProperties;
    /// use futures_util::StreamExt;
    ///
    /// let mut system = bob.chat().system_messages();
    /// let mut properties = CustomProperties::new();
    /// properties.insert("action".into(), "refresh".into());
    /// ann.chat().send_system_message(bob.user(), properties)?.await?;
    /// let got = tokio::time::timeout(Duration::from_secs(10), system.next()).await?;
    /// let got = got.ok_or("the client stopped")?.map_err(|lag| format!("missed: {lag:?}"))?;
    /// assert_eq!(got.payload.properties().get("action").and_then(|v| v.as_str()), Some("refresh"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn system_messages(&self) -> SystemMessages {
        SystemMessages {
            events: self.subscribe(EventKind::System),
        }
    }

    /// Marks the app active (foreground) or inactive (background: pushes while connected).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::protocol::iq::activity::ClientState;
    ///
    /// ann.chat().set_client_state(ClientState::Inactive).await?; // pushes while connected
    /// ann.chat().set_client_state(ClientState::Active).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn set_client_state(&self, state: ClientState) -> Result<(), Error> {
        let answer = self
            .connection
            .request(state.mobile_iq(iq_id()), IQ_TIMEOUT)
            .await?;
        expect_result(&answer)
    }

    /// Sends any IQ and returns its `result` (an `error` answer is [`Error::Refused`]).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came; [`Error::Refused`] for an error answer.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::iq::last_activity;
    ///
    /// let jid = ann.chat().domain().user_jid(bob.user())?;
    /// let answer = ann.chat().request(last_activity::request("q1", jid)).await?;
    /// assert_eq!(answer.attr("type"), Some("result"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn request(&self, iq: Element) -> Result<Element, Error> {
        let answer = self.connection.request(iq, IQ_TIMEOUT).await?;
        expect_result(&answer).map(|()| answer)
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
