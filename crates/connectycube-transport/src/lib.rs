//! The XMPP connection to ConnectyCube chat: TLS (rustls over tokio), login, stream management
//! and the reconnection manager. Work in progress: see issue 3.

pub mod connector;
pub mod error;
