//! What both clients do and report: message ids, the receiver's bookkeeping, time limits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Id prefix of the throughput messages (`tp-0`, `tp-1`, ...).
pub const THROUGHPUT_PREFIX: &str = "tp-";
/// Id prefix of the round-trip messages.
pub const LATENCY_PREFIX: &str = "rt-";
/// How long any single wait may take before the run is declared stuck.
pub const WAIT: Duration = Duration::from_secs(30);

/// Throughput runs so far in this process.
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// An id prefix for one throughput run (`tp-3-`), so a message left over from an earlier run
/// is counted as a stray, not as a late or duplicate one.
pub fn run_prefix() -> String {
    format!(
        "{THROUGHPUT_PREFIX}{}-",
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}

/// The sequence number in an id like `tp-17`.
pub fn seq_of(id: Option<&str>, prefix: &str) -> Option<usize> {
    id?.strip_prefix(prefix)?.parse().ok()
}

/// What the receiving side saw of the numbered messages.
#[derive(Debug, Clone)]
pub struct Receipt {
    seen: Vec<bool>,
    /// Distinct messages received.
    pub distinct: usize,
    /// Messages received more than once.
    pub duplicates: usize,
    /// Messages that arrived after one with a higher number.
    pub out_of_order: usize,
    /// Throughput messages of another run.
    pub strays: usize,
    highest: Option<usize>,
}

impl Receipt {
    /// Expects messages `0..n`.
    pub fn new(n: usize) -> Self {
        Self {
            seen: vec![false; n],
            distinct: 0,
            duplicates: 0,
            out_of_order: 0,
            strays: 0,
            highest: None,
        }
    }

    /// Records message `seq` (numbers outside `0..n` are ignored).
    pub fn got(&mut self, seq: usize) {
        let Some(seen) = self.seen.get_mut(seq) else {
            return;
        };
        if *seen {
            self.duplicates += 1;
            return;
        }
        *seen = true;
        self.distinct += 1;
        match self.highest {
            Some(h) if seq < h => self.out_of_order += 1,
            _ => self.highest = Some(seq),
        }
    }

    /// Records a message with `id`: this run's (`prefix`), another run's, or not ours at all.
    pub fn see(&mut self, id: Option<&str>, prefix: &str) {
        match seq_of(id, prefix) {
            Some(seq) => self.got(seq),
            None if id.is_some_and(|id| id.starts_with(THROUGHPUT_PREFIX)) => self.strays += 1,
            None => {}
        }
    }

    /// Whether every message arrived.
    pub fn complete(&self) -> bool {
        self.distinct == self.seen.len()
    }
}

/// CPU time this process has used so far (user + system), from `/proc/self/stat`; zero where
/// that cannot be read. Both ends of a run live in this process, so a difference is what the
/// library spent on sending and receiving.
pub fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit(')').next() else {
        return Duration::ZERO;
    };
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    // USER_HZ is 100 on every Linux this runs on.
    Duration::from_millis(ticks * 10)
}

/// The outcome of a throughput run.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Time to hand all messages to the library.
    pub queued: Duration,
    /// Time from the first send until the receiver had all of them (or gave up).
    pub received: Duration,
    /// Time until the server acknowledged every send, where the library reports that.
    pub acked: Option<Duration>,
    /// Sends the library reported as failed.
    pub failed_sends: usize,
    /// What the receiver saw.
    pub receipt: Receipt,
    /// CPU time both clients used from the first send until all was received.
    pub cpu: Duration,
}

impl Delivery {
    /// Messages per second, counting only the distinct messages received.
    pub fn rate(&self) -> f64 {
        self.receipt.distinct as f64 / self.received.as_secs_f64().max(1e-9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_counts_distinct_duplicates_and_reordering() {
        let mut r = Receipt::new(4);
        for seq in [0, 2, 1, 2, 9, 3] {
            r.got(seq);
        }
        assert_eq!((r.distinct, r.duplicates, r.out_of_order), (4, 1, 1));
        assert!(r.complete());
        assert_eq!(seq_of(Some("tp-17"), THROUGHPUT_PREFIX), Some(17));
        assert_eq!(seq_of(Some("rt-17"), THROUGHPUT_PREFIX), None);
        let mut r = Receipt::new(2);
        for id in ["tp-1-0", "tp-0-1", "rt-1", "tp-1-1"] {
            r.see(Some(id), "tp-1-");
        }
        assert_eq!((r.distinct, r.strays), (2, 1));
    }
}
