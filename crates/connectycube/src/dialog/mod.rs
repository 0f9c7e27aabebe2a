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
    pub fn info(&self) -> &model::Dialog {
        &self.info
    }

    /// Its id.
    pub fn id(&self) -> DialogId {
        self.info.id
    }

    /// Private, group, public or broadcast.
    pub fn kind(&self) -> DialogType {
        self.info.kind
    }

    /// The session acting on it.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The other user of a private dialog.
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
    pub async fn start_typing(&self) -> Result<SendHandle, Error> {
        self.typing(TypingState::Composing).await
    }

    /// Says this user stopped typing.
    ///
    /// # Errors
    /// As [`Dialog::send`].
    pub async fn stop_typing(&self) -> Result<SendHandle, Error> {
        self.typing(TypingState::Paused).await
    }

    /// Sends any typing state.
    ///
    /// # Errors
    /// As [`Dialog::send`].
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

    /// Tells the sender of `message` that it arrived (sent automatically for markable ones).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a message with no sender.
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
    pub async fn delete_message(&self, id: MessageId) -> Result<SendHandle, Error> {
        let peer = self.ready().await?;
        self.session.chat().delete_message(peer, id)
    }

    /// Changes the text of messages over REST (no chat event is sent).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
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
    pub async fn mark_read(&self, ids: impl IntoIterator<Item = MessageId>) -> Result<(), Error> {
        let request = UpdateMessages::messages(self.id(), ids).read();
        self.session.rest().send(&request).await?;
        Ok(())
    }

    /// Marks every message of the dialog read.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn mark_all_read(&self) -> Result<(), Error> {
        let request = UpdateMessages::all_in(self.id()).read();
        self.session.rest().send(&request).await?;
        Ok(())
    }

    /// Deletes messages over REST: from this user's history, or with `force` for everyone.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
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
    pub async fn react(&self, id: MessageId, reaction: &str) -> Result<(), Error> {
        self.update_reactions(UpdateReactions::add(id, reaction))
            .await
    }

    /// Removes this user's `reaction` from message `id`.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn unreact(&self, id: MessageId, reaction: &str) -> Result<(), Error> {
        self.update_reactions(UpdateReactions::remove(id, reaction))
            .await
    }

    /// Replaces this user's reaction `old` with `new` on message `id`, in one request.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
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
    pub async fn reactions(&self, id: MessageId) -> Result<MessageReactions, Error> {
        Ok(self.session.rest().send(&ListReactions { id }).await?)
    }
}
