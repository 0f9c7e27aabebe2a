//! Message stanzas: chat and group chat messages with `extraParams`, markers, chat states,
//! edits, deletions, reactions, system messages, errors, carbons and delayed delivery.
//!
//! Every element is built and parsed (a local server reads what clients send). ConnectyCube's own
//! elements are xso derives; standard ones come from xmpp-parsers where its types fit.

pub mod attachment;
pub mod carbons;
pub mod chat_state;
pub mod delete;
pub mod edit;
pub mod envelope;
pub mod error;
pub mod extra_params;
pub mod markers;
pub mod reactions;
pub mod system;

pub(crate) mod borrowed;
pub(crate) mod chat;
pub(crate) mod parts;
pub(crate) mod tree;

pub use chat::ChatKind;
pub use envelope::{Carbon, CarbonDirection, Delayed, Envelope};
pub use extra_params::ExtraParams;

use crate::address::AddressError;

/// Namespaces of the message-side elements.
pub mod ns {
    /// The client stream namespace; ConnectyCube's `extraParams` and `reactions` live in it.
    pub const JABBER_CLIENT: &str = "jabber:client";
    /// XEP-0333 chat markers.
    pub const CHAT_MARKERS: &str = "urn:xmpp:chat-markers:0";
    /// XEP-0308 last message correction.
    pub const MESSAGE_CORRECT: &str = "urn:xmpp:message-correct:0";
    /// ConnectyCube message deletion.
    pub const MESSAGE_DELETE: &str = "urn:xmpp:message-delete:0";
    /// XEP-0085 chat states.
    pub const CHATSTATES: &str = "http://jabber.org/protocol/chatstates";
    /// XEP-0280 message carbons.
    pub const CARBONS: &str = "urn:xmpp:carbons:2";
    /// XEP-0297 forwarding.
    pub const FORWARD: &str = "urn:xmpp:forward:0";
    /// XEP-0203 delayed delivery.
    pub const DELAY: &str = "urn:xmpp:delay";
    /// RFC 6120 stanza error conditions and text.
    pub const XMPP_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
}

/// A message stanza, or a part of one, that does not read as ConnectyCube sends it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// An element is malformed for its type (missing attribute, bad id, bad number...).
    #[error("malformed element: {0}")]
    Element(#[from] xso::error::FromElementError),
    /// A text or attribute value failed to parse.
    #[error("malformed value: {0}")]
    Value(#[from] xso::error::Error),
    /// A known `extraParams` child has a bad value.
    #[error(transparent)]
    Param(#[from] extra_params::BadParam),
    /// An address is not a ConnectyCube user, room or occupant JID.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The stanza lacks something its kind needs.
    #[error("{0}")]
    Missing(&'static str),
}

/// A value that cannot be written as a stanza.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A custom property name is not an XML element name.
    #[error("custom property name `{0}` is not an XML name")]
    PropertyName(String),
    /// A custom property nests deeper than the writers follow (64 levels).
    #[error("custom property `{0}` nests too deep")]
    TooDeep(String),
    /// A text holds characters that XML 1.0 cannot carry (most control characters).
    #[error("`{field}` holds a character XML cannot carry (U+{code:04X})")]
    Text {
        /// Where the text goes.
        field: String,
        /// The first bad character.
        code: u32,
    },
}

/// Whether XML 1.0 can carry `c` (its `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Rejects text that would make the serialized stanza unreadable.
pub(crate) fn check_text(field: &str, s: &str) -> Result<(), BuildError> {
    match s.chars().find(|&c| !is_xml_char(c)) {
        None => Ok(()),
        Some(c) => Err(BuildError::Text {
            field: field.chars().take(64).collect(),
            code: c as u32,
        }),
    }
}
