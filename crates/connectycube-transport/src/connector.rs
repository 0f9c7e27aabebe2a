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

use bytes::Bytes;
use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::stream_features::StreamFeatures;

use crate::error::{ConnectError, StreamError};
use crate::session::Tracker;
use crate::stanza::Stanza;

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
    /// Stanzas from the server, in order (hot messages possibly read without a tree, see
    /// [`crate::stanza`]); an `Err` or the channel closing ends the stream.
    pub incoming: mpsc::Receiver<Result<Stanza, StreamError>>,
    /// Serialized elements to the server, in order; dropping the sender closes the stream
    /// cleanly.
    pub outgoing: mpsc::Sender<Outgoing>,
}

/// One element on its way to the server, serialized once by the session: the writer only
/// copies its bytes out, and then calls [`Outgoing::written`] so the send's stage says so.
/// The bytes are standalone XML (the element declares its namespace), as both a TCP stream
/// and an RFC 7395 WebSocket frame accept.
#[derive(Clone)]
pub struct Outgoing {
    bytes: Bytes,
    /// The send to tell once written, and whether writing settles it (no stream management).
    notify: Option<(Tracker, bool)>,
}

impl fmt::Debug for Outgoing {
    // The bytes are a stanza; their length is enough for a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl Outgoing {
    /// Serializes `element` (standalone, declaring its namespace).
    ///
    /// # Errors
    /// [`StreamError::Xml`] when the element cannot be serialized.
    pub fn serialize(element: &Element) -> Result<Self, StreamError> {
        Ok(Self::from_bytes(
            crate::xml_stream::element_to_bytes(element)?.freeze(),
        ))
    }

    pub(crate) fn from_bytes(bytes: Bytes) -> Self {
        Self {
            bytes,
            notify: None,
        }
    }

    pub(crate) fn tracked(bytes: Bytes, tracker: Tracker, settles: bool) -> Self {
        Self {
            bytes,
            notify: Some((tracker, settles)),
        }
    }

    /// The serialized element.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Tells the send it was written to the socket; the writer calls it after the write.
    pub fn written(self) {
        if let Some((tracker, settles)) = self.notify {
            tracker.written(settles);
        }
    }

    /// The bytes and the notice to give once written (the writer keeps the notice for after
    /// a batched write).
    pub fn into_parts(self) -> (Bytes, WriteNotice) {
        (self.bytes, WriteNotice(self.notify))
    }
}

/// What to tell the send once its bytes were written: see [`Outgoing::into_parts`].
#[derive(Debug)]
pub struct WriteNotice(Option<(Tracker, bool)>);

impl WriteNotice {
    /// Whether there is a send to tell.
    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }

    /// Tells the send it was written.
    pub fn written(self) {
        if let Some((tracker, settles)) = self.0 {
            tracker.written(settles);
        }
    }
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
