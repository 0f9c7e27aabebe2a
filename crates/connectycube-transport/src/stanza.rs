//! What the connection hands the session and the app: a stanza as a tree, or a hot message
//! already read into its [`ChatEvent`] without one.
//!
//! Chat and group chat messages, markers and typing are read straight from the parser's
//! events (`connectycube_protocol::fast`); building the tree and taking it apart again cost
//! several times the parse (docs/PERFORMANCE.md, "Stanza codec"). The events are kept with
//! the event, so a reader that wants the tree ([`Stanza::into_element`],
//! [`crate::session::Incoming::recv`]) still gets exactly the element it always got.

use connectycube_protocol::ChatEvent;
use minidom::Element;
use xso::exports::rxml::{AttrMap, Event, QName};
use xso::minidom_compat::ElementFromEvents;
use xso::{Context, FromEventsBuilder};

use crate::error::StreamError;

/// One stanza from the server.
#[derive(Debug)]
#[non_exhaustive]
pub enum Stanza {
    /// Any stanza or nonza, as a tree (boxed: every connection's inbound channel allocates
    /// its slots up front, and a tree inline made each slot 112 bytes).
    Element(Box<Element>),
    /// A chat or group chat message, a marker or typing, read without a tree; what
    /// `connectycube_protocol::classify` gives for its tree.
    Read(Box<ReadStanza>),
}

impl From<Element> for Stanza {
    fn from(el: Element) -> Self {
        Self::Element(Box::new(el))
    }
}

impl Stanza {
    /// The stanza as a tree (built now from the kept events for a read one).
    ///
    /// # Errors
    /// [`StreamError::Xml`] if the kept events do not make an element, which the parser that
    /// produced them rules out.
    pub fn into_element(self) -> Result<Element, StreamError> {
        match self {
            Self::Element(el) => Ok(*el),
            Self::Read(r) => r.into_element(),
        }
    }

    /// The top-level element's name (`message`, `iq`, `presence`, or a nonza's).
    pub fn name(&self) -> &str {
        match self {
            Self::Element(el) => el.name(),
            Self::Read(r) => r.start.1.as_str(),
        }
    }

    /// The tree, if this stanza is one.
    pub fn as_element(&self) -> Option<&Element> {
        match self {
            Self::Element(el) => Some(el),
            Self::Read(_) => None,
        }
    }
}

/// A hot message read from the parser's events: its event, and the events themselves.
#[derive(Debug)]
pub struct ReadStanza {
    event: ChatEvent,
    start: QName,
    attrs: AttrMap,
    /// Every event after the start, the end included.
    events: Vec<Event>,
}

impl ReadStanza {
    pub(crate) fn new(event: ChatEvent, start: QName, attrs: AttrMap, events: Vec<Event>) -> Self {
        Self {
            event,
            start,
            attrs,
            events,
        }
    }

    /// The event the message reads as.
    pub fn event(&self) -> &ChatEvent {
        &self.event
    }

    /// The event, dropping the kept events.
    pub fn into_event(self) -> ChatEvent {
        self.event
    }

    /// The message as a tree, built from the kept events as the parser builds every other.
    ///
    /// # Errors
    /// As [`Stanza::into_element`].
    pub fn into_element(self) -> Result<Element, StreamError> {
        let event = self.event;
        Self::build(self.start, self.attrs, self.events).or_else(|e| {
            // The parser's own events always make an element; were they not to, the message
            // was read all the same (and counted for the server's acks): its event written
            // back is the tree, rather than losing it.
            tracing::warn!(error = %e, "a read message's events made no element; using its event");
            event.to_element().map_err(|_| e)
        })
    }

    fn build(start: QName, attrs: AttrMap, events: Vec<Event>) -> Result<Element, StreamError> {
        let mut builder = ElementFromEvents::new(start, attrs);
        for event in events {
            if let Some(el) = builder
                .feed(event, &Context::empty())
                .map_err(StreamError::xml_from)?
            {
                return Ok(el);
            }
        }
        Err(StreamError::xml("a read stanza without its end"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml_stream::{StreamLimits, parse_stanza_with_limits};

    /// Kept events that make no element (never from the parser) still give the message: its
    /// event written back, not a loss after it was counted for the server's acks.
    #[test]
    fn a_read_message_whose_events_break_is_built_from_its_event() {
        let xml = "<message xmlns='jabber:client' id='5c094687e588ce59fff87425' \
                   from='2-1@localhost/r' to='1-1@localhost' type='chat'><body>hi</body></message>";
        let stanza = parse_stanza_with_limits(xml.as_bytes(), StreamLimits::new(1 << 20), true);
        let Ok(Stanza::Read(mut read)) = stanza else {
            panic!("a plain chat message is read without a tree: {stanza:?}");
        };
        let whole = read.event().to_element().map_err(|e| e.to_string());
        read.events.pop(); // the end of the message
        assert_eq!(read.into_element().map_err(|e| e.to_string()), whole);
    }
}
