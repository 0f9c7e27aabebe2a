//! The ConnectyCube REST client for chat. Work in progress: see issue 4.
//!
//! Every endpoint is a value implementing [`endpoint::Endpoint`]; query strings are built with
//! [`query::Query`].

pub mod chat;
pub mod endpoint;
pub mod query;
