//! The SQLite store as the chat server's [`ChatBackend`]: the chat half reads and writes the
//! same dialogs, messages, privacy lists and last activity the REST half serves.

use connectycube_protocol::ids::{AppId, DialogId, MessageId, UserId};
use connectycube_protocol::iq::privacy::Item as PrivacyItem;
use connectycube_protocol::model::{Attachment, DialogType};
use serde_json::Value;

use super::model::{self, Dialog};
use super::{Store, StoreError};
use crate::chat::backend::{
    BackendError, BackendResult, ChatBackend, DialogInfo, Marker, NewMessage, PrivacyLists,
    StoredMessage,
};

/// The store of one application, seen by the chat server.
#[derive(Clone, Debug)]
pub struct StoreBackend {
    store: Store,
    app_id: u64,
}

impl StoreBackend {
    /// The chat's view of `store` for application `app_id`.
    pub fn new(store: Store, app_id: u64) -> Self {
        Self { store, app_id }
    }
}

/// A stored message as the chat reads it.
fn stored(m: model::Message) -> StoredMessage {
    StoredMessage {
        message: NewMessage {
            id: m.id,
            dialog: m.dialog_id,
            sender: m.sender_id,
            recipient: m.recipient_id,
            body: m.body.unwrap_or_default(),
            date_sent: m.date_sent,
            attachments: attachments(&m.attachments),
            custom: m.custom,
        },
        delivered_ids: m.delivered_ids,
        read_ids: m.read_ids,
    }
}

fn storage(e: StoreError) -> BackendError {
    BackendError::Storage {
        message: e.to_string(),
        source: Some(std::sync::Arc::new(e)),
    }
}

fn info(d: Dialog) -> DialogInfo {
    DialogInfo {
        id: d.id,
        kind: DialogType::from(d.kind),
        owner: d.owner,
        occupants: d.occupants,
        admins: d.admins,
        subscribers: d.subscribers,
    }
}

/// Attachments the store keeps as JSON; one that no longer reads as an attachment is skipped
/// (and logged) rather than failing the whole message.
fn attachments(values: &[Value]) -> Vec<Attachment> {
    values
        .iter()
        .filter_map(|v| match serde_json::from_value(v.clone()) {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!(error = %e, "stored attachment does not read; skipped");
                None
            }
        })
        .collect()
}

impl ChatBackend for StoreBackend {
    fn authenticate(&self, app: AppId, user: UserId, secret: &str) -> BackendResult<bool> {
        self.store
            .check_chat_credentials(app.0, user, secret)
            .map_err(storage)
    }

    fn dialog(&self, id: DialogId) -> BackendResult<Option<DialogInfo>> {
        Ok(self.store.dialog(id).map_err(storage)?.map(info))
    }

    fn private_dialog(&self, a: UserId, b: UserId) -> BackendResult<DialogInfo> {
        let d = self
            .store
            .private_dialog(self.app_id, a, b)
            .map_err(storage)?;
        Ok(info(d))
    }

    fn private_dialog_id(&self, a: UserId, b: UserId) -> BackendResult<DialogId> {
        self.store
            .private_dialog_id(self.app_id, a, b)
            .map_err(storage)
    }

    fn save_message(&self, m: &NewMessage) -> BackendResult<()> {
        let mut new = model::NewMessage::new(m.dialog, m.sender);
        new.id = Some(m.id);
        new.recipient_id = m.recipient;
        new.body = Some(m.body.clone());
        new.date_sent = Some(m.date_sent);
        new.attachments = m
            .attachments
            .iter()
            .filter_map(|a| serde_json::to_value(a).ok())
            .collect();
        new.custom = m.custom.clone();
        match self.store.save_message(&new) {
            // A message resent after a resumption keeps its first copy.
            Ok(_) | Err(StoreError::Taken { .. }) => Ok(()),
            Err(e) => Err(storage(e)),
        }
    }

    fn message(&self, id: MessageId) -> BackendResult<Option<StoredMessage>> {
        Ok(self.store.message(id).map_err(storage)?.map(stored))
    }

    fn recent_messages(
        &self,
        dialog: DialogId,
        viewer: UserId,
        limit: usize,
    ) -> BackendResult<Vec<StoredMessage>> {
        let newest = super::PageQuery {
            newest_first: true,
            limit,
            ..super::PageQuery::default()
        };
        let mut page = self
            .store
            .messages_page(dialog, Some(viewer), &newest)
            .map_err(storage)?;
        page.reverse();
        Ok(page.into_iter().map(stored).collect())
    }

    fn mark(&self, id: MessageId, user: UserId, marker: Marker) -> BackendResult<bool> {
        let read = marker == Marker::Read;
        self.store.mark_message(id, user, read).map_err(storage)
    }

    fn edit_message(&self, id: MessageId, editor: UserId, body: &str) -> BackendResult<bool> {
        self.store
            .edit_message_by(id, editor, body)
            .map_err(storage)
    }

    fn delete_message(&self, id: MessageId, by: UserId) -> BackendResult<bool> {
        self.store.delete_message_by(id, by).map_err(storage)
    }

    fn privacy_lists(&self, user: UserId) -> BackendResult<PrivacyLists> {
        let (names, default) = self.store.privacy_list_names(user).map_err(storage)?;
        let mut lists = Vec::with_capacity(names.len());
        for name in names {
            if let Some(list) = self.store.privacy_list(user, &name).map_err(storage)? {
                lists.push((name, list.items.iter().map(PrivacyItem::from).collect()));
            }
        }
        Ok(PrivacyLists { lists, default })
    }

    fn set_privacy_list(
        &self,
        user: UserId,
        name: &str,
        items: Vec<PrivacyItem>,
    ) -> BackendResult<()> {
        let items: Vec<model::PrivacyItem> = items.iter().map(model::PrivacyItem::from).collect();
        self.store
            .set_privacy_list(user, name, &items)
            .map_err(storage)
    }

    fn set_default_privacy_list(&self, user: UserId, name: Option<&str>) -> BackendResult<bool> {
        match self.store.set_default_privacy_list(user, name) {
            Ok(()) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(storage(e)),
        }
    }

    fn last_activity(&self, user: UserId) -> BackendResult<Option<i64>> {
        self.store.last_activity(user).map_err(storage)
    }

    fn set_last_activity(&self, user: UserId, at: i64) -> BackendResult<()> {
        self.store.set_last_activity(user, at).map_err(storage)
    }

    fn alert(
        &self,
        user: UserId,
        sender: UserId,
        dialog: Option<DialogId>,
        message: Option<MessageId>,
        body: &str,
    ) -> BackendResult<bool> {
        let devices = self
            .store
            .record_chat_alert(user, sender, dialog, message, body);
        Ok(devices.map_err(storage)?.is_some())
    }

    fn store_offline(&self, user: UserId, stanza: &str, max: usize) -> BackendResult<bool> {
        self.store
            .store_offline(user, stanza, max)
            .map_err(storage)
            .map(|()| true)
    }

    fn offline_count(&self, user: UserId) -> BackendResult<Option<usize>> {
        self.store.offline_count(user).map(Some).map_err(storage)
    }

    fn take_offline(&self, user: UserId) -> BackendResult<Vec<String>> {
        self.store.take_offline(user).map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewMessage, dialog_type};

    #[test]
    fn recent_messages_are_the_last_ones_oldest_first_without_those_deleted_for_the_viewer() {
        let store = Store::in_memory().unwrap();
        let mut d = Dialog::new(1, dialog_type::GROUP, UserId(1));
        d.occupants = vec![UserId(1), UserId(2)];
        store.put_dialog(&d).unwrap();
        let mut ids = Vec::new();
        for (i, text) in ["one", "two", "three", "four"].iter().enumerate() {
            let mut m = NewMessage::new(d.id, UserId(1));
            m.body = Some((*text).into());
            m.date_sent = Some(100 + i as i64);
            ids.push(store.save_message(&m).unwrap().id);
        }
        store.delete_message_for(ids[3], UserId(2)).unwrap();
        let backend = StoreBackend::new(store, 1);
        let bodies = |viewer: u64, limit: usize| -> Vec<String> {
            backend
                .recent_messages(d.id, UserId(viewer), limit)
                .unwrap()
                .into_iter()
                .map(|m| m.message.body)
                .collect()
        };
        assert_eq!(bodies(1, 2), ["three", "four"]);
        assert_eq!(bodies(2, 2), ["two", "three"]);
        assert_eq!(bodies(1, 20), ["one", "two", "three", "four"]);
        assert!(bodies(1, 0).is_empty());
    }
}
