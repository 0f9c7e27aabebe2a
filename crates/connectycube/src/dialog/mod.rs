//! A dialog as a value with its actions. Over chat (`chat`, every call `send_*` and a
//! [`Sending`](crate::Sending)): send (to the opponent, or to the room joined on demand),
//! typing, delivered and read markers, edit and delete for everyone. Over REST (here): update,
//! delete and mark read in the stored history, reactions. Administration is in
//! [`admin`](self), history in `history`, files in `crate::attachments`.

mod admin;
mod chat;
mod history;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::model::{self, DialogType};
use connectycube_rest::chat::DeleteResult;
use connectycube_rest::chat::messages::{DeleteMessages, UpdateMessages};
use connectycube_rest::chat::reactions::{ListReactions, MessageReactions, UpdateReactions};

pub(crate) use chat::in_room;
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

    /// Changes the text of messages over REST (no chat event is sent; an edit the peers see
    /// is [`Dialog::send_edit`]).
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

    /// Marks messages read in the stored history, over REST (the unread counts). Telling the
    /// sender is [`Dialog::send_read`], over chat.
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

    /// Deletes messages over REST: from this user's history, or with `force` from everyone's;
    /// no chat event (deleting for everyone over chat is [`Dialog::send_delete`]).
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
