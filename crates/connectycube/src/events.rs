//! The client's event task: it reads the connection's stanzas and states, classifies them,
//! drops forged carbons and duplicates, flags out-of-order messages, sends the automatic
//! 'delivered' markers and hands every event to the app's subscriptions ([`crate::fanout`]),
//! whether or not the app is polling at that moment, for as long as a handle of the session
//! lives.
//!
//! Messages from others are acknowledged with a `received` marker automatically, as the
//! official SDKs do, when the client takes them in (not when the app polls); which ones is
//! [`crate::DeliverySettings::auto_delivered`] (by default: markable ones, 1-1 and group, as
//! the guide says). Carbons that do not come from the user's own account are dropped (XEP-0280
//! §11: anyone else sending one is forging it), and so is any message, marker, edit or
//! deletion already shown ([`crate::DeliverySettings`]).

use std::collections::{HashMap, VecDeque};
use std::ops::Deref;
use std::sync::Arc;

use connectycube_protocol::address::user_id_of;
use connectycube_protocol::classify;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_transport::session::StateChange;
use connectycube_transport::stanza::Stanza;
use futures_util::{Stream, StreamExt};
// The tests (events_tests.rs, `use super::*`) feed trees.
#[cfg(test)]
use minidom::Element;
use tokio::sync::{mpsc, watch};
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use crate::delivery::{AutoDelivered, DeliveryFilter, Verdict};
use crate::fanout::{Blocked, Event, Hub, SyncFailed, Synced, Unreadable};
use crate::flow::Flow;
use crate::markers::{Acknowledge, Outbox};
use crate::rooms::Rooms;
use crate::store::Store;
use crate::sync::{GapFill, Injected};

/// One event for the app, with what the facade knows about its arrival.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Received {
    /// The event.
    pub event: ChatEvent,
    /// A message that arrived after a newer message from the same sending process (same
    /// ObjectId random part, higher counter) in its dialog: the server delivered them out of
    /// send order. A UI can sort by the id; the facade does not hold messages back.
    pub out_of_order: bool,
    /// A message sent while the client was away, fetched from the REST history after a new
    /// session (see [`crate::ChatClient::enable_gap_fill`]); no 'delivered' marker was sent.
    pub from_history: bool,
}

impl Received {
    /// The event, without the arrival flags.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::Event;
    ///
    /// dialog.send_text("hi").await?;
    /// let received = loop {
    ///     let event = bob_events.next().await.ok_or("the client stopped")?;
    ///     if let Event::Chat(received) = event
    ///         && received.kind() == "ChatMessage"
    ///     {
    ///         break received;
    ///     }
    /// };
    /// assert!(!received.out_of_order && !received.from_history);
    /// assert_eq!(received.into_event().kind(), "ChatMessage");
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_event(self) -> ChatEvent {
        self.event
    }
}

impl Deref for Received {
    type Target = ChatEvent;

    fn deref(&self) -> &ChatEvent {
        &self.event
    }
}

/// Who the pump works for.
pub(crate) struct Pump<A: Acknowledge> {
    /// Sends the markers.
    pub ack: A,
    /// The automatic markers in flight and waiting (bounded).
    pub outbox: Outbox<A::Handle>,
    /// This user (no marker for our own messages).
    pub user: UserId,
    /// This user's address (carbons must come from it).
    pub own: Jid,
    /// Duplicates and order.
    pub filter: DeliveryFilter,
    /// The other subscribers.
    pub hub: Arc<Hub>,
    /// Learns the outcome of room joins.
    pub rooms: Arc<Rooms>,
    /// Which messages get the automatic 'delivered' marker.
    pub auto_delivered: AutoDelivered,
    /// Remembers the last message seen per dialog, for the gap filler.
    pub gap: Arc<GapFill>,
    /// What the gap filler fetched (taken by `run`).
    pub injected: Option<mpsc::Receiver<Injected>>,
    /// History messages shown per dialog by the fill under way in it (since its `Begin`).
    pub fetched: HashMap<DialogId, usize>,
    /// Learns of the markers and bounces that answer paced sends.
    pub flow: Arc<Flow>,
    /// Keeps the messages shown and what changes them.
    pub store: Store,
    /// Local echoes of our sends that moved, published after the event that moved them.
    pub echoes: Vec<Event>,
}

/// The next injected item; never, once the line is closed.
async fn recv(rx: &mut Option<mpsc::Receiver<Injected>>) -> Option<Injected> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Held by every handle of a session the app can reach (not by the client's own tasks):
/// when the last one is dropped, the event task ends and with it the connection.
#[derive(Debug)]
pub(crate) struct Alive {
    /// Never sent on: its drop is the signal.
    _tx: watch::Sender<()>,
}

impl Alive {
    /// The token, and what the event task watches.
    pub(crate) fn new() -> (Arc<Self>, watch::Receiver<()>) {
        let (tx, rx) = watch::channel(());
        (Arc::new(Self { _tx: tx }), rx)
    }
}

fn history_dialog(event: &ChatEvent) -> Option<DialogId> {
    match event {
        ChatEvent::ChatMessage(m) => m.dialog_id(),
        _ => None,
    }
}

impl<A: Acknowledge> Pump<A> {
    /// Feeds the hub from `input`, `states` and the gap filler until the input ends or the
    /// last handle of the session is dropped (`alive` closes). Each state is published
    /// where it happened among the stanzas (after the `after_stanzas` first). Waiting on a
    /// full lossless subscription stops reading `input`, so that app slows the connection's
    /// reader instead of filling memory; every other subscription only counts what it missed.
    pub(crate) async fn run<S, T>(mut self, mut input: S, states: T, mut alive: watch::Receiver<()>)
    where
        S: Stream<Item = Stanza> + Unpin,
        T: Stream<Item = StateChange>,
    {
        let mut injected = self.injected.take();
        let mut states = std::pin::pin!(states);
        let mut changes: VecDeque<StateChange> = VecDeque::new();
        let mut taken = 0u64;
        loop {
            if let Some(change) = changes.front().filter(|c| c.after_stanzas <= taken) {
                let state = change.state;
                changes.pop_front();
                self.hub.publish(Event::State(state)).await;
                continue;
            }
            let event = tokio::select! {
                biased;
                change = states.next() => {
                    changes.extend(change);
                    continue;
                }
                el = input.next() => {
                    let Some(el) = el else { break };
                    taken += 1;
                    match self.handle(el) {
                        Some(event) => event,
                        None => continue,
                    }
                }
                inj = recv(&mut injected) => match inj {
                    Some(inj) => match self.handle_injected(inj) {
                        Some(event) => event,
                        None => continue,
                    },
                    None => { injected = None; continue; }
                },
                () = self.outbox.settled() => { self.outbox.refill(&self.ack); continue; }
                // Every handle the app held is gone: nobody can listen or act any more.
                Err(_) = alive.changed() => break,
            };
            self.hub.publish(event).await;
            for echo in std::mem::take(&mut self.echoes) {
                self.hub.publish(echo).await;
            }
        }
        self.hub.end();
    }

    /// What a history message or the end of a dialog's fill (synced or failed) shows, if
    /// anything.
    fn handle_injected(&mut self, inj: Injected) -> Option<Event> {
        match inj {
            Injected::Begin(dialog) => {
                self.fetched.insert(dialog, 0);
                None
            }
            Injected::History(event) => {
                let event = *event;
                let Verdict::Show { out_of_order } = self.filter.admit(&event) else {
                    return None;
                };
                if crate::store::live::shown_before(&self.store, self.user, &event) {
                    return None;
                }
                self.gap.seen(&event);
                self.keep(&event);
                if let Some(dialog) = history_dialog(&event) {
                    *self.fetched.entry(dialog).or_default() += 1;
                }
                let received = Received {
                    event,
                    out_of_order,
                    from_history: true,
                };
                Some(Event::Chat(received))
            }
            Injected::Synced { dialog, complete } => {
                let fetched = self.fetched.remove(&dialog).unwrap_or(0);
                Some(Event::Synced(Synced {
                    dialog,
                    fetched,
                    complete,
                }))
            }
            Injected::Failed { dialog, error } => {
                let fetched = self.fetched.remove(&dialog).unwrap_or(0);
                Some(Event::SyncFailed(SyncFailed {
                    dialog,
                    fetched,
                    error,
                }))
            }
        }
    }

    /// The event for one stanza, or `None` when it is dropped.
    fn handle(&mut self, stanza: Stanza) -> Option<Event> {
        let event = match stanza {
            // A hot message the connection already read, without a tree: what `classify`
            // gives for its tree. Never a presence, so nothing for `rooms.on_stanza`.
            Stanza::Read(read) => read.into_event(),
            other => {
                let el = match other.into_element() {
                    Ok(el) => el,
                    Err(e) => {
                        tracing::warn!(error = %e, "a stanza could not be built");
                        return None;
                    }
                };
                self.rooms.on_stanza(&el);
                match classify(el) {
                    Ok(event) => event,
                    Err(e) => return Some(Event::Unreadable(Unreadable::from(e))),
                }
            }
        };
        if !self.genuine(&event) {
            return None;
        }
        self.rooms.on_event(&event);
        self.flow.observe(&event, self.user);
        let Verdict::Show { out_of_order } = self.filter.admit(&event) else {
            return None;
        };
        self.auto_deliver(&event);
        // Shown by an earlier run: the server redelivers what it had no ack for (it still got
        // its marker above: the sender may not have had it), but it is not shown again.
        if crate::store::live::shown_before(&self.store, self.user, &event) {
            return None;
        }
        self.gap.seen(&event);
        self.keep(&event);
        if let Some(blocked) = blocked(&event) {
            return Some(Event::Blocked(blocked));
        }
        Some(Event::Chat(Received {
            event,
            out_of_order,
            from_history: false,
        }))
    }

    /// Tells the store; a send of ours that moved shows as its local echo.
    fn keep(&mut self, event: &ChatEvent) {
        if let Some(echo) = crate::store::live::record(&self.store, self.user, event) {
            self.echoes.push(Event::Echo(echo));
        }
    }

    fn genuine(&self, event: &ChatEvent) -> bool {
        let Some(carbon) = event.envelope().and_then(|e| e.carbon.as_ref()) else {
            return true;
        };
        let genuine = carbon
            .from
            .as_ref()
            .is_some_and(|f| f.to_bare() == self.own.to_bare());
        if !genuine {
            tracing::warn!(from = ?carbon.from, "dropped a carbon copy not sent by our own account");
        }
        genuine
    }

    fn auto_deliver(&mut self, event: &ChatEvent) {
        let ChatEvent::ChatMessage(m) = event else {
            return;
        };
        let msg = &m.payload;
        let dialog = m.dialog_id();
        let wanted = match self.auto_delivered {
            AutoDelivered::Off => false,
            AutoDelivered::Markable => msg.markable,
            AutoDelivered::MarkableOrDialog => msg.markable || dialog.is_some(),
        };
        let kind_ok = matches!(m.envelope.kind, MessageType::Chat | MessageType::Groupchat);
        if wanted
            && kind_ok
            && !msg.carbon
            && let Some(sender) = msg.sender_id.filter(|s| *s != self.user)
        {
            self.outbox.push(&self.ack, sender, dialog, msg.id);
        }
    }
}

/// A bounced 1-1 message whose error says a privacy list refused it
/// ([`connectycube_protocol::message::error::MessageError::is_privacy_block`]).
fn blocked(event: &ChatEvent) -> Option<Blocked> {
    let ChatEvent::MessageError(m) = event else {
        return None;
    };
    if !m.payload.is_privacy_block() {
        return None;
    }
    let user = user_id_of(m.envelope.from.as_ref()?).ok()?;
    Some(Blocked {
        user,
        message_id: m.envelope.id.clone(),
        error: m.payload.clone(),
    })
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
