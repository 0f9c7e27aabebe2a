//! What the client keeps between runs: dialogs, messages with their local statuses, and the
//! send queue, so an app opens on what it had (also with the network down), catches up only
//! on what changed, and loses no message it sent, not even to a crash.
//!
//! Two implementations behind one [`StoreConfig`]: in memory (the default; nothing outlives
//! the process) and SQLite on a file (feature `sqlite`, on by default, with SQLite compiled in:
//! no system library). One store serves every user an app logs in; each row names its owner.
//! Both are bounded ([`StoreConfig::max_messages_per_dialog`], [`StoreConfig::max_dialogs`]):
//! the oldest history goes first, never a queued send.

pub(crate) mod live;
mod memory;
mod record;
#[cfg(feature = "sqlite")]
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::model::{Dialog, Message};

pub use record::{LocalEcho, LocalStatus, PendingUpload, QueuedSend, SendTarget};

/// Where and how much the client keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    kind: Kind,
    /// Messages kept per dialog; the oldest go first (queued sends are never evicted).
    pub max_messages_per_dialog: usize,
    /// Dialogs kept; those with the oldest activity go first, with their messages.
    pub max_dialogs: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite(PathBuf),
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self::memory()
    }
}

impl StoreConfig {
    /// In memory: nothing outlives the process (the default).
    ///
    /// ```
    /// use connectycube::StoreConfig;
    ///
    /// assert_eq!(StoreConfig::default(), StoreConfig::memory());
    /// assert!(StoreConfig::memory().path().is_none());
    /// ```
    pub fn memory() -> Self {
        Self {
            kind: Kind::Memory,
            max_messages_per_dialog: 200,
            max_dialogs: 1_000,
        }
    }

    /// SQLite in the file at `path` (made if missing): dialogs, history and the send queue
    /// survive a restart or a crash.
    ///
    /// ```
    /// use connectycube::StoreConfig;
    ///
    /// let store = StoreConfig::sqlite("/var/lib/my-bot/chat.sqlite3");
    /// assert_eq!(store.path().map(|p| p.ends_with("chat.sqlite3")), Some(true));
    /// ```
    #[cfg(feature = "sqlite")]
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        Self {
            kind: Kind::Sqlite(path.into()),
            max_messages_per_dialog: 5_000,
            max_dialogs: 10_000,
        }
    }

    /// The file, for a SQLite store.
    pub fn path(&self) -> Option<&std::path::Path> {
        match &self.kind {
            Kind::Memory => None,
            #[cfg(feature = "sqlite")]
            Kind::Sqlite(p) => Some(p),
        }
    }

    /// Opens the store this config names.
    pub(crate) fn open(&self) -> Result<Store, StoreError> {
        let caps = Caps {
            messages_per_dialog: self.max_messages_per_dialog.max(1),
            dialogs: self.max_dialogs.max(1),
        };
        let backend: Arc<dyn Backend> = match &self.kind {
            Kind::Memory => Arc::new(memory::MemoryStore::new(caps)),
            #[cfg(feature = "sqlite")]
            Kind::Sqlite(path) => Arc::new(sqlite::SqliteStore::open(path, caps)?),
        };
        Ok(Store { backend })
    }
}

/// What the store could not do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file is not a store this SDK can read (not SQLite, damaged, or another program's).
    #[error("the store file {path} is unreadable: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The file was written by a newer version of this SDK; it is left as it is.
    #[error("the store file {path} has schema version {found}; this SDK reads up to {supported}")]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this SDK knows.
        supported: i64,
    },
    /// SQLite failed (disk full, permissions, a locked file).
    #[cfg(feature = "sqlite")]
    #[error("the store failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored row could not be read back.
    #[error("a stored {what} could not be read: {source}")]
    Row {
        /// Which kind of row.
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
}

/// How much a store keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub messages_per_dialog: usize,
    pub dialogs: usize,
}

/// One storage implementation. Calls are short and synchronous: the SQLite one writes
/// through its own connection (WAL: a committed write survives the process being killed).
pub(crate) trait Backend: Send + Sync + fmt::Debug {
    /// The user an identity (a login name, an email) logged in as before.
    fn user_of(&self, identity: &str) -> Result<Option<UserId>, StoreError>;
    /// Remembers the user an identity logs in as.
    fn set_user_of(&self, identity: &str, user: UserId) -> Result<(), StoreError>;
    /// Keeps these dialogs (replacing older copies).
    fn put_dialogs(&self, owner: UserId, dialogs: &[Dialog]) -> Result<(), StoreError>;
    /// Forgets a dialog and its messages.
    fn remove_dialog(&self, owner: UserId, dialog: DialogId) -> Result<(), StoreError>;
    /// The kept dialogs, the latest activity first, at most `limit`.
    fn dialogs(&self, owner: UserId, limit: usize) -> Result<Vec<Dialog>, StoreError>;
    /// Keeps messages; a message kept already keeps the further of the two statuses.
    fn put_messages(
        &self,
        owner: UserId,
        messages: &[(Message, LocalStatus)],
    ) -> Result<(), StoreError>;
    /// The last `limit` messages of a dialog, oldest first.
    fn messages(
        &self,
        owner: UserId,
        dialog: DialogId,
        limit: usize,
    ) -> Result<Vec<(Message, LocalStatus)>, StoreError>;
    /// Moves a kept message's status (forward only, or to `Failed`/`Queued` for a retry);
    /// gives the message when its status changed.
    fn set_status(
        &self,
        owner: UserId,
        id: MessageId,
        status: &LocalStatus,
    ) -> Result<Option<Message>, StoreError>;
    /// Forgets a kept message (deleted, or a cancelled send's echo).
    fn remove_message(&self, owner: UserId, id: MessageId) -> Result<(), StoreError>;
    /// Whether a message from someone else with this id was kept (shown before, maybe by an
    /// earlier run).
    fn shown_before(&self, owner: UserId, id: MessageId) -> Result<bool, StoreError>;
    /// Changes a kept message in place (an edit, reactions); false when it is not kept.
    fn update_message(
        &self,
        owner: UserId,
        id: MessageId,
        change: &dyn Fn(&mut Message),
    ) -> Result<bool, StoreError>;
    /// The newest message kept per dialog from others: its `date_sent` and id.
    fn last_seen(&self, owner: UserId) -> Result<Vec<(DialogId, i64, MessageId)>, StoreError>;
    /// Writes a send to the queue (and its local echo to the messages) before it goes out.
    fn enqueue(&self, owner: UserId, send: &QueuedSend) -> Result<(), StoreError>;
    /// The queue, in the order the sends were made.
    fn queued(&self, owner: UserId) -> Result<Vec<QueuedSend>, StoreError>;
    /// Takes a send off the queue (sent, or cancelled).
    fn dequeue(&self, owner: UserId, id: MessageId) -> Result<(), StoreError>;
    /// Replaces a queued send's message (an edit before it went out); false when not queued.
    fn requeue(&self, owner: UserId, send: &QueuedSend) -> Result<bool, StoreError>;
}

/// The client's store (cheap to clone).
#[derive(Debug, Clone)]
pub(crate) struct Store {
    backend: Arc<dyn Backend>,
}

impl std::ops::Deref for Store {
    type Target = dyn Backend;
    fn deref(&self) -> &Self::Target {
        &*self.backend
    }
}
