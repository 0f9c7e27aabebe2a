//! The ConnectyCube REST API: every endpoint is a value implementing
//! [`endpoint::Endpoint`] (method, path, query, body, typed response, no sockets), and
//! [`RestClient`] sends any of them over hyper + rustls, keeping the session token, renewing an
//! expired session once and retrying only what is safe to retry.
//!
//! - [`session`]: create (login, email, guest, Facebook, Twitter, Firebase), read, destroy.
//! - [`login`]: log a user into an application session and out again.
//! - [`users`]: sign up, find (by ids and filters, login, email, name, tags, provider or
//!   external id), update, delete, password reset.
//! - [`chat`]: dialogs, messages, unread counts, reactions, system messages, global search.
//! - [`route`]: each endpoint's [`Metadata`] (method, path pattern, auth), declared once and
//!   listed in [`ROUTES`]: the client fills the pattern, a server matches requests against it.
//! - [`storage`]: files; [`RestClient::store_file`] creates one, streams its content from
//!   disk to the presigned upload form and declares it uploaded.
//!
//! Every documented request/response pair lives in `fixtures/http/` and is replayed through
//! the client by `cargo xtask replay http`.
//!
//! ```no_run
//! use connectycube_protocol::ids::AppId;
//! use connectycube_rest::chat::dialogs::ListDialogs;
//! use connectycube_rest::session::{CreateSession, Secret, SessionUser};
//! use connectycube_rest::storage::CreateBlob;
//! use connectycube_rest::{RestClient, RestConfig};
//!
//! # async fn run() -> Result<(), connectycube_rest::RestError> {
//! let user = SessionUser::Login {
//!     login: "john".into(),
//!     password: Secret("11111111".into()),
//! };
//! let login = CreateSession::new(AppId(1), "auth key", user);
//! let client = RestClient::new(RestConfig::new())?.renew_sessions_with(login.clone());
//! client.create_session(&login).await?;
//! let page = client.send(&ListDialogs::new().limit(50)).await?;
//! for dialog in page.items {
//!     println!("{} {:?}", dialog.id, dialog.name);
//! }
//! let photo = client
//!     .store_file("cat.jpeg", &CreateBlob::new("cat.jpeg", "image/jpeg"))
//!     .await?;
//! println!("attach file {}", photo.uid);
//! // Carries the session token: for an image view, not for a log.
//! let _link = client.private_url(&photo.uid)?;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod chat;
pub mod client;
pub mod data;
pub mod endpoint;
pub mod error;
pub mod login;
pub mod page;
pub mod push;
pub mod query;
mod renewal;
pub mod route;
pub mod session;
pub mod storage;
pub mod users;

pub use client::{RestClient, RestConfig};
pub use error::RestError;
pub use route::{Metadata, ROUTES};
