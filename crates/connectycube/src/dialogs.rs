//! Dialogs over REST, from the session: create, list, fetch, delete (one or many), subscribe
//! to public ones, unread counts and the global search. Each dialog comes back as a
//! [`Dialog`] value that carries its own actions.

use connectycube_protocol::ids::DialogId;
use connectycube_protocol::model;
use connectycube_rest::chat::DeleteResult;
use connectycube_rest::chat::dialogs::{
    CreateDialog, DeleteDialogs, DialogField, ListDialogs, Subscribe,
};
use connectycube_rest::chat::search::{GlobalSearch, SearchResults};
use connectycube_rest::chat::unread::{UnreadCount, UnreadCounts};

use crate::{Dialog, Error, Session};

impl Session {
    /// The dialog value for `info` (from a list, a search, an event), without a request.
    pub fn dialog_of(&self, info: model::Dialog) -> Dialog {
        Dialog::new(self.clone(), info)
    }

    /// Creates a dialog (private, group or public: see [`CreateDialog`]).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn create_dialog(&self, dialog: &CreateDialog) -> Result<Dialog, Error> {
        let info = self.rest().send(dialog).await?;
        Ok(self.dialog_of(info))
    }

    /// The dialogs `query` selects (types, filters, sort, page).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn dialogs(&self, query: &ListDialogs) -> Result<Vec<Dialog>, Error> {
        let page = self.rest().send(query).await?;
        Ok(page.items.into_iter().map(|d| self.dialog_of(d)).collect())
    }

    /// One dialog by id.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the user has no such dialog; [`Error::Rest`] otherwise.
    pub async fn dialog(&self, id: DialogId) -> Result<Dialog, Error> {
        let query = ListDialogs::new().eq(DialogField::Id, id).limit(1);
        self.dialogs(&query)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Unsupported(format!("no dialog {id} for this user")))
    }

    /// Deletes dialogs: for this user only, or with `force` for everyone (owner only).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers; ids it could not delete are in the result.
    pub async fn delete_dialogs(
        &self,
        ids: impl IntoIterator<Item = DialogId>,
        force: bool,
    ) -> Result<DeleteResult, Error> {
        let ids: Vec<DialogId> = ids.into_iter().collect();
        let mut request = DeleteDialogs::new(ids.iter().copied());
        if force {
            request = request.force();
        }
        let result = self.rest().send(&request).await?;
        Ok(one_deleted(
            ids.iter().map(ToString::to_string).collect(),
            result,
        ))
    }

    /// Subscribes to public dialog `id` and gives it as a value.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn subscribe_dialog(&self, id: DialogId) -> Result<Dialog, Error> {
        let info = self.rest().send(&Subscribe { id }).await?;
        Ok(self.dialog_of(info))
    }

    /// Unread messages: the total and, for the dialogs named (all when empty), per dialog.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn unread_counts(
        &self,
        dialogs: impl IntoIterator<Item = DialogId>,
    ) -> Result<UnreadCounts, Error> {
        let ids: Vec<_> = dialogs.into_iter().collect();
        let request = if ids.is_empty() {
            UnreadCount::total()
        } else {
            UnreadCount::for_dialogs(ids)
        };
        Ok(self.rest().send(&request).await?)
    }

    /// Searches dialogs, messages and users for `text` (build the limits with
    /// [`GlobalSearch::builder`]).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    pub async fn search(&self, search: &GlobalSearch) -> Result<SearchResults, Error> {
        Ok(self.rest().send(search).await?)
    }

    /// Searches for `text` with the API's defaults.
    ///
    /// # Errors
    /// [`Error::Search`] for an empty text; [`Error::Rest`] as the API answers.
    pub async fn search_text(&self, text: &str) -> Result<SearchResults, Error> {
        self.search(&GlobalSearch::builder(text).build()?).await
    }
}

/// The API answers a deletion of one id with an empty 200: that id went. Said so in the
/// result, so callers read one answer shape whatever the number of ids.
pub(crate) fn one_deleted(ids: Vec<String>, mut result: DeleteResult) -> DeleteResult {
    let untouched = result.deleted.is_empty()
        && result.not_found.is_empty()
        && result.wrong_permissions.is_empty();
    if untouched && ids.len() == 1 {
        result.deleted = ids;
    }
    result
}
