//! ConnectyCube chat SDK for Rust: a thin facade over the protocol, transport and REST layers.
//!
//! ```
//! use connectycube::protocol::ids::UserId;
//! assert_eq!("42".parse::<UserId>().unwrap(), UserId(42));
//! ```

/// Stanzas, identifiers and the chat model (no I/O).
pub use connectycube_protocol as protocol;
/// The REST client.
pub use connectycube_rest as rest;
/// The XMPP connection.
pub use connectycube_transport as transport;
