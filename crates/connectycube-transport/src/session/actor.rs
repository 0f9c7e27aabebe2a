//! The one task that owns a chat session: it connects, keeps the stream-management books,
//! reconnects, and serves the handles' commands in order, so nothing needs a lock. The
//! connected part (the stream-management loop) is in `serve`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use minidom::Element;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until};
use xmpp_parsers::jid::FullJid;

use super::errors::{Disconnect, LoginError, SendError};
use super::fanout::Fanout;
use super::negotiate::{self, Negotiated, ResumeFrom};
use super::pace::Pacer;
use super::retry::Retries;
use super::sm::{StreamManagement, Unacked};
use super::state::StateChange;
use super::{Bounced, ConnectionState, CredentialsProvider, IqError, SessionSettings};
use crate::connector::Connector;
use crate::error::RetryKind;
use crate::stanza::Stanza;

pub(super) type Reply<T> = oneshot::Sender<T>;

/// What a handle asks of the session.
#[derive(Debug)]
pub(crate) enum Command {
    Login(Reply<Result<(), LoginError>>),
    Logout(Reply<()>),
    Destroy(Reply<()>),
    /// A serialized stanza with its tracker.
    Send(Unacked),
    /// A serialized IQ request, its id, and who waits for the answer.
    Iq(Unacked, String, Reply<Result<Element, IqError>>),
}

/// Why a connected session ended.
pub(super) enum End {
    /// The user logged out (or dropped every handle).
    Logout(Vec<Reply<()>>),
    /// The connection broke or the server ended it; its retry kind says whether to reconnect.
    Lost(Disconnect),
}

/// How a connection attempt ended.
enum Attempt {
    Up(Box<Negotiated>),
    Failed(LoginError),
    Cancelled(Vec<Reply<()>>),
}

/// Publishes state changes: the current value (a `watch`) and every transition in order to
/// every subscriber (a bounded queue each, see `fanout.rs`; no coalescing).
#[derive(Debug, Clone)]
pub(crate) struct States {
    pub current: watch::Sender<ConnectionState>,
    pub events: Fanout<StateChange>,
}

impl States {
    /// Moves to `s`, after the app was handed `after_stanzas` stanzas in all.
    pub fn set(&self, s: ConnectionState, after_stanzas: u64) {
        self.current.send_replace(s);
        // No subscriber is fine: the value is kept in `current`.
        self.events.send(StateChange::new(s, after_stanzas));
    }
}

pub(crate) struct Actor {
    pub connector: Arc<dyn Connector>,
    pub credentials: CredentialsProvider,
    pub settings: SessionSettings,
    pub states: States,
    pub jid: watch::Sender<Option<FullJid>>,
    /// The app's bounded queue of inbound stanzas, boxed: a channel allocates its first
    /// block of 32 slots when made, 3.5 KiB of unboxed elements for every idle connection.
    pub inbound: mpsc::Sender<Box<Stanza>>,
    /// Stanzas for the app while its queue is full, at most `inbound_capacity`; when this is
    /// full too the session stops reading the socket.
    pub held: VecDeque<Box<Stanza>>,
    /// Stanzas handed to the app so far (queued or held): where each state change falls
    /// among them.
    pub handed: u64,
    /// Boxed: a channel allocates its first block of 32 slots when made (3.5 KiB of unboxed
    /// commands for every connection).
    pub commands: mpsc::UnboundedReceiver<Box<Command>>,
    pub sm: StreamManagement,
    /// Stanzas waiting for a connection or for room in the in-flight window, in call order.
    pub queued: VecDeque<Unacked>,
    /// IQs of ours waiting for their answer, by id.
    pub pending_iqs: HashMap<String, Reply<Result<Element, IqError>>>,
    pub login_waiters: Vec<Reply<Result<(), LoginError>>>,
    /// Bounced sends, for the app (keyed by message id).
    pub bounces: Fanout<Bounced>,
    /// Transiently bounced messages waiting for their automatic resend.
    pub retries: Retries,
    /// The send-rate bound (`max_send_rate`), if any.
    pub pacer: Option<Pacer>,
    /// When the pacer lets the next queued stanza go, while one waits for it.
    pub paced_until: Option<Instant>,
}

impl Actor {
    /// Serves commands until every handle is gone.
    pub async fn run(mut self) {
        loop {
            let cmd = tokio::select! {
                cmd = self.commands.recv() => cmd.map(|c| *c),
                permit = self.inbound.clone().reserve_owned(), if !self.held.is_empty() => {
                    flush_held(&self.inbound, &mut self.held, permit.ok());
                    continue;
                }
            };
            let Some(cmd) = cmd else { return };
            match cmd {
                Command::Login(reply) => {
                    self.login_waiters.push(reply);
                    self.session().await;
                }
                Command::Logout(reply) => {
                    let _ = reply.send(());
                }
                Command::Destroy(reply) => {
                    self.set_state(ConnectionState::Closed);
                    let _ = reply.send(());
                    return;
                }
                Command::Send(entry) => fail(entry, SendError::NotConnected),
                Command::Iq(_, _, done) => {
                    let _ = done.send(Err(IqError::Send(SendError::NotConnected)));
                }
            }
        }
    }

    pub(super) fn set_state(&self, s: ConnectionState) {
        self.states.set(s, self.handed);
    }

    /// One logged-in period: connect, serve, reconnect, until logout or give-up.
    async fn session(&mut self) {
        let mut reconnecting = false;
        let mut attempt = 0u32;
        loop {
            match self.attempt().await {
                Attempt::Up(negotiated) => {
                    attempt = 0;
                    match self.serve(*negotiated, reconnecting).await {
                        End::Logout(replies) => return self.close(replies),
                        End::Lost(why) => {
                            tracing::info!(reason = %why, "chat connection lost");
                            if why.retry_kind() == RetryKind::Fatal
                                || self.settings.total_reconnections == 0
                            {
                                return self.give_up(ConnectionState::ForceClosed, why);
                            }
                            reconnecting = true;
                            self.set_state(ConnectionState::Reconnecting);
                        }
                    }
                }
                Attempt::Cancelled(replies) => return self.close(replies),
                Attempt::Failed(e) => {
                    // The one classifier decides: see `RetryKind`.
                    let retry = reconnecting && e.retry_kind() == RetryKind::Retry;
                    attempt += 1;
                    if !retry || attempt >= self.settings.total_reconnections {
                        let state = match e {
                            LoginError::Authentication(_) => ConnectionState::AuthenticationFailure,
                            _ if reconnecting => ConnectionState::ForceClosed,
                            _ => ConnectionState::Closed,
                        };
                        for w in self.login_waiters.drain(..) {
                            let _ = w.send(Err(e.clone()));
                        }
                        return self.give_up(state, Disconnect::Reconnection(e));
                    }
                    tracing::info!(attempt, error = %e, "reconnection attempt failed");
                    let wait = self.settings.backoff(attempt);
                    if let Some(replies) = self.wait_serving(wait).await {
                        return self.close(replies);
                    }
                }
            }
        }
    }

    /// Connects and sets the session up, serving commands meanwhile.
    async fn attempt(&mut self) -> Attempt {
        let connector = Arc::clone(&self.connector);
        let credentials = Arc::clone(&self.credentials);
        let (states, handed) = (self.states.clone(), self.handed);
        let resume = self.sm.resume_id.clone().map(|previd| ResumeFrom {
            previd,
            h: self.sm.inbound,
        });
        let resource = self.settings.resource.clone();
        let timeout = self.settings.login_timeout;
        let setup = async move {
            let creds = credentials().await.map_err(LoginError::Credentials)?;
            let stream = connector.connect(&creds).await.map_err(LoginError::from)?;
            states.set(ConnectionState::Authenticated, handed);
            negotiate::negotiate(stream, resume, resource)
                .await
                .map_err(LoginError::from)
        };
        let setup = tokio::time::timeout(timeout, setup);
        tokio::pin!(setup);
        let mut logouts = Vec::new();
        loop {
            tokio::select! {
                done = &mut setup => {
                    return match done {
                        Ok(Ok(n)) => Attempt::Up(Box::new(n)),
                        Ok(Err(e)) => Attempt::Failed(e),
                        Err(_) => Attempt::Failed(LoginError::Timeout),
                    };
                }
                cmd = self.commands.recv() => match cmd.map(|c| *c) {
                    None => return Attempt::Cancelled(logouts),
                    Some(Command::Logout(r) | Command::Destroy(r)) => {
                        logouts.push(r);
                        return Attempt::Cancelled(logouts);
                    }
                    Some(other) => self.queue(other),
                },
            }
        }
    }

    /// Waits `wait` between reconnection attempts; `Some` when the user logged out meanwhile.
    async fn wait_serving(&mut self, wait: Duration) -> Option<Vec<Reply<()>>> {
        let until = Instant::now() + wait;
        loop {
            tokio::select! {
                _ = sleep_until(until) => return None,
                cmd = self.commands.recv() => match cmd.map(|c| *c) {
                    None => return Some(Vec::new()),
                    Some(Command::Logout(r) | Command::Destroy(r)) => return Some(vec![r]),
                    Some(other) => self.queue(other),
                },
            }
        }
    }

    /// Keeps a command for when the connection is back (bounded by `max_queued_sends`).
    fn queue(&mut self, cmd: Command) {
        let entry = match cmd {
            Command::Login(r) => return self.login_waiters.push(r),
            Command::Logout(r) | Command::Destroy(r) => {
                let _ = r.send(());
                return;
            }
            Command::Send(entry) => entry,
            Command::Iq(entry, id, done) => {
                self.track_iq(id, done);
                entry
            }
        };
        if self.queued.len() >= self.settings.max_queued_sends {
            let n = self.queued.len();
            return fail(entry, SendError::QueueFull(n));
        }
        self.queued.push_back(entry);
    }

    /// Waits for the answer to IQ `id`. Requests whose caller gave up (timed out) are
    /// forgotten first, so a server that never answers does not grow the table.
    pub(super) fn track_iq(&mut self, id: String, done: Reply<Result<Element, IqError>>) {
        self.pending_iqs.retain(|_, waiting| !waiting.is_closed());
        self.pending_iqs.insert(id, done);
    }

    /// Hands an inbound stanza to the app: straight into its queue, or held (in order) while
    /// the queue is full.
    pub(super) fn hand_to_app(&mut self, el: Stanza) {
        self.handed += 1;
        let el = Box::new(el);
        if !self.held.is_empty() {
            return self.held.push_back(el);
        }
        match self.inbound.try_send(el) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(el)) => self.held.push_back(el),
            // The app dropped `Incoming`: nobody reads.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Whether the session may read another stanza from the socket.
    pub(super) fn can_read(&self) -> bool {
        self.held.len() < self.settings.inbound_capacity
    }

    pub(super) fn close(&mut self, replies: Vec<Reply<()>>) {
        self.fail_all(|| SendError::Closed);
        self.sm.reset();
        self.jid.send_replace(None);
        self.set_state(ConnectionState::Closed);
        for r in replies {
            let _ = r.send(());
        }
    }

    fn give_up(&mut self, state: ConnectionState, why: Disconnect) {
        tracing::warn!(reason = %why, "chat connection closed");
        self.fail_all(|| SendError::ConnectionLost(why.clone()));
        self.sm.reset();
        self.jid.send_replace(None);
        self.set_state(state);
    }

    /// Fails every waiting and unacknowledged send, and every pending IQ.
    fn fail_all(&mut self, err: impl Fn() -> SendError) {
        let retries = self.retries.drain();
        for entry in self.queued.drain(..).chain(self.sm.unacked.drain(..)) {
            fail(entry, err());
        }
        for entry in retries {
            fail(entry, err());
        }
        for (_, done) in self.pending_iqs.drain() {
            let _ = done.send(Err(IqError::Send(err())));
        }
    }
}

/// Settles a send as failed (a no-op for a send already bounced).
pub(super) fn fail(entry: Unacked, e: SendError) {
    if let Some(t) = entry.tracker {
        t.fail(e);
    }
}

/// Moves held stanzas into the app's queue as far as it has room (`permit`: one place).
pub(super) fn flush_held(
    inbound: &mpsc::Sender<Box<Stanza>>,
    held: &mut VecDeque<Box<Stanza>>,
    permit: Option<mpsc::OwnedPermit<Box<Stanza>>>,
) {
    let Some(permit) = permit else {
        held.clear(); // The app is gone.
        return;
    };
    let Some(first) = held.pop_front() else {
        return;
    };
    permit.send(first);
    while let Some(el) = held.pop_front() {
        if let Err(e) = inbound.try_send(el) {
            if let mpsc::error::TrySendError::Full(el) = e {
                held.push_front(el);
            }
            return;
        }
    }
}
