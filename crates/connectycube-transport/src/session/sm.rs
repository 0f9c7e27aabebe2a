//! XEP-0198 bookkeeping: what the server has acknowledged, what it has not, and how many
//! stanzas we handled. Counters wrap at 2^32 (the XEP's arithmetic, as RFC 1982).

use std::collections::VecDeque;

use minidom::Element;
use tokio::sync::oneshot;

use super::handle::SendError;

/// One sent stanza the server has not acknowledged yet.
#[derive(Debug)]
pub(crate) struct Unacked {
    /// The stanza, kept to send again after a drop.
    pub stanza: Element,
    /// Who waits for the ack.
    pub done: Option<oneshot::Sender<Result<(), SendError>>>,
}

impl Unacked {
    pub fn is_message(&self) -> bool {
        self.stanza.name() == "message"
    }

    pub fn id(&self) -> Option<&str> {
        self.stanza.attr("id")
    }

    pub fn complete(self, result: Result<(), SendError>) {
        if let Some(done) = self.done {
            let _ = done.send(result);
        }
    }
}

/// Stream management state of one session (it survives resumption, not a fresh login).
#[derive(Debug, Default)]
pub(crate) struct StreamManagement {
    /// Stanzas received since `<enabled/>` (our `h`).
    pub inbound: u32,
    /// The server's last `h`: stanzas of ours it has handled.
    pub acked: u32,
    /// Stanzas sent and not yet acknowledged, oldest first.
    pub unacked: VecDeque<Unacked>,
    /// The id to resume with, if the server allows resumption.
    pub resume_id: Option<String>,
    /// Whether stream management is on for the current connection.
    pub enabled: bool,
}

impl StreamManagement {
    /// Records a stanza we sent.
    pub fn sent(&mut self, entry: Unacked) {
        self.unacked.push_back(entry);
    }

    /// Applies the server's `h`: completes the acknowledged sends. An `h` that acknowledges more
    /// than we sent is clamped (and reported), never a panic.
    pub fn ack(&mut self, h: u32) -> AckOutcome {
        let newly = h.wrapping_sub(self.acked) as usize;
        let outcome = if newly > self.unacked.len() {
            AckOutcome::TooHigh {
                claimed: newly,
                pending: self.unacked.len(),
            }
        } else {
            AckOutcome::Ok(newly)
        };
        let count = newly.min(self.unacked.len());
        for entry in self.unacked.drain(..count) {
            entry.complete(Ok(()));
        }
        self.acked = h;
        outcome
    }

    /// Counts one inbound stanza.
    pub fn received(&mut self) {
        self.inbound = self.inbound.wrapping_add(1);
    }

    /// Forgets the session after a fresh login; returns what was never acknowledged.
    pub fn reset(&mut self) -> VecDeque<Unacked> {
        self.inbound = 0;
        self.acked = 0;
        self.resume_id = None;
        self.enabled = false;
        std::mem::take(&mut self.unacked)
    }
}

/// What an ack did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckOutcome {
    /// This many sends were acknowledged.
    Ok(usize),
    /// The server acknowledged more than was pending.
    TooHigh { claimed: usize, pending: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> (Unacked, oneshot::Receiver<Result<(), SendError>>) {
        let (tx, rx) = oneshot::channel();
        let stanza = Element::builder("message", "jabber:client")
            .attr("id".try_into().unwrap(), id)
            .build();
        (
            Unacked {
                stanza,
                done: Some(tx),
            },
            rx,
        )
    }

    #[test]
    fn acks_complete_the_oldest_sends() {
        let mut sm = StreamManagement::default();
        let (a, mut ra) = entry("a");
        let (b, mut rb) = entry("b");
        sm.sent(a);
        sm.sent(b);
        assert_eq!(sm.ack(1), AckOutcome::Ok(1));
        assert!(ra.try_recv().unwrap().is_ok());
        assert!(rb.try_recv().is_err(), "b is still pending");
        assert_eq!(sm.unacked.len(), 1);
    }

    #[test]
    fn counters_wrap_at_two_to_the_32() {
        let mut sm = StreamManagement {
            acked: u32::MAX - 1,
            inbound: u32::MAX,
            ..Default::default()
        };
        let (a, _ra) = entry("a");
        let (b, _rb) = entry("b");
        let (c, _rc) = entry("c");
        sm.sent(a);
        sm.sent(b);
        sm.sent(c);
        assert_eq!(sm.ack(1), AckOutcome::Ok(3), "MAX-1 -> 1 is three stanzas");
        sm.received();
        assert_eq!(sm.inbound, 0);
    }

    #[test]
    fn an_ack_larger_than_the_queue_is_clamped() {
        let mut sm = StreamManagement::default();
        let (a, mut ra) = entry("a");
        sm.sent(a);
        assert_eq!(
            sm.ack(5),
            AckOutcome::TooHigh {
                claimed: 5,
                pending: 1
            }
        );
        assert!(ra.try_recv().unwrap().is_ok());
        assert!(sm.unacked.is_empty());
        assert_eq!(
            sm.ack(6),
            AckOutcome::TooHigh {
                claimed: 1,
                pending: 0
            }
        );
    }
}
