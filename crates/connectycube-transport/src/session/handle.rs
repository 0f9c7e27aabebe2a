//! The handle a send returns: its stage as the stanza travels (queued, written, acknowledged,
//! or failed/bounced), and a future that completes when the server has the stanza.
//!
//! Like xmpp-rs's `StanzaToken`: the session moves a [`Tracker`] forward, every clone of the
//! [`SendHandle`] sees the stage. One small shared cell per send (the same one allocation a
//! oneshot channel costs), no task and no channel.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::errors::{Bounce, SendError};

/// Where a sent stanza is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SendStage {
    /// Serialized and waiting for the connection (or for room in the in-flight window).
    Queued,
    /// Written to the socket; not yet acknowledged by the server.
    Written,
    /// The server acknowledged it (XEP-0198 `<a h>` covering it).
    Acked,
    /// It did not reach the server, or the session gave up on it.
    Failed(SendError),
    /// An error stanza came back for its id (before or after the server's ack): the server
    /// or the recipient's server did not deliver it.
    Bounced(Bounce),
    /// It bounced for a transient reason (the recipient's session ended, its offline store
    /// was full, a `wait` error) and the session sends it again, with the same id, after a
    /// backoff (`SessionSettings::bounce_retries`). Ends `Acked` or `Bounced`.
    Retrying(Bounce),
}

#[derive(Debug)]
struct Cell {
    stage: SendStage,
    /// Whether the future resolves: acked, failed, bounced, or written without SM.
    settled: bool,
    /// Bumped on every change, so a watcher knows it missed nothing.
    version: u64,
    wakers: Vec<Waker>,
    /// Live [`Tracker`]s: when the last goes unsettled, the session is gone.
    trackers: usize,
}

type Shared = Arc<Mutex<Cell>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Cell> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The session's side of a send: moves its stage forward.
#[derive(Debug)]
pub(crate) struct Tracker(Shared);

impl Clone for Tracker {
    fn clone(&self) -> Self {
        lock(&self.0).trackers += 1;
        Self(Arc::clone(&self.0))
    }
}

impl Tracker {
    fn set(&self, stage: SendStage, settled: bool) {
        self.set_if(stage, settled, |_| true);
    }

    /// Moves to `stage` when `from` accepts the stage now; checked under the same lock as the
    /// change, so a concurrent ack cannot slip between the check and the write.
    fn set_if(&self, stage: SendStage, settled: bool, from: impl Fn(&SendStage) -> bool) {
        let wakers = {
            let mut cell = lock(&self.0);
            // A settled failure is final; only a bounce may follow an ack.
            if matches!(cell.stage, SendStage::Failed(_) | SendStage::Bounced(_))
                || !from(&cell.stage)
            {
                return;
            }
            cell.stage = stage;
            cell.settled |= settled;
            cell.version += 1;
            std::mem::take(&mut cell.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }

    /// Written to the socket; with `final_` (no stream management) the future resolves.
    pub fn written(&self, final_: bool) {
        // The writer reports after the bytes left; the server's ack (read by another task)
        // may already have been recorded, and must not be turned back into `Written`.
        self.set_if(SendStage::Written, final_, |now| {
            matches!(now, SendStage::Queued)
        });
    }

    /// Acknowledged by the server.
    pub fn acked(&self) {
        self.set(SendStage::Acked, true);
    }

    /// Failed for good.
    pub fn fail(&self, e: SendError) {
        self.set(SendStage::Failed(e), true);
    }

    /// Bounced by an error stanza for its id.
    pub fn bounced(&self, b: Bounce) {
        self.set(SendStage::Bounced(b), true);
    }

    /// Bounced for a transient reason; a resend is scheduled (the future keeps waiting if it
    /// had not resolved yet: the ack that counts is the resend's).
    pub fn retrying(&self, b: Bounce) {
        self.set(SendStage::Retrying(b), false);
    }
}

/// Completes with `Ok(())` once the server acknowledged the stanza (XEP-0198), which is the
/// "sent" status of a chat message; without stream management, once it was written out.
/// [`SendHandle::stage`] tells where it is meanwhile, and whether it bounced afterwards.
#[derive(Debug, Clone)]
#[must_use = "a send handle says whether the stanza reached the server"]
pub struct SendHandle {
    shared: Shared,
    seen: u64,
}

impl SendHandle {
    pub(crate) fn new() -> (Self, Tracker) {
        let shared = Arc::new(Mutex::new(Cell {
            stage: SendStage::Queued,
            settled: false,
            version: 0,
            wakers: Vec::new(),
            trackers: 1,
        }));
        let tracker = Tracker(Arc::clone(&shared));
        (Self { shared, seen: 0 }, tracker)
    }

    pub(crate) fn failed(e: SendError) -> Self {
        let (handle, tracker) = Self::new();
        tracker.fail(e);
        handle
    }

    /// The stage now.
    pub fn stage(&self) -> SendStage {
        lock(&self.shared).stage.clone()
    }

    /// Waits for the next change of stage after the last one this handle returned (the first
    /// call returns the first change after creation) and returns the stage then.
    pub async fn next_stage(&mut self) -> SendStage {
        std::future::poll_fn(|cx| {
            let mut cell = lock(&self.shared);
            if cell.version != self.seen {
                self.seen = cell.version;
                return Poll::Ready(cell.stage.clone());
            }
            if !cell.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                cell.wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl Future for SendHandle {
    type Output = Result<(), SendError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut cell = lock(&self.shared);
        if !cell.settled {
            if !cell.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                cell.wakers.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        Poll::Ready(match &cell.stage {
            SendStage::Failed(e) => Err(e.clone()),
            SendStage::Bounced(b) => Err(SendError::Bounced(b.clone())),
            _ => Ok(()),
        })
    }
}

/// Settles the handle as closed when the session drops a send it never settled (a task that
/// ended); a no-op after it settled.
impl Drop for Tracker {
    fn drop(&mut self) {
        let orphaned = {
            let mut cell = lock(&self.0);
            cell.trackers -= 1;
            cell.trackers == 0 && !cell.settled
        };
        if orphaned {
            self.fail(SendError::Closed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stages_move_forward_and_the_future_resolves_on_the_ack() {
        let (mut handle, tracker) = SendHandle::new();
        assert!(matches!(handle.stage(), SendStage::Queued));
        tracker.written(false);
        assert!(matches!(handle.next_stage().await, SendStage::Written));
        let waiting = tokio::spawn(handle.clone());
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        tracker.acked();
        assert!(waiting.await.unwrap().is_ok());
        assert!(matches!(handle.next_stage().await, SendStage::Acked));
    }

    #[test]
    fn a_late_written_does_not_undo_an_ack() {
        let (handle, tracker) = SendHandle::new();
        tracker.acked();
        tracker.written(false);
        assert!(matches!(handle.stage(), SendStage::Acked));
    }

    /// The writer and the ack reader race in the session; whichever order they land in, the
    /// ack is the final stage (the check-then-set of old could end `Written` after `Acked`).
    #[test]
    fn written_racing_an_ack_never_ends_written() {
        for _ in 0..2_000 {
            let (handle, tracker) = SendHandle::new();
            let writer = tracker.clone();
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let b = barrier.clone();
            let t = std::thread::spawn(move || {
                b.wait();
                writer.written(false);
            });
            barrier.wait();
            tracker.acked();
            t.join().unwrap();
            assert!(matches!(handle.stage(), SendStage::Acked));
        }
    }

    #[tokio::test]
    async fn a_dropped_tracker_resolves_the_handle_as_closed() {
        let (handle, tracker) = SendHandle::new();
        drop(tracker);
        assert!(matches!(handle.await, Err(SendError::Closed)));
    }
}
