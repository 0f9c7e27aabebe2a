//! What the app is shown once: duplicates the server replays (after a resumption, as a carbon,
//! as an offline redelivery) are dropped by id, and a message older than one already shown
//! from the same sending process is flagged as out of order. Memory is bounded: a window of
//! ids per dialog, a bounded number of dialogs, and for messages a window of each sending
//! process's ObjectId counters ([`crate::replay`]) that catches copies far older than the ids.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use connectycube_protocol::address::user_id_of;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::{MessageId, UserId};
use connectycube_protocol::message::Envelope;
use connectycube_protocol::message::envelope::CarbonDirection;

use crate::replay::{Replays, Seen};

/// When the client acknowledges a message it takes in with the automatic 'delivered'
/// marker (sent to the message's sender, with its dialog id, as the official SDKs do).
/// Never for the user's own messages (their echo in a group, carbons from other devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AutoDelivered {
    /// Never: the app calls [`crate::Dialog::send_delivered`] (or
    /// [`crate::ChatClient::send_delivered`]) itself.
    Off,
    /// For messages that ask for it with `<markable/>` (XEP-0333), 1-1 and group: what the
    /// official guide says ("controlled by `markable = true` [...] If `markable` is false or
    /// omitted, then you can send the delivered status manually"), and what the Flutter SDK
    /// writes. An app marks the others itself ([`crate::Dialog::send_delivered`]).
    #[default]
    Markable,
    /// For every message from someone else that is markable or has a dialog id, 1-1 and
    /// group: for peers on the official JS SDK 6.x, which never writes `<markable/>` yet sends
    /// and expects 'delivered' for every message with a dialog id from someone else.
    MarkableOrDialog,
}

/// How much the duplicate filter remembers, how far the event streams may run ahead of the
/// app, and how 1-1 sends are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliverySettings {
    /// Ids remembered per dialog (messages, markers, edits, deletions); a duplicate older
    /// than this many later events of its dialog is shown again.
    pub dedupe_window: usize,
    /// Dialogs remembered at once; the one seen least recently is forgotten first.
    pub max_dialogs: usize,
    /// Unread events the session's log keeps for its streams: a stream further behind
    /// counts the older ones as missed ([`crate::Event::Lagged`]), a lossless one makes the
    /// client wait (see [`crate::fanout`]).
    pub subscriber_buffer: usize,
    /// Which messages get the automatic 'delivered' marker.
    pub auto_delivered: AutoDelivered,
    /// 1-1 messages per recipient that [`crate::ChatClient::send_private_paced`] lets go
    /// unanswered by a 'delivered' (or 'read') marker before the next send waits; 0: no
    /// pacing. Keeps the recipient's queue at the server far below ejabberd's
    /// `max_ack_queue` (5,000), past which the server closes the recipient's session.
    pub delivered_window: usize,
    /// How long an unanswered message holds the window: a recipient silent for this long
    /// is not waited for again until it answers.
    pub delivered_timeout: Duration,
}

impl Default for DeliverySettings {
    /// 256 ids in each of up to 256 dialogs (a few MiB at most), 1024 unread events kept, 'delivered' by [`AutoDelivered::MarkableOrDialog`], paced sends
    /// holding at most 1,000 unanswered messages per recipient for 5 s.
    fn default() -> Self {
        Self {
            dedupe_window: 256,
            max_dialogs: 256,
            subscriber_buffer: 1024,
            auto_delivered: AutoDelivered::default(),
            delivered_window: 1_000,
            delivered_timeout: Duration::from_secs(5),
        }
    }
}

impl DeliverySettings {
    /// Remembers `ids` ids per dialog.
    ///
    /// ```
    /// use connectycube::DeliverySettings;
    ///
    /// let settings = DeliverySettings::default().with_dedupe_window(64);
    /// assert_eq!(settings.dedupe_window, 64);
    /// ```
    pub fn with_dedupe_window(mut self, ids: usize) -> Self {
        self.dedupe_window = ids;
        self
    }

    /// Remembers up to `dialogs` dialogs.
    ///
    /// ```
    /// use connectycube::DeliverySettings;
    ///
    /// assert_eq!(DeliverySettings::default().max_dialogs, 256);
    /// assert_eq!(DeliverySettings::default().with_max_dialogs(16).max_dialogs, 16);
    /// ```
    pub fn with_max_dialogs(mut self, dialogs: usize) -> Self {
        self.max_dialogs = dialogs;
        self
    }

    /// Sends the automatic 'delivered' marker by `rule`.
    ///
    /// ```
    /// use connectycube::{AutoDelivered, DeliverySettings};
    ///
    /// let manual = DeliverySettings::default().with_auto_delivered(AutoDelivered::Off);
    /// assert_eq!(manual.auto_delivered, AutoDelivered::Off);
    /// ```
    pub fn with_auto_delivered(mut self, rule: AutoDelivered) -> Self {
        self.auto_delivered = rule;
        self
    }

    /// Keeps up to `events` unread events for the session's streams.
    ///
    /// ```
    /// use connectycube::DeliverySettings;
    ///
    /// assert_eq!(DeliverySettings::default().with_subscriber_buffer(8).subscriber_buffer, 8);
    /// ```
    pub fn with_subscriber_buffer(mut self, events: usize) -> Self {
        self.subscriber_buffer = events;
        self
    }

    /// Lets paced sends leave `messages` per recipient unanswered (0: no pacing), each
    /// holding its place for at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use connectycube::DeliverySettings;
    ///
    /// let unpaced = DeliverySettings::default().with_delivered_window(0, Duration::ZERO);
    /// assert_eq!(unpaced.delivered_window, 0);
    /// assert_eq!(DeliverySettings::default().delivered_timeout, Duration::from_secs(5));
    /// ```
    pub fn with_delivered_window(mut self, messages: usize, timeout: Duration) -> Self {
        self.delivered_window = messages;
        self.delivered_timeout = timeout;
        self
    }
}

/// What the facade did with inbound events so far, readable at any time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryStats {
    /// Messages, markers, edits and deletions dropped because their id was already shown.
    pub duplicates_dropped: u64,
    /// Messages shown with [`crate::Received::out_of_order`] set.
    pub out_of_order: u64,
    /// Paced sends that waited for the recipient's markers.
    pub paced_waits: u64,
}

/// The counters behind [`DeliveryStats`], shared by the filter and the client.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    duplicates: AtomicU64,
    out_of_order: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> DeliveryStats {
        DeliveryStats {
            duplicates_dropped: self.duplicates.load(Ordering::Relaxed),
            out_of_order: self.out_of_order.load(Ordering::Relaxed),
            paced_waits: 0,
        }
    }
}

/// The filter's verdict on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Already shown: drop it.
    Duplicate,
    /// Show it; `out_of_order` when a newer message of the same sending process came first.
    Show {
        /// See [`crate::Received::out_of_order`].
        out_of_order: bool,
    },
}

/// What makes two events the same event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Message(MessageId),
    /// A marker: which message, and who marked it (every occupant of a group marks).
    Delivered(MessageId, String),
    Read(MessageId, String),
    /// An edit: a hash of its own stanza id, or of the edited message and the new text when
    /// it has none (a hash, so a sender's long body or id costs the window a few bytes).
    Edit(u64),
    Deleted(MessageId),
}

/// The dialog an event belongs to: its dialog id, else the peer's bare address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum DialogKey {
    Dialog(connectycube_protocol::ids::DialogId),
    Peer(String),
}

/// Remembered per dialog.
#[derive(Debug, Default)]
struct DialogMemory {
    order: VecDeque<Key>,
    seen: HashSet<Key>,
    /// When the dialog was last used (the filter's clock), for forgetting dialogs.
    used: u64,
}

/// The duplicate and order filter; one per client, fed every inbound event in order.
#[derive(Debug)]
pub(crate) struct DeliveryFilter {
    settings: DeliverySettings,
    dialogs: HashMap<DialogKey, DialogMemory>,
    /// Messages by their sender's ObjectId counter, per dialog and sender: catches copies
    /// far older than the id window (what a server re-routes after closing a session).
    replays: Replays<(DialogKey, Option<UserId>)>,
    clock: u64,
    counters: Arc<Counters>,
}

impl DeliveryFilter {
    pub(crate) fn new(settings: DeliverySettings, counters: Arc<Counters>) -> Self {
        Self {
            settings,
            dialogs: HashMap::new(),
            replays: Replays::default(),
            clock: 0,
            counters,
        }
    }

    /// Decides on `event` and remembers it.
    pub(crate) fn admit(&mut self, event: &ChatEvent) -> Verdict {
        let Some((dialog, key, sender)) = identify(event) else {
            return Verdict::Show {
                out_of_order: false,
            };
        };
        let window = self.settings.dedupe_window.max(1);
        self.clock += 1;
        let again = self.memory(dialog.clone()).seen.contains(&key);
        let seen = match &key {
            Key::Message(id) if !again => {
                Some(self.replays.admit(&(dialog.clone(), sender), &id.0))
            }
            _ => None,
        };
        if again || seen == Some(Seen::Again) {
            self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
            let total = self.counters.duplicates.load(Ordering::Relaxed);
            tracing::debug!(
                ?key,
                duplicates_dropped = total,
                "dropped a duplicate event"
            );
            return Verdict::Duplicate;
        }
        let out_of_order = seen == Some(Seen::New { late: true });
        self.memory(dialog).remember(key, window);
        if out_of_order {
            self.counters.out_of_order.fetch_add(1, Ordering::Relaxed);
            let total = self.counters.out_of_order.load(Ordering::Relaxed);
            tracing::debug!(out_of_order = total, "a message arrived after a newer one");
        }
        Verdict::Show { out_of_order }
    }

    /// The dialog's memory, made (forgetting the least recently used dialog when full).
    fn memory(&mut self, dialog: DialogKey) -> &mut DialogMemory {
        if !self.dialogs.contains_key(&dialog)
            && self.dialogs.len() >= self.settings.max_dialogs.max(1)
            && let Some(oldest) = crate::forget_least(&mut self.dialogs, |m| m.used)
        {
            self.replays.forget(|(d, _)| *d == oldest);
        }
        let clock = self.clock;
        let memory = self.dialogs.entry(dialog).or_default();
        memory.used = clock;
        memory
    }
}

impl DialogMemory {
    fn remember(&mut self, key: Key, window: usize) {
        self.seen.insert(key.clone());
        self.order.push_back(key);
        while self.order.len() > window {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }
}

/// The dialog and identity of an event the filter tracks; `None` for the rest (typing,
/// presences, IQs...), which always pass.
fn identify(event: &ChatEvent) -> Option<(DialogKey, Key, Option<UserId>)> {
    let (envelope, key) = match event {
        ChatEvent::ChatMessage(m) => (&m.envelope, Key::Message(m.payload.id)),
        ChatEvent::Delivered(m) => (&m.envelope, Key::Delivered(m.payload, from(&m.envelope))),
        ChatEvent::Read(m) => (&m.envelope, Key::Read(m.payload, from(&m.envelope))),
        ChatEvent::Edited(m) => {
            let key = match &m.envelope.id {
                Some(id) => edit_hash(&(0u8, id)),
                None => edit_hash(&(1u8, m.payload.message_id, &m.payload.body)),
            };
            (&m.envelope, Key::Edit(key))
        }
        ChatEvent::Deleted(m) => (&m.envelope, Key::Deleted(m.payload)),
        _ => return None,
    };
    let dialog = match (envelope.dialog_id, event) {
        (Some(d), _) => DialogKey::Dialog(d),
        (None, ChatEvent::ChatMessage(m)) if m.payload.dialog_id.is_some() => {
            DialogKey::Dialog(m.payload.dialog_id?)
        }
        _ => DialogKey::Peer(peer(envelope)),
    };
    let sender = envelope.from.as_ref().and_then(|j| user_id_of(j).ok());
    Some((dialog, key, sender))
}

/// Who sent the stanza (bare address; for a carbon, the sender of the message inside).
fn from(envelope: &Envelope) -> String {
    envelope
        .from
        .as_ref()
        .map(|j| j.to_bare().to_string())
        .unwrap_or_default()
}

/// The other side of a 1-1 exchange without a dialog id: the sender, or for a copy of what
/// this user sent from another device, the recipient.
fn peer(envelope: &Envelope) -> String {
    let sent = envelope
        .carbon
        .as_ref()
        .is_some_and(|c| c.direction == CarbonDirection::Sent);
    let other = if sent { &envelope.to } else { &envelope.from };
    other
        .as_ref()
        .map(|j| j.to_bare().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;

/// A hash keyed per process, so a peer cannot pick edits that collide with another.
fn edit_hash(value: &impl std::hash::Hash) -> u64 {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(Default::default).hash_one(value)
}
