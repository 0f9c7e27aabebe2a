//! Faults a test injects into the chat, to see its app recover: cut a user's connections
//! (the TCP connection drops with no stream end, as a network does; the session stays
//! resumable), stall them (no bytes either way for a while), refuse their next stream
//! resumption, delay what is delivered to them, withhold the acks of what they send. From Rust ([`ChatFaults`], reached through
//! `DevServer::chat_faults`) or over the devserver's admin endpoint.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use connectycube_protocol::ids::UserId;
use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Debug, Default)]
struct State {
    /// Per user, how many times their connections were cut.
    cuts: HashMap<UserId, u64>,
    /// Per user, until when their connections are stalled.
    stalled: HashMap<UserId, Instant>,
    /// Users whose next resumption is refused.
    refuse_resumption: HashSet<UserId>,
    /// Per user, how late stanzas are delivered to them.
    delay: HashMap<UserId, Duration>,
    /// Users whose ack requests go unanswered.
    withhold_acks: HashSet<UserId>,
}

/// The chat's injected faults; cheap to share, every connection watches it.
#[derive(Debug)]
pub struct ChatFaults {
    state: Mutex<State>,
    /// Bumped on every change, so connections look at their user's faults again.
    epoch: watch::Sender<u64>,
}

impl Default for ChatFaults {
    fn default() -> Self {
        Self {
            state: Mutex::new(State::default()),
            epoch: watch::channel(0).0,
        }
    }
}

impl ChatFaults {
    fn change(&self, f: impl FnOnce(&mut State)) {
        f(&mut super::lock(&self.state));
        self.epoch.send_modify(|e| *e = e.wrapping_add(1));
    }

    /// Drops every connection of `user` at once, without a stream end (as a network cut
    /// does); sessions with stream management stay resumable.
    pub fn cut(&self, user: UserId) {
        self.change(|s| *s.cuts.entry(user).or_default() += 1);
    }

    /// Stops every connection of `user` reading and writing for `for_` (no bytes either
    /// way), as a stalled network does; then they go on.
    pub fn stall(&self, user: UserId, for_: Duration) {
        self.change(|s| {
            s.stalled.insert(user, Instant::now() + for_);
        });
    }

    /// Answers `user`'s next stream resumption with `<failed><item-not-found/>`, as a server
    /// that lost the session does (the session is ended).
    pub fn refuse_next_resumption(&self, user: UserId) {
        self.change(|s| {
            s.refuse_resumption.insert(user);
        });
    }

    /// Delivers everything for `user` `by` late (`Duration::ZERO` stops it), in order.
    pub fn delay_delivery(&self, user: UserId, by: Duration) {
        self.change(|s| {
            if by.is_zero() {
                s.delay.remove(&user);
            } else {
                s.delay.insert(user, by);
            }
        });
    }

    /// Leaves `user`'s XEP-0198 ack requests (`<r/>`) unanswered while `on`, as a server that
    /// took their stanzas but never says so: their sends stay unacknowledged (and are resent
    /// on a resumption). What they send is still routed.
    pub fn withhold_acks(&self, user: UserId, on: bool) {
        self.change(|s| {
            if on {
                s.withhold_acks.insert(user);
            } else {
                s.withhold_acks.remove(&user);
            }
        });
    }

    /// Clears every fault (cuts already made stay made).
    pub fn clear(&self) {
        self.change(|s| {
            s.stalled.clear();
            s.refuse_resumption.clear();
            s.delay.clear();
            s.withhold_acks.clear();
        });
    }

    /// A receiver that changes whenever a fault does.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    /// How many times `user`'s connections were cut so far.
    pub(crate) fn cuts(&self, user: UserId) -> u64 {
        super::lock(&self.state)
            .cuts
            .get(&user)
            .copied()
            .unwrap_or(0)
    }

    /// Until when `user` is stalled, if now.
    pub(crate) fn stalled_until(&self, user: UserId) -> Option<Instant> {
        let mut s = super::lock(&self.state);
        match s.stalled.get(&user) {
            Some(t) if *t > Instant::now() => Some(*t),
            Some(_) => {
                s.stalled.remove(&user);
                None
            }
            None => None,
        }
    }

    /// Whether `user`'s resumption is to be refused (once).
    pub(crate) fn take_refusal(&self, user: UserId) -> bool {
        super::lock(&self.state).refuse_resumption.remove(&user)
    }

    /// Whether `user`'s ack requests go unanswered.
    pub(crate) fn acks_withheld(&self, user: UserId) -> bool {
        super::lock(&self.state).withhold_acks.contains(&user)
    }

    /// How late stanzas go to `user`.
    pub(crate) fn delay(&self, user: UserId) -> Option<Duration> {
        super::lock(&self.state).delay.get(&user).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_per_user_and_a_refusal_is_used_once() {
        let f = ChatFaults::default();
        let mut w = f.watch();
        f.cut(UserId(1));
        assert!(w.has_changed().unwrap());
        w.mark_unchanged();
        assert_eq!((f.cuts(UserId(1)), f.cuts(UserId(2))), (1, 0));
        f.refuse_next_resumption(UserId(2));
        assert!(f.take_refusal(UserId(2)));
        assert!(!f.take_refusal(UserId(2)));
        f.stall(UserId(3), Duration::from_secs(60));
        assert!(f.stalled_until(UserId(3)).is_some());
        f.delay_delivery(UserId(4), Duration::from_millis(5));
        assert_eq!(f.delay(UserId(4)), Some(Duration::from_millis(5)));
        f.withhold_acks(UserId(5), true);
        assert!(f.acks_withheld(UserId(5)) && !f.acks_withheld(UserId(4)));
        f.clear();
        assert!(f.stalled_until(UserId(3)).is_none() && f.delay(UserId(4)).is_none());
        assert!(!f.acks_withheld(UserId(5)));
        assert!(w.has_changed().unwrap());
    }
}
