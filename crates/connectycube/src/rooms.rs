//! Group rooms that stay joined: the client remembers the rooms the app joined, learns the
//! outcome of each join from the room's presences (status 110 for success, an error presence
//! for refusal), and joins them again after a reconnect that could not resume (a new session
//! is not in any room; a resumed one still is). From a drop until the room is known again
//! (the resumption, or the rejoin's self-presence) the room is *pending*: a join waits for
//! that outcome instead of letting a message overtake the rejoin.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::DialogId;
use connectycube_protocol::message::error::MessageError;
use connectycube_protocol::muc;
use connectycube_transport::session::SendError;
use minidom::Element;
use tokio::sync::oneshot;

/// Why joining a room failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// The room answered with an error presence (e.g. `registration-required`: the user is
    /// not an occupant; `item-not-found`: no such dialog).
    #[error("the room of dialog {dialog} refused the join: {}", .error.condition.as_deref().unwrap_or("no condition"))]
    Refused {
        /// The dialog.
        dialog: DialogId,
        /// The error as the room gave it.
        error: MessageError,
    },
    /// The room's own presence (status 110) did not come in time.
    #[error("no answer from the room of dialog {dialog} within {timeout:?}")]
    Timeout {
        /// The dialog.
        dialog: DialogId,
        /// How long the join waited.
        timeout: Duration,
    },
    /// The join presence did not reach the server.
    #[error("the join did not reach the server")]
    Send(#[source] SendError),
}

impl JoinError {
    /// Whether joining again later may succeed (a timeout, or a send that may be retried).
    ///
    /// ```
    /// use std::time::Duration;
    /// use connectycube::JoinError;
    /// use connectycube::protocol::ids::DialogId;
    ///
    /// let dialog: DialogId = "5356c64ab35c12bd3b108a41".parse()?;
    /// let timeout = JoinError::Timeout { dialog, timeout: Duration::from_secs(15) };
    /// assert!(timeout.is_retryable());
    /// # Ok::<(), connectycube::protocol::ids::IdError>(())
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Send(e) => e.is_retryable(),
            Self::Refused { .. } => false,
        }
    }
}

type Waiter = oneshot::Sender<Result<(), JoinError>>;

#[derive(Debug, Default)]
struct State {
    /// Rooms the app wants to be in (joined, or a join under way).
    wanted: BTreeSet<DialogId>,
    /// Rooms whose self-presence came in this session.
    joined: BTreeSet<DialogId>,
    /// Wanted rooms whose membership is unsettled since the connection dropped: until the
    /// session resumes or the rejoin's self-presence comes.
    pending: BTreeSet<DialogId>,
    waiters: HashMap<DialogId, Vec<Waiter>>,
}

/// The rooms of one client, shared by the client and its event task.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    state: Mutex<State>,
}

impl Rooms {
    fn lock(&self) -> MutexGuard<'_, State> {
        crate::lock(&self.state)
    }

    /// Wants `dialog`, and a receiver for the outcome of its next join.
    pub(crate) fn expect_join(&self, dialog: DialogId) -> oneshot::Receiver<Result<(), JoinError>> {
        let (tx, rx) = oneshot::channel();
        let mut s = self.lock();
        s.wanted.insert(dialog);
        let waiters = s.waiters.entry(dialog).or_default();
        // A join that timed out left its sender behind; drop those so a silent room
        // does not collect them.
        waiters.retain(|w| !w.is_closed());
        waiters.push(tx);
        rx
    }

    /// Wants `dialog`; true when a join presence must go out (not joined, none under way).
    pub(crate) fn want(&self, dialog: DialogId) -> bool {
        let mut s = self.lock();
        let new = s.wanted.insert(dialog);
        new && !s.joined.contains(&dialog)
    }

    /// No longer wants `dialog` (left, or put out).
    pub(crate) fn forget(&self, dialog: DialogId) {
        let mut s = self.lock();
        s.wanted.remove(&dialog);
        s.joined.remove(&dialog);
        s.pending.remove(&dialog);
    }

    /// Fails the waiting joins of `dialog` with `error` (a send that failed).
    pub(crate) fn fail(&self, dialog: DialogId, error: &JoinError) {
        let waiters = {
            let mut s = self.lock();
            s.wanted.remove(&dialog);
            s.pending.remove(&dialog);
            s.waiters.remove(&dialog).unwrap_or_default()
        };
        for w in waiters {
            let _ = w.send(Err(error.clone()));
        }
    }

    /// Whether this session is in `dialog`'s room (known: not pending).
    pub(crate) fn is_joined(&self, dialog: DialogId) -> bool {
        let s = self.lock();
        s.joined.contains(&dialog) && !s.pending.contains(&dialog)
    }

    /// A receiver for how `dialog`'s pending membership settles (the resumption, or the
    /// outcome of the rejoin); `None` when it is not pending. One check under the lock, so an
    /// outcome cannot slip in between.
    pub(crate) fn settled(
        &self,
        dialog: DialogId,
    ) -> Option<oneshot::Receiver<Result<(), JoinError>>> {
        let mut s = self.lock();
        if !s.pending.contains(&dialog) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        let waiters = s.waiters.entry(dialog).or_default();
        waiters.retain(|w| !w.is_closed());
        waiters.push(tx);
        Some(rx)
    }

    /// The connection dropped: whether the rooms are still joined depends on the next session.
    pub(crate) fn went_offline(&self) {
        let mut s = self.lock();
        s.pending = s.wanted.clone();
    }

    /// The connection ended for good (reconnection gave up, or logout): the server forgot
    /// the rooms, and the joins waiting fail now instead of at their timeout. A later login
    /// is a fresh session: `join` sends the presence again.
    pub(crate) fn closed(&self) {
        let waiters: Vec<Waiter> = {
            let mut s = self.lock();
            s.joined.clear();
            s.pending.clear();
            s.waiters.drain().flat_map(|(_, w)| w).collect()
        };
        for w in waiters {
            let _ = w.send(Err(JoinError::Send(SendError::Closed)));
        }
    }

    /// The session resumed: the rooms joined before the drop still are.
    pub(crate) fn resumed(&self) {
        let waiters: Vec<Waiter> = {
            let mut s = self.lock();
            let pending = std::mem::take(&mut s.pending);
            let joined: Vec<DialogId> = pending.intersection(&s.joined).copied().collect();
            joined
                .iter()
                .flat_map(|d| s.waiters.remove(d).unwrap_or_default())
                .collect()
        };
        for w in waiters {
            let _ = w.send(Ok(()));
        }
    }

    /// The rooms the app wants to be in.
    pub(crate) fn wanted(&self) -> Vec<DialogId> {
        self.lock().wanted.iter().copied().collect()
    }

    /// A new session is in no room: every wanted room is to be joined again.
    pub(crate) fn new_session(&self) -> Vec<DialogId> {
        let mut s = self.lock();
        s.joined.clear();
        s.pending = s.wanted.clone();
        s.wanted.iter().copied().collect()
    }

    /// Learns from an inbound stanza before it is classified: an error presence from a room
    /// fails its joins.
    pub(crate) fn on_stanza(&self, el: &Element) {
        let Some((dialog, error)) = muc::join_refusal(el) else {
            return;
        };
        tracing::debug!(%dialog, condition = ?error.condition, "a room refused the join");
        self.fail(dialog, &JoinError::Refused { dialog, error });
    }

    /// Learns from a classified event: our own presence in a room (status 110) completes its
    /// joins; our own departure or removal forgets it.
    pub(crate) fn on_event(&self, event: &ChatEvent) {
        match event {
            ChatEvent::OccupantJoined(o) if o.is_self => {
                let waiters = {
                    let mut s = self.lock();
                    s.joined.insert(o.dialog);
                    s.pending.remove(&o.dialog);
                    s.waiters.remove(&o.dialog).unwrap_or_default()
                };
                for w in waiters {
                    let _ = w.send(Ok(()));
                }
            }
            ChatEvent::OccupantLeft(o) | ChatEvent::Kicked(o) if o.is_self => {
                self.forget(o.dialog);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "rooms_tests.rs"]
mod tests;
