//! End-to-end pacing of 1-1 sends by the recipient's 'delivered' markers.
//!
//! ejabberd acknowledges a message once it has routed it, whatever the recipient does, so
//! neither stream management nor a send-rate bound tells a sender that its recipient reads
//! slower than it sends. The recipient's server queue then grows until `max_ack_queue` closes
//! its session, and the queue bounces into the sender's session, which is closed in turn
//! (docs/PERFORMANCE.md, the burst figures). The recipient's facade answers every message with a
//! 'delivered' marker when it takes it in: a sender that keeps at most
//! [`DeliverySettings::delivered_window`] messages per recipient unanswered bounds that queue
//! end to end. A recipient that does not answer within
//! [`DeliverySettings::delivered_timeout`] (offline, another SDK with markers off) is not
//! waited for again until a marker from it arrives.
//!
//! A recipient with several devices online gets each message on each of them, and each device
//! answers; ejabberd queues for each device apart, so the window counts what the slowest
//! device that answers has not answered yet. A device that stops answering for
//! [`DeliverySettings::delivered_timeout`] no longer holds the others back.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use connectycube_protocol::address::user_id_of;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::{MessageId, UserId};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::DeliverySettings;

/// Recipients remembered at once; the least recently used is forgotten first.
const MAX_RECIPIENTS: usize = 1024;
/// Answering devices (resources) remembered per recipient; the one quiet longest goes first.
const MAX_DEVICES: usize = 8;

/// One device (resource) of a recipient that answers with markers.
#[derive(Debug, Clone, Copy)]
struct Device {
    /// One past the highest send sequence number it answered.
    upto: u64,
    /// When it last answered.
    last: Instant,
}

/// One recipient's unanswered messages.
#[derive(Debug, Default)]
struct Recipient {
    /// Unanswered ids and when they went out.
    pending: HashMap<MessageId, Instant>,
    /// The same ids in send order (answered ones are skipped lazily).
    order: VecDeque<MessageId>,
    /// It stopped answering: sends to it are not held back until it answers again.
    silent: bool,
    /// The table's clock when last used, for forgetting recipients.
    used: u64,
    /// The sequence number of the next admitted send.
    next_seq: u64,
    /// Sequence numbers of recent sends, for the devices that answer after the first.
    seqs: HashMap<MessageId, u64>,
    /// The same ids in send order, to forget the oldest.
    seq_order: VecDeque<MessageId>,
    /// The devices that answer, by resource.
    devices: HashMap<String, Device>,
}

impl Recipient {
    /// Drops the ids that waited longer than `timeout`; whether any did.
    fn expire(&mut self, now: Instant, timeout: Duration) -> bool {
        let mut expired = false;
        while let Some(id) = self.order.front() {
            match self.pending.get(id) {
                Some(sent) if now.duration_since(*sent) < timeout => break,
                Some(_) => {
                    self.pending.remove(id);
                    expired = true;
                }
                None => {}
            }
            self.order.pop_front();
        }
        expired
    }

    /// When the oldest unanswered id expires.
    fn next_expiry(&self, timeout: Duration) -> Option<Instant> {
        self.order
            .iter()
            .find_map(|id| self.pending.get(id))
            .map(|sent| *sent + timeout)
    }

    /// Counts `id` as sent; `keep` sequence numbers are remembered for late answers.
    fn sent(&mut self, id: MessageId, now: Instant, keep: usize) {
        self.pending.insert(id, now);
        self.order.push_back(id);
        self.seqs.insert(id, self.next_seq);
        self.seq_order.push_back(id);
        self.next_seq += 1;
        while self.seq_order.len() > keep {
            if let Some(old) = self.seq_order.pop_front() {
                self.seqs.remove(&old);
            }
        }
    }

    /// How many sends the slowest device still answering (within `timeout`) has not
    /// answered, and when that device stops counting as answering.
    fn slowest(&self, now: Instant, timeout: Duration) -> Option<(u64, Instant)> {
        self.devices
            .values()
            .filter(|d| now.duration_since(d.last) < timeout)
            .map(|d| (self.next_seq.saturating_sub(d.upto), d.last + timeout))
            .max_by_key(|(lag, _)| *lag)
    }

    /// Learns that `device` answered `id` at `now`.
    fn device_answered(&mut self, device: &str, id: &MessageId, now: Instant) {
        let Some(seq) = self.seqs.get(id).copied() else {
            return;
        };
        if let Some(d) = self.devices.get_mut(device) {
            d.upto = d.upto.max(seq + 1);
            d.last = now;
            return;
        }
        if self.devices.len() >= MAX_DEVICES {
            crate::forget_least(&mut self.devices, |d| d.last);
        }
        let d = Device {
            upto: seq + 1,
            last: now,
        };
        self.devices.insert(device.to_owned(), d);
    }

    /// `id` was answered; a marker (`cumulative`) answers the sends before it too: the server
    /// hands one sender's messages to a device in order, and a receiver flooded with messages
    /// answers only the newest of each sender (`markers.rs`). A bounce answers only its own.
    fn answered(&mut self, id: &MessageId, cumulative: bool) {
        self.silent = false;
        if self.pending.remove(id).is_none() {
            return;
        }
        if cumulative {
            while let Some(front) = self.order.pop_front() {
                if front == *id {
                    break;
                }
                self.pending.remove(&front);
            }
        } else if self.order.len() > 2 * self.pending.len() + 64 {
            // Bounces out of send order leave holes; compact before they cost memory.
            let pending = &self.pending;
            self.order.retain(|id| pending.contains_key(id));
        }
    }
}

#[derive(Debug, Default)]
struct Table {
    recipients: HashMap<UserId, Recipient>,
    clock: u64,
}

impl Table {
    fn recipient(&mut self, to: UserId) -> &mut Recipient {
        if !self.recipients.contains_key(&to) && self.recipients.len() >= MAX_RECIPIENTS {
            crate::forget_least(&mut self.recipients, |r| r.used);
        }
        self.clock += 1;
        let clock = self.clock;
        let r = self.recipients.entry(to).or_default();
        r.used = clock;
        r
    }
}

/// The pacing state of one client, shared by its senders and its event task.
#[derive(Debug)]
pub(crate) struct Flow {
    window: usize,
    timeout: Duration,
    table: Mutex<Table>,
    answered: Notify,
    waits: AtomicU64,
}

impl Flow {
    pub(crate) fn new(settings: &DeliverySettings) -> Self {
        Self {
            window: settings.delivered_window,
            timeout: settings.delivered_timeout,
            table: Mutex::default(),
            answered: Notify::new(),
            waits: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        crate::lock(&self.table)
    }

    /// Sends that had to wait for an answer so far.
    pub(crate) fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// Waits until `to` has fewer than the window's messages unanswered (or stopped
    /// answering), then counts `id` as sent to it.
    pub(crate) async fn admit(&self, to: UserId, id: MessageId) {
        if self.window == 0 {
            return;
        }
        let mut waited = false;
        loop {
            let answered = self.answered.notified();
            tokio::pin!(answered);
            // Registered before the check: an answer between the check and the wait wakes it.
            answered.as_mut().enable();
            let until = {
                let mut table = self.lock();
                let r = table.recipient(to);
                if r.expire(Instant::now(), self.timeout) {
                    r.silent = true;
                    tracing::debug!(user = to.0, "recipient does not answer: not paced");
                }
                if r.silent {
                    // Not tracked: a recipient that never answers must not fill the table.
                    return;
                }
                let now = Instant::now();
                let slowest = r.slowest(now, self.timeout);
                let lag = slowest.map_or(0, |(lag, _)| lag);
                if r.pending.len() < self.window && lag < self.window as u64 {
                    r.sent(id, now, self.window.saturating_mul(2) + 64);
                    return;
                }
                match (r.next_expiry(self.timeout), slowest) {
                    (Some(a), Some((_, b))) => Some(a.min(b)),
                    (a, b) => a.or(b.map(|(_, b)| b)),
                }
            };
            if !waited {
                waited = true;
                self.waits.fetch_add(1, Ordering::Relaxed);
            }
            let until = until.unwrap_or_else(|| Instant::now() + self.timeout);
            let _ = tokio::time::timeout_at(until, answered).await;
        }
    }

    /// `id` was admitted but never went out (it could not be written): its room in the
    /// window is given back, as for a bounce.
    pub(crate) fn cancel(&self, to: UserId, id: MessageId) {
        if let Some(r) = self.lock().recipients.get_mut(&to) {
            r.answered(&id, false);
        }
        self.answered.notify_waiters();
    }

    /// Learns from an inbound event: a 'delivered' or 'read' marker answers a message, an
    /// error stanza for it ends its wait (nothing will answer it).
    pub(crate) fn observe(&self, event: &ChatEvent, own: UserId) {
        let (envelope, id) = match event {
            ChatEvent::Delivered(m) => (&m.envelope, m.payload),
            ChatEvent::Read(m) => (&m.envelope, m.payload),
            ChatEvent::MessageError(m) => {
                let Some(id) = m.envelope.id.as_deref().and_then(|i| i.parse().ok()) else {
                    return;
                };
                (&m.envelope, id)
            }
            _ => return,
        };
        let Some(address) = envelope.from.as_ref() else {
            return;
        };
        let Ok(from) = user_id_of(address) else {
            return;
        };
        let device = address.resource();
        if from == own {
            return;
        }
        let known = {
            let mut table = self.lock();
            match table.recipients.get_mut(&from) {
                Some(r) => {
                    // A bounce is the server's, not a device's answer.
                    let bounce = matches!(event, ChatEvent::MessageError(_));
                    r.answered(&id, !bounce);
                    if let (Some(device), false) = (device, bounce) {
                        r.device_answered(device.as_str(), &id, Instant::now());
                    }
                    true
                }
                None => false,
            }
        };
        if known {
            self.answered.notify_waiters();
        }
    }

    /// Unanswered messages to `to` now.
    #[cfg(test)]
    pub(crate) fn pending(&self, to: UserId) -> usize {
        self.lock()
            .recipients
            .get(&to)
            .map_or(0, |r| r.pending.len())
    }
}

#[cfg(test)]
#[path = "flow_tests.rs"]
mod tests;
