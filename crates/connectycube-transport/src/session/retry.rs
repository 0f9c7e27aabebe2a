//! Automatic resends of messages that bounced for a transient reason.
//!
//! ejabberd closes a recipient's session that falls `max_ack_queue` (5,000) stanzas behind in
//! acknowledgements and bounces that session's unacknowledged messages to their senders
//! ("User session terminated"); while the recipient is logging in again, its offline store
//! takes 100 messages and bounces the rest (`resource-constraint`, `wait`). The server
//! acknowledged each of those messages to us before, so only the bounce tells us, and only a
//! resend delivers them. The session resends such a message with the same id (the receiving
//! facade drops the copies a recipient already had) after a doubling wait, at most
//! `bounce_retries` times; a refusal (a privacy block) or the last bounce settles the handle
//! as [`super::SendStage::Bounced`] and is published on [`super::ChatConnection::bounces`].

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::SessionSettings;
use super::sm::{BouncedSend, Unacked};

/// The longest wait before a resend, however many bounces came before.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// Bounced messages waiting for their resend, by due time (then bounce order).
#[derive(Debug, Default)]
pub(crate) struct Retries {
    due: BTreeMap<(Instant, u64), Unacked>,
    seq: u64,
}

impl Retries {
    /// Schedules a resend of `b` when its bounce is transient and retries remain; otherwise
    /// gives it back (`Some`), to be settled as bounced.
    pub fn schedule(
        &mut self,
        b: BouncedSend,
        settings: &SessionSettings,
        now: Instant,
    ) -> Option<BouncedSend> {
        if !b.bounce.is_transient() || b.retries >= settings.bounce_retries {
            return Some(b);
        }
        let wait = settings
            .bounce_retry_delay
            .saturating_mul(1 << b.retries.min(16))
            .min(MAX_DELAY);
        b.tracker.retrying(b.bounce.clone());
        self.seq += 1;
        self.due.insert((now + wait, self.seq), b.into_resend());
        None
    }

    /// When the next resend is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.due.keys().next().map(|(t, _)| *t)
    }

    /// The resends due by `now`, oldest first.
    pub fn take_due(&mut self, now: Instant) -> Vec<Unacked> {
        let later = self.due.split_off(&(now, u64::MAX));
        std::mem::replace(&mut self.due, later)
            .into_values()
            .collect()
    }

    /// Every scheduled resend (the session is closing).
    pub fn drain(&mut self) -> Vec<Unacked> {
        std::mem::take(&mut self.due).into_values().collect()
    }

    /// How many resends are scheduled.
    pub fn len(&self) -> usize {
        self.due.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::errors::{Bounce, StanzaErrorCondition};
    use crate::session::handle::{SendHandle, SendStage};

    fn bounced(retries: u32, kind: &str, text: Option<&str>) -> (BouncedSend, SendHandle) {
        let (handle, tracker) = SendHandle::new();
        let b = BouncedSend {
            id: "m1".into(),
            tracker,
            bytes: bytes::Bytes::from_static(b"<message/>"),
            retries,
            bounce: Bounce {
                condition: StanzaErrorCondition::ServiceUnavailable,
                kind: kind.parse().ok(),
                text: text.map(str::to_owned),
                after_ack: true,
            },
        };
        (b, handle)
    }

    #[test]
    fn a_terminated_session_bounce_is_resent_after_a_doubling_wait() {
        let settings = SessionSettings::default();
        let mut r = Retries::default();
        let now = Instant::now();
        let (b, handle) = bounced(2, "cancel", Some("User session terminated"));
        assert!(r.schedule(b, &settings, now).is_none());
        assert!(matches!(handle.stage(), SendStage::Retrying(_)));
        let due = r.next_due().unwrap();
        assert_eq!(due - now, settings.bounce_retry_delay * 4);
        assert!(r.take_due(due - Duration::from_millis(1)).is_empty());
        let resent = r.take_due(due);
        assert_eq!(resent.len(), 1);
        assert_eq!(resent[0].retries, 3);
        assert_eq!(resent[0].id.as_deref(), Some("m1"));
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn a_privacy_block_and_the_last_retry_are_final() {
        let settings = SessionSettings::default();
        let mut r = Retries::default();
        let now = Instant::now();
        let (blocked, _h) = bounced(0, "cancel", None);
        assert!(
            r.schedule(blocked, &settings, now).is_some(),
            "privacy block"
        );
        let (last, _h) = bounced(settings.bounce_retries, "wait", None);
        assert!(
            r.schedule(last, &settings, now).is_some(),
            "retries used up"
        );
        assert_eq!(r.len(), 0);
    }
}
