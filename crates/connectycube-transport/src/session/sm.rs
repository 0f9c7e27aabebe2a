//! XEP-0198 bookkeeping: what the server has acknowledged, what it has not, and how many
//! stanzas we handled. Counters wrap at 2^32 (the XEP's arithmetic, as RFC 1982).
//!
//! The books are defended: an `h` from the server that goes backwards or claims more than
//! we sent changes nothing ([`AckError`]); the session then closes the stream with
//! `<handled-count-too-high/>` and resends on the next one.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use minidom::Element;
use tokio::sync::OwnedSemaphorePermit;

use super::errors::Bounce;
use super::handle::Tracker;
use crate::connector::Outgoing;
use crate::error::StreamError;

/// One serialized stanza of ours: waiting for a connection, or sent and not yet acknowledged.
#[derive(Debug)]
pub(crate) struct Unacked {
    /// The stanza as serialized once at `send`: written as is, and again after a drop.
    pub bytes: Bytes,
    /// Whether it is a `<message>` (only messages go again after a fresh session).
    pub is_message: bool,
    /// A message's id, to correlate a bounce.
    pub id: Option<Box<str>>,
    /// Who waits for the outcome.
    pub tracker: Option<Tracker>,
    /// A place in the paced-send window, given back when the send settles.
    pub permit: Option<OwnedSemaphorePermit>,
    /// How many times it was sent again after a transient bounce.
    pub retries: u32,
}

/// A message of ours that bounced, taken out of the books: the session resends or settles it.
#[derive(Debug)]
pub(crate) struct BouncedSend {
    /// The message id.
    pub id: Box<str>,
    /// Who waits for the outcome.
    pub tracker: Tracker,
    /// The message as sent.
    pub bytes: Bytes,
    /// Resends so far.
    pub retries: u32,
    /// Why it bounced.
    pub bounce: Bounce,
}

impl BouncedSend {
    /// The message as a send to go out again (same bytes, same id, same handle).
    pub fn into_resend(self) -> Unacked {
        Unacked {
            bytes: self.bytes,
            is_message: true,
            id: Some(self.id),
            tracker: Some(self.tracker),
            permit: None,
            retries: self.retries + 1,
        }
    }
}

impl Unacked {
    /// Serializes `el`; nothing is counted or written when this fails.
    pub fn serialize(el: &Element) -> Result<Self, StreamError> {
        let out = Outgoing::serialize(el)?;
        let is_message = el.name() == "message";
        Ok(Self {
            bytes: out.bytes().clone(),
            is_message,
            id: is_message.then(|| el.attr("id").map(Box::from)).flatten(),
            tracker: None,
            permit: None,
            retries: 0,
        })
    }

    /// A message whose handle moved to a scheduled resend (it bounced before the ack): it
    /// stays counted until acknowledged, but never goes again itself.
    pub fn bounced(&self) -> bool {
        self.is_message && self.id.is_some() && self.tracker.is_none()
    }

    /// The element for the writer; `settles` when writing it is all the confirmation it gets.
    pub fn outgoing(&self, settles: bool) -> Outgoing {
        match &self.tracker {
            Some(t) => Outgoing::tracked(self.bytes.clone(), t.clone(), settles),
            None => Outgoing::from_bytes(self.bytes.clone()),
        }
    }
}

/// Why an `h` from the server was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AckError {
    /// The server's `h`.
    pub h: u32,
    /// Our count of stanzas sent (what a valid `h` may reach at most).
    pub sent: u32,
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
    /// Stanzas counted since the session started (for "were new stanzas sent?").
    pub sent_total: u64,
    /// Acknowledged messages, by id, for a bounce that comes after the ack.
    pub recent: RecentSends,
}

impl StreamManagement {
    /// Records a stanza we sent.
    pub fn sent(&mut self, entry: Unacked) {
        self.sent_total += 1;
        self.unacked.push_back(entry);
    }

    /// Our count of stanzas sent in this SM session (what the server's `h` may reach).
    pub fn sent_count(&self) -> u32 {
        // Truncation is the XEP's arithmetic: counters are modulo 2^32.
        self.acked.wrapping_add(self.unacked.len() as u32)
    }

    /// Applies the server's `h`: completes the acknowledged sends and returns how many. An `h`
    /// that goes backwards or beyond what was sent changes nothing.
    pub fn ack(&mut self, h: u32) -> Result<usize, AckError> {
        let newly = h.wrapping_sub(self.acked) as usize;
        if newly > self.unacked.len() {
            return Err(AckError {
                h,
                sent: self.sent_count(),
            });
        }
        for entry in self.unacked.drain(..newly) {
            if let Some(tracker) = entry.tracker {
                tracker.acked();
                if let Some(id) = entry.id {
                    self.recent.insert(id, tracker, entry.bytes, entry.retries);
                }
            }
        }
        self.acked = h;
        Ok(newly)
    }

    /// The one rule for our `h`: with stream management on, an inbound `<message/>`,
    /// `<presence/>` or `<iq/>` counts; nonzas and any other element never do (XEP-0198
    /// section 4). Returns whether `el` counted.
    pub fn received(&mut self, name: &str) -> bool {
        let counts = self.enabled && matches!(name, "message" | "presence" | "iq");
        if counts {
            self.inbound = self.inbound.wrapping_add(1);
        }
        counts
    }

    /// Takes the send with message id `id` out of the books as bounced: still
    /// unacknowledged (it stays counted, without its handle: the server's ack of it no longer
    /// settles the handle) or recently acked.
    pub fn bounce(&mut self, id: &str, error: &Element) -> Option<BouncedSend> {
        if let Some(entry) = self
            .unacked
            .iter_mut()
            .find(|e| e.id.as_deref() == Some(id) && e.tracker.is_some())
        {
            entry.permit = None;
            return Some(BouncedSend {
                id: id.into(),
                tracker: entry.tracker.take()?,
                bytes: entry.bytes.clone(),
                retries: entry.retries,
                bounce: Bounce::from_error_stanza(error, false),
            });
        }
        let (tracker, bytes, retries) = self.recent.remove(id)?;
        Some(BouncedSend {
            id: id.into(),
            tracker,
            bytes,
            retries,
            bounce: Bounce::from_error_stanza(error, true),
        })
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

/// A bounded window of recently acknowledged messages (id to its handle), oldest evicted
/// first: ejabberd bounces a message after acking it when the recipient's session ends.
#[derive(Debug)]
pub(crate) struct RecentSends {
    by_id: HashMap<Box<str>, (Tracker, Bytes, u32)>,
    order: VecDeque<Box<str>>,
    capacity: usize,
}

impl Default for RecentSends {
    fn default() -> Self {
        Self::with_capacity(super::settings::DEFAULT_RECENT_SENDS)
    }
}

impl RecentSends {
    /// A window of `capacity` messages (0 keeps none).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn insert(&mut self, id: Box<str>, tracker: Tracker, bytes: Bytes, retries: u32) {
        if self.capacity == 0 {
            return;
        }
        while self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
        if self
            .by_id
            .insert(id.clone(), (tracker, bytes, retries))
            .is_none()
        {
            self.order.push_back(id);
        }
    }

    fn remove(&mut self, id: &str) -> Option<(Tracker, Bytes, u32)> {
        // The window's order keeps the id until it is evicted; a stale entry costs nothing.
        self.by_id.remove(id)
    }

    /// How many messages the window holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::handle::{SendHandle, SendStage};

    fn entry(id: &str) -> (Unacked, SendHandle) {
        let (handle, tracker) = SendHandle::new();
        let stanza = Element::builder("message", "jabber:client")
            .attr("id".try_into().unwrap(), id)
            .build();
        let mut e = Unacked::serialize(&stanza).unwrap();
        e.tracker = Some(tracker);
        (e, handle)
    }

    #[test]
    fn acks_complete_the_oldest_sends() {
        let mut sm = StreamManagement::default();
        let (a, ha) = entry("a");
        let (b, hb) = entry("b");
        sm.sent(a);
        sm.sent(b);
        assert_eq!(sm.ack(1), Ok(1));
        assert!(matches!(ha.stage(), SendStage::Acked));
        assert!(
            matches!(hb.stage(), SendStage::Queued),
            "b is still pending"
        );
        assert_eq!(sm.unacked.len(), 1);
        assert_eq!(sm.recent.len(), 1, "a is kept for a later bounce");
    }

    #[test]
    fn counters_wrap_at_two_to_the_32() {
        let mut sm = StreamManagement {
            acked: u32::MAX - 1,
            inbound: u32::MAX,
            ..Default::default()
        };
        for id in ["a", "b", "c"] {
            sm.sent(entry(id).0);
        }
        assert_eq!(sm.ack(1), Ok(3), "MAX-1 -> 1 is three stanzas");
        sm.enabled = true;
        let message: Element = "<message xmlns='jabber:client'/>".parse().unwrap();
        assert!(sm.received(message.name()));
        assert_eq!(sm.inbound, 0);
    }

    #[test]
    fn only_stanzas_count_and_only_with_stream_management_on() {
        let el = |xml: &str| -> Element { xml.parse().unwrap() };
        let message = el("<message xmlns='jabber:client' id='m'/>");
        let mut sm = StreamManagement::default();
        assert!(!sm.received(message.name()), "off: nothing counts");
        sm.enabled = true;
        for stanza in [
            "<message xmlns='jabber:client'/>",
            "<presence xmlns='jabber:client'/>",
            "<iq xmlns='jabber:client' type='get' id='p'/>",
        ] {
            assert!(sm.received(el(stanza).name()), "{stanza}");
        }
        for other in [
            "<r xmlns='urn:xmpp:sm:3'/>",
            "<a xmlns='urn:xmpp:sm:3' h='1'/>",
            "<features xmlns='http://etherx.jabber.org/streams'/>",
            "<active xmlns='urn:xmpp:csi:0'/>",
        ] {
            assert!(!sm.received(el(other).name()), "{other}");
        }
        assert_eq!(sm.inbound, 3);
    }

    #[test]
    fn an_ack_beyond_what_was_sent_or_backwards_changes_nothing() {
        let mut sm = StreamManagement::default();
        let (a, ha) = entry("a");
        let (b, _hb) = entry("b");
        sm.sent(a);
        sm.sent(b);
        assert_eq!(sm.ack(5), Err(AckError { h: 5, sent: 2 }));
        assert!(
            matches!(ha.stage(), SendStage::Queued),
            "no handle completed falsely"
        );
        assert_eq!(sm.unacked.len(), 2);
        assert_eq!(sm.ack(1), Ok(1));
        assert_eq!(sm.ack(0), Err(AckError { h: 0, sent: 2 }), "backwards");
        assert_eq!(sm.unacked.len(), 1);
        assert_eq!(sm.ack(1), Ok(0), "the same h again is fine");
    }

    #[test]
    fn a_bounce_after_the_ack_reaches_the_handle() {
        let mut sm = StreamManagement::default();
        let (a, ha) = entry("a");
        sm.sent(a);
        sm.ack(1).unwrap();
        let error: Element =
            "<message xmlns='jabber:client' type='error' id='a'><error type='cancel'>\
            <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
                .parse()
                .unwrap();
        let bounced = sm.bounce("a", &error).unwrap();
        assert!(bounced.bounce.after_ack);
        bounced.tracker.bounced(bounced.bounce.clone());
        assert!(matches!(ha.stage(), SendStage::Bounced(b) if b.after_ack));
        assert!(sm.bounce("a", &error).is_none(), "once");
    }

    #[test]
    fn the_recent_window_is_bounded() {
        let mut w = RecentSends::with_capacity(2);
        for id in ["a", "b", "c"] {
            let (_h, t) = SendHandle::new();
            w.insert(id.into(), t, Bytes::new(), 0);
        }
        assert_eq!(w.len(), 2);
        assert!(w.remove("a").is_none(), "the oldest was evicted");
        assert!(w.remove("c").is_some());
    }
}
