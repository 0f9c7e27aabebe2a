//! Chat stanzas beyond plain messages, to a user or to a dialog's room: typing, 'delivered'
//! and 'read' markers, edits and deletions over chat, system messages, pings. Each is built
//! from its event form (`ChatEvent::to_element`), so what we send reads back as what we meant,
//! and each `send_*` is named after the event the peers get (`send_read` → `ChatEvent::Read`).

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::event::{ChatEvent, Edit, Inbound};
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::iq::ping;
use connectycube_protocol::message::chat_state::TypingState;
use connectycube_protocol::message::envelope::Envelope;
use connectycube_protocol::message::system::SystemMessage;
use connectycube_protocol::model::CustomProperties;
use connectycube_transport::session::SendHandle;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use super::ChatClient;
use crate::{Error, Sending};

/// Where a chat stanza goes: one user, or everyone in a dialog's room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// A user (1-1), optionally within a private dialog.
    User(UserId, Option<DialogId>),
    /// A group, public or broadcast dialog's room (join it first).
    Room(DialogId),
}

impl ChatClient {
    /// The chat host and application the client addresses.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let jid = ann.chat().domain().user_jid(bob.user())?;
    /// assert_eq!(jid.to_string(), format!("{}-{}@{}", bob.user(), srv.app_id(), ann.chat().domain().host()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn domain(&self) -> &ChatDomain {
        &self.domain
    }

    /// The envelope for `peer`: `chat` to a user JID, `groupchat` to a room JID, fresh id.
    fn envelope(&self, peer: Peer) -> Result<Envelope, Error> {
        let (kind, to, dialog) = match peer {
            Peer::User(user, dialog) => (
                MessageType::Chat,
                Jid::from(self.domain.user_jid(user)?),
                dialog,
            ),
            Peer::Room(dialog) => (
                MessageType::Groupchat,
                Jid::from(self.domain.room_jid(dialog)?),
                Some(dialog),
            ),
        };
        let mut envelope = Envelope::new(kind, Some(to));
        envelope.id = Some(MessageId::generate().to_string());
        envelope.dialog_id = dialog;
        Ok(envelope)
    }

    /// The event `make` builds from `payload`, to `peer` (the transport writes it as text).
    pub(crate) fn event_to<T>(
        &self,
        peer: Peer,
        payload: T,
        make: fn(Box<Inbound<T>>) -> ChatEvent,
    ) -> Result<ChatEvent, Error> {
        let envelope = self.envelope(peer)?;
        Ok(make(Box::new(Inbound { envelope, payload })))
    }

    /// Sends the event `make` builds from `payload` to `peer` when awaited.
    fn send_event<T>(
        &self,
        peer: Peer,
        payload: T,
        make: fn(Box<Inbound<T>>) -> ChatEvent,
    ) -> Sending {
        Sending::event(&self.connection, self.event_to(peer, payload, make))
    }

    /// Queues a 'delivered' marker now, for the automatic ones (`markers.rs`), which follow
    /// its stages rather than await it.
    pub(crate) fn queue_delivered(&self, peer: Peer, id: MessageId) -> Result<SendHandle, Error> {
        let event = self.event_to(peer, id, ChatEvent::Delivered)?;
        Ok(self.connection.send_event(&event)?)
    }

    /// Says that this user is typing (or stopped) to a user or in a room.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID;
    /// [`Error::Send`] when it bounced or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// use connectycube::Peer;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::message::chat_state::TypingState;
    ///
    /// ann.chat().join(dialog.id()).await?;
    /// ann.chat().send_typing(Peer::Room(dialog.id()), TypingState::Composing).await?;
    /// let typing = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some(t.envelope.dialog_id),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(typing, Some(dialog.id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_typing(&self, peer: Peer, state: TypingState) -> Sending {
        self.send_event(peer, state, ChatEvent::Typing)
    }

    /// Sends a `delivered` (`received`) marker for message `id` to a user or a room.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID;
    /// [`Error::Send`] when it bounced or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::Peer;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("hi").await?;
    /// bob.chat().send_delivered(Peer::User(ann.user(), Some(dialog.id())), sent.id).await?;
    /// let delivered = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Delivered(d) => Some(d.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(delivered, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_delivered(&self, peer: Peer, id: MessageId) -> Sending {
        self.send_event(peer, id, ChatEvent::Delivered)
    }

    /// Sends a `read` (`displayed`) marker for message `id` to a user or a room.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID;
    /// [`Error::Send`] when it bounced or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::Peer;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("hi").await?;
    /// bob.chat().send_read(Peer::User(ann.user(), Some(dialog.id())), sent.id).await?;
    /// let read = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Read(r) => Some(r.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(read, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_read(&self, peer: Peer, id: MessageId) -> Sending {
        self.send_event(peer, id, ChatEvent::Read)
    }

    /// Edits message `id` over chat (XEP-0308 with ConnectyCube's `last`): the others see
    /// [`ChatEvent::Edited`] and the server rewrites the history.
    ///
    /// # Errors
    /// [`Error::Build`] when the text cannot be carried in XML;
    /// [`Error::Send`] when it bounced or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::Peer;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("Helo").await?;
    /// let bob_peer = Peer::User(bob.user(), Some(dialog.id()));
    /// ann.chat().send_edit(bob_peer, sent.id, "Hello", true).await?;
    /// let edit = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Edited(e) => Some(e.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(edit.body, "Hello");
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_edit(
        &self,
        peer: Peer,
        id: MessageId,
        text: impl Into<String>,
        last: bool,
    ) -> Sending {
        let edit = Edit {
            message_id: id,
            body: text.into(),
            last: Some(last),
        };
        self.send_event(peer, edit, ChatEvent::Edited)
    }

    /// Deletes message `id` over chat: the others see [`ChatEvent::Deleted`].
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID;
    /// [`Error::Send`] when it bounced or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::Peer;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("oops").await?;
    /// ann.chat().send_delete(Peer::User(bob.user(), Some(dialog.id())), sent.id).await?;
    /// let deleted = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Deleted(d) => Some(d.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(deleted, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_delete(&self, peer: Peer, id: MessageId) -> Sending {
        self.send_event(peer, id, ChatEvent::Deleted)
    }

    /// Sends a system message (a `headline` with custom parameters) to `to`; it arrives as
    /// [`ChatEvent::System`] and is not saved to the history.
    ///
    /// # Errors
    /// [`Error::Build`] when a parameter name is not an XML name;
    /// [`Error::Send`] when it bounced or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::CustomProperties;
    ///
    /// let mut properties = CustomProperties::new();
    /// properties.insert("call".into(), "missed".into());
    /// ann.chat().send_system_message(bob.user(), properties).await?;
    /// let system = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::System(s) => Some(s.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(system.properties().get("call").and_then(|v| v.as_str()), Some("missed"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_system_message(&self, to: UserId, properties: CustomProperties) -> Sending {
        let stanza = self
            .domain
            .user_jid(to)
            .map_err(Error::from)
            .and_then(|to| Ok(SystemMessage::new(properties).to_stanza(Jid::from(to))?));
        Sending::stanza(&self.connection, stanza)
    }

    /// Pings the chat server and waits for its answer.
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came, [`Error::Refused`] for an error answer.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// ann.chat().ping().await?;
    /// ann.chat().logout().await;
    /// assert!(ann.chat().ping().await.is_err(), "nobody to answer");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ping(&self) -> Result<(), Error> {
        let to = Jid::new(self.domain.host()).ok();
        self.request(ping::request(super::iq_id(), to))
            .await
            .map(drop)
    }
}
