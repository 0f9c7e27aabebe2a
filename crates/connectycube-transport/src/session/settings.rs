//! How a chat session reconnects and keeps itself alive.

use std::time::Duration;

/// How many acknowledged messages are remembered by id for a bounce that comes later.
pub(crate) const DEFAULT_RECENT_SENDS: usize = 10_000;

/// Settings of a [`super::ChatConnection`], defaulting to the Flutter SDK's values.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionSettings {
    /// How many times to try to reconnect after losing the connection; 0 turns reconnection off.
    pub total_reconnections: u32,
    /// The wait between reconnection attempts (the first wait, with backoff).
    pub reconnection_timeout: Duration,
    /// Double the wait after each failed attempt, with jitter, up to `max_backoff`.
    pub exponential_backoff: bool,
    /// The longest wait between attempts when backing off.
    pub max_backoff: Duration,
    /// After this long without a byte from the server, probe it (ack request or ping).
    pub keepalive_interval: Duration,
    /// A probe unanswered for this long means the connection is dead.
    pub keepalive_timeout: Duration,
    /// The resource to bind; the server picks one when `None`.
    pub resource: Option<String>,
    /// Sends that may wait while reconnecting; more fail at once with `QueueFull`.
    pub max_queued_sends: usize,
    /// How long `login()` may take before it fails.
    pub login_timeout: Duration,
    /// Stanzas that may wait for the app to read [`super::Incoming`] (plus as many held by
    /// the session); beyond that the session stops reading the socket (backpressure).
    pub inbound_capacity: usize,
    /// Acknowledge (`<a h>`, unprompted) after this many inbound stanzas; 0 turns it off.
    pub ack_every: u32,
    /// Acknowledge this long after an unacknowledged inbound stanza at the latest.
    pub ack_delay: Duration,
    /// After the server answered an ack request while sends remain unacknowledged, ask
    /// again only after new sends or this long (a stale `h` must not drive a busy loop).
    pub ack_request_interval: Duration,
    /// Sends written and not yet acknowledged by the server, at most; further sends wait
    /// in order until acks make room (sender pacing).
    pub max_in_flight: usize,
    /// Sends via [`super::ChatConnection::send_paced`] / `try_send` not yet settled, at
    /// most: `send_paced` waits for room, `try_send` fails with `QueueFull`.
    pub max_pending_sends: usize,
    /// Acknowledged messages remembered by id, so a bounce after the ack reaches the handle.
    pub recent_sends: usize,
    /// A message that bounces for a transient reason (`Bounce::is_transient`: the
    /// recipient's session was closed, its offline store was full) is sent again with the
    /// same id up to this many times; 0 turns automatic resends off.
    pub bounce_retries: u32,
    /// The wait before the first automatic resend, doubled for each later one (30 s at most).
    pub bounce_retry_delay: Duration,
    /// Stanzas a second that leave the send queue, at most (a tenth of a second's worth may
    /// go at once); 0, the default, = as fast as the server's acks let the in-flight window
    /// go. A fixed rate is a guess about the slowest recipient; the facade paces by what the
    /// recipients answer instead. See the session docs.
    pub max_send_rate: u32,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            total_reconnections: 5,
            reconnection_timeout: Duration::from_millis(5000),
            exponential_backoff: false,
            max_backoff: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            resource: None,
            max_queued_sends: 10_000,
            login_timeout: Duration::from_secs(30),
            inbound_capacity: 1024,
            // ejabberd closes a session 5,000 unacknowledged stanzas behind (max_ack_queue);
            // acking every 10 keeps its queue for us near empty while we keep up, at one
            // small <a/> per 10 stanzas.
            ack_every: 10,
            ack_delay: Duration::from_millis(250),
            ack_request_interval: Duration::from_secs(1),
            max_in_flight: 1000,
            max_pending_sends: 10_000,
            recent_sends: DEFAULT_RECENT_SENDS,
            // 0.5 + 1 + 2 + ... + 30 s: about 90 s for a recipient to be back and read.
            bounce_retries: 8,
            bounce_retry_delay: Duration::from_millis(500),
            max_send_rate: 0,
        }
    }
}

impl SessionSettings {
    /// Sets `total_reconnections` (0 = off).
    pub fn with_total_reconnections(mut self, n: u32) -> Self {
        self.total_reconnections = n;
        self
    }

    /// Sets the wait between reconnection attempts.
    pub fn with_reconnection_timeout(mut self, wait: Duration) -> Self {
        self.reconnection_timeout = wait;
        self
    }

    /// Turns on exponential backoff with jitter, capped at `max`.
    pub fn with_exponential_backoff(mut self, max: Duration) -> Self {
        self.exponential_backoff = true;
        self.max_backoff = max;
        self
    }

    /// Sets the keepalive probe interval and how long a probe may go unanswered.
    pub fn with_keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keepalive_interval = interval;
        self.keepalive_timeout = timeout;
        self
    }

    /// Binds this resource instead of a server-chosen one.
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Sets how many sends may wait while reconnecting.
    pub fn with_max_queued_sends(mut self, n: usize) -> Self {
        self.max_queued_sends = n;
        self
    }

    /// Sets how many inbound stanzas may wait for the app.
    pub fn with_inbound_capacity(mut self, n: usize) -> Self {
        self.inbound_capacity = n.max(1);
        self
    }

    /// Sets when to acknowledge unprompted: every `every` stanzas, `delay` at the latest.
    pub fn with_ack_pace(mut self, every: u32, delay: Duration) -> Self {
        self.ack_every = every;
        self.ack_delay = delay;
        self
    }

    /// Sets how many sends may be unacknowledged at once.
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// Sets the send-rate bound, stanzas a second (0 = none).
    pub fn with_max_send_rate(mut self, per_second: u32) -> Self {
        self.max_send_rate = per_second;
        self
    }

    /// Sets how many paced sends may be unsettled at once.
    pub fn with_max_pending_sends(mut self, n: usize) -> Self {
        self.max_pending_sends = n.max(1);
        self
    }

    /// Sets the automatic resends of transiently bounced messages (0 = off) and the first wait.
    pub fn with_bounce_retries(mut self, retries: u32, first_delay: Duration) -> Self {
        self.bounce_retries = retries;
        self.bounce_retry_delay = first_delay;
        self
    }

    /// The wait before reconnection attempt `attempt` (1-based), with jitter so many
    /// clients dropped at once do not reconnect in step: the flat wait within 10% either
    /// side of `reconnection_timeout`.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        if !self.exponential_backoff {
            return self.reconnection_timeout.mul_f64(0.9 + 0.2 * jitter());
        }
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        let base = self
            .reconnection_timeout
            .saturating_mul(factor)
            .min(self.max_backoff);
        // Full jitter over the upper half: spreads a crowd of clients reconnecting at once.
        let half = base / 2;
        half + half.mul_f64(jitter())
    }
}

/// A number in [0, 1) that differs between calls and processes; not for cryptography.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_flutter_sdks() {
        let s = SessionSettings::default();
        assert_eq!(s.total_reconnections, 5);
        assert_eq!(s.reconnection_timeout, Duration::from_millis(5000));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let s = SessionSettings::default()
            .with_reconnection_timeout(Duration::from_millis(100))
            .with_exponential_backoff(Duration::from_millis(1000));
        for attempt in 1..=10 {
            let expected = (100u64 << (attempt - 1)).min(1000);
            let wait = s.backoff(attempt).as_millis() as u64;
            assert!(
                wait >= expected / 2 && wait <= expected,
                "{attempt}: {wait}"
            );
        }
        let flat = SessionSettings::default().backoff(7);
        assert!(flat >= Duration::from_millis(4500) && flat <= Duration::from_millis(5500));
    }
}
