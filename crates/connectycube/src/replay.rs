//! Which messages of one sending process were already shown, by their ObjectId counter.
//!
//! A message id is an ObjectId: seconds, 5 random bytes per sending process, a 24-bit counter
//! the process increments per id. When ejabberd closes a session it had queued thousands of
//! stanzas for (`max_ack_queue`, 5,000 by default), it routes that queue again to the new
//! session: copies of messages shown long ago, far more than an id set per dialog can hold at a
//! bounded cost. A bitmap of the last [`WINDOW`] counters per (dialog, sender, process) tells a
//! copy from a new message for 8 KiB, and the highest counter seen tells a late message from a
//! new one (the out-of-order flag).

use std::collections::HashMap;

use connectycube_protocol::ids::ObjectId;

/// Counters remembered below the highest one seen, per sending process.
pub(crate) const WINDOW: u32 = 1 << 16;
/// Sending processes remembered in all (8 KiB each: 2 MiB at most).
pub(crate) const MAX_PROCESSES: usize = 256;
/// Sending processes remembered per dialog, so one busy group cannot push every 1-1 out.
pub(crate) const MAX_PROCESSES_PER_DIALOG: usize = 16;

/// The 24-bit counter space.
const COUNTER_MASK: u32 = 0x00ff_ffff;
const WORDS: usize = (WINDOW / 64) as usize;

/// What the window says of one message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Shown before: a copy.
    Again,
    /// Not shown before; `late` when a higher counter of its process came first.
    New {
        /// A higher counter of the same process was shown before it.
        late: bool,
    },
}

/// The part of an ObjectId one sending process shares (its random bytes), and its counter.
pub(crate) fn process_and_counter(id: &ObjectId) -> ([u8; 5], u32) {
    let b = id.bytes();
    let mut random = [0u8; 5];
    random.copy_from_slice(&b[4..9]);
    (random, u32::from_be_bytes([0, b[9], b[10], b[11]]))
}

/// How far `b` is after `a` in serial arithmetic (the counter wraps and starts anywhere):
/// `Some(d)` with `0 < d < 2^23` when `b` comes after `a`.
fn ahead(a: u32, b: u32) -> Option<u32> {
    let d = b.wrapping_sub(a) & COUNTER_MASK;
    (d != 0 && d < 1 << 23).then_some(d)
}

/// The last [`WINDOW`] counters of one process.
#[derive(Debug)]
struct CounterWindow {
    high: u32,
    bits: Box<[u64; WORDS]>,
    /// When it was last used (the owner's clock), to forget the least recent.
    used: u64,
}

impl CounterWindow {
    fn new(counter: u32, used: u64) -> Self {
        let mut w = Self {
            high: counter,
            bits: Box::new([0; WORDS]),
            used,
        };
        w.set(counter);
        w
    }

    fn slot(counter: u32) -> (usize, u64) {
        let i = counter % WINDOW;
        ((i / 64) as usize, 1 << (i % 64))
    }

    fn set(&mut self, counter: u32) {
        let (word, bit) = Self::slot(counter);
        self.bits[word] |= bit;
    }

    fn is_set(&self, counter: u32) -> bool {
        let (word, bit) = Self::slot(counter);
        self.bits[word] & bit != 0
    }

    fn admit(&mut self, counter: u32) -> Seen {
        if let Some(d) = ahead(self.high, counter) {
            if d >= WINDOW {
                self.bits.fill(0);
            } else {
                // The slots between the old and the new high now stand for new counters.
                for c in 1..=d {
                    let (word, bit) = Self::slot(self.high.wrapping_add(c));
                    self.bits[word] &= !bit;
                }
            }
            self.high = counter;
            self.set(counter);
            return Seen::New { late: false };
        }
        let behind = self.high.wrapping_sub(counter) & COUNTER_MASK;
        if behind >= WINDOW {
            // Too old to tell: shown, flagged late; the per-dialog id set still catches it.
            return Seen::New { late: true };
        }
        if self.is_set(counter) {
            return Seen::Again;
        }
        self.set(counter);
        Seen::New { late: true }
    }
}

/// Every remembered process window, keyed by where its messages go and who sent them.
#[derive(Debug)]
pub(crate) struct Replays<K> {
    /// Per key, its processes' windows: looked up by reference, so a message costs no
    /// allocation once its window exists.
    windows: HashMap<K, HashMap<[u8; 5], CounterWindow>>,
    /// Windows held in all.
    count: usize,
    clock: u64,
}

impl<K> Default for Replays<K> {
    fn default() -> Self {
        Self {
            windows: HashMap::new(),
            count: 0,
            clock: 0,
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Replays<K> {
    /// Decides on message `id` sent to `key` (a dialog and its sender) and remembers it.
    pub(crate) fn admit(&mut self, key: &K, id: &ObjectId) -> Seen {
        let (process, counter) = process_and_counter(id);
        self.clock += 1;
        let clock = self.clock;
        if let Some(w) = self.windows.get_mut(key).and_then(|p| p.get_mut(&process)) {
            w.used = clock;
            return w.admit(counter);
        }
        self.make_room(key);
        self.windows
            .entry(key.clone())
            .or_default()
            .insert(process, CounterWindow::new(counter, clock));
        self.count += 1;
        Seen::New { late: false }
    }

    /// Forgets the least recently used window of `key` when it has too many, and the least
    /// recently used of all when the whole table is full.
    fn make_room(&mut self, key: &K) {
        let of_key = self.windows.get(key).map_or(0, HashMap::len);
        if of_key >= MAX_PROCESSES_PER_DIALOG {
            self.forget_oldest(|k| k == key);
        }
        if self.count >= MAX_PROCESSES {
            self.forget_oldest(|_| true);
        }
    }

    fn forget_oldest(&mut self, among: impl Fn(&K) -> bool) {
        let oldest = self
            .windows
            .iter()
            .filter(|(k, _)| among(k))
            .flat_map(|(k, p)| p.iter().map(move |(process, w)| (k, *process, w.used)))
            .min_by_key(|(_, _, used)| *used)
            .map(|(k, process, _)| (k.clone(), process));
        if let Some((k, process)) = oldest
            && let Some(p) = self.windows.get_mut(&k)
        {
            p.remove(&process);
            self.count -= 1;
            if p.is_empty() {
                self.windows.remove(&k);
            }
        }
    }

    /// Forgets every window whose key `matches` (a dialog the owner forgot).
    pub(crate) fn forget(&mut self, matches: impl Fn(&K) -> bool) {
        let count = &mut self.count;
        self.windows.retain(|k, p| {
            let keep = !matches(k);
            if !keep {
                *count -= p.len();
            }
            keep
        });
    }

    /// Windows held now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Windows held for `key`.
    #[cfg(test)]
    pub(crate) fn len_of(&self, key: &K) -> usize {
        self.windows.get(key).map_or(0, HashMap::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(process: u8, counter: u32) -> ObjectId {
        ObjectId::from_parts(1_700_000_000, [process; 5], counter)
    }

    #[test]
    fn a_copy_within_the_window_is_seen_again_however_many_came_between() {
        let mut r = Replays::<u8>::default();
        for c in 0..10_000 {
            assert_eq!(r.admit(&1, &id(1, c)), Seen::New { late: false });
        }
        // What ejabberd re-routes after closing a session: thousands of old copies.
        for c in 0..10_000 {
            assert_eq!(r.admit(&1, &id(1, c)), Seen::Again, "{c}");
        }
    }

    #[test]
    fn a_gap_filled_later_is_new_and_late_then_a_copy() {
        let mut r = Replays::<u8>::default();
        r.admit(&1, &id(1, 10));
        r.admit(&1, &id(1, 12));
        assert_eq!(r.admit(&1, &id(1, 11)), Seen::New { late: true });
        assert_eq!(r.admit(&1, &id(1, 11)), Seen::Again);
    }

    #[test]
    fn counters_wrap_and_slots_are_reused_after_the_high_moves_on() {
        let mut r = Replays::<u8>::default();
        r.admit(&1, &id(1, COUNTER_MASK - 1));
        assert_eq!(r.admit(&1, &id(1, COUNTER_MASK)), Seen::New { late: false });
        assert_eq!(r.admit(&1, &id(1, 0)), Seen::New { late: false });
        assert_eq!(r.admit(&1, &id(1, COUNTER_MASK)), Seen::Again);
        // 0 + WINDOW uses 0's slot: it must read as new, not as 0 seen again.
        assert_eq!(r.admit(&1, &id(1, WINDOW)), Seen::New { late: false });
        assert_eq!(r.admit(&1, &id(1, WINDOW - 1)), Seen::New { late: true });
    }

    #[test]
    fn a_counter_older_than_the_window_cannot_be_told_and_is_shown_late() {
        let mut r = Replays::<u8>::default();
        r.admit(&1, &id(1, 5));
        r.admit(&1, &id(1, 5 + WINDOW + 10));
        assert_eq!(r.admit(&1, &id(1, 5)), Seen::New { late: true });
    }

    #[test]
    fn processes_and_keys_are_apart_and_bounded() {
        let mut r = Replays::<u16>::default();
        r.admit(&1, &id(1, 7));
        assert_eq!(
            r.admit(&2, &id(1, 7)),
            Seen::New { late: false },
            "other key"
        );
        assert_eq!(
            r.admit(&1, &id(2, 7)),
            Seen::New { late: false },
            "other process"
        );
        for p in 0..40u8 {
            r.admit(&3, &id(p, 1));
        }
        assert!(r.len_of(&3) <= MAX_PROCESSES_PER_DIALOG);
        for k in 0..1_000u16 {
            r.admit(&(k + 10), &id(1, 1));
        }
        assert!(r.len() <= MAX_PROCESSES);
    }
}
