//! The XMPP connection to ConnectyCube chat: TLS (rustls over tokio), login, stream management
//! and the reconnection manager. Work in progress: see issue 3.

pub mod config;
pub mod connector;
pub mod connectors;
pub mod error;
pub mod sasl;
pub mod tls;
#[cfg(feature = "websocket")]
pub mod websocket;
pub mod xml_stream;
