//! ConnectyCube chat as typed values: identifiers, addresses, the message and dialog model, and
//! (in later modules) every stanza the chat exchanges. No I/O: bring your own transport, or use
//! `connectycube-transport`.
//!
//! ```
//! use connectycube_protocol::address::ChatDomain;
//! use connectycube_protocol::ids::{AppId, UserId};
//! use connectycube_protocol::model::Message;
//!
//! let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
//! let jid = domain.user_jid(UserId(4448514)).unwrap();
//! assert_eq!(jid.to_string(), "4448514-105@chat.connectycube.com");
//! let message = Message::new("hello");
//! assert!(message.markable);
//! ```

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
