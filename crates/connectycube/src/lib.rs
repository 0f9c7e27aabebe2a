//! ConnectyCube chat SDK for Rust: log in, open dialogs and exchange messages in real time.
//!
//! [`ChatClient`] is the high-level API over the layers it re-exports: [`protocol`] (stanzas,
//! identifiers, the chat model; no I/O), [`transport`] (the TLS XMPP session with stream
//! management and reconnection) and [`rest`] (the REST API).
//!
//! ```no_run
//! use connectycube::{ChatClient, ChatConfig};
//! use connectycube::protocol::ids::{AppId, UserId};
//! use connectycube::protocol::model::Message;
//! use connectycube::transport::config::ConnectionConfig;
//! use connectycube::transport::session::SessionSettings;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ChatConfig {
//!     connection: ConnectionConfig::connectycube(),
//!     app_id: AppId(105),
//!     user: UserId(4448514),
//!     password: "awesomepwd".into(),
//!     settings: SessionSettings::default(),
//! };
//! let (client, mut events) = ChatClient::new(config)?;
//! client.login().await?;
//! client.send_private(UserId(56), &Message::new("hello"))?.await?;
//! while let Some(event) = events.next().await {
//!     println!("{:?}", event?.kind());
//! }
//! # Ok(())
//! # }
//! ```

mod chat;

pub use chat::{ChatClient, ChatConfig, ChatEvents};

/// Stanzas, identifiers and the chat model (no I/O).
pub use connectycube_protocol as protocol;
/// The REST client.
pub use connectycube_rest as rest;
/// The XMPP connection.
pub use connectycube_transport as transport;

/// What can go wrong in the high-level API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A stanza could not be built (bad custom property name, unwritable text).
    #[error(transparent)]
    Build(#[from] protocol::message::BuildError),
    /// A JID could not be built from the configured host.
    #[error(transparent)]
    Address(#[from] protocol::address::AddressError),
    /// A stanza from the server did not read as expected.
    #[error(transparent)]
    Protocol(#[from] protocol::message::ParseError),
    /// A stanza from the server could not be read at all; it is kept in the error.
    #[error(transparent)]
    Unreadable(#[from] protocol::UnreadableStanza),
    /// The connection configuration is unusable.
    #[error(transparent)]
    Connect(#[from] transport::error::ConnectError),
    /// An IQ request got no answer.
    #[error(transparent)]
    Iq(#[from] transport::session::IqError),
    /// The server answered with an error.
    #[error("the server refused the request: {0}")]
    Refused(String),
}
