//! Members and admins of a dialog: the paged occupants of a public dialog, adding and
//! removing admins.

use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_protocol::model::Dialog;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Page;
use super::dialogs::IdChanges;
use crate::RestError;
use crate::endpoint::Endpoint;
use crate::query::Query;
use crate::route::Metadata;

/// `GET /chat/Dialog/{id}/occupants`: the members of a public dialog, a page at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListOccupants {
    id: DialogId,
    limit: Option<u32>,
    skip: Option<u32>,
}

impl ListOccupants {
    /// The first page (server default size 100) of dialog `id`'s occupants.
    pub fn new(id: DialogId) -> Self {
        Self {
            id,
            limit: None,
            skip: None,
        }
    }

    /// Page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Records to skip.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = Some(skip);
        self
    }
}

/// A user listed as an occupant: the fields a chat screen needs, everything else kept in
/// `other` (the full user model belongs to the users endpoints).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Occupant {
    /// The user id.
    pub id: UserId,
    /// Display name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// Login.
    #[serde(default)]
    pub login: Option<String>,
    /// Avatar: a storage file UID or a link.
    #[serde(default)]
    pub avatar: Option<String>,
    /// The app's free-form data about the user.
    #[serde(default)]
    pub custom_data: Option<String>,
    /// Every other field of the user, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Endpoint for ListOccupants {
    type Response = Page<Occupant>;
    const METADATA: Metadata = Metadata::get("ListOccupants", "/chat/Dialog/{id}/occupants");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push_opt("limit", self.limit).push_opt("skip", self.skip);
        q
    }
}

/// The most admins a dialog has besides its owner: "Up to 5 admins can be added to chat"
/// (the messaging guide and `server-chat.md`); the server refuses a change beyond it.
pub const MAX_ADMINS: usize = 5;

/// An admins change refused before sending: the dialog would have more than [`MAX_ADMINS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a dialog has at most {MAX_ADMINS} admins; this change would leave {admins}")]
#[non_exhaustive]
pub struct TooManyAdmins {
    /// The admins the dialog would have after the change.
    pub admins: usize,
}

/// `PUT /chat/Dialog/{id}/admins`: adds or removes admins (owner only, up to 5 admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateAdmins {
    #[serde(skip)]
    id: DialogId,
    #[serde(skip_serializing_if = "IdChanges::is_empty")]
    push_all: IdChanges,
    #[serde(skip_serializing_if = "IdChanges::is_empty")]
    pull_all: IdChanges,
}

impl UpdateAdmins {
    /// Makes `users` admins of dialog `id`.
    pub fn add(id: DialogId, users: impl IntoIterator<Item = UserId>) -> Self {
        Self::new(id).and_add(users)
    }

    /// Takes admin rights from `users` in dialog `id`.
    pub fn remove(id: DialogId, users: impl IntoIterator<Item = UserId>) -> Self {
        Self::new(id).and_remove(users)
    }

    fn new(id: DialogId) -> Self {
        Self {
            id,
            push_all: IdChanges::default(),
            pull_all: IdChanges::default(),
        }
    }

    /// Also makes `users` admins.
    pub fn and_add(mut self, users: impl IntoIterator<Item = UserId>) -> Self {
        self.push_all.admins_ids.extend(users);
        self
    }

    /// Also takes admin rights from `users`.
    pub fn and_remove(mut self, users: impl IntoIterator<Item = UserId>) -> Self {
        self.pull_all.admins_ids.extend(users);
        self
    }

    /// Whether a dialog whose admins are `current` stays within [`MAX_ADMINS`] after this
    /// change (added first, then removed, as the server applies it).
    ///
    /// ```
    /// use connectycube_protocol::ids::{DialogId, UserId};
    /// use connectycube_rest::chat::occupants::UpdateAdmins;
    ///
    /// let dialog: DialogId = "5356c64ab35c12bd3b108a41".parse()?;
    /// let five: Vec<_> = (1..=5).map(UserId).collect();
    /// assert!(UpdateAdmins::add(dialog, [UserId(6)]).check(&five).is_err());
    /// assert!(UpdateAdmins::add(dialog, [UserId(6)]).and_remove([UserId(1)]).check(&five).is_ok());
    /// # Ok::<(), connectycube_protocol::ids::IdError>(())
    /// ```
    pub fn check(&self, current: &[UserId]) -> Result<(), TooManyAdmins> {
        admins_after(
            current,
            &self.push_all.admins_ids,
            &self.pull_all.admins_ids,
        )
    }
}

/// Whether admins `current`, with `add` added then `remove` removed (as the server applies a
/// `push_all` and `pull_all`), stay within [`MAX_ADMINS`].
pub(crate) fn admins_after(
    current: &[UserId],
    add: &[UserId],
    remove: &[UserId],
) -> Result<(), TooManyAdmins> {
    let mut after: Vec<UserId> = Vec::with_capacity(current.len() + add.len());
    for u in current.iter().chain(add) {
        if !after.contains(u) && !remove.contains(u) {
            after.push(*u);
        }
    }
    if after.len() > MAX_ADMINS {
        return Err(TooManyAdmins {
            admins: after.len(),
        });
    }
    Ok(())
}

impl Endpoint for UpdateAdmins {
    type Response = Dialog;
    const METADATA: Metadata = Metadata::put("UpdateAdmins", "/chat/Dialog/{id}/admins");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    fn body(&self) -> Result<Option<Value>, RestError> {
        serde_json::to_value(self)
            .map(Some)
            .map_err(RestError::Body)
    }
}
