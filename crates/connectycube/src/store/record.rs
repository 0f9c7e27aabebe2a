//! The stored shapes: a message's local status and a queued send.

use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_protocol::model::Message;

/// Where a message stands, as this client knows it (a local echo's status).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalStatus {
    /// Written to the queue; not yet acknowledged by the server (also while offline, and
    /// after a restart until it goes out).
    Queued,
    /// The server has it (its ack), or it came from the server.
    Sent,
    /// The recipient's device has it (a 'delivered' marker).
    Delivered,
    /// The recipient read it (a 'read' marker).
    Read,
    /// It will not go out by itself: bounced or refused, with the reason. Retry or cancel it.
    Failed(String),
}

impl LocalStatus {
    /// How far along, for "forward only": a marker that arrives before the ack still counts.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Self::Queued | Self::Failed(_) => 0,
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
        }
    }

    /// The stored code and reason.
    #[cfg(feature = "sqlite")]
    pub(crate) fn encode(&self) -> (i64, Option<&str>) {
        match self {
            Self::Queued => (0, None),
            Self::Sent => (1, None),
            Self::Delivered => (2, None),
            Self::Read => (3, None),
            Self::Failed(r) => (-1, Some(r)),
        }
    }

    /// From the stored code (an unknown code reads as `Sent`: it came from a newer writer,
    /// and is not a send of ours to repeat).
    #[cfg(feature = "sqlite")]
    pub(crate) fn decode(code: i64, reason: Option<String>) -> Self {
        match code {
            0 => Self::Queued,
            2 => Self::Delivered,
            3 => Self::Read,
            -1 => Self::Failed(reason.unwrap_or_default()),
            _ => Self::Sent,
        }
    }

    /// `next` replaces `self` when it is further along, or when it restarts or fails a send.
    pub(crate) fn advances_to(&self, next: &Self) -> bool {
        match next {
            Self::Queued | Self::Failed(_) => self.rank() == 0 && self != next,
            _ => next.rank() > self.rank(),
        }
    }
}

/// Where a queued send goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendTarget {
    /// A private dialog's opponent.
    User(UserId),
    /// A group or public dialog's room.
    Room(DialogId),
}

/// A send written to the store before it went out.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueuedSend {
    /// The message, with its id (stable across retries and restarts) and dialog.
    pub message: Message,
    /// Where it goes.
    pub target: SendTarget,
    /// [`LocalStatus::Queued`] or [`LocalStatus::Failed`].
    pub status: LocalStatus,
    /// A file to upload and attach first; the upload starts again after a restart.
    pub upload: Option<PendingUpload>,
}

/// A file a queued message waits for ([`crate::Dialog::send_file`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PendingUpload {
    /// The file.
    pub path: std::path::PathBuf,
    /// Its MIME type.
    pub content_type: String,
    /// What the attachment is.
    pub kind: connectycube_protocol::model::AttachmentType,
}

/// A send of this client as the app shows it: the message and where it stands, at once when
/// it is queued, then at every change ([`crate::Session::local_echoes`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LocalEcho {
    /// The message (its id is the one the recipients see).
    pub message: Message,
    /// Its new status.
    pub status: LocalStatus,
}

/// The message flags serde leaves out of the JSON (they live in the stanza, not in REST).
#[cfg(feature = "sqlite")]
pub(crate) fn flags(m: &Message) -> i64 {
    i64::from(m.markable) | i64::from(m.save_to_history) << 1 | i64::from(m.silent) << 2
}

/// Sets the flags [`flags`] stored.
#[cfg(feature = "sqlite")]
pub(crate) fn set_flags(m: &mut Message, flags: i64) {
    m.markable = flags & 1 != 0;
    m.save_to_history = flags & 2 != 0;
    m.silent = flags & 4 != 0;
}
