//! One client connection: SASL PLAIN, the restarted stream, then the session loop that reads
//! the client's stanzas and writes what the router delivers, with XEP-0198 on top.

use super::xml::Attr;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use connectycube_protocol::ids::{ObjectId, UserId};
use connectycube_transport::xml_stream::{Frame, STREAM_NS};
use minidom::Element;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::auth::authenticate;
use super::router::{Deliver, Detached, Entry, MAILBOX};
use super::sm::{self, SmState, drain, is_stanza, sm_failed};
use super::wire::{Wire, WireError, close_with};
use super::{Shared, iq, messages, muc};

/// How many delivered stanzas one loop turn writes before it reads again.
const BATCH: usize = 256;

/// A fresh stream or session id.
pub(crate) fn stream_id() -> String {
    ObjectId::generate().to_string()
}

/// Sends the stream error for refused input and closes.
pub(crate) async fn refuse<W: Wire>(wire: &mut W, e: &WireError) {
    if let WireError::Codec(c) = e {
        close_with(wire, c.condition(), Some(&c.to_string())).await;
    }
}

/// Serves one connection after TLS, until it closes.
pub(crate) async fn serve<W: Wire>(mut wire: W, ctx: Arc<Shared>, stop: watch::Receiver<bool>) {
    let Some((_app, user)) = authenticate(&mut wire, &ctx).await else {
        return;
    };
    match wire.recv().await {
        Ok(Some(Frame::Header(_))) => {}
        Ok(_) => return,
        Err(e) => return refuse(&mut wire, &e).await,
    }
    wire.header(ctx.host(), &stream_id());
    if wire.queue(&session_features()).is_err() || wire.flush().await.is_err() {
        return;
    }
    let conn = ctx.next_conn();
    let mut s = Session {
        ctx,
        user,
        conn,
        resource: None,
        mailbox: None,
        sm: None,
        out: Vec::new(),
        uncounted: Vec::new(),
        closing: None,
        inactive: false,
        late: VecDeque::new(),
    };
    s.run(&mut wire, stop).await;
}

fn session_features() -> Element {
    Element::builder("features", STREAM_NS)
        .append(Element::builder("bind", "urn:ietf:params:xml:ns:xmpp-bind").build())
        .append(
            Element::builder("session", "urn:ietf:params:xml:ns:xmpp-session")
                .append(Element::builder("optional", "urn:ietf:params:xml:ns:xmpp-session").build())
                .build(),
        )
        .append(Element::builder("sm", sm::NS).build())
        .append(Element::builder("csi", "urn:xmpp:csi:0").build())
        .build()
}

/// Why the loop ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The client closed the stream or logged out: no resumption.
    Clean,
    /// The socket broke: resumable if stream management allows.
    Broken,
    /// Another connection took the session over.
    TakenOver,
    /// We closed the stream with an error; unacked messages bounce to their senders.
    Bounce,
    /// We closed the stream with an error; unacked messages are rerouted.
    Error,
}

/// A logged-in connection.
pub(crate) struct Session {
    pub ctx: Arc<Shared>,
    pub user: UserId,
    pub conn: u64,
    /// The bound resource.
    pub resource: Option<String>,
    mailbox: Option<mpsc::Receiver<Deliver>>,
    sm: Option<SmState>,
    /// Stanzas to write at the next flush.
    pub out: Vec<Element>,
    /// Written before `out` and never counted (what was queued before `<enabled/>`).
    uncounted: Vec<Element>,
    /// A stream error to close with, set by a handler.
    pub closing: Option<(&'static str, End)>,
    /// CSI or the mobile IQ said the client is in the background.
    pub inactive: bool,
    /// Stanzas held back by an injected delivery delay, with when each is due.
    late: VecDeque<(Instant, Element)>,
}

impl Session {
    /// The (user, resource) key of this session, once bound.
    pub fn key(&self) -> Option<(UserId, String)> {
        self.resource.clone().map(|r| (self.user, r))
    }

    /// Our full JID, once bound.
    pub fn full_jid(&self) -> Option<String> {
        self.resource
            .as_deref()
            .map(|r| self.ctx.full_jid(self.user, r))
    }

    async fn run<W: Wire>(&mut self, wire: &mut W, mut stop: watch::Receiver<bool>) {
        let mut faults = self.ctx.faults.watch();
        let cuts_seen = self.ctx.faults.cuts(self.user);
        let end = loop {
            // An injected stall: no bytes either way until it ends (or the server stops).
            if let Some(until) = self.ctx.faults.stalled_until(self.user) {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => continue,
                    _ = stop.changed() => {
                        close_with(wire, "system-shutdown", None).await;
                        break End::Error;
                    }
                }
            }
            let next_late = self.late.front().map(|(t, _)| *t);
            tokio::select! {
                _ = faults.changed(), if self.closing.is_none() => {
                    // An injected cut: the connection drops with no stream end.
                    if self.ctx.faults.cuts(self.user) > cuts_seen {
                        break End::Broken;
                    }
                    continue;
                },
                _ = async {
                    match next_late {
                        Some(t) => tokio::time::sleep_until(t).await,
                        None => std::future::pending().await,
                    }
                } => {
                    let now = Instant::now();
                    while self.late.front().is_some_and(|(t, _)| *t <= now) {
                        if let Some((_, el)) = self.late.pop_front() {
                            self.out.push(el);
                        }
                    }
                },
                frame = wire.recv() => match frame {
                    Ok(Some(Frame::Stanza(el))) => self.on_element(el).await,
                    Ok(Some(Frame::End)) => {
                        wire.footer();
                        let _ = wire.flush().await;
                        break End::Clean;
                    }
                    Ok(Some(Frame::Header(_))) => self.closing = Some(("invalid-xml", End::Error)),
                    Ok(None) => break End::Broken,
                    Err(WireError::Codec(c)) => {
                        let _ = self.write(wire).await;
                        close_with(wire, c.condition(), Some(&c.to_string())).await;
                        break End::Error;
                    }
                    Err(_) => break End::Broken,
                },
                d = recv(&mut self.mailbox) => match d {
                    Some(d) => {
                        if let Some(end) = self.on_deliver(d) { break end; }
                        // Drain what else is waiting, so one write carries many stanzas.
                        let mut n = 0;
                        while n < BATCH {
                            let Some(mb) = self.mailbox.as_mut() else { break };
                            let Ok(d) = mb.try_recv() else { break };
                            if let Some(end) = self.on_deliver(d) { return self.finish(wire, end).await; }
                            n += 1;
                        }
                    }
                    None => self.mailbox = None,
                },
                _ = stop.changed() => {
                    self.closing = Some(("system-shutdown", End::Error));
                }
            }
            if let Some((condition, end)) = self.closing {
                let _ = self.write(wire).await;
                close_with(wire, condition, None).await;
                break end;
            }
            if self.write(wire).await.is_err() {
                break End::Broken;
            }
            if let Some((condition, end)) = self.closing {
                close_with(wire, condition, None).await;
                break end;
            }
        };
        self.finish(wire, end).await;
    }

    async fn finish<W: Wire>(&mut self, _wire: &mut W, end: End) {
        let Some(resource) = self.resource.take() else {
            return;
        };
        let mut sm = self.sm.take().unwrap_or_default();
        // Held back by a delivery delay: as if sent and unacked (resent on resumption).
        for (_, el) in self.late.drain(..) {
            sm.sent(el);
        }
        let mailbox = self.mailbox.take();
        match end {
            End::TakenOver => {}
            End::Broken if sm.id.is_some() && mailbox.is_some() => {
                let id = sm.id.clone().unwrap_or_default();
                self.ctx.router.detach(
                    id.clone(),
                    Detached {
                        user: self.user,
                        resource,
                        mailbox: mailbox.unwrap_or_else(|| mpsc::channel(1).1),
                        sm,
                        conn: self.conn,
                    },
                );
                let ctx = self.ctx.clone();
                let wait = ctx.config.resume_timeout;
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    if let Some(d) = ctx.router.take_detached(&id) {
                        let leftovers = drain(d.sm, Some(d.mailbox));
                        end_session(&ctx, d.user, &d.resource, d.conn, leftovers, false);
                    }
                });
            }
            other => {
                let mut leftovers: Vec<Element> = sm.unacked.drain(..).collect();
                leftovers.extend(drain(SmState::default(), mailbox));
                let bounce = other == End::Bounce;
                end_session(
                    &self.ctx, self.user, &resource, self.conn, leftovers, bounce,
                );
            }
        }
    }

    /// A stanza or control message from the router.
    fn on_deliver(&mut self, d: Deliver) -> Option<End> {
        match d {
            Deliver::Stanza(el) => {
                match self.ctx.faults.delay(self.user) {
                    Some(by) => self.late.push_back((Instant::now() + by, el)),
                    // Behind stanzas still held back: keep the order.
                    None if !self.late.is_empty() => self.late.push_back((Instant::now(), el)),
                    None => self.out.push(el),
                }
                // Held back counts as sent and unacked: past `max_ack_queue` the session is
                // closed and its queue bounces, as for a client that stopped acking.
                if self.late.len() > self.ctx.config.max_ack_queue {
                    self.closing = Some(("policy-violation", End::Bounce));
                }
                None
            }
            Deliver::Conflict => {
                self.closing = Some(("conflict", End::Error));
                None
            }
            Deliver::Takeover(tx) => {
                let (Some(resource), Some(mailbox)) = (self.resource.take(), self.mailbox.take())
                else {
                    return None;
                };
                let mut sm = self.sm.take().unwrap_or_default();
                // Not yet written: hand them over as if sent and unacked.
                for el in self.out.drain(..) {
                    sm.sent(el);
                }
                let _ = tx.send(Detached {
                    user: self.user,
                    resource,
                    mailbox,
                    sm,
                    conn: self.conn,
                });
                Some(End::TakenOver)
            }
        }
    }

    /// Writes queued stanzas, counting them for XEP-0198 and asking for an ack.
    async fn write<W: Wire>(&mut self, wire: &mut W) -> Result<(), WireError> {
        if self.out.is_empty() && self.uncounted.is_empty() {
            return Ok(());
        }
        for el in self.uncounted.drain(..) {
            wire.queue(&el)?;
        }
        for el in std::mem::take(&mut self.out) {
            wire.queue(&el)?;
            if let Some(sm) = self.sm.as_mut()
                && is_stanza(&el)
            {
                sm.sent(el);
            }
        }
        if let Some(sm) = self.sm.as_mut() {
            if sm.unacked.len() > self.ctx.config.max_ack_queue {
                // ejabberd's max_ack_queue: a client this far behind is closed.
                self.closing = Some(("policy-violation", End::Bounce));
            } else if sm.should_request() {
                wire.queue(&sm.request_sent())?;
            }
        }
        wire.flush().await
    }

    async fn on_element(&mut self, el: Element) {
        if el.ns() == sm::NS {
            return self.on_sm(el).await;
        }
        if el.ns() == "urn:xmpp:csi:0" {
            return self.set_inactive(el.name() == "inactive");
        }
        if !is_stanza(&el) {
            self.closing = Some(("unsupported-stanza-type", End::Error));
            return;
        }
        if let Some(sm) = self.sm.as_mut() {
            sm.received();
        }
        match el.name() {
            "iq" => iq::handle(self, el),
            _ if self.resource.is_none() => self.closing = Some(("not-authorized", End::Error)),
            "presence" => self.on_presence(el),
            _ => messages::handle(self, el),
        }
    }

    fn on_presence(&mut self, el: Element) {
        let Some(key) = self.key() else { return };
        if let Some(to) = el.attr("to") {
            if let Ok(jid) = xmpp_parsers::jid::Jid::new(to)
                && self.ctx.domain.is_room(&jid)
            {
                return muc::presence(self, &jid, el);
            }
            return messages::directed_presence(self, el);
        }
        let available = el.attr("type").is_none();
        let was_online = self.ctx.router.is_online(self.user);
        let was = self
            .ctx
            .router
            .entry(key.0, &key.1)
            .is_some_and(|e| e.available);
        self.ctx
            .router
            .update(key.0, &key.1, |e| e.available = available);
        if available && !was {
            self.out.extend(self.ctx.take_offline(self.user));
        }
        if available != was_online && self.ctx.router.is_online(self.user) == available {
            iq::notify_watchers(&self.ctx, self.user, available);
        }
        if !available {
            for room in self.ctx.router.rooms_of(&key) {
                muc::leave(&self.ctx, room, &key);
            }
        }
    }

    async fn on_sm(&mut self, el: Element) {
        match el.name() {
            "enable" => self.enable(&el),
            // An injected fault: the server keeps quiet about what it took.
            "r" if self.ctx.faults.acks_withheld(self.user) => {}
            "r" => {
                if let Some(sm) = &self.sm {
                    self.out_nonza(sm.answer());
                }
            }
            "a" => {
                let h = el.attr("h").and_then(|h| h.parse::<u32>().ok());
                let ok = match (h, self.sm.as_mut()) {
                    (Some(h), Some(sm)) => sm.ack(h),
                    _ => false,
                };
                if !ok {
                    self.closing = Some(("undefined-condition", End::Error));
                }
            }
            "resume" => self.resume(&el).await,
            _ => {}
        }
    }

    /// Nonzas go out before queued stanzas are counted: they are not stanzas to XEP-0198.
    fn out_nonza(&mut self, el: Element) {
        self.out.push(el);
    }

    fn enable(&mut self, el: &Element) {
        let Some(key) = self.key() else {
            return self.out_nonza(sm_failed("unexpected-request"));
        };
        if self.sm.is_some() {
            return self.out_nonza(sm_failed("unexpected-request"));
        }
        let resume = matches!(el.attr("resume"), Some("true" | "1"));
        let id = resume.then(stream_id);
        let mut enabled = Element::builder("enabled", sm::NS);
        if let Some(id) = &id {
            enabled = enabled
                .a("id", id.as_str())
                .a("resume", "true")
                .a("max", self.ctx.config.resume_timeout.as_secs().to_string());
        }
        self.ctx
            .router
            .update(key.0, &key.1, |e| e.sm_id = id.clone());
        // Stanzas queued before <enabled/> are not under stream management: they go out
        // first, uncounted, so the first counted stanza is the first after <enabled/>.
        self.uncounted.append(&mut self.out);
        self.uncounted.push(enabled.build());
        self.sm = Some(SmState {
            id,
            ..SmState::default()
        });
    }

    async fn resume(&mut self, el: &Element) {
        if self.resource.is_some() {
            return self.out_nonza(sm_failed("unexpected-request"));
        }
        let (Some(previd), Some(h)) = (
            el.attr("previd"),
            el.attr("h").and_then(|h| h.parse::<u32>().ok()),
        ) else {
            return self.out_nonza(sm_failed("bad-request"));
        };
        if self.ctx.faults.take_refusal(self.user) {
            // An injected refusal: the server "lost" the session, so it ends here.
            if let Some(d) = self.find_detached(previd).await {
                let leftovers = drain(d.sm, Some(d.mailbox));
                end_session(&self.ctx, d.user, &d.resource, d.conn, leftovers, false);
            }
            return self.out_nonza(sm_failed("item-not-found"));
        }
        let Some(mut d) = self.find_detached(previd).await else {
            return self.out_nonza(sm_failed("item-not-found"));
        };
        if !d.sm.ack(h) {
            // The client claims more than we sent: the old session cannot be trusted.
            let leftovers = drain(d.sm, Some(d.mailbox));
            end_session(&self.ctx, d.user, &d.resource, d.conn, leftovers, false);
            return self.out_nonza(sm_failed("unexpected-request"));
        }
        let resent: Vec<Element> = d.sm.unacked.drain(..).collect();
        d.sm.h_out = h;
        let conn = self.conn;
        self.ctx
            .router
            .update(self.user, &d.resource, |e| e.conn = conn);
        let resumed = Element::builder("resumed", sm::NS)
            .a("previd", previd)
            .a("h", d.sm.h_in.to_string())
            .build();
        self.out.push(resumed);
        self.resource = Some(d.resource);
        self.mailbox = Some(d.mailbox);
        self.sm = Some(d.sm);
        self.out.extend(resent);
    }

    async fn find_detached(&self, previd: &str) -> Option<Detached> {
        if let Some(d) = self.ctx.router.take_detached(previd) {
            if d.user == self.user {
                return Some(d);
            }
            self.ctx.router.detach(previd.to_owned(), d);
            return None;
        }
        // The old connection may not have noticed it is dead: take the session from it.
        let entry = self.ctx.router.attached_by_sm_id(self.user, previd)?;
        let (tx, rx) = oneshot::channel();
        entry.tx.try_send(Deliver::Takeover(tx)).ok()?;
        tokio::time::timeout(Duration::from_secs(5), rx)
            .await
            .ok()?
            .ok()
    }

    /// Marks this session in the background (or back in the foreground): while every session
    /// of the user is, messages to them also make push notifications.
    pub fn set_inactive(&mut self, inactive: bool) {
        self.inactive = inactive;
        if let Some(resource) = &self.resource {
            self.ctx
                .router
                .update(self.user, resource, |e| e.inactive = inactive);
        }
    }

    /// Binds `resource` (or a fresh one): registers the mailbox, replacing a session that
    /// held the same resource (it closes with `conflict`).
    pub fn bind(&mut self, resource: Option<String>) -> String {
        let resource = resource
            .filter(|r| !r.is_empty() && r.len() <= 256)
            .unwrap_or_else(stream_id);
        let (tx, rx) = mpsc::channel(MAILBOX);
        let old = self.ctx.router.register(
            self.user,
            &resource,
            Entry {
                tx,
                available: false,
                carbons: false,
                conn: self.conn,
                sm_id: None,
                inactive: false,
            },
        );
        if let Some(old) = old {
            let _ = old.tx.try_send(Deliver::Conflict);
        }
        self.resource = Some(resource.clone());
        self.mailbox = Some(rx);
        resource
    }
}

async fn recv(mailbox: &mut Option<mpsc::Receiver<Deliver>>) -> Option<Deliver> {
    match mailbox {
        Some(m) => m.recv().await,
        None => std::future::pending().await,
    }
}

/// A session is gone for good: unregister, leave rooms, record the last activity, and give
/// its undelivered messages another way (other resources or offline storage), or bounce them
/// to their senders.
pub(crate) fn end_session(
    ctx: &Arc<Shared>,
    user: UserId,
    resource: &str,
    conn: u64,
    leftovers: Vec<Element>,
    bounce: bool,
) {
    let was_online = ctx.router.is_online(user);
    if !ctx.router.unregister(user, resource, conn) {
        return;
    }
    let key = (user, resource.to_owned());
    for room in ctx.router.rooms_of(&key) {
        muc::leave(ctx, room, &key);
    }
    ctx.router.unwatch_all(&key);
    if was_online && !ctx.router.is_online(user) {
        let _ = ctx
            .backend
            .set_last_activity(user, chrono::Utc::now().timestamp());
        iq::notify_watchers(ctx, user, false);
    }
    for el in leftovers {
        if el.name() != "message" || messages::is_carbon(&el) {
            continue;
        }
        if el.attr("type") == Some("groupchat") || el.attr("type") == Some("error") {
            continue;
        }
        if bounce {
            // ejabberd's words for the queue of a session it ended: the senders' SDKs (ours
            // among them) read them as transient and send the message again, so a recipient
            // closed for falling behind gets it after it reconnects instead of never.
            messages::bounce(ctx, &el, "service-unavailable", "User session terminated");
        } else {
            messages::deliver_to_user(ctx, user, None, el, true);
        }
    }
}
