//! The app's event stream, fed by a task the client owns: it reads the connection's stanzas,
//! classifies them, drops forged carbons and duplicates, flags out-of-order messages and sends
//! the automatic 'delivered' markers, whether or not the app is polling at that moment.

use std::collections::HashMap;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use connectycube_protocol::UnreadableStanza;
use connectycube_protocol::address::user_id_of;
use connectycube_protocol::classify;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::{DialogId, UserId};
use futures_util::{Stream, StreamExt};
use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use crate::delivery::{AutoDelivered, DeliveryFilter, Verdict};
use crate::fanout::{Blocked, Event, Hub, Synced, Unreadable};
use crate::flow::Flow;
use crate::markers::{Acknowledge, Outbox};
use crate::rooms::Rooms;
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
    /// dialog.send_text("hi").await?;
    /// let received = loop {
    ///     let received = bob_events.next().await.ok_or("the client stopped")??;
    ///     if received.kind() == "ChatMessage" {
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

/// What the stream yields: an event, or a stanza that could not be read at all.
pub type EventItem = Result<Received, UnreadableStanza>;

/// Everything that happens in real time, classified: messages, statuses, typing, edits,
/// deletions, reactions, system messages, room presences, last activity.
///
/// Messages from others are acknowledged with a `received` marker automatically, as the
/// official SDKs do, when the client takes them in (not when the app polls); which ones is
/// [`crate::DeliverySettings::auto_delivered`] (by default: markable ones, 1-1 and group, as
/// the guide says). Carbons that
/// do not come from the user's own account are dropped (XEP-0280 §11: anyone else sending one
/// is forging it), and so is any message, marker, edit or deletion already shown
/// ([`crate::DeliverySettings`], [`crate::ChatClient::delivery_stats`]).
///
/// # This stream and the subscriptions
/// `ChatEvents` is the raw classified stream: every [`ChatEvent`] the connection brought (and
/// every history message the gap filler fetched, flagged [`Received::from_history`]), or the
/// stanza that could not be read, losslessly and in order. The facade's own events exist only
/// for subscribers ([`crate::ChatClient::subscribe`], [`crate::Event`]):
///
/// | subscribers get | this stream has instead |
/// |---|---|
/// | [`crate::Event::Blocked`] | the [`ChatEvent::MessageError`] it was read from |
/// | [`crate::Event::Synced`] | nothing: the dialog's history messages before it are here |
/// | [`crate::Event::State`] | nothing: [`crate::ChatClient::state_changes`] has them |
/// | [`crate::Event::Lagged`] | nothing: this stream never drops (a full one pauses reading) |
///
/// An app that needs to know when a dialog's gap is closed, or wants blocks typed, listens
/// through a subscription (and may drop this stream).
#[derive(Debug)]
pub struct ChatEvents {
    /// Boxed items: a channel allocates its first block of 32 slots when made, 7 KiB of
    /// unboxed events for every connection, read or idle.
    rx: mpsc::Receiver<Box<EventItem>>,
}

impl ChatEvents {
    pub(crate) fn new(rx: mpsc::Receiver<Box<EventItem>>) -> Self {
        Self { rx }
    }

    /// The next event; `None` once the client is gone.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// dialog.send_text("first").await?;
    /// let body = loop {
    ///     let received = bob_events.next().await.ok_or("the client stopped")??;
    ///     if let ChatEvent::ChatMessage(m) = received.into_event() {
    ///         break m.payload.body;
    ///     }
    /// };
    /// assert_eq!(body.as_deref(), Some("first"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<EventItem> {
        self.rx.recv().await.map(|item| *item)
    }
}

impl Stream for ChatEvents {
    type Item = EventItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventItem>> {
        // Receiving only: every side effect happened in the pump.
        self.rx.poll_recv(cx).map(|item| item.map(|item| *item))
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
}

/// The next injected item; never, once the line is closed.
async fn recv(rx: &mut Option<mpsc::Receiver<Injected>>) -> Option<Injected> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the app dropped its stream; never, once it did.
async fn closed(tx: &Option<mpsc::Sender<Box<EventItem>>>) {
    match tx {
        Some(tx) => tx.closed().await,
        None => std::future::pending().await,
    }
}

fn history_dialog(event: &ChatEvent) -> Option<DialogId> {
    match event {
        ChatEvent::ChatMessage(m) => m.dialog_id(),
        _ => None,
    }
}

impl<A: Acknowledge> Pump<A> {
    /// Feeds `tx` and the hub from `input` (and the gap filler) until the input ends, or
    /// until the app dropped its stream and no subscriber is left. Waiting on a full `tx`
    /// stops reading `input`, so a slow app slows the connection's reader instead of filling
    /// memory.
    pub(crate) async fn run<S>(mut self, mut input: S, tx: mpsc::Sender<Box<EventItem>>)
    where
        S: Stream<Item = Element> + Unpin,
    {
        let mut primary = Some(tx);
        let mut injected = self.injected.take();
        loop {
            if primary.is_none() && !self.hub.has_subscribers() {
                break;
            }
            let (item, event) = tokio::select! {
                el = input.next() => {
                    let Some(el) = el else { break };
                    match self.handle(el) {
                        Some(item) => {
                            let event = for_subscribers(&item);
                            (Some(item), event)
                        }
                        None => continue,
                    }
                }
                inj = recv(&mut injected) => match inj {
                    Some(inj) => match self.handle_injected(inj) {
                        Some(out) => out,
                        None => continue,
                    },
                    None => { injected = None; continue; }
                },
                // The app dropped its stream: go on for the subscribers, if any.
                () = closed(&primary) => { primary = None; continue; }
                () = self.outbox.settled() => { self.outbox.refill(&self.ack); continue; }
            };
            self.hub.publish(&event);
            if let (Some(tx), Some(item)) = (&primary, item)
                && tx.send(Box::new(item)).await.is_err()
            {
                primary = None;
            }
        }
        self.hub.end();
    }

    /// What a history message or the end of a dialog's history shows, if anything.
    fn handle_injected(&mut self, inj: Injected) -> Option<(Option<EventItem>, Event)> {
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
                self.gap.seen(&event);
                if let Some(dialog) = history_dialog(&event) {
                    *self.fetched.entry(dialog).or_default() += 1;
                }
                let received = Received {
                    event,
                    out_of_order,
                    from_history: true,
                };
                Some((Some(Ok(received.clone())), Event::Chat(received)))
            }
            Injected::Synced(dialog) => {
                let fetched = self.fetched.remove(&dialog).unwrap_or(0);
                Some((None, Event::Synced(Synced { dialog, fetched })))
            }
        }
    }

    /// The item for one stanza, or `None` when it is dropped.
    fn handle(&mut self, el: Element) -> Option<EventItem> {
        self.rooms.on_stanza(&el);
        let event = match classify(el) {
            Ok(event) => event,
            Err(e) => return Some(Err(e)),
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
        self.gap.seen(&event);
        Some(Ok(Received {
            event,
            out_of_order,
            from_history: false,
        }))
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

/// The subscribers' form of an item: a privacy block becomes [`Event::Blocked`].
fn for_subscribers(item: &EventItem) -> Event {
    match item {
        Ok(received) => {
            blocked(&received.event).map_or_else(|| Event::Chat(received.clone()), Event::Blocked)
        }
        Err(unreadable) => Event::Unreadable(Unreadable::from(unreadable)),
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
