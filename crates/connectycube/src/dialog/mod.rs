//! A dialog as a value with its actions: send (to the opponent, or to the room joined on
//! demand), typing, delivered and read, edit and delete (over chat and over REST), reactions,
//! mark all read. Administration is in [`admin`](self), history in `history`, files in
//! `crate::attachments`.

mod admin;
mod history;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::message::chat_state::TypingState;
use connectycube_protocol::model::{self, DialogType, Message};
use connectycube_rest::chat::DeleteResult;
use connectycube_rest::chat::messages::{DeleteMessages, UpdateMessages};
use connectycube_rest::chat::reactions::{ListReactions, MessageReactions, UpdateReactions};
use connectycube_transport::session::SendHandle;

pub use history::History;

use crate::{Error, Peer, Session};

/// A dialog and the session that acts on it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Dialog {
    session: Session,
    info: model::Dialog,
}

impl Dialog {
    pub(crate) fn new(session: Session, info: model::Dialog) -> Self {
        Self { session, info }
    }

    /// The dialog as the server last described it.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// assert_eq!(dialog.info().id, dialog.id());
    /// assert_eq!(dialog.info().occupants_ids.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(&self) -> &model::Dialog {
        &self.info
    }

    /// Its id.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// assert_eq!(bobs.id(), dialog.id(), "the same dialog seen by both");
    /// # Ok(())
    /// # }
    /// ```
    pub fn id(&self) -> DialogId {
        self.info.id
    }

    /// Private, group, public or broadcast.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::model::DialogType;
    ///
    /// assert_eq!(dialog.kind(), DialogType::Private);
    /// # Ok(())
    /// # }
    /// ```
    pub fn kind(&self) -> DialogType {
        self.info.kind
    }

    /// The session acting on it.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// assert_eq!(dialog.session().user(), ann.user());
    /// # Ok(())
    /// # }
    /// ```
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The other user of a private dialog.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// assert_eq!(dialog.opponent(), Some(bob.user()));
    /// assert_eq!(bobs.opponent(), Some(ann.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn opponent(&self) -> Option<UserId> {
        let me = self.session.user();
        self.info.occupants_ids.iter().copied().find(|&u| u != me)
    }

    /// Where chat stanzas of this dialog go: the opponent, or the room.
    fn peer(&self) -> Result<Peer, Error> {
        if self.info.kind.uses_room() {
            return Ok(Peer::Room(self.id()));
        }
        let to = self.opponent().ok_or_else(|| {
            Error::Unsupported(format!("private dialog {} has no opponent", self.id()))
        })?;
        Ok(Peer::User(to, Some(self.id())))
    }

    /// Joins the room first when this dialog has one (once per session).
    async fn ready(&self) -> Result<Peer, Error> {
        let peer = self.peer()?;
        if let Peer::Room(id) = peer {
            self.session.ensure_joined(id).await?;
        }
        Ok(peer)
    }

    /// Joins the dialog's room to receive its messages (sending joins on demand); nothing
    /// to do for a private dialog. Resolves on the room's self-presence; rejoined after a new
    /// chat session.
    ///
    /// # Errors
    /// [`Error::Join`] when the room refuses or does not answer.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// // `group()` made bob join; ann created the room and joins on demand, or now:
    /// dialog.join().await?;
    /// assert!(ann.chat().joined_dialogs().contains(&dialog.id()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn join(&self) -> Result<(), Error> {
        self.ready().await.map(drop)
    }

    /// Sends `message`: to the opponent of a private dialog (paced by the opponent's
    /// 'delivered' markers, [`ChatClient::send_private_paced`](crate::ChatClient::send_private_paced)),
    /// to the room (joined on demand) otherwise. The handle completes when the server has it
    /// ("sent"). While the room is being rejoined after a drop, the message waits for the
    /// rejoin (at most 15 s), so it never reaches the server ahead of it
    /// ([`crate::ChatClient::join`]).
    ///
    /// # Errors
    /// [`Error::Build`] for an unbuildable message, [`Error::Join`] when joining failed or the
    /// rejoin did not come in time.
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
    /// let handle = dialog.send(&message).await?;
    /// handle.await?; // the server has it
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
    pub async fn send(&self, message: &Message) -> Result<SendHandle, Error> {
        let chat = self.session.chat();
        match self.ready().await? {
            Peer::Room(id) => chat.send_to_dialog(id, message),
            Peer::User(to, dialog) => {
                let mut message = message.clone();
                message.dialog_id = dialog;
                chat.send_private_paced(to, &message).await
            }
        }
    }

    /// Sends a text message and waits until the server has it; gives the message sent.
    ///
    /// # Errors
    /// As [`Dialog::send`] and its handle.
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
        self.send(&message).await?.await?;
        Ok(message)
    }

    /// Says this user is typing (1-1 and group alike).
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
    /// dialog.start_typing().await?.await?;
    /// let typing = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some(t.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(typing, TypingState::Composing);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_typing(&self) -> Result<SendHandle, Error> {
        self.typing(TypingState::Composing).await
    }

    /// Says this user stopped typing.
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
    /// dialog.stop_typing().await?.await?;
    /// let typing = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some(t.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(typing, TypingState::Paused);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stop_typing(&self) -> Result<SendHandle, Error> {
        self.typing(TypingState::Paused).await
    }

    /// Sends any typing state.
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
    /// dialog.typing(TypingState::Composing).await?.await?; // in the group's room
    /// let (in_dialog, state) = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some((t.envelope.dialog_id, t.payload)),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!((in_dialog, state), (Some(dialog.id()), TypingState::Composing));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn typing(&self, state: TypingState) -> Result<SendHandle, Error> {
        let peer = self.ready().await?;
        self.session.chat().typing_to(peer, state)
    }

    /// The sender of `message`, who markers go to.
    fn sender_of(message: &Message) -> Result<UserId, Error> {
        message
            .sender_id
            .ok_or_else(|| Error::Unsupported(format!("message {} has no sender", message.id)))
    }

    /// Tells the sender of `message` that it arrived. The client sends it by itself for
    /// markable messages (the guide's rule, [`crate::AutoDelivered::Markable`]); a message
    /// that is not markable (the JS SDK's) gets it only from this call. It goes to the sender
    /// directly, as a 1-1 message, also for a group message: the server has 'delivered' for
    /// 1-1 chat only.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a message with no sender.
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
    /// bobs.deliver(&got)?.await?; // also sent by itself for markable messages
    /// let marked = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Delivered(d) => Some(d.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(marked, sent.id);
    /// assert!(bobs.deliver(&Message::new("no sender")).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn deliver(&self, message: &Message) -> Result<SendHandle, Error> {
        let sender = Self::sender_of(message)?;
        self.session
            .chat()
            .mark_delivered(sender, Some(self.id()), message.id)
    }

    /// Tells the sender of `message` that it was read.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a message with no sender.
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
    /// bobs.read(&got)?.await?;
    /// let read = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Read(r) => Some(r.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(read, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn read(&self, message: &Message) -> Result<SendHandle, Error> {
        let sender = Self::sender_of(message)?;
        self.session
            .chat()
            .mark_read(sender, Some(self.id()), message.id)
    }

    /// Edits message `id` over chat; `last` says whether it is the dialog's last message.
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
    /// dialog.edit(first.id, "Hello", true).await?.await?;
    /// let edit = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Edited(e) => Some(e.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!((edit.message_id, edit.body.as_str()), (first.id, "Hello"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn edit(
        &self,
        id: MessageId,
        text: impl Into<String>,
        last: bool,
    ) -> Result<SendHandle, Error> {
        let peer = self.ready().await?;
        self.session.chat().edit_message(peer, id, text, last)
    }

    /// Deletes message `id` over chat (for everyone in the dialog).
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
    /// dialog.delete_message(oops.id).await?.await?;
    /// let deleted = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Deleted(d) => Some(d.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(deleted, oops.id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_message(&self, id: MessageId) -> Result<SendHandle, Error> {
        let peer = self.ready().await?;
        self.session.chat().delete_message(peer, id)
    }

    /// Changes the text of messages over REST (no chat event is sent).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let typo = dialog.send_text("typo hre").await?;
    /// dialog.update_messages([typo.id], "typo here").await?;
    /// let history = bobs.history().fetch().await?;
    /// assert_eq!(history[0].body.as_deref(), Some("typo here"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn update_messages(
        &self,
        ids: impl IntoIterator<Item = MessageId>,
        text: impl Into<String>,
    ) -> Result<(), Error> {
        let request = UpdateMessages::messages(self.id(), ids).text(text);
        self.session.rest().send(&request).await?;
        Ok(())
    }

    /// Marks messages read over REST.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let first = dialog.send_text("one").await?;
    /// dialog.send_text("two").await?;
    /// bobs.mark_read([first.id]).await?;
    /// assert_eq!(bobs.unread_count().await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn mark_read(&self, ids: impl IntoIterator<Item = MessageId>) -> Result<(), Error> {
        let request = UpdateMessages::messages(self.id(), ids).read();
        self.session.rest().send(&request).await?;
        Ok(())
    }

    /// Marks every message of the dialog read.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// dialog.send_text("one").await?;
    /// dialog.send_text("two").await?;
    /// assert_eq!(bobs.unread_count().await?, 2);
    /// bobs.mark_all_read().await?;
    /// assert_eq!(bobs.unread_count().await?, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn mark_all_read(&self) -> Result<(), Error> {
        let request = UpdateMessages::all_in(self.id()).read();
        self.session.rest().send(&request).await?;
        Ok(())
    }

    /// Deletes messages over REST: from this user's history, or with `force` for everyone.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let gone = dialog.send_text("delete me").await?;
    /// dialog.send_text("keep me").await?;
    /// let result = dialog.delete_messages([gone.id], false).await?;
    /// assert_eq!(result.deleted, [gone.id.to_string()]);
    /// let anns_history = dialog.history().fetch().await?;
    /// assert_eq!(anns_history.len(), 1, "gone from ann's history only");
    /// let bobs_history = bobs.history().fetch().await?;
    /// assert_eq!(bobs_history.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_messages(
        &self,
        ids: impl IntoIterator<Item = MessageId>,
        force: bool,
    ) -> Result<DeleteResult, Error> {
        let ids: Vec<MessageId> = ids.into_iter().collect();
        let mut request = DeleteMessages::new(ids.iter().copied());
        if force {
            request = request.force();
        }
        let result = self.session.rest().send(&request).await?;
        let ids = ids.iter().map(ToString::to_string).collect();
        Ok(crate::dialogs::one_deleted(ids, result))
    }

    /// Adds `reaction` to message `id` (the occupants get [`ChatEvent::Reactions`](
    /// connectycube_protocol::event::ChatEvent::Reactions)).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let message = dialog.send_text("Rust 1.0 was ten years ago").await?;
    /// bobs.react(message.id, "🔥").await?;
    /// let reactions = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Reactions(r) => Some(r.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(reactions.message_id, message.id);
    /// assert_eq!(dialog.reactions(message.id).await?.users_of("🔥"), [bob.user()]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn react(&self, id: MessageId, reaction: &str) -> Result<(), Error> {
        self.update_reactions(UpdateReactions::add(id, reaction))
            .await
    }

    /// Removes this user's `reaction` from message `id`.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let message = dialog.send_text("hello").await?;
    /// bobs.react(message.id, "👍").await?;
    /// bobs.unreact(message.id, "👍").await?;
    /// assert!(dialog.reactions(message.id).await?.users_of("👍").is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unreact(&self, id: MessageId, reaction: &str) -> Result<(), Error> {
        self.update_reactions(UpdateReactions::remove(id, reaction))
            .await
    }

    /// Replaces this user's reaction `old` with `new` on message `id`, in one request.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let message = dialog.send_text("launch day").await?;
    /// bobs.react(message.id, "🔥").await?;
    /// bobs.change_reaction(message.id, "🔥", "🚀").await?;
    /// let reactions = dialog.reactions(message.id).await?;
    /// assert!(reactions.users_of("🔥").is_empty());
    /// assert_eq!(reactions.users_of("🚀"), [bob.user()]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn change_reaction(&self, id: MessageId, old: &str, new: &str) -> Result<(), Error> {
        self.update_reactions(UpdateReactions::replace(id, old, new))
            .await
    }

    async fn update_reactions(&self, request: UpdateReactions) -> Result<(), Error> {
        self.session.rest().send(&request).await?;
        Ok(())
    }

    /// Every reaction on message `id` and who put it.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let message = dialog.send_text("vote").await?;
    /// bobs.react(message.id, "👍").await?;
    /// dialog.react(message.id, "👍").await?;
    /// let reactions = dialog.reactions(message.id).await?;
    /// assert_eq!(reactions.users_of("👍").len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reactions(&self, id: MessageId) -> Result<MessageReactions, Error> {
        Ok(self.session.rest().send(&ListReactions { id }).await?)
    }
}
