//! The chat session over a [`Connector`]: login and logout, stream management (XEP-0198) with
//! a handle per send, keepalive, and the reconnection manager.
//!
//! One task owns the session (`actor`); [`ChatConnection`] handles talk to it through a
//! channel, so concurrent calls are served in order: fifty `login()` calls at once open one
//! connection and all get its result. Each connection attempt has its own channels, so
//! nothing from an old connection reaches a new one.
//!
//! # Sends
//! A stanza is serialized once, in `send` on the caller's task; one that cannot be serialized
//! fails its own handle ([`SendError::Serialize`]) and is never counted. The session keeps the
//! bytes until the server acknowledges them and writes them again after a drop. The
//! [`SendHandle`] shows the [`SendStage`]; awaiting it waits for the ack. An error stanza
//! for a message id we sent, even after the ack, is correlated with the send: a transient
//! one ([`Bounce::is_transient`], e.g. ejabberd's "User session terminated" for a recipient
//! session it closed) makes it [`SendStage::Retrying`] and the session sends it again with
//! the same id after a doubling wait (`bounce_retries`); a final one makes it
//! [`SendStage::Bounced`] and is published on [`ChatConnection::bounces`] with what
//! [`ChatConnection::resend`] needs.
//!
//! # Backpressure
//! Inbound: the app's queue ([`Incoming`]) holds `inbound_capacity` stanzas; while it is
//! full the session holds as many again, still reading the socket, so acks and pings behind
//! them are served and a caller awaiting a [`SendHandle`] is not stuck behind an unread
//! queue. When the held stanzas reach the bound too, the session stops reading the socket
//! (the connection's reader then stops too, and TCP pushes back on the server). The trade-off:
//! an app that awaits send handles while never reading `Incoming` gets its acks only as long
//! as fewer than twice `inbound_capacity` stanzas arrive meanwhile; past that, acks wait
//! until the app reads (nothing is lost; the keepalive is not fooled, as the socket stays
//! quiet to us only while we choose not to read).
//!
//! Outbound: at most `max_in_flight` sends are unacknowledged; later ones wait in call order,
//! so a sender goes as fast as the server acknowledges and no faster. The server's acks say
//! only that it routed a message, not that its recipient read it: ejabberd closes a recipient
//! that falls `max_ack_queue` stanzas behind. That evidence comes from the recipients, so the
//! pacing by it is the facade's (`connectycube`'s `send_private_paced`, by their 'delivered'
//! markers). `max_send_rate` adds a fixed rate bound for programs that want one (off by
//! default: a fixed rate is too slow for a fast recipient and not safe for a slow one).
//! [`ChatConnection::send`] never waits (the queue behind it is the caller's burst);
//! [`ChatConnection::send_paced`] waits for room among `max_pending_sends` unsettled sends and
//! [`ChatConnection::try_send`] fails fast with [`SendError::QueueFull`].
//!
//! # States
//! [`ChatConnection::state_changes`] yields every transition in order, to every subscriber
//! (a bounded fan-out of 1,024 states per subscriber, its queue allocated as it fills; a
//! subscriber that falls further behind misses the newest, with a warning). A resumed session shows `Resumed` then `Ready`; a new session after a
//! drop shows `NewSession` then `Ready`.

mod actor;
mod errors;
mod fanout;
mod handle;
mod negotiate;
mod pace;
mod retry;
mod serve;
mod settings;
mod sm;
mod state;
#[cfg(test)]
mod tests;
mod written;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use connectycube_protocol::ChatEvent;
use connectycube_protocol::message::{BuildError, ChatKind};
use connectycube_protocol::model::Message;
use futures_util::{Stream, StreamExt};
use minidom::Element;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio_stream::wrappers::ReceiverStream;
use xmpp_parsers::jid::{FullJid, Jid};

pub use errors::{
    Bounce, Disconnect, LoginError, SendError, StanzaErrorCondition, StanzaErrorType,
};
pub(crate) use handle::Tracker;
pub use handle::{SendHandle, SendStage};
pub use negotiate::{MAX_SETUP_BYTES, MAX_SETUP_STANZAS, SETUP_HANDOVER, SetupError};
pub use settings::SessionSettings;
pub use state::{ConnectionState, StateChange};

use crate::connector::{BoxFuture, Connector, Credentials};
use crate::stanza::Stanza;
use actor::{Actor, Command, States};
use fanout::Fanout;
use sm::Unacked;

/// Gives the credentials for each connection attempt (a session token may have been renewed).
pub type CredentialsProvider =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Credentials, String>> + Send + Sync>;

/// How many state changes a slow subscriber may fall behind before missing the newest.
const STATE_EVENTS: usize = 1024;
/// How many bounces a slow subscriber may fall behind before missing the newest.
const BOUNCE_EVENTS: usize = 1024;

/// Why an IQ request got no answer.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum IqError {
    /// The request could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// No answer came in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// A message of ours that came back as an error stanza, keyed by its id.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Bounced {
    /// The message id.
    pub id: String,
    /// Why it bounced.
    pub bounce: Bounce,
    /// The message as sent, for [`ChatConnection::resend`] (same id).
    pub stanza: Bytes,
}

/// A chat session: cheap to clone, every clone drives the same session.
#[derive(Clone)]
pub struct ChatConnection {
    /// Unbounded so `send` neither blocks nor reorders: a bounded queue would need a task per
    /// overflowing send, and such tasks overtake each other. Commands are few and small next
    /// to the stanzas they carry, which the caller produced anyway.
    commands: mpsc::UnboundedSender<Box<Command>>,
    state: watch::Receiver<ConnectionState>,
    /// Every state change, for new subscribers.
    state_events: Fanout<StateChange>,
    bounces: Fanout<Bounced>,
    /// Room for paced sends (`send_paced`, `try_send`).
    pacing: Arc<Semaphore>,
    max_pending: usize,
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
///
/// As a [`Stream`] it yields [`Stanza`]s: hot messages (chat, markers, typing) come already
/// read into their event, with no tree built ([`crate::stanza`]); [`Incoming::recv`] gives
/// every stanza as a tree, as before.
#[derive(Debug)]
pub struct Incoming(mpsc::Receiver<Box<Stanza>>);

impl Stream for Incoming {
    type Item = Stanza;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Stanza>> {
        self.0.poll_recv(cx).map(|s| s.map(|s| *s))
    }
}

impl Incoming {
    /// The next stanza as a tree; `None` once the session and every handle are gone.
    pub async fn recv(&mut self) -> Option<Element> {
        loop {
            match self.recv_stanza().await?.into_element() {
                Ok(el) => return Some(el),
                // Only if neither the kept events nor the event itself make an element
                // (`ReadStanza::into_element`), which no parser output does.
                Err(e) => tracing::warn!(error = %e, "a read stanza could not be built"),
            }
        }
    }

    /// The next stanza, a hot message possibly read without a tree; `None` once the session
    /// and every handle are gone.
    pub async fn recv_stanza(&mut self) -> Option<Stanza> {
        self.0.recv().await.map(|s| *s)
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
        let state_events = Fanout::new(STATE_EVENTS, "connection states");
        let bounces = Fanout::new(BOUNCE_EVENTS, "bounces");
        let (jid_tx, jid) = watch::channel(None);
        let (inbound, inbound_rx) = mpsc::channel(settings.inbound_capacity.max(1));
        let max_pending = settings.max_pending_sends.max(1);
        let sm = sm::StreamManagement {
            recent: sm::RecentSends::with_capacity(settings.recent_sends),
            ..Default::default()
        };
        let pacer = pace::Pacer::new(settings.max_send_rate);
        let actor = Actor {
            connector: Arc::new(connector),
            credentials: provider,
            settings,
            states: States {
                current: state_tx,
                events: state_events.clone(),
            },
            jid: jid_tx,
            inbound,
            held: Default::default(),
            handed: 0,
            commands,
            sm,
            queued: Default::default(),
            pending_iqs: Default::default(),
            login_waiters: Vec::new(),
            bounces: bounces.clone(),
            retries: Default::default(),
            pacer,
            paced_until: None,
        };
        tokio::spawn(actor.run());
        let conn = Self {
            commands: commands_tx,
            state,
            state_events,
            bounces,
            pacing: Arc::new(Semaphore::new(max_pending)),
            max_pending,
            jid,
        };
        (conn, Incoming(inbound_rx))
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Box::new(make(tx))).ok()?;
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
    /// order of the calls (and at most `max_in_flight` unacknowledged at once).
    pub fn send(&self, stanza: Element) -> SendHandle {
        self.submit(&stanza, None)
    }

    /// As [`ChatConnection::send`], but first waits (in call order) until fewer than
    /// `max_pending_sends` paced sends are unsettled: a flooding program slows to the pace
    /// of the server's acks.
    pub async fn send_paced(&self, stanza: Element) -> SendHandle {
        match Arc::clone(&self.pacing).acquire_owned().await {
            Ok(permit) => self.submit(&stanza, Some(permit)),
            Err(_) => SendHandle::failed(SendError::Closed),
        }
    }

    /// As [`ChatConnection::send_paced`], but fails at once instead of waiting.
    ///
    /// # Errors
    /// [`SendError::QueueFull`] when `max_pending_sends` paced sends are unsettled.
    pub fn try_send(&self, stanza: Element) -> Result<SendHandle, SendError> {
        match Arc::clone(&self.pacing).try_acquire_owned() {
            Ok(permit) => Ok(self.submit(&stanza, Some(permit))),
            Err(_) => Err(SendError::QueueFull(self.max_pending)),
        }
    }

    /// Sends a bounced message again, byte for byte (the same id).
    pub fn resend(&self, bounced: &Bounced) -> SendHandle {
        let (handle, tracker) = SendHandle::new();
        let entry = Unacked {
            bytes: bounced.stanza.clone(),
            is_message: true,
            id: Some(bounced.id.as_str().into()),
            tracker: Some(tracker),
            permit: None,
            retries: 0,
        };
        self.enqueue(Command::Send(entry), handle)
    }

    /// Sends a chat or group chat message written straight to text
    /// (`Message::write_stanza`, no tree): the stanza `send(message.to_stanza(to, kind)?)`
    /// sends, with the same handle, books and resends, for a fraction of the work.
    ///
    /// # Errors
    /// [`BuildError`] as `Message::to_stanza` gives it, and also for an attachment attribute
    /// holding a character XML cannot carry (which the tree path finds only when serializing,
    /// as a handle failed with `SendError::Serialize`); nothing is sent then.
    pub fn send_message(
        &self,
        message: &Message,
        to: &Jid,
        kind: ChatKind,
    ) -> Result<SendHandle, BuildError> {
        Ok(self.submit_entry(written::message(message, to, kind)?, None))
    }

    /// Sends the stanza carrying `event` (`ChatEvent::to_element`): a chat message, marker or
    /// typing written straight to text, any other event built as a tree and serialized.
    ///
    /// # Errors
    /// [`BuildError`] as `ChatEvent::to_element` gives it; nothing is sent then.
    pub fn send_event(&self, event: &ChatEvent) -> Result<SendHandle, BuildError> {
        Ok(match written::event(event)? {
            Some(entry) => self.submit_entry(entry, None),
            None => self.send(event.to_element()?),
        })
    }

    fn submit(
        &self,
        stanza: &Element,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> SendHandle {
        match Unacked::serialize(stanza) {
            Ok(entry) => self.submit_entry(entry, permit),
            Err(e) => SendHandle::failed(SendError::Serialize(Arc::new(e))),
        }
    }

    fn submit_entry(
        &self,
        mut entry: Unacked,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> SendHandle {
        let (handle, tracker) = SendHandle::new();
        entry.tracker = Some(tracker);
        entry.permit = permit;
        self.enqueue(Command::Send(entry), handle)
    }

    fn enqueue(&self, cmd: Command, handle: SendHandle) -> SendHandle {
        match self.commands.send(Box::new(cmd)).map_err(|e| *e.0) {
            Ok(()) => handle,
            Err(Command::Send(entry)) => {
                actor::fail(entry, SendError::Closed);
                handle
            }
            Err(_) => SendHandle::failed(SendError::Closed),
        }
    }

    /// Sends an IQ request (with an `id`) and waits for its answer (`result` or `error`).
    ///
    /// # Errors
    /// [`IqError::Timeout`] when no answer comes within `timeout`; [`IqError::Send`] when the
    /// request could not be sent.
    pub async fn request(&self, iq: Element, timeout: Duration) -> Result<Element, IqError> {
        let entry = Unacked::serialize(&iq)
            .map_err(|e| IqError::Send(SendError::Serialize(Arc::new(e))))?;
        let id = iq.attr("id").unwrap_or_default().to_owned();
        let answer = tokio::time::timeout(timeout, self.ask(|tx| Command::Iq(entry, id, tx))).await;
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

    /// The state now, then every change after it, in order (no change is coalesced).
    pub fn state_changes(&self) -> impl Stream<Item = ConnectionState> + use<> {
        let events = ReceiverStream::new(self.state_events.subscribe()).map(|c| c.state);
        let now = self.state();
        futures_util::stream::once(std::future::ready(now)).chain(events)
    }

    /// Every change from now on with its place among the inbound stanzas
    /// ([`StateChange::after_stanzas`]), for a reader of [`Incoming`] that keeps states and
    /// stanzas in the order they happened.
    pub fn state_changes_in_order(&self) -> impl Stream<Item = StateChange> + use<> {
        ReceiverStream::new(self.state_events.subscribe())
    }

    /// Messages of ours that bounced (an error stanza for their id), from now on.
    pub fn bounces(&self) -> impl Stream<Item = Bounced> + use<> {
        ReceiverStream::new(self.bounces.subscribe())
    }

    /// A watch of the current state, for `wait_for` loops (it coalesces: use
    /// [`ChatConnection::state_changes`] to see every transition).
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Our full JID while connected.
    pub fn jid(&self) -> Option<FullJid> {
        self.jid.borrow().clone()
    }
}
