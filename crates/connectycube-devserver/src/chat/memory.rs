//! [`ChatBackend`] in memory: a real implementation (tests and embedding use it), not a stub.

use std::collections::HashMap;
use std::sync::Mutex;

use connectycube_protocol::ids::{AppId, DialogId, MessageId, UserId};
use connectycube_protocol::iq::privacy::Item as PrivacyItem;
use connectycube_protocol::model::DialogType;

use super::backend::{
    BackendError, BackendResult, ChatBackend, DialogInfo, Marker, NewMessage, PrivacyLists,
    StoredMessage,
};

#[derive(Default)]
struct State {
    /// (app, user) -> password.
    passwords: HashMap<(AppId, UserId), String>,
    /// Session token -> user.
    tokens: HashMap<String, UserId>,
    dialogs: HashMap<DialogId, DialogInfo>,
    /// Messages in the order they were saved.
    messages: Vec<StoredMessage>,
    privacy: HashMap<UserId, PrivacyLists>,
    last: HashMap<UserId, i64>,
}

/// Everything in a mutex-guarded map; cheap enough for tests and small embeddings.
#[derive(Default)]
pub struct MemoryBackend {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend").finish_non_exhaustive()
    }
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> BackendResult<std::sync::MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| BackendError::storage("memory backend poisoned"))
    }

    /// Adds a user with a password.
    pub fn add_user(&self, app: AppId, user: UserId, password: &str) {
        if let Ok(mut s) = self.lock() {
            s.passwords.insert((app, user), password.to_owned());
        }
    }

    /// Adds a live REST session token of `user`.
    pub fn add_token(&self, user: UserId, token: &str) {
        if let Ok(mut s) = self.lock() {
            s.tokens.insert(token.to_owned(), user);
        }
    }

    /// Adds or replaces a dialog.
    pub fn put_dialog(&self, dialog: DialogInfo) {
        if let Ok(mut s) = self.lock() {
            s.dialogs.insert(dialog.id, dialog);
        }
    }

    /// The dialog's messages in the order they were saved.
    pub fn history(&self, dialog: DialogId) -> Vec<StoredMessage> {
        self.lock()
            .map(|s| {
                s.messages
                    .iter()
                    .filter(|m| m.message.dialog == dialog)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every stored message.
    pub fn all_messages(&self) -> Vec<StoredMessage> {
        self.lock().map(|s| s.messages.clone()).unwrap_or_default()
    }

    fn with_message<T>(
        &self,
        id: MessageId,
        f: impl FnOnce(&mut Vec<StoredMessage>, usize) -> T,
    ) -> BackendResult<Option<T>> {
        let mut s = self.lock()?;
        let Some(i) = s.messages.iter().position(|m| m.message.id == id) else {
            return Ok(None);
        };
        Ok(Some(f(&mut s.messages, i)))
    }
}

impl ChatBackend for MemoryBackend {
    fn authenticate(&self, app: AppId, user: UserId, secret: &str) -> BackendResult<bool> {
        let s = self.lock()?;
        let by_password = s.passwords.get(&(app, user)).is_some_and(|p| p == secret);
        let by_token = s.tokens.get(secret) == Some(&user);
        Ok(by_password || by_token)
    }

    fn dialog(&self, id: DialogId) -> BackendResult<Option<DialogInfo>> {
        Ok(self.lock()?.dialogs.get(&id).cloned())
    }

    fn private_dialog(&self, a: UserId, b: UserId) -> BackendResult<DialogInfo> {
        let mut s = self.lock()?;
        let found = s.dialogs.values().find(|d| {
            d.kind == DialogType::Private && d.occupants.contains(&a) && d.occupants.contains(&b)
        });
        if let Some(d) = found {
            return Ok(d.clone());
        }
        let dialog = DialogInfo {
            id: DialogId::generate(),
            kind: DialogType::Private,
            owner: a,
            occupants: vec![a, b],
            admins: Vec::new(),
            subscribers: Vec::new(),
        };
        s.dialogs.insert(dialog.id, dialog.clone());
        Ok(dialog)
    }

    fn save_message(&self, message: &NewMessage) -> BackendResult<()> {
        let mut s = self.lock()?;
        if s.messages.iter().any(|m| m.message.id == message.id) {
            // A resent message (after a resumption, say) is stored once.
            return Ok(());
        }
        s.messages.push(StoredMessage {
            message: message.clone(),
            delivered_ids: vec![message.sender],
            read_ids: vec![message.sender],
        });
        Ok(())
    }

    fn recent_messages(
        &self,
        dialog: DialogId,
        _viewer: UserId,
        limit: usize,
    ) -> BackendResult<Vec<StoredMessage>> {
        let s = self.lock()?;
        let mut of_dialog: Vec<StoredMessage> = s
            .messages
            .iter()
            .filter(|m| m.message.dialog == dialog)
            .cloned()
            .collect();
        // Saved in order; kept stable by date for messages whose date_sent was given.
        of_dialog.sort_by_key(|m| m.message.date_sent);
        let skip = of_dialog.len().saturating_sub(limit);
        Ok(of_dialog.split_off(skip))
    }

    fn message(&self, id: MessageId) -> BackendResult<Option<StoredMessage>> {
        self.with_message(id, |m, i| m[i].clone())
    }

    fn mark(&self, id: MessageId, user: UserId, marker: Marker) -> BackendResult<bool> {
        let done = self.with_message(id, |m, i| {
            let msg = &mut m[i];
            let add = |ids: &mut Vec<UserId>| {
                if !ids.contains(&user) {
                    ids.push(user);
                }
            };
            add(&mut msg.delivered_ids);
            if marker == Marker::Read {
                add(&mut msg.read_ids);
            }
        })?;
        Ok(done.is_some())
    }

    fn edit_message(&self, id: MessageId, editor: UserId, body: &str) -> BackendResult<bool> {
        let done = self.with_message(id, |m, i| {
            if m[i].message.sender != editor {
                return false;
            }
            m[i].message.body = body.to_owned();
            true
        })?;
        Ok(done.unwrap_or(false))
    }

    fn delete_message(&self, id: MessageId, by: UserId) -> BackendResult<bool> {
        let done = self.with_message(id, |m, i| {
            if m[i].message.sender != by {
                return false;
            }
            m.remove(i);
            true
        })?;
        Ok(done.unwrap_or(false))
    }

    fn privacy_lists(&self, user: UserId) -> BackendResult<PrivacyLists> {
        Ok(self.lock()?.privacy.get(&user).cloned().unwrap_or_default())
    }

    fn set_privacy_list(
        &self,
        user: UserId,
        name: &str,
        items: Vec<PrivacyItem>,
    ) -> BackendResult<()> {
        let mut s = self.lock()?;
        let lists = s.privacy.entry(user).or_default();
        lists.lists.retain(|(n, _)| n != name);
        if items.is_empty() {
            if lists.default.as_deref() == Some(name) {
                lists.default = None;
            }
        } else {
            lists.lists.push((name.to_owned(), items));
        }
        Ok(())
    }

    fn set_default_privacy_list(&self, user: UserId, name: Option<&str>) -> BackendResult<bool> {
        let mut s = self.lock()?;
        let lists = s.privacy.entry(user).or_default();
        match name {
            None => lists.default = None,
            Some(n) if lists.lists.iter().any(|(l, _)| l == n) => {
                lists.default = Some(n.to_owned());
            }
            Some(_) => return Ok(false),
        }
        Ok(true)
    }

    fn last_activity(&self, user: UserId) -> BackendResult<Option<i64>> {
        Ok(self.lock()?.last.get(&user).copied())
    }

    fn set_last_activity(&self, user: UserId, at: i64) -> BackendResult<()> {
        self.lock()?.last.insert(user, at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticates_by_password_or_token_of_the_same_user() {
        let b = MemoryBackend::new();
        b.add_user(AppId(1), UserId(10), "pw");
        b.add_token(UserId(11), "tok");
        assert!(b.authenticate(AppId(1), UserId(10), "pw").unwrap());
        assert!(!b.authenticate(AppId(2), UserId(10), "pw").unwrap());
        assert!(!b.authenticate(AppId(1), UserId(10), "tok").unwrap());
        assert!(b.authenticate(AppId(1), UserId(11), "tok").unwrap());
    }

    #[test]
    fn one_private_dialog_per_pair() {
        let b = MemoryBackend::new();
        let d1 = b.private_dialog(UserId(1), UserId(2)).unwrap();
        let d2 = b.private_dialog(UserId(2), UserId(1)).unwrap();
        assert_eq!(d1.id, d2.id);
        assert_ne!(b.private_dialog(UserId(1), UserId(3)).unwrap().id, d1.id);
    }

    #[test]
    fn edits_and_deletes_only_by_the_sender() {
        let b = MemoryBackend::new();
        let m = NewMessage {
            id: MessageId::generate(),
            dialog: DialogId::generate(),
            sender: UserId(1),
            recipient: Some(UserId(2)),
            body: "a".into(),
            date_sent: 5,
            attachments: vec![],
            custom: Default::default(),
        };
        b.save_message(&m).unwrap();
        assert!(!b.edit_message(m.id, UserId(2), "x").unwrap());
        assert!(b.edit_message(m.id, UserId(1), "b").unwrap());
        assert!(b.mark(m.id, UserId(2), Marker::Read).unwrap());
        let s = b.message(m.id).unwrap().unwrap();
        assert_eq!(s.message.body, "b");
        assert!(s.read_ids.contains(&UserId(2)) && s.delivered_ids.contains(&UserId(2)));
        assert!(!b.delete_message(m.id, UserId(2)).unwrap());
        assert!(b.delete_message(m.id, UserId(1)).unwrap());
        assert!(b.message(m.id).unwrap().is_none());
    }
}
