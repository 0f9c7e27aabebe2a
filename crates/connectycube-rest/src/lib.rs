//! The ConnectyCube REST API for chat: every endpoint is a value implementing
//! [`endpoint::Endpoint`] (method, path, query, body, typed response, no sockets), and
//! [`RestClient`] sends any of them over hyper + rustls, keeping the session token, renewing an
//! expired session once and retrying only what is safe to retry.
//!
//! ```no_run
//! use connectycube_rest::chat::dialogs::ListDialogs;
//! use connectycube_rest::{RestClient, RestConfig};
//!
//! # async fn run() -> Result<(), connectycube_rest::RestError> {
//! let client = RestClient::new(RestConfig::new())?;
//! client.set_token(Some("session token from POST /session".into()));
//! let page = client.send(&ListDialogs::new().limit(50)).await?;
//! for dialog in page.items {
//!     println!("{} {:?}", dialog.id, dialog.name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Not yet here (see issue 4): user and storage endpoints, and the streamed upload.

pub mod chat;
pub mod client;
pub mod endpoint;
pub mod error;
pub mod query;
pub mod session;
pub mod storage;
pub mod users;

pub use client::{RestClient, RestConfig};
pub use error::RestError;
