//! The typed values the guide's streams yield, each with the accessors the guide uses.

use connectycube_protocol::event::Inbound;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::message::chat_state::TypingState;
use connectycube_protocol::message::error::MessageError;
use connectycube_protocol::message::reactions::Reaction;
use connectycube_protocol::message::system::SystemMessage;
use connectycube_protocol::model::Message;

use crate::fanout::{Blocked, Unreadable};

/// Something that went wrong with what was sent or received ([`crate::Session::errors`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorEvent {
    /// A 1-1 message of ours a privacy list refused.
    Blocked(Blocked),
    /// A message of ours the server or the recipient bounced, with the error.
    Bounced(Box<Inbound<MessageError>>),
    /// A stanza that could not be read at all.
    Unreadable(Unreadable),
}

/// A chat or group message from someone (or a carbon of our own from another device).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IncomingMessage {
    /// The message as its sender wrote it.
    pub message: Message,
    /// Addresses, type, carbon and delay.
    pub envelope: connectycube_protocol::message::Envelope,
    /// It arrived after a newer one from the same sender in its dialog (see
    /// [`crate::Received::out_of_order`]).
    pub out_of_order: bool,
    /// Fetched from the REST history after a new session (see
    /// [`crate::Received::from_history`]).
    pub from_history: bool,
}

impl IncomingMessage {
    /// The sender.
    pub fn user_id(&self) -> Option<UserId> {
        self.message.sender_id.or_else(|| self.envelope.sender())
    }

    /// The message's id.
    pub fn message_id(&self) -> MessageId {
        self.message.id
    }

    /// Its dialog (the payload's, else the envelope's).
    pub fn dialog_id(&self) -> Option<DialogId> {
        self.message.dialog_id.or(self.envelope.dialog())
    }

    /// Its text, if any.
    pub fn body(&self) -> Option<&str> {
        self.message.body.as_deref()
    }
}

/// A 'delivered', 'read' or 'deleted' status of one message, as the guide's
/// `deliveredStream`, `readStream` and `deletedStream` give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageStatus {
    pub(super) user: Option<UserId>,
    pub(super) message: MessageId,
    pub(super) dialog: Option<DialogId>,
}

impl MessageStatus {
    pub(super) fn of(m: &Inbound<MessageId>) -> Self {
        Self {
            user: m.envelope.sender(),
            message: m.payload,
            dialog: m.envelope.dialog(),
        }
    }

    /// Who delivered, read or deleted it.
    pub fn user_id(&self) -> Option<UserId> {
        self.user
    }

    /// The message.
    pub fn message_id(&self) -> MessageId {
        self.message
    }

    /// Its dialog (`None` for a 1-1 status without one).
    pub fn dialog_id(&self) -> Option<DialogId> {
        self.dialog
    }
}

/// Someone started or stopped typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypingStatus {
    pub(super) user: Option<UserId>,
    pub(super) dialog: Option<DialogId>,
    /// The chat state sent.
    pub state: TypingState,
}

impl TypingStatus {
    pub(super) fn of(m: &Inbound<TypingState>) -> Self {
        Self {
            user: m.envelope.sender(),
            dialog: m.envelope.dialog(),
            state: m.payload,
        }
    }

    /// Who is typing.
    pub fn user_id(&self) -> Option<UserId> {
        self.user
    }

    /// Its dialog, when the sender said: always in a group; in a private dialog the official
    /// SDKs do not say (`None`, as the guide notes), this SDK does.
    pub fn dialog_id(&self) -> Option<DialogId> {
        self.dialog
    }
}

/// A message's new text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EditedMessage {
    pub(super) user: Option<UserId>,
    pub(super) dialog: Option<DialogId>,
    pub(super) message: MessageId,
    /// The new text.
    pub body: String,
}

impl EditedMessage {
    /// Who edited it.
    pub fn user_id(&self) -> Option<UserId> {
        self.user
    }

    /// The edited message.
    pub fn message_id(&self) -> MessageId {
        self.message
    }

    /// Its dialog.
    pub fn dialog_id(&self) -> Option<DialogId> {
        self.dialog
    }
}

/// Reactions on a message changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReactionsChanged {
    pub(super) user: UserId,
    pub(super) dialog: Option<DialogId>,
    pub(super) message: MessageId,
    /// What changed, in the server's order.
    pub changes: Vec<Reaction>,
}

impl ReactionsChanged {
    /// Who reacted.
    pub fn user_id(&self) -> UserId {
        self.user
    }

    /// The message reacted to.
    pub fn message_id(&self) -> MessageId {
        self.message
    }

    /// Its dialog.
    pub fn dialog_id(&self) -> Option<DialogId> {
        self.dialog
    }
}

/// A system message (`moduleIdentifier=SystemNotifications`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SystemNotice {
    pub(super) user: Option<UserId>,
    /// What it carries: a text and the custom parameters.
    pub message: SystemMessage,
}

impl SystemNotice {
    /// Who sent it.
    pub fn user_id(&self) -> Option<UserId> {
        self.user
    }
}
