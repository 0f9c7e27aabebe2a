//! A dialog's administration over REST: update, delete, subscribe, occupants, admins,
//! notification settings, its unread count.

use connectycube_protocol::ids::UserId;
use connectycube_rest::chat::DeleteResult;
use connectycube_rest::chat::dialogs::{Subscribe, Unsubscribe, UpdateDialog};
use connectycube_rest::chat::notifications::{GetNotifications, UpdateNotifications};
use connectycube_rest::chat::occupants::{ListOccupants, Occupant, UpdateAdmins};

use super::Dialog;
use crate::Error;

impl Dialog {
    /// Applies `change` (built from [`UpdateDialog::new`]`(dialog.id())`: name, photo,
    /// occupants, admins, pins, extensions) and keeps the server's new description.
    ///
    /// # Errors
    /// [`Error::Admins`] when the change would leave more than five admins (counted as
    /// [`Dialog::change_admins`] does), before any request; [`Error::Rest`] as the API
    /// answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// use connectycube::rest::chat::dialogs::UpdateDialog;
    ///
    /// dialog.update(&UpdateDialog::new(dialog.id()).name("New name").description("Plans")).await?;
    /// assert_eq!(dialog.info().name.as_deref(), Some("New name"));
    /// assert_eq!(bob.dialog(dialog.id()).await?.info().name.as_deref(), Some("New name"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn update(&mut self, change: &UpdateDialog) -> Result<(), Error> {
        change.check_admins(&self.info.admins_ids)?;
        self.info = self.session.rest().send(change).await?;
        Ok(())
    }

    /// Renames the dialog.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// dialog.rename("Renamed").await?;
    /// assert_eq!(dialog.info().name.as_deref(), Some("Renamed"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rename(&mut self, name: &str) -> Result<(), Error> {
        self.update(&UpdateDialog::new(self.id()).name(name)).await
    }

    /// Adds and removes occupants.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// dialog.change_occupants([], [bob.user()]).await?;
    /// assert_eq!(dialog.info().occupants_ids, [ann.user()]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn change_occupants(
        &mut self,
        add: impl IntoIterator<Item = UserId>,
        remove: impl IntoIterator<Item = UserId>,
    ) -> Result<(), Error> {
        let change = UpdateDialog::new(self.id())
            .add_occupants(add)
            .remove_occupants(remove);
        self.update(&change).await
    }

    /// Deletes the dialog for this user, or with `force` for everyone (owner only).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// let result = dialog.delete(true).await?;
    /// assert_eq!(result.deleted, [dialog.id().to_string()]);
    /// assert!(bob.dialog(dialog.id()).await.is_err(), "gone for everyone");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, force: bool) -> Result<DeleteResult, Error> {
        self.session.delete_dialogs([self.id()], force).await
    }

    /// Subscribes this user to the (public) dialog.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::rest::chat::dialogs::CreateDialog;
    ///
    /// let public = ann.create_dialog(&CreateDialog::public("News")).await?;
    /// let mut news = bob.subscribe_dialog(public.id()).await?;
    /// news.unsubscribe().await?;
    /// news.subscribe().await?;
    /// assert!(public.occupants().await?.iter().any(|o| o.id == bob.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe(&mut self) -> Result<(), Error> {
        self.info = self
            .session
            .rest()
            .send(&Subscribe { id: self.id() })
            .await?;
        Ok(())
    }

    /// Unsubscribes this user from the (public) dialog.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::rest::chat::dialogs::CreateDialog;
    ///
    /// let public = ann.create_dialog(&CreateDialog::public("News")).await?;
    /// let news = bob.subscribe_dialog(public.id()).await?;
    /// news.unsubscribe().await?;
    /// assert!(!public.occupants().await?.iter().any(|o| o.id == bob.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unsubscribe(&self) -> Result<(), Error> {
        self.session
            .rest()
            .send(&Unsubscribe { id: self.id() })
            .await?;
        Ok(())
    }

    /// The occupants (of a public dialog especially, whose list is not in the dialog).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// let ids: Vec<_> = dialog.occupants().await?.iter().map(|o| o.id).collect();
    /// assert!(ids.contains(&ann.user()) && ids.contains(&bob.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn occupants(&self) -> Result<Vec<Occupant>, Error> {
        let page = self
            .session
            .rest()
            .send(&ListOccupants::new(self.id()))
            .await?;
        Ok(page.items)
    }

    /// Adds and removes admins (the owner only, in a group, public or broadcast dialog).
    ///
    /// A dialog has five admins at most
    /// ([`MAX_ADMINS`](crate::rest::chat::occupants::MAX_ADMINS)): a change that would leave
    /// more, counted from the admins this value knows ([`Dialog::info`]), is refused before
    /// any request, as the server would refuse it.
    ///
    /// # Errors
    /// [`Error::Admins`] beyond five admins; [`Error::Rest`] as the API answers (a refresh
    /// through [`Session::dialog`](crate::Session::dialog) gets admins others changed).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// use connectycube::protocol::ids::UserId;
    ///
    /// dialog.change_admins([bob.user()], []).await?;
    /// assert!(dialog.info().admins_ids.contains(&bob.user()));
    /// let five_more = (901..=905).map(UserId);
    /// let refused = dialog.change_admins(five_more, []).await;
    /// assert!(matches!(refused, Err(connectycube::Error::Admins(_))), "six admins");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn change_admins(
        &mut self,
        add: impl IntoIterator<Item = UserId>,
        remove: impl IntoIterator<Item = UserId>,
    ) -> Result<(), Error> {
        let change = UpdateAdmins::add(self.id(), add).and_remove(remove);
        change.check(&self.info.admins_ids)?;
        self.info = self.session.rest().send(&change).await?;
        Ok(())
    }

    /// Whether push notifications for offline messages are on for this user.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// assert!(dialog.notifications().await?, "on by default");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn notifications(&self) -> Result<bool, Error> {
        let get = GetNotifications { id: self.id() };
        Ok(self.session.rest().send(&get).await?.enabled)
    }

    /// Turns push notifications on or off; gives the server's new setting.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = group().await?;
    /// assert!(!dialog.set_notifications(false).await?);
    /// assert!(!dialog.notifications().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn set_notifications(&self, enabled: bool) -> Result<bool, Error> {
        let put = UpdateNotifications {
            id: self.id(),
            enabled,
        };
        Ok(self.session.rest().send(&put).await?.enabled)
    }

    /// This user's unread messages in the dialog.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// dialog.send_text("new").await?;
    /// assert_eq!(bobs.unread_count().await?, 1);
    /// assert_eq!(dialog.unread_count().await?, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unread_count(&self) -> Result<u64, Error> {
        let counts = self.session.unread_counts([self.id()]).await?;
        Ok(counts.get(self.id()).unwrap_or(0))
    }
}
