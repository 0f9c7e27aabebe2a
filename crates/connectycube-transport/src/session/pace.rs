//! An optional fixed send rate: at most `max_send_rate` stanzas a second leave the queue.
//!
//! Off by default. ejabberd acknowledges our messages as soon as it has routed them, so the
//! in-flight bound alone lets a sender run at the server's full rate, and a recipient that
//! reads slower falls behind until `max_ack_queue` closes it. The facade paces 1-1 sends by the
//! recipients' 'delivered' markers, which measure that directly; this bound is for programs
//! on the transport alone that want a fixed ceiling. A token bucket holding a tenth of a
//! second's worth lets short bursts through at once.

use std::time::Duration;

use tokio::time::Instant;

/// A token bucket of `rate` stanzas a second.
#[derive(Debug)]
pub(crate) struct Pacer {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Pacer {
    /// A full bucket for `rate` stanzas a second; `None` for 0 (no pacing).
    pub fn new(rate: u32) -> Option<Self> {
        (rate > 0).then(|| {
            let rate = f64::from(rate);
            let capacity = (rate / 10.0).max(1.0);
            Self {
                rate,
                capacity,
                tokens: capacity,
                last: Instant::now(),
            }
        })
    }

    /// Takes one token, or says when the next one is there.
    pub fn take(&mut self, now: Instant) -> Result<(), Instant> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let missing = (1.0 - self.tokens) / self.rate;
        Err(now + Duration::from_secs_f64(missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_a_tenth_of_the_rate_then_one_per_period() {
        let mut p = Pacer::new(1000).unwrap();
        let now = Instant::now();
        for _ in 0..100 {
            assert!(p.take(now).is_ok());
        }
        let next = p.take(now).unwrap_err();
        assert!(next > now && next <= now + Duration::from_millis(2));
        assert!(p.take(now + Duration::from_millis(1)).is_ok());
        assert!(Pacer::new(0).is_none(), "0 turns pacing off");
    }
}
