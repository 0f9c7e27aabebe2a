//! The connected session: stream management (XEP-0198) over one connection.
//!
//! - Every stanza the session writes (the app's, its own pongs, setup stanzas after
//!   `<enable/>`) is counted and kept, serialized, until the server's `h` covers it.
//! - An `h` that goes backwards or beyond what was sent closes the stream with
//!   `<handled-count-too-high/>` (XEP-0198 section 4) and completes nothing; the next
//!   session (a fresh one: the server's books cannot be trusted) sends the rest again.
//! - At most one `<r/>` is outstanding; after an answer that leaves sends unacknowledged, a
//!   new one goes out only once new stanzas were sent or `ack_request_interval` passed.
//! - Inbound stanzas are acknowledged unprompted every `ack_every` stanzas and `ack_delay`
//!   after the first unacknowledged one, so the server's queue for us stays short.
//! - At most `max_in_flight` sends are unacknowledged; later ones wait in call order.

use std::collections::VecDeque;

use minidom::Element;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use xmpp_parsers::sm;

use super::actor::{Actor, Command, End, fail, flush_held};
use super::errors::{Disconnect, SendError};
use super::negotiate::{self, Negotiated, SM_NS};
use super::sm::{AckError, Unacked};
use super::{Bounced, ConnectionState};
use crate::connector::Outgoing;
use crate::error::StreamError;
use crate::stanza::Stanza;

type Incoming = mpsc::Receiver<Result<Stanza, StreamError>>;

/// A stream-management nonza (or stream error) of ours, serialized by minidom from
/// xmpp-parsers' type. One that cannot be serialized ends the connection as a broken stream.
fn nonza(el: impl Into<Element>) -> Result<Outgoing, End> {
    Outgoing::serialize(&el.into()).map_err(|e| End::Lost(Disconnect::Stream(e.into())))
}

impl Actor {
    /// Serves a connected session until it ends.
    pub(super) async fn serve(&mut self, n: Negotiated, reconnecting: bool) -> End {
        let Negotiated {
            mut incoming,
            outgoing,
            jid,
            resumed_h,
            failed_h,
            sm,
            early,
            late,
            counted,
        } = n;
        if let Some(jid) = jid {
            self.jid.send_replace(Some(jid));
        }
        let mut link = Link::new(outgoing, self.sm.inbound);
        let setup = Setup {
            resumed_h,
            failed_h,
            sm,
            counted,
            reconnecting,
        };
        if let Err(e) = self.after_setup(&mut link, setup).await {
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
            if let Some(end) = self.on_inbound(el.into(), &mut link).await {
                return self.finish(end, &mut incoming, &mut link).await;
            }
        }
        let end = self.serve_loop(&mut incoming, &mut link).await;
        self.finish(end, &mut incoming, &mut link).await
    }

    async fn serve_loop(&mut self, incoming: &mut Incoming, link: &mut Link) -> End {
        let mut last_heard = Instant::now();
        let mut probe_deadline: Option<Instant> = None;
        loop {
            let due = self.retries.take_due(Instant::now());
            self.queued.extend(due);
            if let Err(end) = self.pump(link).await {
                return end;
            }
            let now = Instant::now();
            if let Err(end) = link.request_ack(&mut self.sm, now).await {
                return end;
            }
            let next_probe =
                probe_deadline.unwrap_or(last_heard + self.settings.keepalive_interval);
            let wake = [
                Some(next_probe),
                link.ack_due,
                link.rerequest_due(&self.sm),
                self.retries.next_due(),
                self.paced_until,
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(next_probe);
            let can_read = self.can_read();
            let end = tokio::select! {
                permit = self.inbound.clone().reserve_owned(), if !self.held.is_empty() => {
                    flush_held(&self.inbound, &mut self.held, permit.ok());
                    None
                }
                el = incoming.recv(), if can_read => {
                    last_heard = Instant::now();
                    probe_deadline = None;
                    match el {
                        Some(Ok(el)) => self.on_inbound(el, link).await,
                        Some(Err(e)) => Some(End::Lost(Disconnect::Stream(e.into()))),
                        None => Some(End::Lost(Disconnect::Stream(StreamError::Closed.into()))),
                    }
                }
                cmd = self.commands.recv() => self.on_command(cmd.map(|c| *c)),
                _ = sleep_until(wake) => {
                    let now = Instant::now();
                    if link.ack_due.is_some_and(|t| t <= now)
                        && let Err(end) = link.send_ack(self.sm.inbound).await
                    {
                        return end;
                    }
                    if now < next_probe {
                        None
                    } else if probe_deadline.is_some() {
                        Some(End::Lost(Disconnect::KeepaliveTimeout))
                    } else {
                        probe_deadline = Some(now + self.settings.keepalive_timeout);
                        self.probe(link).await
                    }
                }
            };
            if let Some(end) = end {
                return end;
            }
        }
    }

    /// Applies the setup's outcome to the books and queues what waits, oldest first.
    async fn after_setup(&mut self, link: &mut Link, setup: Setup) -> Result<(), End> {
        let mut waiting: VecDeque<Unacked> = VecDeque::new();
        if let Some(h) = setup.resumed_h {
            self.sm.enabled = true;
            if let Err(e) = self.sm.ack(h) {
                return Err(self.count_too_high(link, e).await);
            }
            waiting.extend(self.sm.unacked.drain(..).filter(|e| !e.bounced()));
            tracing::debug!(h, resending = waiting.len(), "chat session resumed");
            self.set_state(ConnectionState::Resumed);
        } else {
            // `<failed h/>`: what the old session handled is done; the rest goes again.
            if let Some(h) = setup.failed_h
                && let Err(e) = self.sm.ack(h)
            {
                tracing::warn!(
                    h = e.h,
                    sent = e.sent,
                    "<failed h> beyond what was sent ignored"
                );
            }
            // A fresh session: the old one's unacked messages go again with their ids.
            for entry in self.sm.reset() {
                if entry.bounced() {
                    continue; // Its resend is scheduled already.
                }
                if entry.is_message {
                    waiting.push_back(entry);
                } else {
                    fail(entry, SendError::SessionRestarted);
                }
            }
            self.sm.enabled = setup.sm.is_some();
            self.sm.resume_id = setup.sm.flatten();
            if self.sm.enabled {
                // Sent during setup after <enable/>: the server's h counts them, so must we.
                for entry in setup.counted {
                    self.sm.sent(entry);
                }
            }
            tracing::debug!(
                reconnecting = setup.reconnecting,
                stream_management = self.sm.enabled,
                resending = waiting.len(),
                "new chat session"
            );
            if setup.reconnecting {
                self.set_state(ConnectionState::NewSession);
            }
        }
        waiting.extend(self.queued.drain(..));
        self.queued = waiting;
        self.pump(link).await?;
        self.set_state(ConnectionState::Ready);
        Ok(())
    }

    /// Sends queued stanzas, in order, as far as the in-flight window allows.
    async fn pump(&mut self, link: &mut Link) -> Result<(), End> {
        self.paced_until = None;
        while !self.sm.enabled || self.sm.unacked.len() < self.settings.max_in_flight {
            if self.queued.is_empty() {
                break;
            }
            if let Some(pacer) = &mut self.pacer
                && let Err(next) = pacer.take(Instant::now())
            {
                self.paced_until = Some(next);
                break;
            }
            let Some(entry) = self.queued.pop_front() else {
                break;
            };
            self.transmit(link, entry).await?;
        }
        Ok(())
    }

    /// Sends one stanza, keeping it until acknowledged when stream management is on. On a
    /// broken link it stays in the books (or the queue) for the next connection.
    async fn transmit(&mut self, link: &mut Link, entry: Unacked) -> Result<(), End> {
        if self.sm.enabled {
            let out = entry.outgoing(false);
            self.sm.sent(entry);
            return link.send(out).await;
        }
        if link.send(entry.outgoing(true)).await.is_err() {
            self.queued.push_front(entry);
            return Err(End::Lost(Disconnect::WriterStopped));
        }
        Ok(())
    }

    fn on_command(&mut self, cmd: Option<Command>) -> Option<End> {
        match cmd {
            None => Some(End::Logout(Vec::new())),
            Some(Command::Logout(r) | Command::Destroy(r)) => Some(End::Logout(vec![r])),
            Some(Command::Login(r)) => {
                let _ = r.send(Ok(()));
                None
            }
            // In call order behind anything waiting; `pump` sends it when the window allows.
            Some(Command::Send(entry)) => {
                self.queued.push_back(entry);
                None
            }
            Some(Command::Iq(entry, id, done)) => {
                self.track_iq(id, done);
                self.queued.push_back(entry);
                None
            }
        }
    }

    async fn on_inbound(&mut self, stanza: Stanza, link: &mut Link) -> Option<End> {
        let el = match stanza {
            Stanza::Element(el) => *el,
            // A message read without a tree: never a nonza, an IQ or an error (bounces are
            // trees), so it is only counted and handed to the app.
            read => {
                let acked = if self.sm.received(read.name()) {
                    link.received(self.sm.inbound, &self.settings).await
                } else {
                    Ok(())
                };
                self.hand_to_app(read);
                return acked.err();
            }
        };
        if el.ns() == SM_NS {
            return self.on_sm(el, link).await;
        }
        let acked = if self.sm.received(el.name()) {
            link.received(self.sm.inbound, &self.settings).await
        } else {
            Ok(())
        };
        if connectycube_protocol::iq::ping::is_request(&el) {
            return match acked {
                Ok(()) => self.pong(&el, link).await.err(),
                Err(end) => Some(end),
            };
        }
        // Counted, so delivered even when the ack could not go out (the link broke): the
        // next `<resume h>` tells the server we have it, and it is not sent again.
        self.deliver(el);
        acked.err()
    }

    /// Answers a ping (the server's or a peer's, to our full JID); the answer is a stanza
    /// like any other, counted for stream management.
    async fn pong(&mut self, ping: &Element, link: &mut Link) -> Result<(), End> {
        // A pong skips the send queue (it must not wait behind the app's sends), so it is
        // bounded here instead: a server that pings without ever acknowledging would
        // otherwise grow the unacked books without end. Past twice the window, pings go
        // unanswered until acks come.
        if self.sm.enabled && self.sm.unacked.len() >= self.settings.max_in_flight.saturating_mul(2)
        {
            tracing::warn!(
                unacked = self.sm.unacked.len(),
                "a ping left unanswered: the server acknowledges nothing"
            );
            return Ok(());
        }
        // Without `from` the server itself asked; an answer without `to` goes back to it.
        let pong = xmpp_parsers::iq::Iq::Result {
            from: None,
            to: ping.attr("from").and_then(|f| f.parse().ok()),
            id: ping.attr("id").unwrap_or_default().to_owned(),
            payload: None,
        };
        match Unacked::serialize(&pong.into()) {
            Ok(entry) => self.transmit(link, entry).await,
            Err(e) => {
                tracing::warn!(error = %e, "cannot serialize a pong");
                Ok(())
            }
        }
    }

    async fn on_sm(&mut self, el: Element, link: &mut Link) -> Option<End> {
        match sm::Nonza::try_from(el) {
            Ok(sm::Nonza::Req(_)) => link.send_ack(self.sm.inbound).await.err(),
            Ok(sm::Nonza::Ack(a)) => match self.sm.ack(a.h) {
                Ok(_) => {
                    link.answered(Instant::now() + self.settings.ack_request_interval);
                    None
                }
                Err(e) => Some(self.count_too_high(link, e).await),
            },
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "an unreadable stream-management element ignored");
                None
            }
        }
    }

    /// XEP-0198 section 4: the server's `h` is impossible. Close the stream with
    /// `<handled-count-too-high/>`, complete nothing, and start the next session afresh (its
    /// resumption would rest on the same books), sending the unacknowledged messages again.
    async fn count_too_high(&mut self, link: &mut Link, e: AckError) -> End {
        tracing::warn!(
            h = e.h,
            sent = e.sent,
            "the server's h is beyond what was sent: closing the stream"
        );
        let error = xmpp_parsers::stream_error::StreamError::from(sm::HandledCountTooHigh {
            h: e.h,
            send_count: e.sent,
        });
        if let Ok(out) = nonza(error) {
            let _ = link.send(out).await;
        }
        self.sm.resume_id = None;
        End::Lost(Disconnect::HandledCountTooHigh {
            h: e.h,
            sent: e.sent,
        })
    }

    /// Hands an inbound stanza to its waiter or to the app; a bounce also settles its send.
    pub(super) fn deliver(&mut self, el: Element) {
        let id = el.attr("id");
        if el.name() == "iq" && matches!(el.attr("type"), Some("result" | "error")) {
            if let Some(done) = id.and_then(|id| self.pending_iqs.remove(id)) {
                let _ = done.send(Ok(el));
                return;
            }
            if matches!(
                id,
                Some(negotiate::BIND_ID | negotiate::CARBONS_ID | negotiate::KEEPALIVE_ID)
            ) {
                return;
            }
        }
        if el.name() == "message"
            && el.attr("type") == Some("error")
            && let Some(id) = id
            && let Some(bounced) = self.sm.bounce(id, &el)
            && self.on_bounce(bounced)
        {
            return; // Handled: it goes again; the app sees the outcome on the handle.
        }
        self.hand_to_app(el.into());
    }

    /// Schedules a resend of a transiently bounced message (true), or settles it as bounced
    /// and publishes it (false: the app sees the error stanza too).
    fn on_bounce(&mut self, bounced: super::sm::BouncedSend) -> bool {
        let id = bounced.id.clone();
        let reason = bounced.bounce.to_string();
        match self
            .retries
            .schedule(bounced, &self.settings, Instant::now())
        {
            None => {
                let waiting = self.retries.len();
                tracing::debug!(%id, %reason, waiting, "a sent message bounced: resending");
                true
            }
            Some(b) => {
                tracing::info!(%id, %reason, retries = b.retries, "a sent message bounced");
                b.tracker.bounced(b.bounce.clone());
                self.bounces.send(Bounced {
                    id: b.id.into(),
                    bounce: b.bounce,
                    stanza: b.bytes,
                });
                false
            }
        }
    }

    async fn probe(&mut self, link: &mut Link) -> Option<End> {
        if self.sm.enabled {
            link.ack_requested = true;
            link.sent_at_request = self.sm.sent_total;
            return link.request().await.err();
        }
        let ping = connectycube_protocol::iq::ping::request(negotiate::KEEPALIVE_ID, None);
        match Outgoing::serialize(&ping) {
            Ok(out) => link.send(out).await.err(),
            Err(_) => None,
        }
    }

    /// Ends a connected period: on logout, sends what waits, gives in-flight stanzas a moment
    /// to be acknowledged and acknowledges what we received.
    async fn finish(&mut self, end: End, incoming: &mut Incoming, link: &mut Link) -> End {
        if !matches!(end, End::Logout(_)) || !self.sm.enabled {
            return end;
        }
        while let Some(entry) = self.queued.pop_front() {
            if self.transmit(link, entry).await.is_err() {
                return end;
            }
        }
        if !self.sm.unacked.is_empty() {
            let _ = link.request().await;
            let deadline = Instant::now() + std::time::Duration::from_secs(2);
            while !self.sm.unacked.is_empty() && self.can_read() {
                match tokio::time::timeout_at(deadline, incoming.recv()).await {
                    Ok(Some(Ok(Stanza::Element(el)))) if el.ns() == SM_NS => {
                        match sm::Nonza::try_from(*el) {
                            Ok(sm::Nonza::Ack(a)) if self.sm.ack(a.h).is_ok() => {}
                            Ok(sm::Nonza::Ack(_)) | Err(_) => break,
                            // An `<r/>` is answered by the closing `<a/>` below.
                            Ok(_) => {}
                        }
                    }
                    // Counted, answered and delivered as while serving: one rule for `h`.
                    Ok(Some(Ok(stanza))) => {
                        if self.on_inbound(stanza, link).await.is_some() {
                            break;
                        }
                    }
                    _ => break,
                }
            }
        }
        // XEP-0198 stream closure: say what we handled before closing. Otherwise the server
        // counts the last stanzas it sent us as unacknowledged and routes them again (ejabberd
        // stores them offline), so they arrive a second time at the next login.
        let _ = link.send_ack(self.sm.inbound).await;
        end
    }
}

/// What the setup left for the books.
struct Setup {
    resumed_h: Option<u32>,
    failed_h: Option<u32>,
    sm: Option<Option<String>>,
    counted: Vec<Unacked>,
    reconnecting: bool,
}

/// The write side of the current connection and its ack timing.
struct Link {
    outgoing: mpsc::Sender<Outgoing>,
    /// An `<r/>` is out and unanswered.
    ack_requested: bool,
    /// `sent_total` when the last `<r/>` went out.
    sent_at_request: u64,
    /// `sent_total` covered by the last answered `<r/>`.
    sent_at_answer: u64,
    /// When to ask again if an answer left sends unacknowledged and nothing new was sent.
    rerequest_at: Option<Instant>,
    /// The last `h` we told the server.
    reported: u32,
    /// When to acknowledge unprompted.
    ack_due: Option<Instant>,
}

impl Link {
    fn new(outgoing: mpsc::Sender<Outgoing>, inbound: u32) -> Self {
        Self {
            outgoing,
            ack_requested: false,
            sent_at_request: 0,
            sent_at_answer: u64::MAX,
            rerequest_at: None,
            reported: inbound,
            ack_due: None,
        }
    }

    async fn send(&mut self, out: Outgoing) -> Result<(), End> {
        self.outgoing
            .send(out)
            .await
            .map_err(|_| End::Lost(Disconnect::WriterStopped))
    }

    /// Asks for an ack when sends are unacknowledged, no request is out, and either new
    /// stanzas went out since the last answer or `ack_request_interval` passed.
    async fn request_ack(
        &mut self,
        sm: &mut super::sm::StreamManagement,
        now: Instant,
    ) -> Result<(), End> {
        if !sm.enabled || sm.unacked.is_empty() || self.ack_requested {
            return Ok(());
        }
        let new_sends = sm.sent_total != self.sent_at_answer;
        let timer = self.rerequest_at.is_some_and(|t| t <= now);
        if new_sends || timer {
            self.ack_requested = true;
            self.sent_at_request = sm.sent_total;
            self.rerequest_at = None;
            self.request().await?;
        }
        Ok(())
    }

    /// The server answered (an `<a h/>`): the next request waits for new sends or `retry_at`.
    fn answered(&mut self, retry_at: Instant) {
        if self.ack_requested {
            self.ack_requested = false;
            self.sent_at_answer = self.sent_at_request;
            self.rerequest_at = Some(retry_at);
        }
    }

    /// When the stale-answer timer fires, if it matters.
    fn rerequest_due(&self, sm: &super::sm::StreamManagement) -> Option<Instant> {
        (!self.ack_requested && !sm.unacked.is_empty())
            .then_some(self.rerequest_at)
            .flatten()
    }

    /// Counts an inbound stanza toward the next unprompted ack.
    async fn received(
        &mut self,
        inbound: u32,
        settings: &super::SessionSettings,
    ) -> Result<(), End> {
        if settings.ack_every > 0 && inbound.wrapping_sub(self.reported) >= settings.ack_every {
            return self.send_ack(inbound).await;
        }
        if self.ack_due.is_none() {
            self.ack_due = Some(Instant::now() + settings.ack_delay);
        }
        Ok(())
    }

    /// Tells the server our `h`.
    async fn send_ack(&mut self, h: u32) -> Result<(), End> {
        self.reported = h;
        self.ack_due = None;
        self.send(nonza(sm::A::new(h))?).await
    }

    /// Asks the server for its `h` (`<r/>`).
    async fn request(&mut self) -> Result<(), End> {
        self.send(nonza(sm::R)?).await
    }
}
