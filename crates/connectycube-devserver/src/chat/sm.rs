//! XEP-0198 on the server side: counters (wrapping as RFC 1982 says) and the queue of stanzas
//! the client has not acknowledged yet.

use super::xml::Attr;
use std::collections::VecDeque;

use minidom::Element;

/// XEP-0198's namespace.
pub const NS: &str = "urn:xmpp:sm:3";

/// Stream management of one session.
#[derive(Debug, Clone, Default)]
pub struct SmState {
    /// The resumption id, when the client asked for resumption.
    pub id: Option<String>,
    /// Stanzas received from the client.
    pub h_in: u32,
    /// Stanzas sent to the client.
    pub h_out: u32,
    /// Sent and not yet acknowledged, oldest first; the last one is number `h_out`.
    pub unacked: VecDeque<Element>,
    /// An `<r/>` is out and unanswered.
    pub requested: bool,
    /// `h_out` when the last `<r/>` went out.
    pub requested_at: u32,
}

/// Stanzas sent since the last unanswered `<r/>` before asking again: a fast stream gets
/// acks often enough to stay far below the ack queue limit.
const REQUEST_EVERY: u32 = 100;

impl SmState {
    /// Counts one stanza sent and keeps it until acknowledged.
    pub fn sent(&mut self, el: Element) {
        self.h_out = self.h_out.wrapping_add(1);
        self.unacked.push_back(el);
    }

    /// The client acknowledged up to `h`: drops what it has. Returns `false` when `h` claims
    /// stanzas never sent (a protocol violation).
    pub fn ack(&mut self, h: u32) -> bool {
        let acked_before = self.h_out.wrapping_sub(self.unacked.len() as u32);
        let newly = h.wrapping_sub(acked_before);
        if newly as usize > self.unacked.len() {
            return false;
        }
        self.unacked.drain(..newly as usize);
        self.requested = false;
        true
    }

    /// Counts one stanza received.
    pub fn received(&mut self) {
        self.h_in = self.h_in.wrapping_add(1);
    }

    /// `<a h='…'/>` with our inbound count.
    pub fn answer(&self) -> Element {
        Element::builder("a", NS)
            .a("h", self.h_in.to_string())
            .build()
    }

    /// Whether to send an `<r/>` now: stanzas wait for an ack and none was asked for, or
    /// many were sent since the last request.
    pub fn should_request(&self) -> bool {
        !self.unacked.is_empty()
            && (!self.requested || self.h_out.wrapping_sub(self.requested_at) >= REQUEST_EVERY)
    }

    /// Notes an `<r/>` going out and returns it.
    pub fn request_sent(&mut self) -> Element {
        self.requested = true;
        self.requested_at = self.h_out;
        Element::builder("r", NS).build()
    }
}

/// `<failed>` with `condition` (XEP-0198 6.2), the answer to a resumption or enable refused.
pub(crate) fn sm_failed(condition: &str) -> Element {
    Element::builder("failed", NS)
        .append(Element::builder(condition, "urn:ietf:params:xml:ns:xmpp-stanzas").build())
        .build()
}

/// A stanza as XEP-0198 counts them.
pub(crate) fn is_stanza(el: &Element) -> bool {
    el.ns() == "jabber:client" && matches!(el.name(), "message" | "presence" | "iq")
}

/// Unacked stanzas and whatever still waits in the mailbox.
pub(crate) fn drain(
    sm: SmState,
    mailbox: Option<tokio::sync::mpsc::Receiver<super::router::Deliver>>,
) -> Vec<Element> {
    let mut out: Vec<Element> = sm.unacked.into_iter().collect();
    if let Some(mut m) = mailbox {
        m.close();
        while let Ok(d) = m.try_recv() {
            if let super::router::Deliver::Stanza(el) = d {
                out.push(el);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el() -> Element {
        Element::builder("message", "jabber:client").build()
    }

    #[test]
    fn acks_drop_from_the_front_across_wrap() {
        let mut sm = SmState {
            h_out: u32::MAX - 1,
            ..Default::default()
        };
        for _ in 0..4 {
            sm.sent(el());
        }
        assert_eq!(sm.h_out, 2);
        assert!(sm.ack(0));
        assert_eq!(sm.unacked.len(), 2);
        assert!(!sm.ack(5), "acking more than was sent");
        assert!(sm.ack(2));
        assert!(sm.unacked.is_empty());
    }
}
