//! The guide's listeners as typed streams on a [`Session`]: `session.messages()`,
//! `session.delivered_statuses()`, ... Each is a subscription to the session's events
//! ([`crate::fanout`]) that yields one kind as a typed value with the accessors the guide
//! uses (`user_id()`, `message_id()`, `dialog_id()`), or `Err(Lagged)` where the stream
//! fell behind and missed some (what, and in which dialogs).

use std::pin::Pin;
use std::task::{Context, Poll};

use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::iq::last_activity::LastActivity;
use connectycube_protocol::message::chat_state::TypingState;
use connectycube_transport::session::ConnectionState;
use futures_util::Stream;

use crate::Session;
use crate::fanout::{Event, EventFilter, EventKind, Lagged, Subscription};
use crate::store::LocalEcho;

mod values;

pub use values::{
    EditedMessage, ErrorEvent, IncomingMessage, MessageStatus, ReactionsChanged, SystemNotice,
    TypingStatus,
};

/// One kind of event, typed: what a `Session` stream such as [`Session::messages`] yields.
/// `Err(Lagged)` says the stream fell behind and which events it missed.
#[derive(Debug)]
pub struct Updates<T> {
    events: Subscription,
    pick: fn(&Event) -> Option<T>,
}

impl<T> Updates<T> {
    /// The next value; `None` once the session is gone.
    ///
    /// # Errors
    /// [`Lagged`] at the place where this stream missed values.
    pub async fn next(&mut self) -> Option<Result<T, Lagged>> {
        futures_util::StreamExt::next(self).await
    }
}

impl<T> Unpin for Updates<T> {}

impl<T> Stream for Updates<T> {
    type Item = Result<T, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let Some(event) = futures_util::ready!(self.events.poll_shared(cx)) else {
                return Poll::Ready(None);
            };
            if let Event::Lagged(lag) = &*event {
                return Poll::Ready(Some(Err(lag.clone())));
            }
            if let Some(value) = (self.pick)(&event) {
                return Poll::Ready(Some(Ok(value)));
            }
        }
    }
}

fn chat(event: &Event) -> Option<&ChatEvent> {
    event.chat()
}

impl Session {
    fn updates<T>(&self, kind: EventKind, pick: fn(&Event) -> Option<T>) -> Updates<T> {
        Updates {
            events: self.chat().subscribe(kind.into(), false),
            pick,
        }
    }

    /// Every event of the kinds in `filter` from now on (`EventFilter::ALL`,
    /// `EventKind::Messages.into()`), connection states in order with them. Never holds the
    /// client back: a listener that falls behind gets an [`Event::Lagged`] saying what it
    /// missed (see [`crate::fanout`]).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::{Event, EventKind};
    ///
    /// let mut messages = bob.events(EventKind::Messages);
    /// dialog.send_text("hi").await?;
    /// let event = tokio::time::timeout(std::time::Duration::from_secs(10), messages.next()).await?;
    /// assert!(matches!(event, Some(Event::Chat(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn events(&self, filter: impl Into<EventFilter>) -> Subscription {
        self.chat().subscribe(filter.into(), false)
    }

    /// As [`Session::events`], but losing nothing: when this listener's queue is full the
    /// client stops reading from the connection until it reads (backpressure on every
    /// listener, and on the server's queue for this user).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::EventFilter;
    ///
    /// let mut everything = bob.events_lossless(EventFilter::ALL); // read it, or bob's client waits
    /// dialog.send_text("hi").await?;
    /// let event = tokio::time::timeout(std::time::Duration::from_secs(10), everything.next()).await?;
    /// assert!(event.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn events_lossless(&self, filter: impl Into<EventFilter>) -> Subscription {
        self.chat().subscribe(filter.into(), true)
    }

    /// This client's own sends as the app shows them (local echoes): each one at once when
    /// queued, then `Sent` (the server has it), `Delivered`, `Read`, or `Failed` with the
    /// reason (then [`Session::retry_send`], [`Session::edit_unsent`] or
    /// [`Session::cancel_send`]).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::LocalStatus;
    ///
    /// let mut echoes = ann.local_echoes();
    /// let sent = dialog.send_text("hi").await?;
    /// let first = echoes.next().await.ok_or("ended")??;
    /// assert_eq!((first.message.id, &first.status), (sent.id, &LocalStatus::Queued));
    /// let mut status = first.status;
    /// while status != LocalStatus::Delivered {
    ///     status = echoes.next().await.ok_or("ended")??.status; // Sent, then Delivered
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_echoes(&self) -> Updates<LocalEcho> {
        self.updates(EventKind::Echoes, |e| match e {
            Event::Echo(echo) => Some(echo.clone()),
            _ => None,
        })
    }

    /// New messages (the guide's `chatMessagesStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut messages = bob.messages();
    /// dialog.send_text("hi").await?;
    /// let got = messages.next().await.ok_or("ended")??;
    /// assert_eq!((got.body(), got.user_id(), got.dialog_id()), (Some("hi"), Some(ann.user()), Some(dialog.id())));
    /// # Ok(())
    /// # }
    /// ```
    pub fn messages(&self) -> Updates<IncomingMessage> {
        self.updates(EventKind::Messages, |e| match e {
            Event::Chat(r) => match &r.event {
                ChatEvent::ChatMessage(m) => Some(IncomingMessage {
                    message: m.payload.clone(),
                    envelope: m.envelope.clone(),
                    out_of_order: r.out_of_order,
                    from_history: r.from_history,
                }),
                _ => None,
            },
            _ => None,
        })
    }

    /// 'delivered' statuses of messages (the guide's `deliveredStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut delivered = ann.delivered_statuses();
    /// let sent = dialog.send_text("hi").await?; // bob's client answers 'delivered' by itself
    /// let status = delivered.next().await.ok_or("ended")??;
    /// assert_eq!((status.user_id(), status.message_id()), (Some(bob.user()), sent.id));
    /// # Ok(())
    /// # }
    /// ```
    pub fn delivered_statuses(&self) -> Updates<MessageStatus> {
        self.updates(EventKind::Statuses, |e| match chat(e)? {
            ChatEvent::Delivered(m) => Some(MessageStatus::of(m)),
            _ => None,
        })
    }

    /// 'read' statuses of messages (the guide's `readStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut read = ann.read_statuses();
    /// let mut messages = bob.messages();
    /// dialog.send_text("hi").await?;
    /// let got = messages.next().await.ok_or("ended")??;
    /// bobs.send_read(&got.message).await?;
    /// let status = read.next().await.ok_or("ended")??;
    /// assert_eq!((status.user_id(), status.message_id()), (Some(bob.user()), got.message_id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_statuses(&self) -> Updates<MessageStatus> {
        self.updates(EventKind::Statuses, |e| match chat(e)? {
            ChatEvent::Read(m) => Some(MessageStatus::of(m)),
            _ => None,
        })
    }

    /// Someone started typing (the guide's `isTypingStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut typing = bob.typing_started();
    /// dialog.start_typing().await?;
    /// let status = typing.next().await.ok_or("ended")??;
    /// assert_eq!((status.user_id(), status.dialog_id()), (Some(ann.user()), Some(dialog.id())));
    /// # Ok(())
    /// # }
    /// ```
    pub fn typing_started(&self) -> Updates<TypingStatus> {
        self.updates(EventKind::Typing, |e| match chat(e)? {
            ChatEvent::Typing(m) if m.payload == TypingState::Composing => {
                Some(TypingStatus::of(m))
            }
            _ => None,
        })
    }

    /// Someone stopped typing (the guide's `stopTypingStream`): any chat state but
    /// composing.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut stopped = bob.typing_stopped();
    /// dialog.stop_typing().await?;
    /// let status = stopped.next().await.ok_or("ended")??;
    /// assert_eq!(status.user_id(), Some(ann.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn typing_stopped(&self) -> Updates<TypingStatus> {
        self.updates(EventKind::Typing, |e| match chat(e)? {
            ChatEvent::Typing(m) if m.payload != TypingState::Composing => {
                Some(TypingStatus::of(m))
            }
            _ => None,
        })
    }

    /// Edited messages (the guide's `editedStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut edited = bob.edited_messages();
    /// let sent = dialog.send_text("helo").await?;
    /// dialog.send_edit(sent.id, "hello", true).await?;
    /// let edit = edited.next().await.ok_or("ended")??;
    /// assert_eq!((edit.message_id(), edit.body.as_str()), (sent.id, "hello"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn edited_messages(&self) -> Updates<EditedMessage> {
        self.updates(EventKind::Messages, |e| match chat(e)? {
            ChatEvent::Edited(m) => Some(EditedMessage {
                user: m.envelope.sender(),
                dialog: m.envelope.dialog(),
                message: m.payload.message_id,
                body: m.payload.body.clone(),
            }),
            _ => None,
        })
    }

    /// Messages deleted for everyone (the guide's `deletedStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut deleted = bob.deleted_messages();
    /// let sent = dialog.send_text("oops").await?;
    /// dialog.send_delete(sent.id).await?;
    /// let status = deleted.next().await.ok_or("ended")??;
    /// assert_eq!((status.user_id(), status.message_id()), (Some(ann.user()), sent.id));
    /// # Ok(())
    /// # }
    /// ```
    pub fn deleted_messages(&self) -> Updates<MessageStatus> {
        self.updates(EventKind::Messages, |e| match chat(e)? {
            ChatEvent::Deleted(m) => Some(MessageStatus::of(m)),
            _ => None,
        })
    }

    /// Reaction changes (the guide's `reactionsStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut reactions = ann.reaction_changes();
    /// let sent = dialog.send_text("nice").await?;
    /// bobs.react(sent.id, "👍").await?;
    /// let change = reactions.next().await.ok_or("ended")??;
    /// assert_eq!((change.user_id(), change.message_id()), (bob.user(), sent.id));
    /// # Ok(())
    /// # }
    /// ```
    pub fn reaction_changes(&self) -> Updates<ReactionsChanged> {
        self.updates(EventKind::Reactions, |e| match chat(e)? {
            ChatEvent::Reactions(m) => Some(ReactionsChanged {
                user: m.payload.user_id,
                dialog: m.envelope.dialog(),
                message: m.payload.message_id,
                changes: m.payload.changes.clone(),
            }),
            _ => None,
        })
    }

    /// System messages (the guide's `systemMessagesStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::model::CustomProperties;
    ///
    /// let mut system = bob.system_messages();
    /// let mut properties = CustomProperties::new();
    /// properties.insert("action".into(), "refresh".into());
    /// ann.chat().send_system_message(bob.user(), properties).await?;
    /// let notice = system.next().await.ok_or("ended")??;
    /// assert_eq!(notice.user_id(), Some(ann.user()));
    /// assert_eq!(notice.message.properties().get("action").and_then(|v| v.as_str()), Some("refresh"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn system_messages(&self) -> Updates<SystemNotice> {
        self.updates(EventKind::System, |e| match chat(e)? {
            ChatEvent::System(m) => Some(SystemNotice {
                user: m.envelope.sender(),
                message: m.payload.clone(),
            }),
            _ => None,
        })
    }

    /// Last-activity answers and the pushes of users subscribed to (the guide's
    /// `lastActivityStream`): `user` and `seconds` (0: online now).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let mut activity = ann.last_activity_updates();
    /// ann.chat().subscribe_last_activity(bob.user(), true).await?;
    /// bob.logout().await?; // the server pushes bob's activity
    /// let update = activity.next().await.ok_or("ended")??;
    /// assert_eq!(update.user, bob.user());
    /// # Ok(())
    /// # }
    /// ```
    pub fn last_activity_updates(&self) -> Updates<LastActivity> {
        self.updates(EventKind::Presence, |e| match chat(e)? {
            ChatEvent::LastActivity(a) => Some(a.clone()),
            _ => None,
        })
    }

    /// Every connection state from now on, in order with the events around it (the guide's
    /// `connectionStateStream`).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::transport::session::ConnectionState;
    ///
    /// let mut states = ann.connection_states();
    /// ann.chat().logout().await;
    /// assert_eq!(states.next().await.ok_or("ended")??, ConnectionState::Closed);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connection_states(&self) -> Updates<ConnectionState> {
        self.updates(EventKind::Connection, |e| match e {
            Event::State(s) => Some(*s),
            _ => None,
        })
    }

    /// What went wrong with what was sent or received: messages a privacy list blocked,
    /// bounced messages, stanzas that could not be read.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::ErrorEvent;
    ///
    /// let mut errors = ann.errors();
    /// bob.chat().block(ann.user()).await?;
    /// assert!(dialog.send_text("hello?").await.is_err(), "bounced");
    /// let Some(Ok(ErrorEvent::Blocked(blocked))) = errors.next().await else {
    ///     return Err("no block".into());
    /// };
    /// assert_eq!(blocked.user, bob.user());
    /// # Ok(())
    /// # }
    /// ```
    pub fn errors(&self) -> Updates<ErrorEvent> {
        self.updates(EventKind::Errors, |e| match e {
            Event::Blocked(b) => Some(ErrorEvent::Blocked(b.clone())),
            Event::Unreadable(u) => Some(ErrorEvent::Unreadable(u.clone())),
            Event::Chat(r) => match &r.event {
                ChatEvent::MessageError(m) => Some(ErrorEvent::Bounced(m.clone())),
                _ => None,
            },
            _ => None,
        })
    }
}
