//! What the chat server needs persisted, as a small synchronous trait: the store is an
//! in-process SQLite, so a call is a short local query; the chat calls it from its tasks.
//!
//! [`super::memory::MemoryBackend`] implements it in memory (tests, embedding); the SQLite
//! store implements it for the devserver.

use std::sync::Arc;

use connectycube_protocol::ids::{AppId, DialogId, MessageId, UserId};
use connectycube_protocol::iq::privacy::Item as PrivacyItem;
use connectycube_protocol::model::{Attachment, CustomProperties, DialogType};

/// A failure of the storage behind the chat (the chat answers the client with an error stanza
/// and keeps serving).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The storage failed.
    #[error("storage failed: {message}")]
    Storage {
        /// What failed (never a secret).
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
}

impl BackendError {
    /// A storage failure with a message only.
    pub fn storage(message: impl Into<String>) -> Self {
        Self::Storage {
            message: message.into(),
            source: None,
        }
    }
}

/// Shorthand for backend results.
pub type BackendResult<T> = Result<T, BackendError>;

/// What the chat needs to know of a dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogInfo {
    /// Its id.
    pub id: DialogId,
    /// 2 group, 3 private, 4 public (1 broadcast).
    pub kind: DialogType,
    /// Its owner (the creator, super admin).
    pub owner: UserId,
    /// Occupants (group and private dialogs).
    pub occupants: Vec<UserId>,
    /// Admins.
    pub admins: Vec<UserId>,
    /// Subscribers of a public dialog.
    pub subscribers: Vec<UserId>,
}

impl DialogInfo {
    /// Whether `user` may join the dialog's room: occupants and public subscribers, or anyone
    /// for a public dialog (the docs: any user can subscribe to a public chat).
    pub fn may_join(&self, user: UserId) -> bool {
        match self.kind {
            DialogType::Public => true,
            DialogType::Group => self.occupants.contains(&user) || self.owner == user,
            _ => false,
        }
    }

    /// `user`'s MUC affiliation in the dialog's room: `owner` for the owner, `admin` for the
    /// dialog's admins, `member` for everyone else who may join.
    pub fn affiliation(&self, user: UserId) -> &'static str {
        if self.owner == user {
            "owner"
        } else if self.admins.contains(&user) {
            "admin"
        } else {
            "member"
        }
    }
}

/// A message to store in a dialog's history.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Its id: the stanza's id when that is an ObjectId, else a fresh one.
    pub id: MessageId,
    /// The dialog.
    pub dialog: DialogId,
    /// The sender.
    pub sender: UserId,
    /// The recipient of a private message.
    pub recipient: Option<UserId>,
    /// The text.
    pub body: String,
    /// Unix seconds.
    pub date_sent: i64,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Custom properties from `extraParams`.
    pub custom: CustomProperties,
}

/// A stored message as the chat reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    /// What was stored.
    pub message: NewMessage,
    /// Users who received it.
    pub delivered_ids: Vec<UserId>,
    /// Users who read it.
    pub read_ids: Vec<UserId>,
}

/// A chat marker from a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// `<received/>`.
    Delivered,
    /// `<displayed/>`.
    Read,
}

/// A user's XEP-0016 lists and which one is the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrivacyLists {
    /// The lists by name, each with its items.
    pub lists: Vec<(String, Vec<PrivacyItem>)>,
    /// The default list's name.
    pub default: Option<String>,
}

/// Storage the chat server needs; every method is a short local call.
pub trait ChatBackend: Send + Sync {
    /// Whether `secret` (the password or a live REST session token of this user) logs `user`
    /// of `app` in.
    fn authenticate(&self, app: AppId, user: UserId, secret: &str) -> BackendResult<bool>;
    /// The dialog, if it exists.
    fn dialog(&self, id: DialogId) -> BackendResult<Option<DialogInfo>>;
    /// The private dialog of the pair, created when there is none yet.
    fn private_dialog(&self, a: UserId, b: UserId) -> BackendResult<DialogInfo>;
    /// The id of the pair's private dialog, created when there is none yet: what saving a
    /// message needs, without reading the whole dialog for every message.
    fn private_dialog_id(&self, a: UserId, b: UserId) -> BackendResult<DialogId> {
        Ok(self.private_dialog(a, b)?.id)
    }
    /// Stores a message in its dialog's history (and updates the dialog's last message).
    fn save_message(&self, message: &NewMessage) -> BackendResult<()>;
    /// A stored message.
    fn message(&self, id: MessageId) -> BackendResult<Option<StoredMessage>>;
    /// The last `limit` messages of a dialog's history that `viewer` may see, oldest first
    /// (what a room replays to an occupant who joins).
    fn recent_messages(
        &self,
        dialog: DialogId,
        viewer: UserId,
        limit: usize,
    ) -> BackendResult<Vec<StoredMessage>>;
    /// Marks a message delivered or read by `user`; `false` when there is no such message.
    fn mark(&self, id: MessageId, user: UserId, marker: Marker) -> BackendResult<bool>;
    /// Replaces the body of a message `editor` sent; `false` when not found or not theirs.
    fn edit_message(&self, id: MessageId, editor: UserId, body: &str) -> BackendResult<bool>;
    /// Deletes a message `by` sent; `false` when not found or not theirs.
    fn delete_message(&self, id: MessageId, by: UserId) -> BackendResult<bool>;
    /// The user's privacy lists.
    fn privacy_lists(&self, user: UserId) -> BackendResult<PrivacyLists>;
    /// Sets (or with no items, removes) one list.
    fn set_privacy_list(
        &self,
        user: UserId,
        name: &str,
        items: Vec<PrivacyItem>,
    ) -> BackendResult<()>;
    /// Sets or declines (`None`) the default list; `false` when the named list does not exist.
    fn set_default_privacy_list(&self, user: UserId, name: Option<&str>) -> BackendResult<bool>;
    /// When the user last logged out (Unix seconds); `None` when never logged in.
    fn last_activity(&self, user: UserId) -> BackendResult<Option<i64>>;
    /// Records a login or logout time (Unix seconds).
    fn set_last_activity(&self, user: UserId, at: i64) -> BackendResult<()>;
    /// A push alert to `user` for `sender`'s chat message: records it for `user`'s devices
    /// and answers `true`, or `false` when `user` turned notifications of `dialog` off.
    fn alert(
        &self,
        user: UserId,
        sender: UserId,
        dialog: Option<DialogId>,
        message: Option<MessageId>,
        body: &str,
    ) -> BackendResult<bool> {
        let _ = (user, sender, dialog, message, body);
        Ok(true)
    }
    /// Keeps a message (serialized XML) for an offline user, at most `max` per user;
    /// `Ok(false)` when this backend does not persist them (the chat then keeps it in memory).
    fn store_offline(&self, user: UserId, stanza: &str, max: usize) -> BackendResult<bool> {
        let _ = (user, stanza, max);
        Ok(false)
    }
    /// How many messages are kept for `user`; `Ok(None)` when this backend does not persist
    /// them.
    fn offline_count(&self, user: UserId) -> BackendResult<Option<usize>> {
        let _ = user;
        Ok(None)
    }
    /// Takes the messages kept for `user`, oldest first.
    fn take_offline(&self, user: UserId) -> BackendResult<Vec<String>> {
        let _ = user;
        Ok(Vec::new())
    }
}
