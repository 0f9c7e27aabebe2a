//! Events for any number of listeners ([`ChatClient::subscribe`](crate::ChatClient::subscribe)).
//!
//! # What a slow subscriber gets
//! Each subscription has its own bounded queue
//! ([`DeliverySettings::subscriber_buffer`](crate::DeliverySettings::subscriber_buffer)). A
//! subscription never holds the connection or the other listeners back: when its queue is
//! full, the events it has no room for are counted, not kept, and once it reads again it gets
//! one [`Event::Lagged`] at the place of the gap, saying exactly how many events it missed and
//! in which dialogs messages were among them (fetch those from the REST history). Nothing
//! vanishes without notice.
//!
//! The stream [`ChatClient::new`](crate::ChatClient::new) returns is the other choice: it is
//! lossless and, when full, pauses reading from the connection, which holds every
//! subscription back too. An app that listens only through subscriptions drops it; the
//! client's event task then runs as long as a subscription is alive.

use std::collections::{BTreeSet, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use connectycube_protocol::UnreadableStanza;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_protocol::message::error::MessageError;
use connectycube_transport::session::ConnectionState;
use futures_util::Stream;
use tokio::sync::watch;

use crate::events::Received;
use crate::lock;

/// One kind of event, to subscribe to only what a listener shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// Messages, edits, deletions, and [`Event::Synced`].
    Messages,
    /// 'delivered' and 'read' markers.
    Statuses,
    /// Typing notifications.
    Typing,
    /// Reaction changes.
    Reactions,
    /// Room occupants joining, leaving, kicked; last-activity answers and pushes.
    Presence,
    /// System messages.
    System,
    /// Bounced messages, [`Event::Blocked`], unreadable stanzas.
    Errors,
    /// [`Event::State`]: connection states.
    Connection,
    /// IQ answers, pings, privacy-list pushes, stanzas this SDK does not interpret.
    Other,
}

impl EventKind {
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Which kinds a subscription receives; [`Event::Lagged`] always comes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFilter(u16);

impl EventFilter {
    /// Every event.
    pub const ALL: Self = Self(u16::MAX);

    /// Only events of `kind`.
    ///
    /// ```
    /// use connectycube::{EventFilter, EventKind};
    ///
    /// let filter = EventFilter::only(EventKind::Typing);
    /// assert!(filter.accepts(EventKind::Typing));
    /// assert!(!filter.accepts(EventKind::Messages));
    /// ```
    pub fn only(kind: EventKind) -> Self {
        Self(kind.bit())
    }

    /// These kinds and `kind`.
    ///
    /// ```
    /// use connectycube::{EventFilter, EventKind};
    ///
    /// let filter = EventFilter::only(EventKind::Messages).and(EventKind::Statuses);
    /// assert!(filter.accepts(EventKind::Statuses));
    /// assert!(!filter.accepts(EventKind::Presence));
    /// ```
    #[must_use]
    pub fn and(self, kind: EventKind) -> Self {
        Self(self.0 | kind.bit())
    }

    /// Whether `kind` passes.
    ///
    /// ```
    /// use connectycube::{EventFilter, EventKind};
    ///
    /// assert!(EventFilter::ALL.accepts(EventKind::Other));
    /// assert!(EventFilter::from(EventKind::Errors).accepts(EventKind::Errors));
    /// ```
    pub fn accepts(self, kind: EventKind) -> bool {
        self.0 & kind.bit() != 0
    }
}

impl From<EventKind> for EventFilter {
    fn from(kind: EventKind) -> Self {
        Self::only(kind)
    }
}

/// A 1-1 message of ours refused because the recipient's privacy list blocks us (or ours
/// blocks them). In a group a blocked user gets nothing, so this is 1-1 only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Blocked {
    /// The recipient of the refused message.
    pub user: UserId,
    /// The refused message's id, as sent.
    pub message_id: Option<String>,
    /// The error as the server gave it.
    pub error: MessageError,
}

/// A dialog's gap after a new session is closed: what was sent while away was fetched from
/// the REST history and delivered (before this event, oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Synced {
    /// The dialog.
    pub dialog: DialogId,
    /// Messages the fill that closed the gap fetched from the history and showed: not those
    /// already shown live, nor those an earlier fill showed before it failed or was stopped
    /// by a newer session's fill.
    pub fetched: usize,
}

/// A stanza that could not be read at all (the subscriber's copy of an
/// [`UnreadableStanza`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Unreadable {
    /// The stanza, as received.
    pub element: minidom::Element,
    /// Why it could not be read.
    pub reason: String,
}

impl From<&UnreadableStanza> for Unreadable {
    fn from(u: &UnreadableStanza) -> Self {
        Self {
            element: (*u.element).clone(),
            reason: u.error.to_string(),
        }
    }
}

/// What a slow subscriber missed (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Lagged {
    /// Events this subscription had no room for (of the kinds it subscribed to).
    pub missed: u64,
    /// How many of them were messages.
    pub missed_messages: u64,
    /// The dialogs of those messages, to refetch from the history (at most
    /// [`MAX_LAGGED_DIALOGS`]).
    pub dialogs: BTreeSet<DialogId>,
    /// More dialogs had missed messages than `dialogs` holds: refetch every active dialog.
    pub dialogs_truncated: bool,
}

/// How many dialogs a [`Lagged`] names at most.
pub const MAX_LAGGED_DIALOGS: usize = 256;

/// One event for a subscriber.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A classified stanza (message, marker, typing, presence, ...).
    Chat(Received),
    /// A stanza that could not be read at all, kept whole.
    Unreadable(Unreadable),
    /// The connection moved to this state (every transition, in order).
    State(ConnectionState),
    /// A 1-1 message was refused by a privacy list.
    Blocked(Blocked),
    /// A dialog's gap after a new session is closed.
    Synced(Synced),
    /// This subscription fell behind and missed events.
    Lagged(Lagged),
}

impl Event {
    /// Its kind; `None` for [`Event::Lagged`], which every subscription gets.
    ///
    /// ```
    /// use connectycube::{Event, EventKind};
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// assert_eq!(Event::State(ConnectionState::Ready).kind(), Some(EventKind::Connection));
    /// ```
    pub fn kind(&self) -> Option<EventKind> {
        Some(match self {
            Self::Chat(r) => chat_kind(&r.event),
            Self::Unreadable(_) | Self::Blocked(_) => EventKind::Errors,
            Self::State(_) => EventKind::Connection,
            Self::Synced(_) => EventKind::Messages,
            Self::Lagged(_) => return None,
        })
    }

    /// The classified event, if this is one.
    ///
    /// ```
    /// use connectycube::Event;
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// assert!(Event::State(ConnectionState::Reconnecting).chat().is_none(), "not a stanza");
    /// ```
    pub fn chat(&self) -> Option<&ChatEvent> {
        match self {
            Self::Chat(r) => Some(&r.event),
            _ => None,
        }
    }
}

fn chat_kind(event: &ChatEvent) -> EventKind {
    match event {
        ChatEvent::ChatMessage(_) | ChatEvent::Edited(_) | ChatEvent::Deleted(_) => {
            EventKind::Messages
        }
        ChatEvent::Delivered(_) | ChatEvent::Read(_) => EventKind::Statuses,
        ChatEvent::Typing(_) => EventKind::Typing,
        ChatEvent::Reactions(_) => EventKind::Reactions,
        ChatEvent::System(_) => EventKind::System,
        ChatEvent::MessageError(_) => EventKind::Errors,
        ChatEvent::LastActivity(_)
        | ChatEvent::OccupantJoined(_)
        | ChatEvent::OccupantLeft(_)
        | ChatEvent::Kicked(_) => EventKind::Presence,
        _ => EventKind::Other,
    }
}

/// A message's dialog, for [`Lagged::dialogs`].
fn message_dialog(event: &Event) -> Option<Option<DialogId>> {
    match event.chat()? {
        ChatEvent::ChatMessage(m) => Some(m.dialog_id()),
        _ => None,
    }
}

/// One subscriber's queue.
#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Event>,
    /// Counted since the queue was last full; delivered before the next event.
    lag: Option<Lagged>,
    waker: Option<Waker>,
    /// No more events will come (the client is gone).
    ended: bool,
}

impl Queue {
    /// Queues `event`, or counts it when full.
    fn offer(&mut self, event: &Event, capacity: usize) {
        if self.items.len() >= capacity {
            let lag = self.lag.get_or_insert_with(Lagged::default);
            lag.missed += 1;
            if let Some(dialog) = message_dialog(event) {
                lag.missed_messages += 1;
                // Bounded: a held, unread subscription must not grow with every dialog id a
                // sender invents; past the bound only the counts say what was missed.
                if lag.dialogs.len() < MAX_LAGGED_DIALOGS {
                    lag.dialogs.extend(dialog);
                } else {
                    lag.dialogs_truncated = true;
                }
            }
            return;
        }
        if let Some(lag) = self.lag.take() {
            self.items.push_back(Event::Lagged(lag));
        }
        self.items.push_back(event.clone());
        self.wake();
    }

    fn take(&mut self) -> Option<Event> {
        self.items
            .pop_front()
            .or_else(|| self.lag.take().map(Event::Lagged))
    }

    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

#[derive(Debug)]
struct Slot {
    filter: EventFilter,
    capacity: usize,
    queue: Mutex<Queue>,
}

/// Hands every event to every live subscription.
#[derive(Debug)]
pub(crate) struct Hub {
    slots: Mutex<Vec<Arc<Slot>>>,
    /// Set once no more events will come (the pump ended).
    ended: watch::Sender<bool>,
    capacity: usize,
}

impl Hub {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            slots: Mutex::new(Vec::new()),
            ended: watch::channel(false).0,
            capacity: capacity.max(1),
        }
    }

    /// A new subscription, receiving events from now on.
    pub(crate) fn subscribe(&self, filter: EventFilter) -> Subscription {
        let slot = Arc::new(Slot {
            filter,
            capacity: self.capacity,
            queue: Mutex::default(),
        });
        if *self.ended.borrow() {
            lock(&slot.queue).ended = true;
        } else {
            lock(&self.slots).push(slot.clone());
        }
        Subscription { slot }
    }

    /// Offers `event` to every subscription that wants it; forgets dropped ones.
    pub(crate) fn publish(&self, event: &Event) {
        let mut slots = lock(&self.slots);
        slots.retain(|s| Arc::strong_count(s) > 1);
        let kind = event.kind();
        for slot in slots.iter() {
            if kind.is_none_or(|k| slot.filter.accepts(k)) {
                lock(&slot.queue).offer(event, slot.capacity);
            }
        }
    }

    /// Whether any subscription is alive.
    pub(crate) fn has_subscribers(&self) -> bool {
        let mut slots = lock(&self.slots);
        slots.retain(|s| Arc::strong_count(s) > 1);
        !slots.is_empty()
    }

    /// Resolves once [`Hub::end`] was called.
    pub(crate) async fn ended(&self) {
        let mut rx = self.ended.subscribe();
        // An error means the hub itself is gone: ended too.
        let _ = rx.wait_for(|e| *e).await;
    }

    /// No more events: every subscription ends once read to the end.
    pub(crate) fn end(&self) {
        self.ended.send_replace(true);
        for slot in lock(&self.slots).drain(..) {
            let mut q = lock(&slot.queue);
            q.ended = true;
            q.wake();
        }
    }
}

/// A stream of [`Event`]s for one listener; dropping it unsubscribes. Ends when the client's
/// event task ends (every client handle and event stream gone, or `destroy`).
#[derive(Debug)]
pub struct Subscription {
    slot: Arc<Slot>,
}

impl Subscription {
    /// The next event; `None` once the client is gone.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use std::time::Duration;
    /// use connectycube::{Event, EventFilter};
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// let mut all = ann.chat().subscribe(EventFilter::ALL);
    /// ann.chat().logout().await;
    /// let closed = tokio::time::timeout(Duration::from_secs(10), async {
    ///     while let Some(event) = all.next().await {
    ///         if matches!(event, Event::State(ConnectionState::Closed)) {
    ///             return true;
    ///         }
    ///     }
    ///     false
    /// })
    /// .await?;
    /// assert!(closed);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<Event> {
        futures_util::StreamExt::next(self).await
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut q = lock(&self.slot.queue);
        if let Some(event) = q.take() {
            return Poll::Ready(Some(event));
        }
        if q.ended {
            return Poll::Ready(None);
        }
        q.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
#[path = "fanout_tests.rs"]
mod tests;
