//! Messages from the client: 1-1 (paced by the recipient's markers or not), and to a dialog's
//! room. Each is a [`Sending`]: built at the call, sent when awaited, resolved by the ack.

use super::*;

impl ChatClient {
    /// Sends a 1-1 message; resolves when the server has it ("sent").
    ///
    /// # Errors
    /// [`Error::Build`] when a custom property name is not an XML name; [`Error::Send`] when it
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
    /// let message = Message::new("straight to bob");
    /// ann.chat().send_private(bob.user(), &message).await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.id, message.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_private(&self, to: UserId, message: &Message) -> Sending {
        Sending::stanza(&self.connection, self.private_stanza(to, message))
    }

    /// The stanza of a 1-1 `message` to `to`.
    fn private_stanza(&self, to: UserId, message: &Message) -> Result<Element, Error> {
        let to = Jid::from(self.domain.user_jid(to)?);
        Ok(message.to_stanza(to, ChatKind::Chat)?)
    }

    /// Sends a 1-1 message once the recipient has answered enough of the earlier ones with
    /// 'delivered' markers ([`DeliverySettings::delivered_window`]): what a program that sends
    /// many messages should call. The server acknowledges a message as soon as it routed it,
    /// so without this a sender faster than its recipient's reader fills the recipient's
    /// queue at the server until the server closes the recipient (ejabberd's
    /// `max_ack_queue`) and bounces the queue back. With several of the recipient's devices
    /// answering, the slowest one sets the pace (the server queues for each apart). A
    /// recipient that sends no markers slows the first window's worth of sends by
    /// [`DeliverySettings::delivered_timeout`] once. The wait is part of the one `.await`;
    /// [`Sending::queued`] returns once the message is admitted and queued.
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
    ///     ann.chat().send_private_paced(bob.user(), &Message::new(format!("{n}"))).await?;
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
    pub fn send_private_paced(&self, to: UserId, message: &Message) -> Sending {
        let jid = match self.domain.user_jid(to) {
            Ok(jid) => Jid::from(jid),
            Err(e) => return Sending::failed(e.into()),
        };
        let (flow, connection, message) =
            (self.flow.clone(), self.connection.clone(), message.clone());
        Sending::prepare(async move {
            flow.admit(to, message.id).await;
            // Written as text (no tree); one that cannot be written gives its room back.
            connection
                .send_message(&message, &jid, ChatKind::Chat)
                .inspect_err(|_| flow.cancel(to, message.id))
                .map_err(Error::from)
        })
    }

    /// Sends a message to a group, public or broadcast dialog. A room the client is not in
    /// is joined on demand: the join presence goes out first, so the server takes the message
    /// after it (a refused join shows as the message bouncing). It does not wait for a room
    /// being rejoined after a drop: `join(dialog).await` first does ([`ChatClient::join`]),
    /// and so does [`crate::Dialog::send`].
    ///
    /// # Errors
    /// [`Error::Build`] when a custom property name is not an XML name; [`Error::Send`] when it
    /// bounced or did not reach the server.
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
    /// ann.chat().send_to_dialog(dialog.id(), &Message::new("hello, group")).await?;
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.dialog_id, Some(dialog.id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_to_dialog(&self, dialog: DialogId, message: &Message) -> Sending {
        let to_room = self.room_message(dialog, message);
        let chat = self.clone();
        Sending::prepare(async move {
            let (room, message) = to_room?;
            if chat.rooms.want(dialog) {
                // Its outcome shows as the message bouncing, or not.
                drop(chat.send_join(dialog)?);
            }
            Ok(chat
                .connection
                .send_message(&message, &room, ChatKind::Groupchat)?)
        })
    }

    /// `dialog`'s room and `message` carrying the dialog's id, to write when it goes out.
    pub(crate) fn room_message(
        &self,
        dialog: DialogId,
        message: &Message,
    ) -> Result<(Jid, Message), Error> {
        let room = Jid::from(self.domain.room_jid(dialog)?);
        let mut message = message.clone();
        message.dialog_id = Some(dialog);
        Ok((room, message))
    }
}
