//! Presence-side calls: last activity (once or watched), system messages, client state
//! (active/inactive) and raw IQ requests.

use super::*;

impl ChatClient {
    /// Seconds since `user` was last active (0: online now).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came, [`Error::Refused`] when the server refused (e.g. the
    /// user never logged in).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let seconds = ann.chat().last_activity(bob.user()).await?;
    /// assert!(seconds < 60, "bob is online");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn last_activity(&self, user: UserId) -> Result<u64, Error> {
        let answer = self
            .connection
            .request(
                last_activity::request(iq_id(), self.domain.user_jid(user)?),
                IQ_TIMEOUT,
            )
            .await?;
        match LastActivity::from_iq(&answer) {
            Some(Ok(activity)) => Ok(activity.seconds),
            Some(Err(e)) => Err(e.into()),
            None => Err(Error::Refused(String::from(&answer))),
        }
    }

    /// Subscribes to (or stops) pushes of `user`'s last activity; they arrive as
    /// [`ChatEvent::LastActivity`](crate::protocol::event::ChatEvent::LastActivity).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::event::ChatEvent;
    ///
    /// ann.chat().subscribe_last_activity(bob.user(), true).await?;
    /// bob.logout().await?;
    /// let who = wait(&mut ann_events, |e| match e {
    ///     ChatEvent::LastActivity(a) => Some(a.user),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(who, bob.user());
    /// ann.chat().subscribe_last_activity(bob.user(), false).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe_last_activity(&self, user: UserId, enable: bool) -> Result<(), Error> {
        let sub = Subscribe {
            user_jid: self.domain.user_jid(user)?,
            enable,
        };
        let answer = self
            .connection
            .request(sub.request(iq_id()), IQ_TIMEOUT)
            .await?;
        expect_result(&answer)
    }

    /// Marks the app active (foreground) or inactive (background: pushes while connected).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let (srv, client) = devserver().await?;
    /// # let (ann, mut ann_events) = login(&client, "ann").await?;
    /// use connectycube::protocol::iq::activity::ClientState;
    ///
    /// ann.chat().set_client_state(ClientState::Inactive).await?; // pushes while connected
    /// ann.chat().set_client_state(ClientState::Active).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn set_client_state(&self, state: ClientState) -> Result<(), Error> {
        let answer = self
            .connection
            .request(state.mobile_iq(iq_id()), IQ_TIMEOUT)
            .await?;
        expect_result(&answer)
    }

    /// Sends any IQ and returns its `result` (an `error` answer is [`Error::Refused`]).
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came; [`Error::Refused`] for an error answer.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::iq::last_activity;
    ///
    /// let jid = ann.chat().domain().user_jid(bob.user())?;
    /// let answer = ann.chat().request(last_activity::request("q1", jid)).await?;
    /// assert_eq!(answer.attr("type"), Some("result"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn request(&self, iq: Element) -> Result<Element, Error> {
        let answer = self.connection.request(iq, IQ_TIMEOUT).await?;
        expect_result(&answer).map(|()| answer)
    }
}
