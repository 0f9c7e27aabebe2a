//! What the REST side asks the chat side to tell connected users: the cloud pushes these over
//! chat after a REST call. `rest` sends them into a [`PushSender`]; `chat` turns each into
//! stanzas for the users it names (and keeps those for offline users as the cloud does).

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// How many pushes wait for the chat side at most. Past that a push is dropped and counted
/// ([`PushSender::dropped`]): with no chat half (`chat: None`, nobody takes the pushes) or a
/// stalled one, the channel must not grow without bound.
pub const PUSH_CAPACITY: usize = 1024;

/// A push that was not queued: the channel was full or its receiver gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("push dropped: the chat side's channel is full or closed")]
pub struct PushDropped;

/// The REST side's end of the channel: it never blocks a REST answer.
#[derive(Debug, Clone)]
pub struct PushSender {
    tx: mpsc::Sender<Push>,
    dropped: Arc<AtomicU64>,
}

impl PushSender {
    /// Queues `push` for the chat side, or drops it (counted) when the channel is full or
    /// closed.
    ///
    /// # Errors
    /// [`PushDropped`] when it was dropped.
    pub fn send(&self, push: Push) -> Result<(), PushDropped> {
        match self.tx.try_send(push) {
            Ok(()) => Ok(()),
            Err(e) => {
                let full = matches!(e, mpsc::error::TrySendError::Full(_));
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(full, "a push for the chat side was dropped");
                Err(PushDropped)
            }
        }
    }

    /// How many pushes were dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The chat side's end of the channel.
pub type PushReceiver = mpsc::Receiver<Push>;

/// A new push channel of [`PUSH_CAPACITY`].
pub fn channel() -> (PushSender, PushReceiver) {
    channel_of(PUSH_CAPACITY)
}

/// A new push channel holding at most `capacity` (at least 1) pushes.
pub fn channel_of(capacity: usize) -> (PushSender, PushReceiver) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    (PushSender { tx, dropped }, rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(n: u64) -> Push {
        Push::OccupantsRemoved {
            dialog: DialogId::generate(),
            users: vec![UserId(n)],
        }
    }

    #[test]
    fn a_push_channel_nobody_reads_stops_at_its_capacity() {
        let (tx, mut rx) = channel_of(3);
        for n in 0..3 {
            assert_eq!(tx.send(removed(n)), Ok(()));
        }
        assert_eq!(
            tx.send(removed(9)),
            Err(PushDropped),
            "full: dropped, not queued"
        );
        assert_eq!(tx.dropped(), 1);
        for n in 0..3 {
            assert!(
                matches!(rx.try_recv(), Ok(Push::OccupantsRemoved { users, .. }) if users == [UserId(n)])
            );
        }
        assert!(rx.try_recv().is_err(), "the dropped push was never queued");
        drop(rx);
        assert_eq!(tx.send(removed(1)), Err(PushDropped), "closed");
        assert_eq!(tx.dropped(), 2);
    }

    #[test]
    fn the_default_channel_is_bounded() {
        let (tx, _rx) = channel();
        let queued = (0..PUSH_CAPACITY as u64 + 10)
            .filter(|n| tx.send(removed(*n)).is_ok())
            .count();
        assert_eq!(queued, PUSH_CAPACITY);
        assert_eq!(tx.dropped(), 10);
    }
}
