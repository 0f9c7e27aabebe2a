//! The XMPP connection to ConnectyCube chat: TLS (rustls over tokio), login, stream management
//! and the reconnection manager that resumes the session after a drop.
//!
//! Connecting: [`config::ConnectionConfig`] says where and how (direct TLS as ConnectyCube's
//! port 5223, STARTTLS, or with the `websocket` feature RFC 7395 WebSocket);
//! [`connectors::XmppConnector`] opens the socket, verifies the certificate, logs in with SASL
//! PLAIN and hands back a [`connector::AuthenticatedStream`]: two channels of XML elements.
//!
//! ```no_run
//! use connectycube_transport::config::ConnectionConfig;
//! use connectycube_transport::connector::{Connector, Credentials};
//! use connectycube_transport::connectors::XmppConnector;
//! use xmpp_parsers::jid::BareJid;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let connector = XmppConnector::new(ConnectionConfig::connectycube())?;
//! let credentials = Credentials {
//!     jid: BareJid::new("26904594-29650@chat.connectycube.com")?,
//!     password: "secret".into(),
//! };
//! let stream = connector.connect(&credentials).await?;
//! assert!(stream.features.can_bind());
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
pub mod connector;
pub mod connectors;
pub mod error;
pub mod sasl;
pub mod session;
pub mod stanza;
pub mod tls;
#[cfg(feature = "websocket")]
pub mod websocket;
pub mod xml_stream;
