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

use crate::{Dialog, Error, Retry, Session};

impl Session {
    /// The dialog value for `info` (from a list, a search, an event), without a request.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let again = ann.dialog_of(dialog.info().clone());
    /// assert_eq!(again.id(), dialog.id());
    /// assert_eq!(again.opponent(), Some(bob.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn dialog_of(&self, info: model::Dialog) -> Dialog {
        Dialog::new(self.clone(), info)
    }

    /// Creates a dialog (private, group or public: see [`CreateDialog`]).
    ///
    /// # Errors
    /// [`Error::Admins`] for more than five admins, before any request (the server would not
    /// keep them all); [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::model::DialogType;
    /// use connectycube::rest::chat::dialogs::CreateDialog;
    ///
    /// let group = ann.create_dialog(&CreateDialog::group("Rustaceans", [bob.user()])).await?;
    /// assert_eq!(group.kind(), DialogType::Group);
    /// assert_eq!(group.info().name.as_deref(), Some("Rustaceans"));
    /// assert!(group.info().occupants_ids.contains(&bob.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_dialog(&self, dialog: &CreateDialog) -> Result<Dialog, Error> {
        dialog.check_admins()?;
        let info = self.rest().send(dialog).await?;
        self.keep_dialogs(std::slice::from_ref(&info));
        Ok(self.dialog_of(info))
    }

    /// The dialogs `query` selects (types, filters, sort, page).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::rest::chat::dialogs::ListDialogs;
    ///
    /// let mine = ann.dialogs(&ListDialogs::new().limit(10)).await?;
    /// assert_eq!(mine.len(), 1);
    /// assert_eq!(mine[0].id(), dialog.id());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn dialogs(&self, query: &ListDialogs) -> Result<Vec<Dialog>, Error> {
        if self.offline() && !query.is_filtered() {
            return self.kept_dialogs(query);
        }
        match self.rest().send(query).await {
            Ok(page) => {
                self.keep_dialogs(&page.items);
                Ok(page.items.into_iter().map(|d| self.dialog_of(d)).collect())
            }
            Err(e) => {
                let e = Error::from(e);
                if e.retry() != Retry::Network || query.is_filtered() {
                    return Err(e);
                }
                tracing::debug!(error = %e, "dialogs from the store: the server is unreachable");
                self.kept_dialogs(query)
            }
        }
    }

    /// Keeps what the server said of these dialogs (for a restart, also offline).
    fn keep_dialogs(&self, dialogs: &[model::Dialog]) {
        if let Err(e) = self.chat().store().put_dialogs(self.user(), dialogs) {
            tracing::warn!(error = %e, "could not keep the dialogs");
        }
    }

    /// The kept dialogs, the latest activity first, as many as `query` asks (100 by default).
    fn kept_dialogs(&self, query: &ListDialogs) -> Result<Vec<Dialog>, Error> {
        let limit = usize::try_from(query.page_limit().unwrap_or(100)).unwrap_or(usize::MAX);
        let kept = self.chat().store().dialogs(self.user(), limit)?;
        Ok(kept.into_iter().map(|d| self.dialog_of(d)).collect())
    }

    /// One dialog by id.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the user has no such dialog; [`Error::Rest`] otherwise.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let seen_by_bob = bob.dialog(dialog.id()).await?;
    /// assert_eq!(seen_by_bob.opponent(), Some(ann.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn dialog(&self, id: DialogId) -> Result<Dialog, Error> {
        if self.offline() {
            let kept = self.chat().store().dialogs(self.user(), usize::MAX)?;
            if let Some(d) = kept.into_iter().find(|d| d.id == id) {
                return Ok(self.dialog_of(d));
            }
        }
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
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::rest::chat::dialogs::CreateDialog;
    ///
    /// let group = ann.create_dialog(&CreateDialog::group("Short-lived", [bob.user()])).await?;
    /// let result = ann.delete_dialogs([group.id()], true).await?;
    /// assert_eq!(result.deleted, [group.id().to_string()]);
    /// assert!(ann.dialog(group.id()).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
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
        for id in &ids {
            if result.deleted.contains(&id.to_string())
                && let Err(e) = self.chat().store().remove_dialog(self.user(), *id)
            {
                tracing::warn!(dialog = %id, error = %e, "could not forget a deleted dialog");
            }
        }
        Ok(one_deleted(
            ids.iter().map(ToString::to_string).collect(),
            result,
        ))
    }

    /// Subscribes to public dialog `id` and gives it as a value.
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
    /// let public = ann.create_dialog(&CreateDialog::public("Announcements")).await?;
    /// let joined = bob.subscribe_dialog(public.id()).await?;
    /// assert_eq!(joined.id(), public.id());
    /// assert!(public.occupants().await?.iter().any(|o| o.id == bob.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe_dialog(&self, id: DialogId) -> Result<Dialog, Error> {
        let info = self.rest().send(&Subscribe { id }).await?;
        Ok(self.dialog_of(info))
    }

    /// Unread messages: the total over the user's group and private dialogs, and the count
    /// of each dialog named (the server counts group and private dialogs only). With no
    /// dialog named the server answers the total alone, with no per-dialog counts
    /// (`server-chat.md`; the guide's "skip this parameter to get data about all dialogs"
    /// is not what the server does): list the dialogs to get theirs.
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
    /// let counts = bob.unread_counts([dialog.id()]).await?;
    /// assert_eq!((counts.total, counts.get(dialog.id())), (2, Some(2)));
    /// let total_only = bob.unread_counts([]).await?;
    /// assert_eq!(total_only.total, 2);
    /// assert_eq!(total_only.get(dialog.id()), None, "no dialog named, none counted");
    /// assert_eq!(ann.unread_counts([]).await?.total, 0, "ann's own messages");
    /// # Ok(())
    /// # }
    /// ```
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

    /// Searches dialog names and message texts (case-sensitive) for the search's text.
    ///
    /// [`GlobalSearch::builder`]'s `build` refuses, before any request, what the API refuses
    /// (`server-chat.md`): a text of 4 characters or fewer, more than 10 dialogs, a limit
    /// above 100, a start date without an end date, an end date later than the start date or
    /// more than 3 months before it (the server compares `start_date` with `lte` and
    /// `end_date` with `gte`: the start is the newer one).
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::rest::chat::search::GlobalSearch;
    ///
    /// dialog.send_text("who brings the ukulele?").await?;
    /// let search = GlobalSearch::builder("ukulele").dialogs([dialog.id()]).limit(3).build()?;
    /// let found = bob.search(&search).await?;
    /// assert_eq!(found.messages.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn search(&self, search: &GlobalSearch) -> Result<SearchResults, Error> {
        Ok(self.rest().send(search).await?)
    }

    /// Searches for `text` with the API's defaults.
    ///
    /// # Errors
    /// [`Error::Search`] for an empty text; [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// dialog.send_text("the ukulele is in the van").await?;
    /// assert_eq!(bob.search_text("ukulele").await?.messages.len(), 1);
    /// assert!(bob.search_text("").await.is_err(), "an empty text is refused before any request");
    /// # Ok(())
    /// # }
    /// ```
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
