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
    /// [`Error::Rest`] as the API answers.
    pub async fn update(&mut self, change: &UpdateDialog) -> Result<(), Error> {
        self.info = self.session.rest().send(change).await?;
        Ok(())
    }

    /// Renames the dialog.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn rename(&mut self, name: &str) -> Result<(), Error> {
        self.update(&UpdateDialog::new(self.id()).name(name)).await
    }

    /// Adds and removes occupants.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
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
    pub async fn delete(&self, force: bool) -> Result<DeleteResult, Error> {
        self.session.delete_dialogs([self.id()], force).await
    }

    /// Subscribes this user to the (public) dialog.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
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
    pub async fn occupants(&self) -> Result<Vec<Occupant>, Error> {
        let page = self
            .session
            .rest()
            .send(&ListOccupants::new(self.id()))
            .await?;
        Ok(page.items)
    }

    /// Adds and removes admins (the owner only; five at most).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn change_admins(
        &mut self,
        add: impl IntoIterator<Item = UserId>,
        remove: impl IntoIterator<Item = UserId>,
    ) -> Result<(), Error> {
        let change = UpdateAdmins::add(self.id(), add).and_remove(remove);
        self.info = self.session.rest().send(&change).await?;
        Ok(())
    }

    /// Whether push notifications for offline messages are on for this user.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn notifications(&self) -> Result<bool, Error> {
        let get = GetNotifications { id: self.id() };
        Ok(self.session.rest().send(&get).await?.enabled)
    }

    /// Turns push notifications on or off; gives the server's new setting.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
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
    pub async fn unread_count(&self) -> Result<u64, Error> {
        let counts = self.session.unread_counts([self.id()]).await?;
        Ok(counts.get(self.id()).unwrap_or(0))
    }
}
