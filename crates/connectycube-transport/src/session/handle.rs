//! The handle a send returns: it completes when the server has the stanza, or fails.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

/// Why a send did not reach the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// `login()` was never called, or the session was closed.
    #[error("not connected: call login() first")]
    NotConnected,
    /// Too many sends are waiting for the connection to come back.
    #[error("the send queue is full ({0} stanzas wait for the connection)")]
    QueueFull(usize),
    /// Reconnection gave up (or was off) before the server acknowledged the stanza.
    #[error("the connection was lost and could not be restored: {0}")]
    ConnectionLost(String),
    /// `logout()` or `destroy()` closed the session before the stanza was acknowledged.
    #[error("the session was closed before the server acknowledged the stanza")]
    Closed,
    /// The server answered the stanza with an error (e.g. blocked by a privacy list).
    #[error("the server refused the stanza: {0}")]
    Refused(String),
    /// A stanza other than a message was unacknowledged when the session had to start afresh;
    /// only messages are sent again (an IQ or presence from the old session means nothing in
    /// the new one).
    #[error("the session restarted before the server acknowledged this non-message stanza")]
    SessionRestarted,
}

/// Completes with `Ok(())` once the server acknowledged the stanza (XEP-0198), which is the
/// "sent" status of a chat message; without stream management, once it was written out.
#[derive(Debug)]
#[must_use = "a send handle says whether the stanza reached the server"]
pub struct SendHandle {
    rx: oneshot::Receiver<Result<(), SendError>>,
}

impl SendHandle {
    pub(crate) fn new() -> (Self, oneshot::Sender<Result<(), SendError>>) {
        let (tx, rx) = oneshot::channel();
        (Self { rx }, tx)
    }

    pub(crate) fn failed(e: SendError) -> Self {
        let (handle, tx) = Self::new();
        let _ = tx.send(Err(e));
        handle
    }
}

impl Future for SendHandle {
    type Output = Result<(), SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(SendError::Closed)))
    }
}
