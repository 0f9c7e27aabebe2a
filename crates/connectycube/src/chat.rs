//! The real-time chat client: a [`ChatClient`] to act, a [`ChatEvents`] stream to listen.

use std::sync::Arc;
use std::time::Duration;

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::event::{ChatEvent, Inbound};
use connectycube_protocol::ids::{AppId, DialogId, MessageId, UserId};
use connectycube_protocol::iq::activity::ClientState;
use connectycube_protocol::iq::last_activity::{self, LastActivity};
use connectycube_protocol::iq::status_streaming::Subscribe;
use connectycube_protocol::message::chat_state::TypingState;
use connectycube_protocol::message::{ChatKind, Envelope};
use connectycube_protocol::model::Message;
use connectycube_protocol::muc;
use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::Credentials;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{
    ChatConnection, ConnectionState, CredentialsProvider, LoginError, SendHandle, SessionSettings,
};
use futures_util::Stream;
use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use crate::Error;
use crate::delivery::{Counters, DeliveryFilter, DeliverySettings, DeliveryStats};
use crate::events::{ChatEvents, Pump};

// The send side of the guide beyond messages, each in its own file (`chat/*.rs`).
mod privacy;
mod statuses;

pub use privacy::{BLOCK_LIST, allow, deny, privacy_list};
pub use statuses::Peer;

/// How long IQ requests (last activity, privacy lists) wait for an answer.
const IQ_TIMEOUT: Duration = Duration::from_secs(15);

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
}

impl ChatClient {
    /// A client for `config`, and the stream of its events. Call [`ChatClient::login`] next.
    /// Must be called within a tokio runtime: the client runs its session and event tasks on it.
    ///
    /// # Errors
    /// [`Error::Connect`] for an unusable TLS configuration, [`Error::Address`] for a host that
    /// makes no JID.
    pub fn new(config: ChatConfig) -> Result<(Self, ChatEvents), Error> {
        Self::with_credentials(config, None)
    }

    /// As [`ChatClient::new`]; with `provider`, the password is asked for before every
    /// connection attempt (a renewed session token) instead of taken from `config`.
    pub(crate) fn with_credentials(
        config: ChatConfig,
        provider: Option<CredentialsProvider>,
    ) -> Result<(Self, ChatEvents), Error> {
        let domain = ChatDomain::new(config.connection.domain.clone(), config.app_id);
        let jid = domain.user_jid(config.user)?;
        let connector = XmppConnector::new(config.connection)?;
        let credentials = Credentials {
            jid: jid.clone(),
            password: config.password,
        };
        let (connection, incoming) = match provider {
            Some(p) => ChatConnection::with_credentials_provider(connector, p, config.settings),
            None => ChatConnection::new(connector, credentials, config.settings),
        };
        let counters = Arc::new(Counters::default());
        let client = Self {
            connection,
            domain,
            user: config.user,
            counters: counters.clone(),
        };
        let (tx, rx) = mpsc::channel(config.delivery.event_buffer.max(1));
        let pump = Pump {
            ack: client.clone(),
            user: config.user,
            own: Jid::from(jid),
            filter: DeliveryFilter::new(config.delivery, counters),
        };
        tokio::spawn(pump.run(incoming, tx));
        Ok((client, ChatEvents::new(rx)))
    }

    /// Connects and logs in (idempotent: concurrent calls share one attempt).
    ///
    /// # Errors
    /// [`LoginError`] as the transport reports it.
    pub async fn login(&self) -> Result<(), LoginError> {
        self.connection.login().await
    }

    /// Logs out; no reconnection follows.
    pub async fn logout(&self) {
        self.connection.logout().await;
    }

    /// Logs out and stops the client for good.
    pub async fn destroy(&self) {
        self.connection.destroy().await;
    }

    /// Logs in again (e.g. when the network is back after the client gave up).
    ///
    /// # Errors
    /// As [`ChatClient::login`].
    pub async fn relogin(&self) -> Result<(), LoginError> {
        self.connection.relogin().await
    }

    /// What the event stream dropped and flagged so far (duplicates, out-of-order messages).
    pub fn delivery_stats(&self) -> DeliveryStats {
        self.counters.snapshot()
    }

    /// The connection state now.
    pub fn state(&self) -> ConnectionState {
        self.connection.state()
    }

    /// Every state change, starting with the current state.
    pub fn state_changes(&self) -> impl Stream<Item = ConnectionState> + use<> {
        self.connection.state_changes()
    }

    /// The underlying session, for raw stanzas.
    pub fn connection(&self) -> &ChatConnection {
        &self.connection
    }

    /// The logged-in user.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// Sends a 1-1 message; the handle completes when the server has it ("sent").
    ///
    /// # Errors
    /// [`Error::Build`] when a custom property name is not an XML name.
    pub fn send_private(&self, to: UserId, message: &Message) -> Result<SendHandle, Error> {
        let to = Jid::from(self.domain.user_jid(to)?);
        Ok(self.connection.send(message.to_stanza(to, ChatKind::Chat)?))
    }

    /// Sends a message to a group, public or broadcast dialog (join it first).
    ///
    /// # Errors
    /// [`Error::Build`] when a custom property name is not an XML name.
    pub fn send_to_dialog(&self, dialog: DialogId, message: &Message) -> Result<SendHandle, Error> {
        let room = Jid::from(self.domain.room_jid(dialog)?);
        let mut message = message.clone();
        message.dialog_id = Some(dialog);
        Ok(self
            .connection
            .send(message.to_stanza(room, ChatKind::Groupchat)?))
    }

    /// Sends a status stanza (marker, typing) to `to`, built from its event form.
    fn status<T>(
        &self,
        to: UserId,
        dialog: Option<DialogId>,
        payload: T,
        event: fn(Box<Inbound<T>>) -> ChatEvent,
    ) -> Result<SendHandle, Error> {
        let mut envelope = Envelope::new(
            MessageType::Chat,
            Some(Jid::from(self.domain.user_jid(to)?)),
        );
        envelope.id = Some(MessageId::generate().to_string());
        envelope.dialog_id = dialog;
        let event = event(Box::new(Inbound { envelope, payload }));
        Ok(self.connection.send(event.to_element()?))
    }

    /// Tells the sender that their message arrived (`received` marker).
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    pub fn mark_delivered(
        &self,
        sender: UserId,
        dialog: Option<DialogId>,
        id: MessageId,
    ) -> Result<SendHandle, Error> {
        self.status(sender, dialog, id, ChatEvent::Delivered)
    }

    /// Tells the sender that their message was read (`displayed` marker).
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    pub fn mark_read(
        &self,
        sender: UserId,
        dialog: Option<DialogId>,
        id: MessageId,
    ) -> Result<SendHandle, Error> {
        self.status(sender, dialog, id, ChatEvent::Read)
    }

    /// Says that this user is typing (or stopped) in a 1-1 dialog.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    pub fn typing(&self, to: UserId, state: TypingState) -> Result<SendHandle, Error> {
        self.status(to, None, state, ChatEvent::Typing)
    }

    /// Joins a group or public dialog's room, to send and receive its messages.
    ///
    /// # Errors
    /// [`Error::Protocol`] for a host that makes no JID.
    pub fn join_dialog(&self, dialog: DialogId) -> Result<SendHandle, Error> {
        Ok(self
            .connection
            .send(muc::join(&self.domain, dialog, self.user)?))
    }

    /// Leaves a dialog's room.
    ///
    /// # Errors
    /// [`Error::Protocol`] for a host that makes no JID.
    pub fn leave_dialog(&self, dialog: DialogId) -> Result<SendHandle, Error> {
        Ok(self
            .connection
            .send(muc::leave(&self.domain, dialog, self.user)?))
    }

    /// Seconds since `user` was last active (0: online now).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came, [`Error::Refused`] when the server refused (e.g. the
    /// user never logged in).
    pub async fn last_activity(&self, user: UserId) -> Result<u64, Error> {
        let id = MessageId::generate().to_string();
        let answer = self
            .connection
            .request(
                last_activity::request(id, self.domain.user_jid(user)?),
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
    pub async fn subscribe_last_activity(&self, user: UserId, enable: bool) -> Result<(), Error> {
        let sub = Subscribe {
            user_jid: self.domain.user_jid(user)?,
            enable,
        };
        let answer = self
            .connection
            .request(sub.request(MessageId::generate().to_string()), IQ_TIMEOUT)
            .await?;
        expect_result(&answer)
    }

    /// Marks the app active (foreground) or inactive (background: pushes while connected).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came.
    pub async fn set_client_state(&self, state: ClientState) -> Result<(), Error> {
        let answer = self
            .connection
            .request(
                state.mobile_iq(MessageId::generate().to_string()),
                IQ_TIMEOUT,
            )
            .await?;
        expect_result(&answer)
    }

    /// Sends any IQ and returns its `result` (an `error` answer is [`Error::Refused`]).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came; [`Error::Refused`] for an error answer.
    pub async fn request(&self, iq: Element) -> Result<Element, Error> {
        let answer = self.connection.request(iq, IQ_TIMEOUT).await?;
        expect_result(&answer).map(|()| answer)
    }
}

fn expect_result(answer: &Element) -> Result<(), Error> {
    match answer.attr("type") {
        Some("result") => Ok(()),
        _ => Err(Error::Refused(String::from(answer))),
    }
}
