#![doc = include_str!("../README.md")]

pub mod address;
pub mod classify;
pub mod event;
pub mod fast;
pub mod ids;
pub mod iq;
pub mod message;
pub mod model;
pub mod muc;

pub use classify::{ClassifyError, UnreadableStanza, classify, classify_xml};
pub use event::ChatEvent;

/// The XMPP types this crate's stanzas are built on (`xmpp-parsers`), for `Element`, `Jid` and
/// the parsers; a link to that crate's own documentation, not a copy of it.
#[doc(no_inline)]
pub use xmpp_parsers;
