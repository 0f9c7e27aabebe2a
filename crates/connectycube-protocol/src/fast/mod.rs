//! The hot stanzas without a tree: chat and group chat messages, delivered and read markers
//! and typing are read from rxml's events ([`MessageReader`]) and written as text
//! ([`write_event`], [`crate::model::Message::write_stanza`]).
//!
//! Building a `minidom::Element` and taking it apart cost several times the XML parse itself
//! (docs/PERFORMANCE.md, "Stanza codec"); these readers and writers skip the tree. Everything
//! else, and any hot stanza in an unusual shape, keeps the tree and the xso types: the reader
//! answers [`Step::NotMine`] and the caller classifies the tree, so both readings give the
//! same event wherever the fast one answers (tested on every fixture, on generated stanzas
//! and in the fuzz target).

mod read;
mod write;

pub use read::{MAX_FAST_DEPTH, MessageReader, Step};
pub use write::write_event;

use xso::exports::rxml::{self, Event, Parse as _, WithOptions as _};

use crate::event::ChatEvent;

/// The largest input [`read_message`] looks at; a stanza this size is no everyday message.
pub const MAX_FAST_STANZA: usize = 256 * 1024;

/// Reads `xml`, one standalone `<message xmlns='jabber:client'>`, without a tree: `Some` is
/// the event [`crate::classify_xml`] gives for the same text; `None` when it is not a hot
/// stanza in its plain shape, not well-formed, or larger than [`MAX_FAST_STANZA`].
pub fn read_message(xml: &[u8]) -> Option<ChatEvent> {
    if xml.len() > MAX_FAST_STANZA {
        return None;
    }
    let mut parser = rxml::Parser::with_options(rxml::Options {
        // No token is longer than the input; rxml's 8 KiB default would refuse a long body.
        max_token_length: xml.len().max(1),
        ..rxml::Options::default()
    });
    let mut rest = xml;
    let mut reader = loop {
        match parser.parse(&mut rest, true).ok()?? {
            Event::XmlDeclaration(..) => {}
            Event::StartElement(_, (namespace, name), attrs) => {
                break MessageReader::start(&namespace, &name, &attrs)?;
            }
            _ => return None,
        }
    };
    loop {
        let event = parser.parse(&mut rest, true).ok()??;
        match reader.feed(&event) {
            Step::More => {}
            Step::Read(read) => {
                // Only the end of the document may follow.
                return matches!(parser.parse(&mut rest, true), Ok(None)).then_some(read);
            }
            Step::NotMine => return None,
        }
    }
}

#[cfg(test)]
mod tests;
