//! Dialogs: list (with a separate count), create, update, delete, clear history and the
//! subscription to public dialogs.

use std::fmt::Display;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::model::{Dialog, DialogPermissions, DialogType};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::filter::{Filter, Sort};
use super::{DeleteResult, Page, join_ids};
use crate::RestError;
use crate::endpoint::{Empty, Endpoint};
use crate::query::{FilterOp, Query};
use crate::route::Metadata;

/// A field dialogs can be filtered and sorted on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialogField {
    /// `_id`
    Id,
    /// `type`
    Type,
    /// `name`
    Name,
    /// `last_message_date_sent`
    LastMessageDateSent,
    /// `created_at`
    CreatedAt,
    /// `updated_at`
    UpdatedAt,
    /// `extensions[<name>]`: a custom field allowed in the admin panel.
    Extension(String),
}

impl DialogField {
    /// The key as the API writes it.
    pub fn key(&self) -> String {
        match self {
            Self::Id => "_id".into(),
            Self::Type => "type".into(),
            Self::Name => "name".into(),
            Self::LastMessageDateSent => "last_message_date_sent".into(),
            Self::CreatedAt => "created_at".into(),
            Self::UpdatedAt => "updated_at".into(),
            Self::Extension(f) => format!("extensions[{f}]"),
        }
    }
}

/// `GET /chat/Dialog`: the dialogs of the current user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListDialogs {
    filters: Vec<Filter>,
    sort: Option<Sort>,
    limit: Option<u32>,
    skip: Option<u32>,
}

impl ListDialogs {
    /// Every dialog, in the server's default order and page size (100).
    pub fn new() -> Self {
        Self::default()
    }

    /// `field=value`.
    pub fn eq(mut self, field: DialogField, value: impl Display) -> Self {
        self.filters.push(Filter::eq(field.key(), value));
        self
    }

    /// `field[op]=value` (`lt`, `lte`, `gt`, `gte`, `ne`, `ctn`).
    pub fn filter(mut self, field: DialogField, op: FilterOp, value: impl Display) -> Self {
        self.filters.push(Filter::op(field.key(), op, value));
        self
    }

    /// `field[op]=a,b` (`in`, `nin`, `all`).
    pub fn filter_list<I, V>(mut self, field: DialogField, op: FilterOp, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        self.filters.push(Filter::list(field.key(), op, values));
        self
    }

    /// Only dialogs of these types (`type[in]=2,3`).
    pub fn types(self, types: impl IntoIterator<Item = DialogType>) -> Self {
        self.filter_list(
            DialogField::Type,
            FilterOp::In,
            types.into_iter().map(u8::from),
        )
    }

    /// `sort_asc=field`.
    pub fn sort_asc(mut self, field: DialogField) -> Self {
        self.sort = Some(Sort::Asc(field.key()));
        self
    }

    /// `sort_desc=field`.
    pub fn sort_desc(mut self, field: DialogField) -> Self {
        self.sort = Some(Sort::Desc(field.key()));
        self
    }

    /// Page size (server default 100).
    ///
    /// ```
    /// use connectycube_rest::chat::dialogs::ListDialogs;
    /// use connectycube_rest::endpoint::Endpoint;
    ///
    /// let list = ListDialogs::new().limit(50);
    /// assert_eq!(list.path(), "/chat/Dialog");
    /// assert!(list.query().to_string().contains("limit=50"));
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The page size asked for, if any.
    pub fn page_limit(&self) -> Option<u32> {
        self.limit
    }

    /// Whether the query filters (then only the server can answer it).
    pub fn is_filtered(&self) -> bool {
        !self.filters.is_empty() || self.skip.is_some_and(|s| s > 0)
    }

    /// Records to skip.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = Some(skip);
        self
    }

    /// The same filters, answered with the number of matches only (`count=1`).
    pub fn count(self) -> CountDialogs {
        CountDialogs { list: self }
    }

    fn write(&self, q: &mut Query) {
        for f in &self.filters {
            f.write(q);
        }
        if let Some(s) = &self.sort {
            s.write(q);
        }
        q.push_opt("limit", self.limit).push_opt("skip", self.skip);
    }
}

impl Endpoint for ListDialogs {
    type Response = Page<Dialog>;
    const METADATA: Metadata = Metadata::get("ListDialogs", "/chat/Dialog");
    fn query(&self) -> Query {
        let mut q = Query::new();
        self.write(&mut q);
        q
    }
}

/// `GET /chat/Dialog?count=1`: how many dialogs match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountDialogs {
    list: ListDialogs,
}

/// The answer to [`CountDialogs`].
///
/// The docs do not show this answer. The server family it comes from answers
/// `{"items": {"count": n}}`; a bare `{"count": n}` is accepted too so a change of shape is
/// not fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogCount {
    /// The number of matching dialogs.
    pub count: u64,
}

impl<'de> Deserialize<'de> for DialogCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Inner {
            count: u64,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Nested { items: Inner },
            Flat(Inner),
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Nested { items } | Wire::Flat(items) => Self { count: items.count },
        })
    }
}

impl Endpoint for CountDialogs {
    type Response = DialogCount;
    const METADATA: Metadata = Metadata::get("CountDialogs", "/chat/Dialog").flag("count");
    fn query(&self) -> Query {
        let mut q = Query::new();
        self.list.write(&mut q);
        q.push("count", 1);
        q
    }
}

/// `POST /chat/Dialog`: a new dialog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateDialog {
    #[serde(rename = "type")]
    kind: DialogType,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    occupants_ids: Vec<UserId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    admins_ids: Vec<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    photo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<DialogPermissions>,
}

impl CreateDialog {
    fn new(kind: DialogType, name: Option<String>, occupants: Vec<UserId>) -> Self {
        Self {
            kind,
            name,
            occupants_ids: occupants,
            admins_ids: Vec::new(),
            photo: None,
            description: None,
            extensions: None,
            permissions: None,
        }
    }

    /// A 1-1 dialog with `user` (the server adds the current user).
    ///
    /// ```
    /// use connectycube_protocol::ids::UserId;
    /// use connectycube_rest::chat::dialogs::CreateDialog;
    /// use connectycube_rest::endpoint::Endpoint;
    ///
    /// let create = CreateDialog::private(UserId(56));
    /// assert_eq!(create.path(), "/chat/Dialog");
    /// let body = create.body()?.ok_or("a body")?;
    /// assert_eq!(body["occupants_ids"], serde_json::json!([56]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn private(user: UserId) -> Self {
        Self::new(DialogType::Private, None, vec![user])
    }

    /// A group dialog named `name` with `occupants` (the server adds the current user).
    ///
    /// ```
    /// use connectycube_protocol::ids::UserId;
    /// use connectycube_rest::chat::dialogs::CreateDialog;
    /// use connectycube_rest::endpoint::Endpoint;
    ///
    /// let create = CreateDialog::group("Team", [UserId(56), UserId(57)]);
    /// let body = create.body()?.ok_or("a body")?;
    /// assert_eq!(body["name"], "Team");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn group(name: impl Into<String>, occupants: impl IntoIterator<Item = UserId>) -> Self {
        Self::new(
            DialogType::Group,
            Some(name.into()),
            occupants.into_iter().collect(),
        )
    }

    /// A public dialog named `name`, open to every user of the app.
    pub fn public(name: impl Into<String>) -> Self {
        Self::new(DialogType::Public, Some(name.into()), Vec::new())
    }

    /// Admins from the start.
    pub fn admins(mut self, admins: impl IntoIterator<Item = UserId>) -> Self {
        self.admins_ids = admins.into_iter().collect();
        self
    }

    /// Whether the admins named stay within
    /// [`MAX_ADMINS`](super::occupants::MAX_ADMINS); the server would not keep more.
    ///
    /// ```
    /// use connectycube_protocol::ids::UserId;
    /// use connectycube_rest::chat::dialogs::CreateDialog;
    ///
    /// let six = CreateDialog::group("G", []).admins((1..=6).map(UserId));
    /// assert_eq!(six.check_admins().map_err(|e| e.admins), Err(6));
    /// ```
    pub fn check_admins(&self) -> Result<(), super::occupants::TooManyAdmins> {
        super::occupants::admins_after(&[], &self.admins_ids, &[])
    }

    /// The description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The image: a storage file id or a link (ignored for private dialogs).
    pub fn photo(mut self, photo: impl Into<String>) -> Self {
        self.photo = Some(photo.into());
        self
    }

    /// Custom fields; only those allowed in the admin panel are kept, values become strings.
    pub fn extensions(mut self, extensions: Map<String, Value>) -> Self {
        self.extensions = Some(extensions);
        self
    }

    /// Permissions (`allow_preview`).
    pub fn permissions(mut self, permissions: DialogPermissions) -> Self {
        self.permissions = Some(permissions);
        self
    }
}

impl Endpoint for CreateDialog {
    type Response = Dialog;
    const METADATA: Metadata = Metadata::post("CreateDialog", "/chat/Dialog");
    fn body(&self) -> Result<Option<Value>, RestError> {
        serde_json::to_value(self)
            .map(Some)
            .map_err(RestError::Body)
    }
}

/// Ids to add (`push_all`) or remove (`pull_all`) in one update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdChanges {
    /// Occupants.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub occupants_ids: Vec<UserId>,
    /// Pinned messages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pinned_messages_ids: Vec<MessageId>,
    /// Admins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub admins_ids: Vec<UserId>,
}

impl IdChanges {
    pub(crate) fn is_empty(&self) -> bool {
        self.occupants_ids.is_empty()
            && self.pinned_messages_ids.is_empty()
            && self.admins_ids.is_empty()
    }
}

/// `PUT /chat/Dialog/{id}`: changes to a dialog; fields left unset are not touched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateDialog {
    #[serde(skip)]
    id: DialogId,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    photo: Option<String>,
    /// `Some(None)` sends `null`, which resets every custom field.
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<Option<Map<String, Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<DialogPermissions>,
    #[serde(skip_serializing_if = "IdChanges::is_empty")]
    push_all: IdChanges,
    #[serde(skip_serializing_if = "IdChanges::is_empty")]
    pull_all: IdChanges,
}

impl UpdateDialog {
    /// No change yet to dialog `id`.
    pub fn new(id: DialogId) -> Self {
        Self {
            id,
            name: None,
            description: None,
            photo: None,
            extensions: None,
            permissions: None,
            push_all: IdChanges::default(),
            pull_all: IdChanges::default(),
        }
    }

    /// A new name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// A new description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// A new image.
    pub fn photo(mut self, photo: impl Into<String>) -> Self {
        self.photo = Some(photo.into());
        self
    }

    /// New custom fields.
    pub fn extensions(mut self, extensions: Map<String, Value>) -> Self {
        self.extensions = Some(Some(extensions));
        self
    }

    /// Removes every custom field (`"extensions": null`).
    pub fn reset_extensions(mut self) -> Self {
        self.extensions = Some(None);
        self
    }

    /// New permissions.
    pub fn permissions(mut self, permissions: DialogPermissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// Adds occupants.
    pub fn add_occupants(mut self, users: impl IntoIterator<Item = UserId>) -> Self {
        self.push_all.occupants_ids.extend(users);
        self
    }

    /// Removes occupants.
    pub fn remove_occupants(mut self, users: impl IntoIterator<Item = UserId>) -> Self {
        self.pull_all.occupants_ids.extend(users);
        self
    }

    /// Adds admins.
    pub fn add_admins(mut self, users: impl IntoIterator<Item = UserId>) -> Self {
        self.push_all.admins_ids.extend(users);
        self
    }

    /// Removes admins.
    pub fn remove_admins(mut self, users: impl IntoIterator<Item = UserId>) -> Self {
        self.pull_all.admins_ids.extend(users);
        self
    }

    /// Whether a dialog whose admins are `current` stays within
    /// [`MAX_ADMINS`](super::occupants::MAX_ADMINS) after this change.
    ///
    /// ```
    /// use connectycube_protocol::ids::{DialogId, UserId};
    /// use connectycube_rest::chat::dialogs::UpdateDialog;
    ///
    /// let dialog: DialogId = "5356c64ab35c12bd3b108a41".parse()?;
    /// let five: Vec<_> = (1..=5).map(UserId).collect();
    /// assert!(UpdateDialog::new(dialog).add_admins([UserId(6)]).check_admins(&five).is_err());
    /// assert!(UpdateDialog::new(dialog).name("n").check_admins(&five).is_ok());
    /// # Ok::<(), connectycube_protocol::ids::IdError>(())
    /// ```
    pub fn check_admins(&self, current: &[UserId]) -> Result<(), super::occupants::TooManyAdmins> {
        super::occupants::admins_after(
            current,
            &self.push_all.admins_ids,
            &self.pull_all.admins_ids,
        )
    }

    /// Pins messages.
    pub fn pin(mut self, messages: impl IntoIterator<Item = MessageId>) -> Self {
        self.push_all.pinned_messages_ids.extend(messages);
        self
    }

    /// Unpins messages.
    pub fn unpin(mut self, messages: impl IntoIterator<Item = MessageId>) -> Self {
        self.pull_all.pinned_messages_ids.extend(messages);
        self
    }
}

impl Endpoint for UpdateDialog {
    type Response = Dialog;
    const METADATA: Metadata = Metadata::put("UpdateDialog", "/chat/Dialog/{id}");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    fn body(&self) -> Result<Option<Value>, RestError> {
        serde_json::to_value(self)
            .map(Some)
            .map_err(RestError::Body)
    }
}

/// `DELETE /chat/Dialog/{id1},{id2}`: removes dialogs for the current user, or for everyone
/// with `force`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteDialogs {
    ids: Vec<DialogId>,
    force: bool,
}

impl DeleteDialogs {
    /// Deletes `ids` for the current user only.
    pub fn new(ids: impl IntoIterator<Item = DialogId>) -> Self {
        Self {
            ids: ids.into_iter().collect(),
            force: false,
        }
    }

    /// Deletes for every occupant (`force=1`; owner, or admin of a private dialog, only).
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }
}

impl Endpoint for DeleteDialogs {
    /// One id answers an empty 200 (an empty result); several answer the three id lists.
    type Response = DeleteResult;
    const METADATA: Metadata = Metadata::delete("DeleteDialogs", "/chat/Dialog/{ids}");
    fn path_params(&self) -> Vec<String> {
        vec![join_ids(&self.ids)]
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        if self.force {
            q.push("force", 1);
        }
        q
    }
}

/// `DELETE /chat/Dialog/clearHistory/{id}`: removes every message of a dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearHistory {
    id: DialogId,
    force: bool,
}

impl ClearHistory {
    /// Clears dialog `id` for the current user only.
    pub fn new(id: DialogId) -> Self {
        Self { id, force: false }
    }

    /// Clears it for every occupant (`force=1`).
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }
}

impl Endpoint for ClearHistory {
    type Response = Empty;
    const METADATA: Metadata = Metadata::delete("ClearHistory", "/chat/Dialog/clearHistory/{id}");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        if self.force {
            q.push("force", 1);
        }
        q
    }
}

/// `POST /chat/Dialog/{id}/subscribe`: joins a public dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribe {
    /// The public dialog.
    pub id: DialogId,
}

impl Endpoint for Subscribe {
    type Response = Dialog;
    // Joining twice leaves the user subscribed once, so a POST that may be retried.
    const METADATA: Metadata =
        Metadata::post("Subscribe", "/chat/Dialog/{id}/subscribe").idempotent(true);
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
}

/// `DELETE /chat/dialog/{id}/subscribe`: leaves a public dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The public dialog.
    pub id: DialogId,
}

impl Endpoint for Unsubscribe {
    type Response = Empty;
    const METADATA: Metadata = Metadata::delete("Unsubscribe", "/chat/dialog/{id}/subscribe");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    // The docs write `dialog` in lower case here only; kept as documented.
}
