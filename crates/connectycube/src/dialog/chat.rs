//! What a dialog sends over chat, each a [`Sending`] awaited once: messages (to the opponent,
//! paced, or to the room joined on demand), typing, 'delivered' and 'read' markers, edits and
//! deletions for everyone. The REST counterparts on the stored history (`update_messages`,
//! `delete_messages`, `mark_read`) are in the parent module.

use connectycube_protocol::event::{ChatEvent, Edit, Inbound};
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::message::chat_state::TypingState;
use connectycube_protocol::model::Message;
use connectycube_transport::session::{ChatConnection, SendHandle};

use super::Dialog;
use crate::store::{LocalStatus, QueuedSend, SendTarget};
use crate::{ChatClient, Error, Peer, Sending};

impl Dialog {
    /// Sends `message`, written first to the store's send queue: it shows at once as a local
    /// echo ([`Session::local_echoes`](crate::Session::local_echoes)), and what a crash or a
    /// lost connection leaves queued goes out at the next login, with its id
    /// ([`Session::unsent`](crate::Session::unsent)). It goes
    /// to the opponent of a private dialog (paced by the opponent's
    /// 'delivered' markers, [`ChatClient::send_private_paced`](crate::ChatClient::send_private_paced)),
    /// to the room (joined on demand) otherwise. Resolves when the server has it ("sent").
    /// While the room is being rejoined after a drop, the message waits for the rejoin (at
    /// most 15 s), so it never reaches the server ahead of it ([`crate::ChatClient::join`]).
    ///
    /// # Errors
    /// [`Error::Build`] for an unbuildable message, [`Error::Join`] when joining failed or the
    /// rejoin did not come in time, [`Error::Send`] when it bounced ([`Error::bounce`] says
    /// why) or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::Message;
    ///
    /// let mut message = Message::new("How are you today?");
    /// message.custom.insert("country".into(), "USA".into());
    /// dialog.send(&message).await?; // the server has it
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.body.as_deref(), Some("How are you today?"));
    /// assert_eq!(got.custom.get("country").and_then(|v| v.as_str()), Some("USA"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send(&self, message: &Message) -> Sending {
        match self.queued_send(message) {
            Ok(send) => self.session.send_queued(send),
            Err(e) => Sending::failed(e),
        }
    }

    /// `message` as this dialog's queue entry: its target, its dialog, us as its sender.
    pub(crate) fn queued_send(&self, message: &Message) -> Result<QueuedSend, Error> {
        let target = match self.peer()? {
            Peer::Room(id) => SendTarget::Room(id),
            Peer::User(to, _) => SendTarget::User(to),
        };
        let mut message = message.clone();
        message.dialog_id = Some(self.id());
        // Our own, as the store and the echo show it (the stanza names no sender).
        message.sender_id.get_or_insert(self.session.user());
        Ok(QueuedSend {
            message,
            target,
            status: LocalStatus::Queued,
            upload: None,
        })
    }

    /// Sends a text message and waits until the server has it; gives the message sent.
    ///
    /// # Errors
    /// As [`Dialog::send`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("hello").await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.id, sent.id);
    /// assert_eq!(got.dialog_id, Some(dialog.id()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_text(&self, text: impl Into<String>) -> Result<Message, Error> {
        let mut message = Message::new(text);
        message.dialog_id = Some(self.id());
        self.send(&message).await?;
        Ok(message)
    }

    /// Says this user is typing (1-1 and group alike): [`Dialog::send_typing`] with
    /// [`TypingState::Composing`].
    ///
    /// # Errors
    /// As [`Dialog::send`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::message::chat_state::TypingState;
    ///
    /// dialog.start_typing().await?;
    /// let typing = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some(t.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(typing, TypingState::Composing);
    /// # Ok(())
    /// # }
    /// ```
    pub fn start_typing(&self) -> Sending {
        self.send_typing(TypingState::Composing)
    }

    /// Says this user stopped typing: [`Dialog::send_typing`] with [`TypingState::Paused`].
    ///
    /// # Errors
    /// As [`Dialog::send`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::message::chat_state::TypingState;
    ///
    /// dialog.stop_typing().await?;
    /// let typing = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some(t.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(typing, TypingState::Paused);
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop_typing(&self) -> Sending {
        self.send_typing(TypingState::Paused)
    }

    /// Sends any typing state; the peers get [`ChatEvent::Typing`].
    ///
    /// # Errors
    /// As [`Dialog::send`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::message::chat_state::TypingState;
    ///
    /// dialog.send_typing(TypingState::Composing).await?; // in the group's room
    /// let (in_dialog, state) = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some((t.envelope.dialog_id, t.payload)),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!((in_dialog, state), (Some(dialog.id()), TypingState::Composing));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_typing(&self, state: TypingState) -> Sending {
        self.send_event(state, ChatEvent::Typing)
    }

    /// Sends the event `make` builds from `payload` to the opponent, or to the room once
    /// joined.
    fn send_event<T>(&self, payload: T, make: fn(Box<Inbound<T>>) -> ChatEvent) -> Sending {
        let chat = self.session.chat();
        match self.peer() {
            Ok(Peer::Room(id)) => {
                let event = chat.event_to(Peer::Room(id), payload, make);
                in_room(chat, id, move |c| Ok(c.send_event(&event?)?))
            }
            Ok(peer) => Sending::event(chat.connection(), chat.event_to(peer, payload, make)),
            Err(e) => Sending::failed(e),
        }
    }

    /// The sender of `message`, who markers go to.
    fn sender_of(message: &Message) -> Result<UserId, Error> {
        message
            .sender_id
            .ok_or_else(|| Error::Unsupported(format!("message {} has no sender", message.id)))
    }

    /// Tells the sender of `message` that it arrived; they get [`ChatEvent::Delivered`]. The
    /// client sends it by itself for markable messages (the guide's rule,
    /// [`crate::AutoDelivered::Markable`]); a message that is not markable (the JS SDK's) gets
    /// it only from this call.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a message with no sender; [`Error::Send`] when the marker
    /// bounced or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::Message;
    ///
    /// let sent = dialog.send_text("ping").await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// bobs.send_delivered(&got).await?; // also sent by itself for markable messages
    /// let marked = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Delivered(d) => Some(d.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(marked, sent.id);
    /// assert!(bobs.send_delivered(&Message::new("no sender")).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_delivered(&self, message: &Message) -> Sending {
        self.send_marker(message, ChatEvent::Delivered)
    }

    /// Sends the marker `make` builds for `message` to its sender (in a group too: markers go
    /// 1-1, as the official SDKs send them).
    fn send_marker(
        &self,
        message: &Message,
        make: fn(Box<Inbound<MessageId>>) -> ChatEvent,
    ) -> Sending {
        let chat = self.session.chat();
        let event = Self::sender_of(message).and_then(|sender| {
            chat.event_to(Peer::User(sender, Some(self.id())), message.id, make)
        });
        Sending::event(chat.connection(), event)
    }

    /// Tells the sender of `message` that it was read; they get [`ChatEvent::Read`]. (Marking
    /// it read in the stored history is [`Dialog::mark_read`], over REST.)
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a message with no sender; [`Error::Send`] when the marker
    /// bounced or did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("read me").await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// bobs.send_read(&got).await?;
    /// let read = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Read(r) => Some(r.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(read, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_read(&self, message: &Message) -> Sending {
        self.send_marker(message, ChatEvent::Read)
    }

    /// Edits message `id` over chat, for everyone: the peers get [`ChatEvent::Edited`] and the
    /// server rewrites the history; `last` says whether it is the dialog's last message.
    /// ([`Dialog::update_messages`] changes the history over REST, with no chat event.)
    ///
    /// # Errors
    /// As [`Dialog::send`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let first = dialog.send_text("Helo").await?;
    /// dialog.send_edit(first.id, "Hello", true).await?;
    /// let edit = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Edited(e) => Some(e.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!((edit.message_id, edit.body.as_str()), (first.id, "Hello"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_edit(&self, id: MessageId, text: impl Into<String>, last: bool) -> Sending {
        let edit = Edit {
            message_id: id,
            body: text.into(),
            last: Some(last),
        };
        self.send_event(edit, ChatEvent::Edited)
    }

    /// Deletes message `id` over chat, for everyone in the dialog: the peers get
    /// [`ChatEvent::Deleted`]. ([`Dialog::delete_messages`] deletes over REST, from this
    /// user's history or with `force` from everyone's, with no chat event.)
    ///
    /// # Errors
    /// As [`Dialog::send`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let oops = dialog.send_text("to be deleted").await?;
    /// dialog.send_delete(oops.id).await?;
    /// let deleted = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Deleted(d) => Some(d.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(deleted, oops.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_delete(&self, id: MessageId) -> Sending {
        self.send_event(id, ChatEvent::Deleted)
    }
}

/// Sends to `dialog`'s room once the client is in it (joined now, or the rejoin after a drop
/// answered), so nothing reaches the server ahead of the join; `send` queues it then.
pub(crate) fn in_room(
    chat: &ChatClient,
    dialog: DialogId,
    send: impl FnOnce(&ChatConnection) -> Result<SendHandle, Error> + Send + 'static,
) -> Sending {
    let chat = chat.clone();
    Sending::prepare(async move {
        chat.join(dialog).await?;
        send(chat.connection())
    })
}
