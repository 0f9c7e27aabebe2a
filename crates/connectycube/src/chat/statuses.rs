//! Chat stanzas beyond plain messages, to a user or to a dialog's room: typing in a group,
//! edits and deletions over chat, markers in a group, system messages, pings. Each is built
//! from its event form (`ChatEvent::to_element`), so what we send reads back as what we meant.

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
use crate::Error;

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

    /// Sends the event `make` builds from `payload` to `peer`.
    pub(super) fn send_event<T>(
        &self,
        peer: Peer,
        payload: T,
        make: fn(Box<Inbound<T>>) -> ChatEvent,
    ) -> Result<SendHandle, Error> {
        let envelope = self.envelope(peer)?;
        let event = make(Box::new(Inbound { envelope, payload }));
        Ok(self.connection.send(event.to_element()?))
    }

    /// Says that this user is typing (or stopped) to a user or in a room.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    pub fn typing_to(&self, peer: Peer, state: TypingState) -> Result<SendHandle, Error> {
        self.send_event(peer, state, ChatEvent::Typing)
    }

    /// Sends a `delivered` (`received`) marker for message `id` to a user or a room.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    pub fn delivered_to(&self, peer: Peer, id: MessageId) -> Result<SendHandle, Error> {
        self.send_event(peer, id, ChatEvent::Delivered)
    }

    /// Sends a `read` (`displayed`) marker for message `id` to a user or a room.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    pub fn read_to(&self, peer: Peer, id: MessageId) -> Result<SendHandle, Error> {
        self.send_event(peer, id, ChatEvent::Read)
    }

    /// Edits message `id` over chat (XEP-0308 with ConnectyCube's `last`): the others see
    /// [`ChatEvent::Edited`] and the server rewrites the history.
    ///
    /// # Errors
    /// [`Error::Build`] when the text cannot be carried in XML.
    pub fn edit_message(
        &self,
        peer: Peer,
        id: MessageId,
        text: impl Into<String>,
        last: bool,
    ) -> Result<SendHandle, Error> {
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
    /// [`Error::Address`] for a host that makes no JID.
    pub fn delete_message(&self, peer: Peer, id: MessageId) -> Result<SendHandle, Error> {
        self.send_event(peer, id, ChatEvent::Deleted)
    }

    /// Sends a system message (a `headline` with custom parameters) to `to`; it arrives as
    /// [`ChatEvent::System`] and is not saved to the history.
    ///
    /// # Errors
    /// [`Error::Build`] when a parameter name is not an XML name.
    pub fn send_system_message(
        &self,
        to: UserId,
        properties: CustomProperties,
    ) -> Result<SendHandle, Error> {
        let to = Jid::from(self.domain.user_jid(to)?);
        Ok(self
            .connection
            .send(SystemMessage::new(properties).to_stanza(to)?))
    }

    /// Pings the chat server and waits for its answer.
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came, [`Error::Refused`] for an error answer.
    pub async fn ping(&self) -> Result<(), Error> {
        let to = Jid::new(self.domain.host()).ok();
        self.request(ping::request(super::iq_id(), to))
            .await
            .map(drop)
    }
}
