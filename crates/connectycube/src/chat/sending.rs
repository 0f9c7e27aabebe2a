//! Messages and their statuses from the client: 1-1 (paced by the recipient's markers or
//! not), to a dialog's room, 'delivered' and 'read' markers, typing.

use super::*;

impl ChatClient {
    /// Sends a 1-1 message; the handle completes when the server has it ("sent").
    ///
    /// # Errors
    /// [`Error::Build`] when a custom property name is not an XML name.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::Message;
    ///
    /// let message = Message::new("straight to bob");
    /// ann.chat().send_private(bob.user(), &message)?.await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.id, message.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_private(&self, to: UserId, message: &Message) -> Result<SendHandle, Error> {
        let to = Jid::from(self.domain.user_jid(to)?);
        Ok(self.connection.send(message.to_stanza(to, ChatKind::Chat)?))
    }

    /// Sends a 1-1 message once the recipient has answered enough of the earlier ones with
    /// 'delivered' markers ([`DeliverySettings::delivered_window`]): what a program that sends
    /// many messages should call. The server acknowledges a message as soon as it routed it,
    /// so without this a sender faster than its recipient's reader fills the recipient's
    /// queue at the server until the server closes the recipient (ejabberd's
    /// `max_ack_queue`) and bounces the queue back. With several of the recipient's devices
    /// answering, the slowest one sets the pace (the server queues for each apart). A
    /// recipient that sends no markers slows the first window's worth of sends by
    /// [`DeliverySettings::delivered_timeout`] once.
    ///
    /// # Errors
    /// As [`ChatClient::send_private`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::Message;
    ///
    /// for n in 0..3 {
    ///     let handle = ann.chat().send_private_paced(bob.user(), &Message::new(format!("{n}"))).await?;
    ///     handle.await?;
    /// }
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.body.as_deref(), Some("0"));
    /// assert_eq!(ann.chat().delivery_stats().paced_waits, 0, "bob keeps up");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_private_paced(
        &self,
        to: UserId,
        message: &Message,
    ) -> Result<SendHandle, Error> {
        self.flow.admit(to, message.id).await;
        let sent = self.send_private(to, message);
        if sent.is_err() {
            self.flow.forget(to, &message.id);
        }
        sent
    }

    /// Sends a message to a group, public or broadcast dialog. A room the client is not in
    /// is joined on demand: the join presence goes out first, so the server takes the message
    /// after it (a refused join shows as the message bouncing). It does not wait for a room
    /// being rejoined after a drop: `join(dialog).await` first does ([`ChatClient::join`]),
    /// and so does [`crate::Dialog::send`].
    ///
    /// # Errors
    /// [`Error::Build`] when a custom property name is not an XML name.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::Message;
    ///
    /// ann.chat().join(dialog.id()).await?;
    /// ann.chat().send_to_dialog(dialog.id(), &Message::new("hello, group"))?.await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.dialog_id, Some(dialog.id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_to_dialog(&self, dialog: DialogId, message: &Message) -> Result<SendHandle, Error> {
        let room = Jid::from(self.domain.room_jid(dialog)?);
        if self.rooms.want(dialog) {
            drop(self.send_join(dialog)?);
        }
        let mut message = message.clone();
        message.dialog_id = Some(dialog);
        Ok(self
            .connection
            .send(message.to_stanza(room, ChatKind::Groupchat)?))
    }

    /// Tells the sender that their message arrived (`received` marker).
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("hi").await?;
    /// bob.chat().mark_delivered(ann.user(), Some(dialog.id()), sent.id)?.await?;
    /// let delivered = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Delivered(d) => Some(d.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(delivered, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn mark_delivered(
        &self,
        sender: UserId,
        dialog: Option<DialogId>,
        id: MessageId,
    ) -> Result<SendHandle, Error> {
        self.send_event(Peer::User(sender, dialog), id, ChatEvent::Delivered)
    }

    /// Tells the sender that their message was read (`displayed` marker).
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// let sent = dialog.send_text("hi").await?;
    /// bob.chat().mark_read(ann.user(), Some(dialog.id()), sent.id)?.await?;
    /// let read = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::Read(r) => Some(r.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(read, sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn mark_read(
        &self,
        sender: UserId,
        dialog: Option<DialogId>,
        id: MessageId,
    ) -> Result<SendHandle, Error> {
        self.send_event(Peer::User(sender, dialog), id, ChatEvent::Read)
    }

    /// Says that this user is typing (or stopped) in a 1-1 dialog.
    ///
    /// # Errors
    /// [`Error::Address`] for a host that makes no JID.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::message::chat_state::TypingState;
    ///
    /// ann.chat().typing(bob.user(), TypingState::Composing)?.await?;
    /// let typing = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::Typing(t) => Some(t.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(typing, TypingState::Composing);
    /// # Ok(())
    /// # }
    /// ```
    pub fn typing(&self, to: UserId, state: TypingState) -> Result<SendHandle, Error> {
        self.send_event(Peer::User(to, None), state, ChatEvent::Typing)
    }
}
