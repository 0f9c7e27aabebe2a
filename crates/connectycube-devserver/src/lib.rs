//! A local stand-in for the ConnectyCube cloud: the REST API and real-time chat on SQLite, so
//! apps (and this SDK's own tests) run end to end offline, on 127.0.0.1 only.
//!
//! `store` keeps everything in SQLite (in memory by default, a file to survive restarts);
//! `rest` answers the documented REST API; `chat` is the XMPP server (direct TLS, STARTTLS,
//! WebSocket) with ConnectyCube's semantics on top.

pub mod chat;
pub mod push;
pub mod rest;
pub mod store;
pub mod tls;
