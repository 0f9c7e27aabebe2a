//! The real-time chat client: a [`ChatClient`] to act, a [`ChatEvents`] stream to listen.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::classify;
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
    ChatConnection, ConnectionState, Incoming, LoginError, SendHandle, SessionSettings,
};
use futures_util::Stream;
use minidom::Element;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use crate::Error;

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
}

impl std::fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatConfig")
            .field("connection", &self.connection)
            .field("app_id", &self.app_id)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A logged-in ConnectyCube user in real time. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ChatClient {
    connection: ChatConnection,
    domain: ChatDomain,
    user: UserId,
}

impl ChatClient {
    /// A client for `config`, and the stream of its events. Call [`ChatClient::login`] next.
    ///
    /// # Errors
    /// [`Error::Connect`] for an unusable TLS configuration, [`Error::Address`] for a host that
    /// makes no JID.
    pub fn new(config: ChatConfig) -> Result<(Self, ChatEvents), Error> {
        let domain = ChatDomain::new(config.connection.domain.clone(), config.app_id);
        let jid = domain.user_jid(config.user)?;
        let connector = XmppConnector::new(config.connection)?;
        let credentials = Credentials {
            jid: jid.clone(),
            password: config.password,
        };
        let (connection, incoming) = ChatConnection::new(connector, credentials, config.settings);
        let client = Self {
            connection,
            domain,
            user: config.user,
        };
        let events = ChatEvents {
            incoming,
            client: client.clone(),
            own: Jid::from(jid),
        };
        Ok((client, events))
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

/// Everything that happens in real time, classified: messages, statuses, typing, edits,
/// deletions, reactions, system messages, room presences, last activity.
///
/// Markable messages from others are acknowledged with a `received` marker automatically, as
/// the official SDKs do. Carbons that do not come from the user's own account are dropped
/// (XEP-0280 §11: anyone else sending one is forging it).
#[derive(Debug)]
pub struct ChatEvents {
    incoming: Incoming,
    client: ChatClient,
    own: Jid,
}

impl ChatEvents {
    /// The next event; `None` once the client is gone.
    pub async fn next(
        &mut self,
    ) -> Option<Result<ChatEvent, connectycube_protocol::UnreadableStanza>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    fn accept(&self, event: &ChatEvent) -> bool {
        let Some(carbon) = event.envelope().and_then(|e| e.carbon.as_ref()) else {
            return true;
        };
        let genuine = carbon
            .from
            .as_ref()
            .is_some_and(|f| f.to_bare() == self.own.to_bare());
        if !genuine {
            tracing::warn!(from = ?carbon.from, "dropped a carbon copy not sent by our own account");
        }
        genuine
    }

    fn auto_deliver(&self, event: &ChatEvent) {
        let ChatEvent::ChatMessage(m) = event else {
            return;
        };
        let msg = &m.payload;
        let from_other = msg.sender_id.is_some_and(|s| s != self.client.user);
        if msg.markable && from_other && !msg.carbon && m.envelope.kind == MessageType::Chat {
            if let Some(sender) = msg.sender_id {
                // Fire and forget: a lost 'delivered' marker is not worth failing the message for.
                let _ = self.client.mark_delivered(sender, msg.dialog_id, msg.id);
            }
        }
    }
}

impl Stream for ChatEvents {
    type Item = Result<ChatEvent, connectycube_protocol::UnreadableStanza>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let Some(el) = futures_util::ready!(Pin::new(&mut self.incoming).poll_next(cx)) else {
                return Poll::Ready(None);
            };
            match classify(el) {
                Ok(event) if !self.accept(&event) => continue,
                Ok(event) => {
                    self.auto_deliver(&event);
                    return Poll::Ready(Some(Ok(event)));
                }
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
        }
    }
}
