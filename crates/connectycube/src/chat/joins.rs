//! Rooms: joining (on demand, or waiting for the outcome), leaving, rejoining after a new
//! session, and the gap fill the connection's lifecycle drives.

use super::*;

impl ChatClient {
    /// Joins a group or public dialog's room, to send and receive its messages; resolves
    /// when the room confirms (its presence for us, status 110). The client stays in the room:
    /// after a reconnect that could not resume it joins again, until
    /// [`ChatClient::leave`] (or a removal by an admin). From a drop of the connection
    /// until the room is known again (the session resumed, or the rejoin after a new one was
    /// answered) it resolves on that outcome, so a message sent after it never reaches the
    /// server ahead of the rejoin; [`ChatClient::send_to_dialog`] alone does not wait.
    ///
    /// # Errors
    /// [`Error::Join`]: refused by the room (an error presence), no answer within 15 s (also
    /// when the connection is not back by then), or the presence did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// ann.chat().join(dialog.id()).await?;
    /// assert!(ann.chat().joined_dialogs().contains(&dialog.id()));
    /// ann.chat().join(dialog.id()).await?; // already in: returns at once
    /// # Ok(())
    /// # }
    /// ```
    pub async fn join(&self, dialog: DialogId) -> Result<(), Error> {
        if self.rooms.is_joined(dialog) {
            return Ok(());
        }
        // A rejoin (or the resumption) will settle it; a join of our own would only race it.
        if let Some(settled) = self.rooms.settled(dialog) {
            return self.join_outcome(dialog, settled).await;
        }
        let outcome = self.rooms.expect_join(dialog);
        let presence = self.send_join(dialog)?;
        if let Err(e) = presence.await {
            let e = JoinError::Send(e);
            self.rooms.fail(dialog, &e);
            return Err(e.into());
        }
        self.join_outcome(dialog, outcome).await
    }

    /// Waits, bounded, for the outcome of `dialog`'s join.
    async fn join_outcome(
        &self,
        dialog: DialogId,
        outcome: tokio::sync::oneshot::Receiver<Result<(), JoinError>>,
    ) -> Result<(), Error> {
        match tokio::time::timeout(JOIN_TIMEOUT, outcome).await {
            Ok(Ok(result)) => Ok(result?),
            // The event task is gone: the client is closing.
            Ok(Err(_)) => Err(JoinError::Send(SendError::Closed).into()),
            Err(_) => Err(JoinError::Timeout {
                dialog,
                timeout: JOIN_TIMEOUT,
            }
            .into()),
        }
    }

    /// Queues `dialog`'s join presence now (joins on demand and rejoins; [`ChatClient::join`]
    /// waits for the room's answer).
    pub(crate) fn send_join(&self, dialog: DialogId) -> Result<SendHandle, Error> {
        Ok(self
            .connection
            .send(muc::join(&self.domain, dialog, self.user)?))
    }

    /// Leaves a dialog's room; it is no longer rejoined. Resolves when the server has the
    /// presence.
    ///
    /// # Errors
    /// [`Error::Protocol`] for a host that makes no JID; [`Error::Send`] when the presence did
    /// not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// assert!(bob.chat().joined_dialogs().contains(&dialog.id()));
    /// bob.chat().leave(dialog.id()).await?;
    /// assert!(bob.chat().joined_dialogs().is_empty(), "not rejoined any more");
    /// # Ok(())
    /// # }
    /// ```
    pub fn leave(&self, dialog: DialogId) -> Sending {
        let stanza = muc::leave(&self.domain, dialog, self.user).map_err(Error::from);
        let (rooms, connection) = (self.rooms.clone(), self.connection.clone());
        Sending::prepare(async move {
            let stanza = stanza?;
            rooms.forget(dialog);
            Ok(connection.send(stanza))
        })
    }

    /// After every new session (a reconnect that could not resume), fetches from the REST
    /// history what the joined and recently active dialogs got while the client was away,
    /// since the last message seen in each: delivered oldest first, without duplicates of
    /// what arrived live, marked [`crate::Received::from_history`], then one
    /// [`crate::fanout::Synced`] per dialog for subscribers. `rest` must be logged in as
    /// this user. One dialogs-list request says which dialogs got anything; only those are
    /// asked for their history, at most 1,000 messages each (`Synced::complete` is false
    /// when more were sent). A dialog whose history cannot be fetched gets a
    /// [`crate::fanout::SyncFailed`] with the error instead.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// // Client::login has done this already; a ChatClient built alone needs it for gap filling.
    /// ann.chat().enable_gap_fill(ann.rest().clone());
    /// ann.chat().ping().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn enable_gap_fill(&self, rest: RestClient) {
        self.gap.enable(rest, self.store.clone(), self.user);
        match self.store.last_seen(self.user) {
            Ok(marks) => self.gap.seed(marks),
            // The fill then starts from when this run went offline, as without a store.
            Err(e) => tracing::warn!(error = %e, "could not read what the store saw"),
        }
    }

    /// Starts filling the gaps of a new session (a no-op unless enabled).
    pub(crate) fn fill_gaps(&self) {
        let me = crate::sync::Me {
            domain: self.domain.clone(),
            user: self.user,
        };
        self.gap.start(self.rooms.wanted(), me);
    }

    /// Notes that the connection dropped, for the gap filler's since-time.
    pub(crate) fn went_offline(&self) {
        self.gap.went_offline();
        self.rooms.went_offline();
    }

    /// The session resumed: the rooms are still joined.
    pub(crate) fn resumed(&self) {
        self.rooms.resumed();
    }

    /// The connection ended for good: no room is joined any more.
    pub(crate) fn closed(&self) {
        self.rooms.closed();
    }

    /// The rooms the client stays in (joined, or a join under way).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// assert_eq!(bob.chat().joined_dialogs(), [dialog.id()]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn joined_dialogs(&self) -> Vec<DialogId> {
        self.rooms.wanted()
    }

    /// After a new session: joins every room again (the server forgot them with the old
    /// session). Failures are logged; the room's answer shows in the events.
    pub(crate) fn rejoin(&self) {
        for dialog in self.rooms.new_session() {
            if let Err(e) = self.send_join(dialog) {
                tracing::warn!(%dialog, error = %e, "could not rejoin a room");
            }
        }
    }
}
