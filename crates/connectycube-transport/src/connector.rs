//! The seam between opening a connection and running a chat session over it.
//!
//! A [`Connector`] opens a socket (direct TLS, STARTTLS or WebSocket), negotiates TLS and SASL
//! and restarts the stream; it hands back an [`AuthenticatedStream`]: the post-authentication
//! stream features and two channels of XML elements. Everything after that (resource bind or
//! XEP-0198 resumption, carbons, presence, acks, reconnection) is the session's job, so the
//! session logic can be tested over in-memory channels with no socket at all.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::stream_features::StreamFeatures;

use crate::error::{ConnectError, StreamError};

/// The account to log in as. The password may be a user password or a REST session token.
#[derive(Clone)]
pub struct Credentials {
    /// The bare JID, `{user_id}-{app_id}@{host}`.
    pub jid: BareJid,
    /// The password or session token; never printed.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("jid", &self.jid)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A stream that passed TLS and SASL and was restarted: ready for bind or resumption.
#[derive(Debug)]
pub struct AuthenticatedStream {
    /// The features the server offered after authentication (bind, `urn:xmpp:sm:3`, ...).
    pub features: StreamFeatures,
    /// Elements from the server, in order; an `Err` or the channel closing ends the stream.
    pub incoming: mpsc::Receiver<Result<Element, StreamError>>,
    /// Elements to the server, in order; dropping the sender closes the stream cleanly.
    pub outgoing: mpsc::Sender<Element>,
}

/// A boxed future, as object-safe traits need.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Opens authenticated streams; called once per connection attempt.
pub trait Connector: Send + Sync + 'static {
    /// Connects and authenticates with `credentials`.
    fn connect<'a>(
        &'a self,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<AuthenticatedStream, ConnectError>>;
}
