//! Events for any number of listeners ([`Session::events`](crate::Session::events) and the
//! typed streams such as [`Session::messages`](crate::Session::messages)).
//!
//! # What a listener that does not read costs
//! Every event is stored once, in one log shared by every subscription (a subscription is a
//! cursor in it, tens of bytes), which keeps at most the latest
//! [`DeliverySettings::subscriber_buffer`](crate::DeliverySettings::subscriber_buffer)
//! events (1,024 by default) that someone has not read. While a [`Session`](crate::Session) lives its chat is processed (events
//! classified, markers sent, rooms rejoined, gaps filled) whatever the app's streams do:
//!
//! - A normal subscription never holds the connection or the other listeners back: when its
//!   events fall out of the log before it read them, they are counted, and once it reads
//!   again it gets one [`Event::Lagged`] at the place of the gap, saying exactly how many
//!   events it missed and in which dialogs messages were among them (fetch those from the
//!   REST history). Nothing vanishes without notice.
//! - A lossless subscription ([`Session::events_lossless`](crate::Session::events_lossless))
//!   is the app's choice of backpressure instead: when it is `subscriber_buffer` events
//!   behind, the client stops reading from the connection until it reads, which holds every
//!   listener back too.
//!
//! Dropping a stream only unsubscribes it. Every stream ends once every handle of its
//! session is dropped, or after [`Session::destroy`](crate::Session::destroy).

use std::collections::BTreeSet;
use std::sync::Arc;

use connectycube_protocol::UnreadableStanza;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_protocol::message::error::MessageError;
use connectycube_transport::session::ConnectionState;

use crate::Error;
use crate::events::Received;

/// One kind of event, to subscribe to only what a listener shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// Messages, edits, deletions, [`Event::Synced`] and [`Event::SyncFailed`].
    Messages,
    /// 'delivered' and 'read' markers.
    Statuses,
    /// Typing notifications.
    Typing,
    /// Reaction changes.
    Reactions,
    /// Room occupants joining, leaving, kicked; last-activity answers and pushes.
    Presence,
    /// System messages.
    System,
    /// Bounced messages, [`Event::Blocked`], unreadable stanzas.
    Errors,
    /// [`Event::State`]: connection states.
    Connection,
    /// [`Event::Echo`]: this client's own sends, queued, sent, delivered, read or failed.
    Echoes,
    /// IQ answers, pings, privacy-list pushes, stanzas this SDK does not interpret.
    Other,
}

impl EventKind {
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Which kinds a subscription receives; [`Event::Lagged`] always comes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFilter(u16);

impl EventFilter {
    /// Every event.
    pub const ALL: Self = Self(u16::MAX);

    /// Only events of `kind`.
    ///
    /// ```
    /// use connectycube::{EventFilter, EventKind};
    ///
    /// let filter = EventFilter::only(EventKind::Typing);
    /// assert!(filter.accepts(EventKind::Typing));
    /// assert!(!filter.accepts(EventKind::Messages));
    /// ```
    pub fn only(kind: EventKind) -> Self {
        Self(kind.bit())
    }

    /// These kinds and `kind`.
    ///
    /// ```
    /// use connectycube::{EventFilter, EventKind};
    ///
    /// let filter = EventFilter::only(EventKind::Messages).and(EventKind::Statuses);
    /// assert!(filter.accepts(EventKind::Statuses));
    /// assert!(!filter.accepts(EventKind::Presence));
    /// ```
    #[must_use]
    pub fn and(self, kind: EventKind) -> Self {
        Self(self.0 | kind.bit())
    }

    /// Whether `kind` passes.
    ///
    /// ```
    /// use connectycube::{EventFilter, EventKind};
    ///
    /// assert!(EventFilter::ALL.accepts(EventKind::Other));
    /// assert!(EventFilter::from(EventKind::Errors).accepts(EventKind::Errors));
    /// ```
    pub fn accepts(self, kind: EventKind) -> bool {
        self.0 & kind.bit() != 0
    }
}

impl From<EventKind> for EventFilter {
    fn from(kind: EventKind) -> Self {
        Self::only(kind)
    }
}

/// A 1-1 message of ours refused because the recipient's privacy list blocks us (or ours
/// blocks them). In a group a blocked user gets nothing, so this is 1-1 only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Blocked {
    /// The recipient of the refused message.
    pub user: UserId,
    /// The refused message's id, as sent.
    pub message_id: Option<String>,
    /// The error as the server gave it.
    pub error: MessageError,
}

/// A dialog's gap after a new session is filled: what was sent while away was fetched from
/// the REST history and delivered (before this event, oldest first), all of it when
/// `complete`. A fill takes at most 1,000 messages per dialog: when more were sent,
/// `complete` is false and the app pages the rest with the dialog's history,
/// [`Dialog::history`](crate::Dialog::history), from the `date_sent` of the last message
/// this fill showed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Synced {
    /// The dialog.
    pub dialog: DialogId,
    /// Messages the fill that closed the gap fetched from the history and showed: not those
    /// already shown live, nor those an earlier fill showed before it failed or was stopped
    /// by a newer session's fill.
    pub fetched: usize,
    /// Everything sent while away was fetched; false when the fill stopped at its bound and
    /// more messages follow in the history.
    pub complete: bool,
}

impl std::fmt::Display for Synced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "dialog {}: {} messages sent while away fetched",
            self.dialog, self.fetched
        )?;
        if !self.complete {
            write!(
                f,
                "; more were sent than one fill takes: page the rest with Dialog::history()"
            )?;
        }
        Ok(())
    }
}

/// A dialog's gap after a new session could not be filled: its history request failed
/// (the network, a server error, an answer that does not read or is too large). The
/// messages this fill showed came before this event; the rest of the gap is not shown:
/// page it with [`Dialog::history`](crate::Dialog::history), when
/// [`Error::retry`](crate::Error::retry) says retrying may help.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncFailed {
    /// The dialog.
    pub dialog: DialogId,
    /// Messages this fill fetched from the history and showed before it failed.
    pub fetched: usize,
    /// Why (shared: every listener gets the same error).
    pub error: Arc<Error>,
}

impl std::fmt::Display for SyncFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "dialog {}: fetching what was sent while away failed after {} messages: {}",
            self.dialog, self.fetched, self.error
        )
    }
}

impl std::error::Error for SyncFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// A stanza that could not be read at all (the subscriber's copy of an
/// [`UnreadableStanza`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Unreadable {
    /// The stanza, as received.
    pub element: minidom::Element,
    /// Why it could not be read.
    pub reason: String,
}

impl From<UnreadableStanza> for Unreadable {
    fn from(u: UnreadableStanza) -> Self {
        Self {
            element: *u.element,
            reason: u.error.to_string(),
        }
    }
}

/// What a slow subscriber missed (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Lagged {
    /// Events this subscription had no room for (of the kinds it subscribed to).
    pub missed: u64,
    /// How many of them were messages.
    pub missed_messages: u64,
    /// The dialogs of those messages, to refetch from the history (at most
    /// [`MAX_LAGGED_DIALOGS`]).
    pub dialogs: BTreeSet<DialogId>,
    /// More dialogs had missed messages than `dialogs` holds: refetch every active dialog.
    pub dialogs_truncated: bool,
}

impl std::fmt::Display for Lagged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the listener fell behind and missed {} events ({} messages, in {} dialogs{}); \
             fetch those dialogs' history",
            self.missed,
            self.missed_messages,
            self.dialogs.len(),
            if self.dialogs_truncated {
                " and more"
            } else {
                ""
            }
        )
    }
}

impl std::error::Error for Lagged {}

/// How many dialogs a [`Lagged`] names at most.
pub const MAX_LAGGED_DIALOGS: usize = 256;

/// One event for a subscriber.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A classified stanza (message, marker, typing, presence, ...).
    Chat(Received),
    /// A stanza that could not be read at all, kept whole.
    Unreadable(Unreadable),
    /// The connection moved to this state (every transition, in order).
    State(ConnectionState),
    /// A 1-1 message was refused by a privacy list.
    Blocked(Blocked),
    /// A dialog's gap after a new session is filled.
    Synced(Synced),
    /// A dialog's gap after a new session could not be filled.
    SyncFailed(SyncFailed),
    /// This subscription fell behind and missed events.
    Lagged(Lagged),
    /// One of this client's sends, at once when queued, then at every change of its status.
    Echo(crate::store::LocalEcho),
}

impl Event {
    /// Its kind; `None` for [`Event::Lagged`], which every subscription gets.
    ///
    /// ```
    /// use connectycube::{Event, EventKind};
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// assert_eq!(Event::State(ConnectionState::Ready).kind(), Some(EventKind::Connection));
    /// ```
    pub fn kind(&self) -> Option<EventKind> {
        Some(match self {
            Self::Chat(r) => chat_kind(&r.event),
            Self::Unreadable(_) | Self::Blocked(_) => EventKind::Errors,
            Self::State(_) => EventKind::Connection,
            Self::Synced(_) | Self::SyncFailed(_) => EventKind::Messages,
            Self::Echo(_) => EventKind::Echoes,
            Self::Lagged(_) => return None,
        })
    }

    /// The classified event, if this is one.
    ///
    /// ```
    /// use connectycube::Event;
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// assert!(Event::State(ConnectionState::Reconnecting).chat().is_none(), "not a stanza");
    /// ```
    pub fn chat(&self) -> Option<&ChatEvent> {
        match self {
            Self::Chat(r) => Some(&r.event),
            _ => None,
        }
    }
}

fn chat_kind(event: &ChatEvent) -> EventKind {
    match event {
        ChatEvent::ChatMessage(_) | ChatEvent::Edited(_) | ChatEvent::Deleted(_) => {
            EventKind::Messages
        }
        ChatEvent::Delivered(_) | ChatEvent::Read(_) => EventKind::Statuses,
        ChatEvent::Typing(_) => EventKind::Typing,
        ChatEvent::Reactions(_) => EventKind::Reactions,
        ChatEvent::System(_) => EventKind::System,
        ChatEvent::MessageError(_) => EventKind::Errors,
        ChatEvent::LastActivity(_)
        | ChatEvent::OccupantJoined(_)
        | ChatEvent::OccupantLeft(_)
        | ChatEvent::Kicked(_) => EventKind::Presence,
        _ => EventKind::Other,
    }
}

/// A message's dialog, for [`Lagged::dialogs`].
fn message_dialog(event: &Event) -> Option<Option<DialogId>> {
    match event.chat()? {
        ChatEvent::ChatMessage(m) => Some(m.dialog_id()),
        _ => None,
    }
}

mod log;

pub(crate) use log::Hub;
pub use log::Subscription;

#[cfg(test)]
mod tests;
