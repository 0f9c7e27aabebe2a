//! The automatic 'delivered' markers, bounded under a flood.
//!
//! The facade answers every incoming message with a 'delivered' marker, and each marker is a
//! send. The session writes at most `max_in_flight` stanzas the server has not acknowledged;
//! the rest wait in its queue, which has no bound of its own. Messages that come in faster
//! than the server takes our markers (a flood from thousands of senders) would grow that
//! queue without end: a receiver of 200,000 messages from 10,000 senders grew to 204 MiB. So
//! at most [`MAX_IN_FLIGHT`] markers wait in the session's queue; past that, only the newest
//! marker per sender and dialog waits here, and goes out when an earlier one has left the
//! queue. The newest answers the earlier ones of its sender too: the server hands one
//! sender's messages to a device in order, and a sender's pacing counts answers that way
//! (`flow.rs`).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_transport::session::{SendHandle, SendStage};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

/// Markers in the session's queue (not yet written), at most.
pub(crate) const MAX_IN_FLIGHT: usize = 1_000;
/// Senders (per dialog) with a marker waiting, at most; past that the oldest waiting marker is
/// given up (its sender's pacing stops waiting for it after its `delivered_timeout`).
pub(crate) const MAX_WAITING: usize = 10_000;

/// Sends the automatic 'delivered' marker (the client; a recorder in tests).
pub(crate) trait Acknowledge: Send + 'static {
    /// What resolves when the marker has left the session's queue.
    type Handle: Future + Unpin + Send;

    /// Tells `sender` that message `id` reached this device; `None` when it could not be sent.
    fn delivered(
        &self,
        sender: UserId,
        dialog: Option<DialogId>,
        id: MessageId,
    ) -> Option<Self::Handle>;
}

impl Acknowledge for crate::ChatClient {
    type Handle = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn delivered(
        &self,
        sender: UserId,
        dialog: Option<DialogId>,
        id: MessageId,
    ) -> Option<Self::Handle> {
        // A lost 'delivered' marker is not worth failing the message for.
        let handle = self
            .queue_delivered(crate::Peer::User(sender, dialog), id)
            .inspect_err(|e| tracing::debug!(error = %e, "could not send a delivered marker"))
            .ok()?;
        Some(Box::pin(left_queue(handle)))
    }
}

/// Resolves when `handle`'s stanza left the session's queue: written, settled or failed.
async fn left_queue(mut handle: SendHandle) {
    while matches!(handle.stage(), SendStage::Queued) {
        handle.next_stage().await;
    }
}

type Key = (UserId, Option<DialogId>);

/// The markers in flight and the ones waiting for room.
pub(crate) struct Outbox<H> {
    in_flight: FuturesUnordered<H>,
    waiting: HashMap<Key, MessageId>,
    /// The waiting keys, oldest first.
    order: VecDeque<Key>,
}

impl<H> Default for Outbox<H> {
    fn default() -> Self {
        Self {
            in_flight: FuturesUnordered::new(),
            waiting: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<H: Future + Unpin> Outbox<H> {
    /// Sends the marker for `id` now, or keeps it (replacing an older one of the same sender
    /// and dialog) until there is room.
    pub fn push<A>(&mut self, ack: &A, sender: UserId, dialog: Option<DialogId>, id: MessageId)
    where
        A: Acknowledge<Handle = H>,
    {
        self.refill(ack);
        if self.in_flight.len() < MAX_IN_FLIGHT {
            self.in_flight.extend(ack.delivered(sender, dialog, id));
            return;
        }
        match self.waiting.entry((sender, dialog)) {
            Entry::Occupied(mut e) => {
                e.insert(id);
            }
            Entry::Vacant(e) => {
                e.insert(id);
                self.order.push_back((sender, dialog));
                if self.order.len() > MAX_WAITING
                    && let Some(oldest) = self.order.pop_front()
                {
                    self.waiting.remove(&oldest);
                    tracing::debug!(sender = oldest.0.0, "a waiting delivered marker given up");
                }
            }
        }
    }

    /// Resolves when a marker left the session's queue; never while none is in it.
    pub async fn settled(&mut self) {
        if self.in_flight.is_empty() {
            return std::future::pending().await;
        }
        self.in_flight.next().await;
    }

    /// Sends waiting markers, oldest first, while there is room.
    pub fn refill<A>(&mut self, ack: &A)
    where
        A: Acknowledge<Handle = H>,
    {
        while self.in_flight.len() < MAX_IN_FLIGHT {
            let Some(key) = self.order.pop_front() else {
                break;
            };
            if let Some(id) = self.waiting.remove(&key) {
                self.in_flight.extend(ack.delivered(key.0, key.1, id));
            }
        }
    }

    /// Markers in flight and waiting.
    #[cfg(test)]
    pub fn len(&self) -> (usize, usize) {
        (self.in_flight.len(), self.waiting.len())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use connectycube_protocol::ids::ObjectId;
    use tokio::sync::oneshot;

    use super::*;

    /// Records markers; each settles when the test says so.
    #[derive(Default, Clone)]
    struct Server {
        sent: Arc<Mutex<Vec<(UserId, MessageId)>>>,
        acks: Arc<Mutex<Vec<oneshot::Sender<()>>>>,
    }

    impl Acknowledge for Server {
        type Handle = oneshot::Receiver<()>;

        fn delivered(
            &self,
            sender: UserId,
            _: Option<DialogId>,
            id: MessageId,
        ) -> Option<Self::Handle> {
            let (tx, rx) = oneshot::channel();
            self.sent.lock().unwrap().push((sender, id));
            self.acks.lock().unwrap().push(tx);
            Some(rx)
        }
    }

    fn id(n: u32) -> MessageId {
        MessageId(ObjectId::from_parts(1_700_000_000, [3; 5], n))
    }

    #[tokio::test]
    async fn past_the_bound_only_the_newest_marker_per_sender_waits_then_goes_when_one_settles() {
        let server = Server::default();
        let mut outbox = Outbox::default();
        for n in 0..MAX_IN_FLIGHT as u32 {
            outbox.push(&server, UserId(1), None, id(n));
        }
        assert_eq!(outbox.len(), (MAX_IN_FLIGHT, 0));
        // A flood: 5,000 more from two senders wait as two markers, the newest of each.
        for n in 0..5_000u32 {
            outbox.push(&server, UserId(2 + u64::from(n % 2)), None, id(10_000 + n));
        }
        assert_eq!(outbox.len(), (MAX_IN_FLIGHT, 2));
        assert_eq!(server.sent.lock().unwrap().len(), MAX_IN_FLIGHT);

        let first = server.acks.lock().unwrap().remove(0);
        first.send(()).unwrap();
        outbox.settled().await;
        outbox.refill(&server);
        let sent = server.sent.lock().unwrap().clone();
        assert_eq!(
            sent.len(),
            MAX_IN_FLIGHT + 1,
            "one settled: one waiting marker went"
        );
        assert_eq!(sent.last(), Some(&(UserId(2), id(10_000 + 4_998))));
        assert_eq!(outbox.len(), (MAX_IN_FLIGHT, 1));
    }

    #[tokio::test]
    async fn the_waiting_markers_are_bounded_by_senders() {
        let server = Server::default();
        let mut outbox = Outbox::default();
        for n in 0..(MAX_IN_FLIGHT + MAX_WAITING + 10) as u32 {
            outbox.push(&server, UserId(n.into()), None, id(n));
        }
        assert_eq!(outbox.len(), (MAX_IN_FLIGHT, MAX_WAITING));
    }
}
