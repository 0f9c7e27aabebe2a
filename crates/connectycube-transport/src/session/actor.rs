//! The one task that owns a chat session: it connects, keeps the stream-management books,
//! reconnects, and serves the handles' commands in order, so nothing needs a lock.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use minidom::Element;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until};
use xmpp_parsers::jid::FullJid;
use xmpp_parsers::sm;

use super::handle::SendError;
use super::negotiate::{self, Negotiated, ResumeFrom, SM_NS};
use super::sm::{AckOutcome, StreamManagement, Unacked};
use super::{ConnectionState, CredentialsProvider, IqError, LoginError, SessionSettings};
use crate::connector::Connector;
use crate::error::StreamError;

type Reply<T> = oneshot::Sender<T>;

/// What a handle asks of the session.
#[derive(Debug)]
pub(crate) enum Command {
    Login(Reply<Result<(), LoginError>>),
    Logout(Reply<()>),
    Destroy(Reply<()>),
    Send(Element, Reply<Result<(), SendError>>),
    Iq(Element, Reply<Result<Element, IqError>>),
}

/// Why a connected session ended.
enum End {
    /// The user logged out (or dropped every handle).
    Logout(Vec<Reply<()>>),
    /// The connection broke; worth reconnecting.
    Lost(String),
    /// The server ended the session for good (resource conflict).
    Fatal(String),
}

/// How a connection attempt ended.
enum Attempt {
    Up(Box<Negotiated>),
    Failed(LoginError),
    Cancelled(Vec<Reply<()>>),
}

pub(crate) struct Actor {
    pub connector: Arc<dyn Connector>,
    pub credentials: CredentialsProvider,
    pub settings: SessionSettings,
    pub state: watch::Sender<ConnectionState>,
    pub jid: watch::Sender<Option<FullJid>>,
    pub inbound: mpsc::UnboundedSender<Element>,
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub sm: StreamManagement,
    /// Stanzas waiting for a connection.
    pub queued: VecDeque<Unacked>,
    /// IQs of ours waiting for their answer, by id.
    pub pending_iqs: HashMap<String, Reply<Result<Element, IqError>>>,
    pub login_waiters: Vec<Reply<Result<(), LoginError>>>,
}

impl Actor {
    /// Serves commands until every handle is gone.
    pub async fn run(mut self) {
        while let Some(cmd) = self.commands.recv().await {
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
                Command::Send(_, done) => {
                    let _ = done.send(Err(SendError::NotConnected));
                }
                Command::Iq(_, done) => {
                    let _ = done.send(Err(IqError::Send(SendError::NotConnected)));
                }
            }
        }
    }

    fn set_state(&self, s: ConnectionState) {
        self.state.send_replace(s);
    }

    /// One logged-in period: connect, serve, reconnect, until logout or give-up.
    async fn session(&mut self) {
        let mut reconnecting = false;
        let mut attempt = 0u32;
        loop {
            match self.attempt().await {
                Attempt::Up(negotiated) => {
                    attempt = 0;
                    match self.serve(*negotiated).await {
                        End::Logout(replies) => return self.close(replies),
                        End::Fatal(why) => return self.give_up(ConnectionState::ForceClosed, why),
                        End::Lost(why) => {
                            tracing::info!(reason = %why, "chat connection lost");
                            if self.settings.total_reconnections == 0 {
                                return self.give_up(ConnectionState::ForceClosed, why);
                            }
                            reconnecting = true;
                            self.set_state(ConnectionState::Reconnecting);
                        }
                    }
                }
                Attempt::Cancelled(replies) => return self.close(replies),
                Attempt::Failed(e) => {
                    let retry = reconnecting && e.is_retryable();
                    attempt += 1;
                    if !retry || attempt >= self.settings.total_reconnections {
                        let state = match e {
                            LoginError::Authentication(_) => ConnectionState::AuthenticationFailure,
                            _ if reconnecting => ConnectionState::ForceClosed,
                            _ => ConnectionState::Closed,
                        };
                        let why = e.to_string();
                        for w in self.login_waiters.drain(..) {
                            let _ = w.send(Err(e.clone()));
                        }
                        return self.give_up(state, why);
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
        let state = self.state.clone();
        let resume = self.sm.resume_id.clone().map(|previd| ResumeFrom {
            previd,
            h: self.sm.inbound,
        });
        let resource = self.settings.resource.clone();
        let timeout = self.settings.login_timeout;
        let setup = async move {
            let creds = credentials().await.map_err(LoginError::Credentials)?;
            let stream = connector.connect(&creds).await.map_err(LoginError::from)?;
            state.send_replace(ConnectionState::Authenticated);
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
                cmd = self.commands.recv() => match cmd {
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
                cmd = self.commands.recv() => match cmd {
                    None => return Some(Vec::new()),
                    Some(Command::Logout(r) | Command::Destroy(r)) => return Some(vec![r]),
                    Some(other) => self.queue(other),
                },
            }
        }
    }

    /// Keeps a command for when the connection is back.
    fn queue(&mut self, cmd: Command) {
        let (stanza, done) = match cmd {
            Command::Login(r) => return self.login_waiters.push(r),
            Command::Logout(r) | Command::Destroy(r) => {
                let _ = r.send(());
                return;
            }
            Command::Send(el, done) => (el, Some(done)),
            Command::Iq(el, done) => {
                let id = el.attr("id").unwrap_or_default().to_owned();
                self.pending_iqs.insert(id, done);
                (el, None)
            }
        };
        if self.queued.len() >= self.settings.max_queued_sends {
            if let Some(done) = done {
                let _ = done.send(Err(SendError::QueueFull(self.queued.len())));
            }
            return;
        }
        self.queued.push_back(Unacked { stanza, done });
    }

    /// Serves a connected session until it ends.
    async fn serve(&mut self, n: Negotiated) -> End {
        let Negotiated {
            mut incoming,
            outgoing,
            jid,
            resumed_h,
            sm,
            early,
            late,
            counted,
        } = n;
        if let Some(jid) = jid {
            self.jid.send_replace(Some(jid));
        }
        let mut link = Link {
            outgoing,
            ack_requested: false,
        };
        if let Err(e) = self.after_setup(&mut link, resumed_h, sm, counted).await {
            return e;
        }
        // Only now, Ready, do the login() calls return: the session can carry messages.
        for w in self.login_waiters.drain(..) {
            let _ = w.send(Ok(()));
        }
        for el in early {
            self.deliver(el);
        }
        for el in late {
            if let Some(end) = self.on_inbound(el, &mut link).await {
                return self.finish(end, &mut incoming, &mut link).await;
            }
        }
        let mut last_heard = Instant::now();
        let mut probe_deadline: Option<Instant> = None;
        loop {
            if let Err(end) = link.request_ack(&self.sm).await {
                return end;
            }
            let next_probe =
                probe_deadline.unwrap_or(last_heard + self.settings.keepalive_interval);
            let end = tokio::select! {
                el = incoming.recv() => {
                    last_heard = Instant::now();
                    probe_deadline = None;
                    match el {
                        Some(Ok(el)) => self.on_inbound(el, &mut link).await,
                        Some(Err(e)) => Some(stream_end(e)),
                        None => Some(End::Lost("the server closed the connection".into())),
                    }
                }
                cmd = self.commands.recv() => self.on_command(cmd, &mut link).await,
                _ = sleep_until(next_probe) => {
                    if probe_deadline.is_some() {
                        Some(End::Lost("keepalive unanswered".into()))
                    } else {
                        probe_deadline = Some(Instant::now() + self.settings.keepalive_timeout);
                        self.probe(&mut link).await
                    }
                }
            };
            if let Some(end) = end {
                return self.finish(end, &mut incoming, &mut link).await;
            }
        }
    }

    /// Applies the setup's outcome to the books and sends what waits.
    async fn after_setup(
        &mut self,
        link: &mut Link,
        resumed_h: Option<u32>,
        sm: Option<Option<String>>,
        counted: Vec<Element>,
    ) -> Result<(), End> {
        let mut waiting: VecDeque<Unacked> = VecDeque::new();
        if let Some(h) = resumed_h {
            self.sm.enabled = true;
            log_ack(self.sm.ack(h));
            waiting.extend(self.sm.unacked.drain(..));
            self.set_state(ConnectionState::Resumed);
        } else {
            // A fresh session: the old one's unacked messages go again with their ids.
            for entry in self.sm.reset() {
                if entry.is_message() {
                    waiting.push_back(entry);
                } else {
                    entry.complete(Err(SendError::SessionRestarted));
                }
            }
            self.sm.enabled = sm.is_some();
            self.sm.resume_id = sm.flatten();
            if self.sm.enabled {
                // Sent during setup after <enable/>: the server's h counts them, so must we.
                for stanza in counted {
                    self.sm.sent(Unacked { stanza, done: None });
                }
            }
        }
        waiting.extend(self.queued.drain(..));
        while let Some(entry) = waiting.pop_front() {
            if let Err(end) = self.transmit(link, entry).await {
                // The connection broke while catching up: what was not sent waits for the next.
                waiting.extend(self.queued.drain(..));
                self.queued = waiting;
                return Err(end);
            }
        }
        self.set_state(ConnectionState::Ready);
        Ok(())
    }

    /// Sends one stanza, keeping it until acknowledged when stream management is on.
    async fn transmit(&mut self, link: &mut Link, entry: Unacked) -> Result<(), End> {
        let stanza = entry.stanza.clone();
        if self.sm.enabled {
            self.sm.sent(entry);
            link.send(stanza).await
        } else {
            let sent = link.send(stanza).await;
            entry.complete(match &sent {
                Ok(()) => Ok(()),
                Err(_) => Err(SendError::ConnectionLost(
                    "written to a closed stream".into(),
                )),
            });
            sent
        }
    }

    async fn on_command(&mut self, cmd: Option<Command>, link: &mut Link) -> Option<End> {
        match cmd {
            None => Some(End::Logout(Vec::new())),
            Some(Command::Logout(r) | Command::Destroy(r)) => Some(End::Logout(vec![r])),
            Some(Command::Login(r)) => {
                let _ = r.send(Ok(()));
                None
            }
            Some(Command::Send(el, done)) => self
                .transmit(
                    link,
                    Unacked {
                        stanza: el,
                        done: Some(done),
                    },
                )
                .await
                .err(),
            Some(Command::Iq(el, done)) => {
                let id = el.attr("id").unwrap_or_default().to_owned();
                self.pending_iqs.insert(id, done);
                self.transmit(
                    link,
                    Unacked {
                        stanza: el,
                        done: None,
                    },
                )
                .await
                .err()
            }
        }
    }

    async fn on_inbound(&mut self, el: Element, link: &mut Link) -> Option<End> {
        if el.ns() == SM_NS {
            return self.on_sm(el, link).await;
        }
        if self.sm.enabled && matches!(el.name(), "message" | "presence" | "iq") {
            self.sm.received();
        }
        if connectycube_protocol::iq::ping::is_request(&el) {
            // Without `from` the server itself asked; an answer without `to` goes back to it.
            let pong = xmpp_parsers::iq::Iq::Result {
                from: None,
                to: el.attr("from").and_then(|f| f.parse().ok()),
                id: el.attr("id").unwrap_or_default().to_owned(),
                payload: None,
            };
            return link.send(pong.into()).await.err();
        }
        self.deliver(el);
        None
    }

    async fn on_sm(&mut self, el: Element, link: &mut Link) -> Option<End> {
        match el.name() {
            "r" => link.send(sm::A::new(self.sm.inbound).into()).await.err(),
            "a" => {
                let h = el.attr("h").and_then(|h| h.parse::<u32>().ok());
                match h {
                    Some(h) => log_ack(self.sm.ack(h)),
                    None => tracing::warn!("ack without a valid h ignored"),
                }
                link.ack_requested = false;
                None
            }
            _ => None,
        }
    }

    /// Hands an inbound stanza to its waiter or to the app.
    fn deliver(&mut self, el: Element) {
        let id = el.attr("id").map(str::to_owned);
        if el.name() == "iq"
            && matches!(el.attr("type"), Some("result" | "error"))
            && let Some(done) = id.as_deref().and_then(|id| self.pending_iqs.remove(id))
        {
            let _ = done.send(Ok(el));
            return;
        }
        if el.name() == "iq"
            && matches!(
                id.as_deref(),
                Some(negotiate::BIND_ID | negotiate::CARBONS_ID | negotiate::KEEPALIVE_ID)
            )
        {
            return;
        }
        if el.name() == "message" && el.attr("type") == Some("error") {
            self.refuse(id.as_deref(), &el);
        }
        let _ = self.inbound.send(el);
    }

    /// An error answering one of our unacknowledged messages fails its handle.
    fn refuse(&mut self, id: Option<&str>, error: &Element) {
        let Some(id) = id else { return };
        let text = error
            .get_child("error", "jabber:client")
            .map(|e| {
                e.get_child("text", "urn:ietf:params:xml:ns:xmpp-stanzas")
                    .map(Element::text)
                    .or_else(|| e.children().next().map(|c| c.name().to_owned()))
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        for entry in self.sm.unacked.iter_mut().filter(|e| e.id() == Some(id)) {
            if let Some(done) = entry.done.take() {
                let _ = done.send(Err(SendError::Refused(text.clone())));
            }
        }
    }

    async fn probe(&mut self, link: &mut Link) -> Option<End> {
        let probe: Element = if self.sm.enabled {
            sm::R.into()
        } else {
            connectycube_protocol::iq::ping::request(negotiate::KEEPALIVE_ID, None)
        };
        link.send(probe).await.err()
    }

    /// Ends a connected period: on logout, gives in-flight stanzas a moment to be acknowledged
    /// and acknowledges what we received.
    async fn finish(
        &mut self,
        end: End,
        incoming: &mut mpsc::Receiver<Result<Element, StreamError>>,
        link: &mut Link,
    ) -> End {
        if !matches!(end, End::Logout(_)) || !self.sm.enabled {
            return end;
        }
        if !self.sm.unacked.is_empty() {
            let _ = link.send(sm::R.into()).await;
            let deadline = Instant::now() + Duration::from_secs(2);
            while !self.sm.unacked.is_empty() {
                match tokio::time::timeout_at(deadline, incoming.recv()).await {
                    Ok(Some(Ok(el))) if el.ns() == SM_NS => {
                        let _ = self.on_sm(el, link).await;
                    }
                    Ok(Some(Ok(el))) => self.deliver(el),
                    _ => break,
                }
            }
        }
        // XEP-0198 stream closure: say what we handled before closing. Otherwise the server
        // counts the last stanzas it sent us as unacknowledged and routes them again (ejabberd
        // stores them offline), so they arrive a second time at the next login.
        let _ = link.send(sm::A::new(self.sm.inbound).into()).await;
        end
    }

    fn close(&mut self, replies: Vec<Reply<()>>) {
        self.fail_all(|| SendError::Closed);
        self.sm.reset();
        self.jid.send_replace(None);
        self.set_state(ConnectionState::Closed);
        for r in replies {
            let _ = r.send(());
        }
    }

    fn give_up(&mut self, state: ConnectionState, why: String) {
        tracing::warn!(reason = %why, "chat connection closed");
        self.fail_all(|| SendError::ConnectionLost(why.clone()));
        self.sm.reset();
        self.jid.send_replace(None);
        self.set_state(state);
    }

    /// Fails every waiting and unacknowledged send, and every pending IQ.
    fn fail_all(&mut self, err: impl Fn() -> SendError) {
        for entry in self.queued.drain(..).chain(self.sm.unacked.drain(..)) {
            entry.complete(Err(err()));
        }
        for (_, done) in self.pending_iqs.drain() {
            let _ = done.send(Err(IqError::Send(err())));
        }
    }
}

fn log_ack(outcome: AckOutcome) {
    if let AckOutcome::TooHigh { claimed, pending } = outcome {
        tracing::warn!(
            claimed,
            pending,
            "server acknowledged more stanzas than were pending"
        );
    }
}

fn stream_end(e: StreamError) -> End {
    match &e {
        StreamError::Server { condition } if condition == "conflict" => End::Fatal(e.to_string()),
        _ => End::Lost(e.to_string()),
    }
}

/// The write side of the current connection.
struct Link {
    outgoing: mpsc::Sender<Element>,
    ack_requested: bool,
}

impl Link {
    async fn send(&mut self, el: Element) -> Result<(), End> {
        self.outgoing
            .send(el)
            .await
            .map_err(|_| End::Lost("the connection's writer stopped".into()))
    }

    /// Asks for an ack when sends are pending and no request is out.
    async fn request_ack(&mut self, sm: &StreamManagement) -> Result<(), End> {
        if sm.enabled && !sm.unacked.is_empty() && !self.ack_requested {
            self.ack_requested = true;
            self.send(sm::R.into()).await?;
        }
        Ok(())
    }
}
