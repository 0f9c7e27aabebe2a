//! The hub: one shared log of the latest events and a cursor per subscription. An event is
//! stored once however many listen (a subscription costs its cursor, not a queue), and the
//! log keeps at most `capacity` events: when it is full, the oldest is dropped and every
//! normal subscription that had not read it counts it as missed; a lossless one holds the
//! publisher back until it has read it.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_util::Stream;
use tokio::sync::{Notify, watch};

use connectycube_protocol::ids::DialogId;

use super::{Event, EventFilter, EventKind, Lagged, MAX_LAGGED_DIALOGS, message_dialog};
use crate::lock;

/// One published event and what a filter needs of it.
#[derive(Debug)]
struct Entry {
    event: Arc<Event>,
    /// `None` for what every subscription gets.
    kind: Option<EventKind>,
}

/// Where one subscription is.
#[derive(Debug)]
struct Reader {
    filter: EventFilter,
    lossless: bool,
    /// The sequence number of the next event it reads.
    cursor: u64,
    /// What it missed since it last read; given before the next event.
    lag: Option<Lagged>,
    waker: Option<Waker>,
}

impl Reader {
    fn accepts(&self, entry: &Entry) -> bool {
        entry.kind.is_none_or(|k| self.filter.accepts(k))
    }

    /// Counts `entry`, dropped before this reader got to it; `dialog` is its message's
    /// dialog when it is a message (worked out once for every reader).
    fn miss(&mut self, entry: &Entry, dialog: Option<Option<DialogId>>) {
        if !self.accepts(entry) {
            return;
        }
        let lag = self.lag.get_or_insert_with(Lagged::default);
        lag.missed += 1;
        if let Some(dialog) = dialog {
            lag.missed_messages += 1;
            // Bounded: a held, unread subscription must not grow with every dialog id a
            // sender invents; past the bound only the counts say what was missed.
            if lag.dialogs.len() < MAX_LAGGED_DIALOGS {
                lag.dialogs.extend(dialog);
            } else {
                lag.dialogs_truncated = true;
            }
        }
    }

    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

#[derive(Debug, Default)]
struct Log {
    entries: VecDeque<Entry>,
    /// The sequence number of `entries[0]`.
    first: u64,
    readers: HashMap<u64, Reader>,
    next_reader: u64,
    /// The readers waiting for an event (with a waker): only they are woken, so readers
    /// that never poll cost nothing per event.
    waiting: Vec<u64>,
    /// No more events will come (the client is gone).
    ended: bool,
}

impl Log {
    fn end_seq(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    /// Whether the oldest entry may go: no lossless reader still needs it.
    fn front_droppable(&self) -> bool {
        let front = self.first;
        !self
            .readers
            .values()
            .any(|r| r.lossless && r.cursor <= front)
    }

    /// Drops the oldest entry; the readers that had not read it count it as missed.
    fn drop_front(&mut self) {
        let Some(entry) = self.entries.pop_front() else {
            return;
        };
        let seq = self.first;
        self.first += 1;
        let dialog = message_dialog(&entry.event);
        for r in self.readers.values_mut() {
            if r.cursor <= seq {
                r.miss(&entry, dialog);
                r.cursor = seq + 1;
            }
        }
    }

    /// Wakes the waiting readers that want `entry`.
    fn wake_for(&mut self, entry: &Entry) {
        let readers = &mut self.readers;
        self.waiting.retain(|id| match readers.get_mut(id) {
            Some(r) if r.accepts(entry) => {
                r.wake();
                false
            }
            Some(_) => true,
            None => false,
        });
    }

    /// The event at `seq`: taken out of the log when it is the oldest and no other reader
    /// still needs it (checked for a few readers only: the common case, where this spares a
    /// copy), else shared.
    fn take_or_share(&mut self, seq: u64, reader: u64) -> Arc<Event> {
        let others_need_it = || {
            self.readers
                .iter()
                .any(|(id, r)| *id != reader && r.cursor <= seq)
        };
        if seq == self.first
            && self.readers.len() <= 4
            && !others_need_it()
            && let Some(entry) = self.entries.pop_front()
        {
            self.first += 1;
            return entry.event;
        }
        self.entries[(seq - self.first) as usize].event.clone()
    }

    /// Drops the entries every reader has read: the log holds only what someone still
    /// may read.
    fn drop_read(&mut self) {
        let oldest = self.readers.values().map(|r| r.cursor).min();
        let until = oldest.unwrap_or_else(|| self.end_seq());
        while self.first < until && !self.entries.is_empty() {
            self.entries.pop_front();
            self.first += 1;
        }
    }
}

/// Hands every event to every live subscription.
#[derive(Debug)]
pub(crate) struct Hub {
    log: Mutex<Log>,
    /// Signalled when a lossless subscription read (or went).
    room: Notify,
    /// Set once no more events will come (the pump ended).
    ended: watch::Sender<bool>,
    capacity: usize,
}

impl Hub {
    /// A hub keeping at most `capacity` unread events.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            log: Mutex::default(),
            room: Notify::new(),
            ended: watch::channel(false).0,
            capacity: capacity.max(1),
        }
    }

    /// A new subscription, receiving events from now on; a `lossless` one holds the
    /// publisher back when it is `capacity` events behind instead of missing any.
    pub(crate) fn subscribe(self: &Arc<Self>, filter: EventFilter, lossless: bool) -> Subscription {
        let mut log = lock(&self.log);
        let id = log.next_reader;
        log.next_reader += 1;
        let cursor = log.end_seq();
        log.readers.insert(
            id,
            Reader {
                filter,
                lossless,
                cursor,
                lag: None,
                waker: None,
            },
        );
        Subscription {
            hub: self.clone(),
            id,
        }
    }

    /// Adds `event` to the log (stored once, shared by every reader) and wakes the readers
    /// that want it. Resolves once there is room: immediately, unless a lossless
    /// subscription has not read the oldest event of a full log.
    pub(crate) async fn publish(&self, event: Event) {
        let entry = Entry {
            kind: event.kind(),
            event: Arc::new(event),
        };
        loop {
            let room = self.room.notified();
            {
                let mut log = lock(&self.log);
                // Every so often the log lets go of what everyone read: a scan of the
                // readers, not worth doing on every event (a full log drops its oldest below).
                let len = log.entries.len();
                if len.is_multiple_of(32) && len < self.capacity {
                    log.drop_read();
                }
                while log.entries.len() >= self.capacity && log.front_droppable() {
                    log.drop_front();
                }
                if log.entries.len() < self.capacity {
                    log.wake_for(&entry);
                    log.entries.push_back(entry);
                    return;
                }
            }
            room.await;
        }
    }

    /// How many events the log holds.
    #[cfg(test)]
    pub(crate) fn logged(&self) -> usize {
        lock(&self.log).entries.len()
    }

    /// How many subscriptions are alive.
    #[cfg(test)]
    pub(crate) fn readers(&self) -> usize {
        lock(&self.log).readers.len()
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
        let mut log = lock(&self.log);
        log.ended = true;
        log.waiting.clear();
        for r in log.readers.values_mut() {
            r.wake();
        }
    }
}

/// A stream of [`Event`]s for one listener; dropping it unsubscribes. Ends when the client's
/// event task ends (every handle of the session gone, or `destroy`).
#[derive(Debug)]
pub struct Subscription {
    hub: Arc<Hub>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let lossless = lock(&self.hub.log)
            .readers
            .remove(&self.id)
            .is_some_and(|r| r.lossless);
        if lossless {
            self.hub.room.notify_one();
        }
    }
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
    /// let mut all = ann.events(EventFilter::ALL);
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

    /// The next event as stored in the log (shared with the other subscriptions).
    pub(crate) fn poll_shared(&self, cx: &mut Context<'_>) -> Poll<Option<Arc<Event>>> {
        let mut log = lock(&self.hub.log);
        let log = &mut *log;
        let Some(reader) = log.readers.get_mut(&self.id) else {
            return Poll::Ready(None);
        };
        if let Some(lag) = reader.lag.take() {
            return Poll::Ready(Some(Arc::new(Event::Lagged(lag))));
        }
        let end = log.first + log.entries.len() as u64;
        let mut found = None;
        while reader.cursor < end {
            let seq = reader.cursor;
            reader.cursor += 1;
            if reader.accepts(&log.entries[(seq - log.first) as usize]) {
                found = Some(seq);
                break;
            }
        }
        let lossless = reader.lossless;
        let Some(seq) = found else {
            if log.ended {
                return Poll::Ready(None);
            }
            if reader.waker.replace(cx.waker().clone()).is_none() {
                log.waiting.push(self.id);
            }
            return Poll::Pending;
        };
        if lossless {
            self.hub.room.notify_one();
        }
        Poll::Ready(Some(log.take_or_share(seq, self.id)))
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        // A copy only when the log or another subscription still holds the same event.
        self.poll_shared(cx).map(|e| e.map(Arc::unwrap_or_clone))
    }
}
