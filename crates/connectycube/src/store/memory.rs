//! The in-memory store: today's process only, bounded like the file one.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::model::{Dialog, Message};

use super::{Backend, Caps, LocalStatus, QueuedSend, StoreError};
use crate::lock;

/// Everything kept, per owner.
#[derive(Debug)]
pub(crate) struct MemoryStore {
    caps: Caps,
    identities: Mutex<HashMap<String, UserId>>,
    owners: Mutex<HashMap<UserId, Owned>>,
}

#[derive(Debug, Default)]
struct Owned {
    dialogs: HashMap<DialogId, Dialog>,
    /// Per dialog, oldest first.
    messages: HashMap<DialogId, VecDeque<(Message, LocalStatus)>>,
    /// Which dialog each kept message is in.
    index: HashMap<MessageId, DialogId>,
    queue: Queue,
}

/// The send queue in the order of its sends, found by message id in O(log n): a send burst
/// keeps thousands queued, and a scan per ack made the burst quadratic.
#[derive(Debug, Default)]
struct Queue {
    sends: BTreeMap<u64, QueuedSend>,
    at: HashMap<MessageId, u64>,
    next: u64,
}

impl Queue {
    /// Appends `send` unless its message is queued already.
    fn push(&mut self, send: &QueuedSend) {
        if self.at.contains_key(&send.message.id) {
            return;
        }
        self.at.insert(send.message.id, self.next);
        self.sends.insert(self.next, send.clone());
        self.next += 1;
    }

    fn get_mut(&mut self, id: MessageId) -> Option<&mut QueuedSend> {
        let seq = self.at.get(&id)?;
        self.sends.get_mut(seq)
    }

    fn remove(&mut self, id: MessageId) {
        if let Some(seq) = self.at.remove(&id) {
            self.sends.remove(&seq);
        }
    }
}

/// When a message was sent, for ordering: its `date_sent`, else its id's time.
pub(crate) fn sent_at(m: &Message) -> i64 {
    m.date_sent.unwrap_or_else(|| i64::from(m.id.0.timestamp()))
}

/// A dialog's latest activity, for "newest first" and eviction.
pub(crate) fn activity(d: &Dialog) -> i64 {
    d.last_message_date_sent
        .or(d.updated_at.map(|t| t.timestamp()))
        .unwrap_or(0)
}

impl MemoryStore {
    pub(crate) fn new(caps: Caps) -> Self {
        Self {
            caps,
            identities: Mutex::default(),
            owners: Mutex::default(),
        }
    }

    fn with<R>(&self, owner: UserId, f: impl FnOnce(&mut Owned) -> R) -> R {
        f(lock(&self.owners).entry(owner).or_default())
    }
}

impl Owned {
    fn put(&mut self, caps: Caps, message: &Message, status: &LocalStatus) {
        let Some(dialog) = message.dialog_id else {
            return;
        };
        if let Some(kept) = self.find(message.id) {
            if kept.1.advances_to(status) {
                kept.1 = status.clone();
            }
            return;
        }
        if !self.messages.contains_key(&dialog) && self.messages.len() >= caps.dialogs {
            // A peer names the dialog: messages for ever new dialog ids must not grow the
            // store without bound. The dialog with the oldest newest message goes.
            self.evict_quietest();
        }
        let list = self.messages.entry(dialog).or_default();
        let at = sent_at(message);
        let pos = list.partition_point(|(m, _)| sent_at(m) <= at);
        list.insert(pos, (message.clone(), status.clone()));
        self.index.insert(message.id, dialog);
        while list.len() > caps.messages_per_dialog {
            if let Some((gone, _)) = list.pop_front() {
                self.index.remove(&gone.id);
            }
        }
    }

    /// Forgets the messages of the dialog whose newest message is the oldest.
    fn evict_quietest(&mut self) {
        let quietest = self
            .messages
            .iter()
            .min_by_key(|(_, list)| list.back().map_or(i64::MIN, |(m, _)| sent_at(m)))
            .map(|(d, _)| *d);
        if let Some(dialog) = quietest {
            for (m, _) in self.messages.remove(&dialog).unwrap_or_default() {
                self.index.remove(&m.id);
            }
        }
    }

    fn find(&mut self, id: MessageId) -> Option<&mut (Message, LocalStatus)> {
        let dialog = self.index.get(&id)?;
        self.messages
            .get_mut(dialog)?
            .iter_mut()
            .find(|(m, _)| m.id == id)
    }

    fn evict_dialogs(&mut self, caps: Caps) {
        while self.dialogs.len() > caps.dialogs {
            let Some(oldest) = self
                .dialogs
                .values()
                .min_by_key(|d| activity(d))
                .map(|d| d.id)
            else {
                return;
            };
            self.drop_dialog(oldest);
        }
    }

    fn drop_dialog(&mut self, dialog: DialogId) {
        self.dialogs.remove(&dialog);
        for (m, _) in self.messages.remove(&dialog).unwrap_or_default() {
            self.index.remove(&m.id);
        }
    }
}

impl Backend for MemoryStore {
    fn user_of(&self, identity: &str) -> Result<Option<UserId>, StoreError> {
        Ok(lock(&self.identities).get(identity).copied())
    }

    fn set_user_of(&self, identity: &str, user: UserId) -> Result<(), StoreError> {
        lock(&self.identities).insert(identity.to_owned(), user);
        Ok(())
    }

    fn put_dialogs(&self, owner: UserId, dialogs: &[Dialog]) -> Result<(), StoreError> {
        self.with(owner, |o| {
            for d in dialogs {
                o.dialogs.insert(d.id, d.clone());
            }
            o.evict_dialogs(self.caps);
        });
        Ok(())
    }

    fn remove_dialog(&self, owner: UserId, dialog: DialogId) -> Result<(), StoreError> {
        self.with(owner, |o| o.drop_dialog(dialog));
        Ok(())
    }

    fn dialogs(&self, owner: UserId, limit: usize) -> Result<Vec<Dialog>, StoreError> {
        let mut all: Vec<Dialog> = self.with(owner, |o| o.dialogs.values().cloned().collect());
        all.sort_by_key(|d| std::cmp::Reverse(activity(d)));
        all.truncate(limit);
        Ok(all)
    }

    fn put_messages(
        &self,
        owner: UserId,
        messages: &[(Message, LocalStatus)],
    ) -> Result<(), StoreError> {
        self.with(owner, |o| {
            for (m, s) in messages {
                o.put(self.caps, m, s);
            }
        });
        Ok(())
    }

    fn messages(
        &self,
        owner: UserId,
        dialog: DialogId,
        limit: usize,
    ) -> Result<Vec<(Message, LocalStatus)>, StoreError> {
        Ok(self.with(owner, |o| {
            let list = o.messages.get(&dialog);
            let len = list.map_or(0, VecDeque::len);
            list.into_iter()
                .flatten()
                .skip(len.saturating_sub(limit))
                .cloned()
                .collect()
        }))
    }

    fn set_status(
        &self,
        owner: UserId,
        id: MessageId,
        status: &LocalStatus,
    ) -> Result<Option<Message>, StoreError> {
        Ok(self.with(owner, |o| {
            if let Some(q) = o.queue.get_mut(id)
                && matches!(status, LocalStatus::Queued | LocalStatus::Failed(_))
            {
                q.status = status.clone();
            }
            let kept = o.find(id)?;
            if !kept.1.advances_to(status) {
                return None;
            }
            kept.1 = status.clone();
            Some(kept.0.clone())
        }))
    }

    fn remove_message(&self, owner: UserId, id: MessageId) -> Result<(), StoreError> {
        self.with(owner, |o| {
            if let Some(dialog) = o.index.remove(&id)
                && let Some(list) = o.messages.get_mut(&dialog)
            {
                list.retain(|(m, _)| m.id != id);
            }
        });
        Ok(())
    }

    fn update_message(
        &self,
        owner: UserId,
        id: MessageId,
        change: &dyn Fn(&mut Message),
    ) -> Result<bool, StoreError> {
        Ok(self.with(owner, |o| match o.find(id) {
            Some(kept) => {
                change(&mut kept.0);
                true
            }
            None => false,
        }))
    }

    fn shown_before(&self, owner: UserId, id: MessageId) -> Result<bool, StoreError> {
        Ok(self.with(owner, |o| {
            o.find(id).is_some_and(|(m, _)| m.sender_id != Some(owner))
        }))
    }

    fn last_seen(&self, owner: UserId) -> Result<Vec<(DialogId, i64, MessageId)>, StoreError> {
        Ok(self.with(owner, |o| {
            o.messages
                .iter()
                .filter_map(|(d, list)| {
                    // Kept in time order: the last one from others is the newest.
                    let (m, _) = list
                        .iter()
                        .rev()
                        .find(|(m, _)| m.sender_id != Some(owner))?;
                    Some((*d, sent_at(m), m.id))
                })
                .collect()
        }))
    }

    fn enqueue(&self, owner: UserId, send: &QueuedSend) -> Result<(), StoreError> {
        self.with(owner, |o| {
            o.queue.push(send);
            o.put(self.caps, &send.message, &send.status);
        });
        Ok(())
    }

    fn queued(&self, owner: UserId) -> Result<Vec<QueuedSend>, StoreError> {
        Ok(self.with(owner, |o| o.queue.sends.values().cloned().collect()))
    }

    fn dequeue(&self, owner: UserId, id: MessageId) -> Result<(), StoreError> {
        self.with(owner, |o| o.queue.remove(id));
        Ok(())
    }

    fn requeue(&self, owner: UserId, send: &QueuedSend) -> Result<bool, StoreError> {
        Ok(self.with(owner, |o| {
            let Some(q) = o.queue.get_mut(send.message.id) else {
                return false;
            };
            *q = send.clone();
            if let Some(kept) = o.find(send.message.id) {
                *kept = (send.message.clone(), send.status.clone());
            }
            true
        }))
    }
}
