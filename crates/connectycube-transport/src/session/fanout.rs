//! A fan-out to subscribers whose memory grows with what they have not read yet.
//!
//! tokio's `broadcast` allocates every slot of its ring when the channel is made. A session
//! made two (state changes, bounces) of 1,024 slots each, whether anyone listened or not:
//! most of an idle connection's memory (docs/PERFORMANCE.md). Here each subscriber has its own
//! bounded queue, allocated as it fills, so a session nobody listens to costs an empty `Vec`
//! and a subscriber that keeps up costs one small block.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

/// Sends every value to every live subscriber, each through its own bounded queue.
#[derive(Debug)]
pub(crate) struct Fanout<T> {
    subscribers: Arc<Mutex<Vec<mpsc::Sender<T>>>>,
    /// Values a full subscriber missed, for a warning that does not repeat per value.
    skipped: Arc<AtomicU64>,
    capacity: usize,
    /// What a subscriber's queue holds, for the warning when one is full.
    what: &'static str,
}

impl<T> Clone for Fanout<T> {
    fn clone(&self) -> Self {
        Self {
            subscribers: Arc::clone(&self.subscribers),
            skipped: Arc::clone(&self.skipped),
            capacity: self.capacity,
            what: self.what,
        }
    }
}

impl<T: Clone> Fanout<T> {
    /// A fan-out whose subscribers may fall `capacity` values behind; `what` names the values.
    pub fn new(capacity: usize, what: &'static str) -> Self {
        Self {
            subscribers: Arc::default(),
            skipped: Arc::default(),
            capacity: capacity.max(1),
            what,
        }
    }

    /// Sends `value` to every subscriber; one whose queue is full misses it (and a warning
    /// says so, at each power of two skipped), one that is gone is forgotten.
    pub fn send(&self, value: T) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|s| match s.try_send(value.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                // A bounce storm could skip thousands: warn at 1, 2, 4, 8, ... skipped.
                let skipped = self.skipped.fetch_add(1, Ordering::Relaxed) + 1;
                if skipped.is_power_of_two() {
                    let what = self.what;
                    tracing::warn!(what, skipped, "a subscriber fell behind: values skipped");
                }
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// A queue of every value sent from now on.
    pub fn subscribe(&self) -> mpsc::Receiver<T> {
        let (tx, rx) = mpsc::channel(self.capacity);
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }

    /// Live subscribers.
    #[cfg(test)]
    pub fn subscribers(&self) -> usize {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subscriber_gets_what_was_sent_after_it_came_and_a_gone_one_is_forgotten() {
        let f = Fanout::new(2, "numbers");
        f.send(1);
        let mut a = f.clone().subscribe();
        let b = f.subscribe();
        f.send(2);
        drop(b);
        f.send(3);
        assert_eq!(f.subscribers(), 1, "the dropped subscriber is forgotten");
        f.send(4); // `a` is full: it misses 4.
        assert_eq!(a.try_recv().ok(), Some(2));
        assert_eq!(a.try_recv().ok(), Some(3));
        assert!(
            a.try_recv().is_err(),
            "1 came before it, 4 when it was full"
        );
    }
}
