//! The chat session over a [`Connector`]: login and logout, stream management (XEP-0198) with
//! a handle per send, keepalive, and the reconnection manager.
//!
//! One task owns the session (`actor`); [`ChatConnection`] handles talk to it through a
//! channel, so concurrent calls are served in order: fifty `login()` calls at once open one
//! connection and all get its result. Each connection attempt has its own channels, so
//! nothing from an old connection reaches a new one.

mod actor;
mod handle;
mod negotiate;
mod settings;
mod sm;
mod state;
#[cfg(test)]
mod tests;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use minidom::Element;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::wrappers::WatchStream;
use xmpp_parsers::jid::FullJid;

pub use handle::{SendError, SendHandle};
pub use settings::SessionSettings;
pub use state::ConnectionState;

use crate::connector::{BoxFuture, Connector, Credentials};
use crate::error::ConnectError;
use actor::{Actor, Command};

/// Gives the credentials for each connection attempt (a session token may have been renewed).
pub type CredentialsProvider =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Credentials, String>> + Send + Sync>;

/// Why `login()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The server refused the credentials (its SASL condition); never retried.
    #[error("authentication failed: {0}")]
    Authentication(String),
    /// The server could not be reached or the stream broke (retryable).
    #[error("could not connect: {0}")]
    Connect(String),
    /// Setting the session up failed (resource bind refused, stream closed).
    #[error("session setup failed: {0}")]
    Setup(String),
    /// The resource is in use and the server will not replace it; never retried.
    #[error("resource conflict: {0}")]
    Conflict(String),
    /// The credentials provider failed.
    #[error("no credentials: {0}")]
    Credentials(String),
    /// Login took longer than the configured timeout.
    #[error("login timed out")]
    Timeout,
    /// `logout()` or `destroy()` was called while logging in.
    #[error("the session was closed while logging in")]
    Closed,
}

impl LoginError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Setup(_) | Self::Timeout)
    }
}

impl From<ConnectError> for LoginError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::AuthenticationFailure { condition } => Self::Authentication(condition),
            other => Self::Connect(other.to_string()),
        }
    }
}

impl From<negotiate::SetupError> for LoginError {
    fn from(e: negotiate::SetupError) -> Self {
        if e.is_fatal() {
            Self::Conflict(e.to_string())
        } else {
            Self::Setup(e.to_string())
        }
    }
}

/// Why an IQ request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IqError {
    /// The request could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// No answer came in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// A chat session: cheap to clone, every clone drives the same session.
#[derive(Clone)]
pub struct ChatConnection {
    /// Unbounded so `send` neither blocks nor reorders: a bounded queue would need a task per
    /// overflowing send, and such tasks overtake each other. Commands are few and small next
    /// to the stanzas they carry, which the caller produced anyway.
    commands: mpsc::UnboundedSender<Command>,
    state: watch::Receiver<ConnectionState>,
    jid: watch::Receiver<Option<FullJid>>,
}

impl fmt::Debug for ChatConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatConnection")
            .field("state", &*self.state.borrow())
            .field("jid", &*self.jid.borrow())
            .finish_non_exhaustive()
    }
}

/// Stanzas from the server, in order, for the app (stream-management traffic, answers to
/// the session's own IQs and server pings are handled inside).
#[derive(Debug)]
pub struct Incoming(mpsc::UnboundedReceiver<Element>);

impl Stream for Incoming {
    type Item = Element;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Element>> {
        self.0.poll_recv(cx)
    }
}

impl Incoming {
    /// The next stanza; `None` once the session and every handle are gone.
    pub async fn recv(&mut self) -> Option<Element> {
        self.0.recv().await
    }
}

impl ChatConnection {
    /// A session that logs in with fixed credentials. Call [`ChatConnection::login`] to connect.
    pub fn new(
        connector: impl Connector,
        credentials: Credentials,
        settings: SessionSettings,
    ) -> (Self, Incoming) {
        let provider: CredentialsProvider = Arc::new(move || {
            let c = credentials.clone();
            Box::pin(async move { Ok(c) })
        });
        Self::with_credentials_provider(connector, provider, settings)
    }

    /// A session that asks `provider` for credentials before every connection attempt.
    pub fn with_credentials_provider(
        connector: impl Connector,
        provider: CredentialsProvider,
        settings: SessionSettings,
    ) -> (Self, Incoming) {
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (state_tx, state) = watch::channel(ConnectionState::Idle);
        let (jid_tx, jid) = watch::channel(None);
        let (inbound, inbound_rx) = mpsc::unbounded_channel();
        let actor = Actor {
            connector: Arc::new(connector),
            credentials: provider,
            settings,
            state: state_tx,
            jid: jid_tx,
            inbound,
            commands,
            sm: Default::default(),
            queued: Default::default(),
            pending_iqs: Default::default(),
            login_waiters: Vec::new(),
        };
        tokio::spawn(actor.run());
        let conn = Self {
            commands: commands_tx,
            state,
            jid,
        };
        (conn, Incoming(inbound_rx))
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).ok()?;
        rx.await.ok()
    }

    /// Connects and logs in; returns at once when already connected.
    ///
    /// # Errors
    /// [`LoginError`]: refused credentials, unreachable server, timeout, or closed meanwhile.
    pub async fn login(&self) -> Result<(), LoginError> {
        self.ask(Command::Login)
            .await
            .unwrap_or(Err(LoginError::Closed))
    }

    /// Closes the session; unacknowledged sends fail with [`SendError::Closed`]. No reconnection
    /// follows. Idempotent.
    pub async fn logout(&self) {
        let _ = self.ask(Command::Logout).await;
    }

    /// Logs out and stops the session for good: every later call fails as closed.
    pub async fn destroy(&self) {
        self.logout().await;
        let _ = self.ask(Command::Destroy).await;
    }

    /// Logs out if needed, then logs in again (e.g. after the network came back).
    ///
    /// # Errors
    /// As [`ChatConnection::login`].
    pub async fn relogin(&self) -> Result<(), LoginError> {
        if !matches!(
            self.state(),
            ConnectionState::Ready | ConnectionState::Resumed
        ) {
            self.logout().await;
        }
        self.login().await
    }

    /// Sends a stanza; the handle completes when the server acknowledged it. While
    /// reconnecting, the stanza waits in a bounded queue. Never blocks; stanzas go out in the
    /// order of the calls.
    pub fn send(&self, stanza: Element) -> SendHandle {
        let (handle, done) = SendHandle::new();
        match self.commands.send(Command::Send(stanza, done)) {
            Ok(()) => handle,
            Err(_) => SendHandle::failed(SendError::Closed),
        }
    }

    /// Sends an IQ request (with an `id`) and waits for its answer (`result` or `error`).
    ///
    /// # Errors
    /// [`IqError::Timeout`] when no answer comes within `timeout`; [`IqError::Send`] when the
    /// request could not be sent.
    pub async fn request(&self, iq: Element, timeout: Duration) -> Result<Element, IqError> {
        let answer = tokio::time::timeout(timeout, self.ask(|tx| Command::Iq(iq, tx))).await;
        match answer {
            Ok(Some(result)) => result,
            Ok(None) => Err(IqError::Send(SendError::Closed)),
            Err(_) => Err(IqError::Timeout(timeout)),
        }
    }

    /// Pings the server and returns the round-trip time.
    ///
    /// # Errors
    /// As [`ChatConnection::request`].
    pub async fn ping_with_timeout(&self, timeout: Duration) -> Result<Duration, IqError> {
        let id = format!("ping-{}", connectycube_protocol::ids::ObjectId::generate());
        let started = std::time::Instant::now();
        self.request(connectycube_protocol::iq::ping::request(id, None), timeout)
            .await?;
        Ok(started.elapsed())
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        *self.state.borrow()
    }

    /// The state now and every change after it.
    pub fn state_changes(&self) -> impl Stream<Item = ConnectionState> + use<> {
        WatchStream::new(self.state.clone())
    }

    /// A watch of the state, for `changed().await` loops.
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Our full JID while connected.
    pub fn jid(&self) -> Option<FullJid> {
        self.jid.borrow().clone()
    }
}
