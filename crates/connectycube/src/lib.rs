//! ConnectyCube chat SDK for Rust: log in, open dialogs and exchange messages in real time.
//!
//! [`ChatClient`] is the high-level API over the layers it re-exports: [`protocol`] (stanzas,
//! identifiers, the chat model; no I/O), [`transport`] (the TLS XMPP session with stream
//! management and reconnection) and [`rest`] (the REST API).
//!
//! ```no_run
//! use connectycube::{ChatClient, ChatConfig, DeliverySettings};
//! use connectycube::protocol::ids::{AppId, UserId};
//! use connectycube::protocol::model::Message;
//! use connectycube::transport::config::ConnectionConfig;
//! use connectycube::transport::session::SessionSettings;
//!
//! # async fn run() -> Result<(), connectycube::Error> {
//! let config = ChatConfig {
//!     connection: ConnectionConfig::connectycube(),
//!     app_id: AppId(105),
//!     user: UserId(4448514),
//!     password: "awesomepwd".into(),
//!     settings: SessionSettings::default(),
//!     delivery: DeliverySettings::default(),
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

mod app;
mod attachments;
mod chat;
mod delivery;
mod dialog;
mod dialogs;
mod error;
mod events;

pub use app::{AppConfig, ChatAuth, Client, Session};
pub use attachments::FileProgress;
pub use chat::{BLOCK_LIST, ChatClient, ChatConfig, Peer};
/// Privacy-list building blocks: rules and lists for [`ChatClient::create_privacy_list`].
pub mod privacy {
    pub use crate::chat::{allow, deny, privacy_list};
}
pub use delivery::{DeliverySettings, DeliveryStats};
pub use dialog::{Dialog, History};
pub use error::Error;
pub use events::{ChatEvents, EventItem, Received};

/// Stanzas, identifiers and the chat model (no I/O).
pub use connectycube_protocol as protocol;
/// The REST client.
pub use connectycube_rest as rest;
/// The XMPP connection.
pub use connectycube_transport as transport;
