#![doc = include_str!("../README.md")]

pub mod address;
pub mod classify;
pub mod event;
pub mod ids;
pub mod iq;
pub mod message;
pub mod model;
pub mod muc;

pub use classify::{ClassifyError, UnreadableStanza, classify, classify_xml};
pub use event::ChatEvent;

pub use xmpp_parsers;
