//! What the REST side asks the chat side to tell connected users: the cloud pushes these over
//! chat after a REST call. `rest` sends them into a [`PushSender`]; `chat` turns each into
//! stanzas for the users it names (and keeps those for offline users as the cloud does).

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use tokio::sync::mpsc;

/// One push from the REST side to the chat side.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Push {
    /// `POST /chat/Message/system`: a `type='headline'` message with `<extraParams>` holding
    /// `moduleIdentifier=SystemNotifications` and the custom parameters, to one user.
    SystemMessage {
        /// Who sent it over REST.
        from: UserId,
        /// The recipient.
        to: UserId,
        /// The message id the REST answer gave.
        id: MessageId,
        /// The custom parameters (string values as the docs show).
        params: serde_json::Map<String, serde_json::Value>,
    },
    /// `PUT /chat/Message/{id}/reactions`: `<reactions>` to the dialog's occupants.
    Reactions {
        /// The dialog of the message.
        dialog: DialogId,
        /// The message reacted to.
        message: MessageId,
        /// Who reacted.
        user: UserId,
        /// The reaction added, if any.
        add: Option<String>,
        /// The reaction removed, if any.
        remove: Option<String>,
        /// Who is told (the dialog's occupants).
        recipients: Vec<UserId>,
    },
    /// `PUT /chat/Dialog/{id}` with `pull_all[occupants_ids]` (or a delete): the users are no
    /// longer occupants, so the room kicks them (status 301) if they are joined.
    OccupantsRemoved {
        /// The group or public dialog.
        dialog: DialogId,
        /// The users removed.
        users: Vec<UserId>,
    },
    /// A message was created over REST (`POST /chat/Message` with `send_to_chat=1`): the chat
    /// delivers it to the dialog's occupants as if it had been sent over chat.
    MessageCreated {
        /// The dialog.
        dialog: DialogId,
        /// The stored message's id.
        message: MessageId,
        /// Its sender.
        sender: UserId,
        /// Who receives it (occupants other than the sender).
        recipients: Vec<UserId>,
    },
    /// A message's text was changed over REST (`PUT /chat/Message/{id}` with `message`): the
    /// chat tells the occupants with the correction stanza.
    MessageEdited {
        /// The dialog.
        dialog: DialogId,
        /// The message edited.
        message: MessageId,
        /// Its sender (the only one who may edit it).
        sender: UserId,
        /// The new text.
        body: String,
        /// Who is told (occupants other than the sender).
        recipients: Vec<UserId>,
    },
    /// A message was deleted for everyone over REST (`DELETE /chat/Message/{id}?force=1`):
    /// the chat tells the occupants with the delete stanza.
    MessageDeleted {
        /// The dialog.
        dialog: DialogId,
        /// The message deleted.
        message: MessageId,
        /// Who deleted it.
        sender: UserId,
        /// Who is told (occupants other than the one who deleted it).
        recipients: Vec<UserId>,
    },
}

/// The REST side's end of the channel.
pub type PushSender = mpsc::UnboundedSender<Push>;
/// The chat side's end of the channel.
pub type PushReceiver = mpsc::UnboundedReceiver<Push>;

/// A new push channel.
pub fn channel() -> (PushSender, PushReceiver) {
    mpsc::unbounded_channel()
}
