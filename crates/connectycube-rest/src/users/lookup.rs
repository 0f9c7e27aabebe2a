//! Finding users: by id, with the `/users/v2` filters, and the deprecated single-key lookups.

use std::fmt::Display;

use connectycube_protocol::ids::UserId;

use super::{User, UserPage, UserResponse};
use crate::chat::{Page, Sort};
use crate::endpoint::Endpoint;
use crate::query::{FilterOp, Query};
use crate::route::Metadata;

/// A field `/users/v2` filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserField {
    /// `id`
    Id,
    /// `login`
    Login,
    /// `email`
    Email,
    /// `full_name`
    FullName,
    /// `phone`
    Phone,
    /// `external_id`
    ExternalId,
    /// `facebook_id`
    FacebookId,
    /// `twitter_id`
    TwitterId,
    /// `user_tags`
    UserTags,
    /// `last_request_at` (only beside a stand-alone field)
    LastRequestAt,
    /// `created_at` (only beside a stand-alone field)
    CreatedAt,
    /// `updated_at` (only beside a stand-alone field)
    UpdatedAt,
}

impl UserField {
    /// The key as the API writes it.
    pub fn key(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Login => "login",
            Self::Email => "email",
            Self::FullName => "full_name",
            Self::Phone => "phone",
            Self::ExternalId => "external_id",
            Self::FacebookId => "facebook_id",
            Self::TwitterId => "twitter_id",
            Self::UserTags => "user_tags",
            Self::LastRequestAt => "last_request_at",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
        }
    }
}

/// `GET /users/v2`: users matching filters, a page at a time.
///
/// The server wants at least one stand-alone field (id, login, email, full name, phone,
/// external/Facebook/Twitter id, tags) with `=`, `in` or `start_with`; the dates only narrow
/// such a query. It answers 422 otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUsers {
    query: Query,
    sort: Option<Sort>,
    offset: Option<u32>,
    limit: Option<u32>,
}

impl ListUsers {
    /// No filter yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The users with these ids (`id[in][]=…` once per id).
    pub fn ids(self, ids: impl IntoIterator<Item = UserId>) -> Self {
        self.filter_list(UserField::Id, FilterOp::In, ids)
    }

    /// `field=value`.
    pub fn eq(mut self, field: UserField, value: impl Display) -> Self {
        self.query.push(field.key(), value);
        self
    }

    /// `field[op]=value` (`start_with`, `gt`, `lt`, `gte`, `lte`).
    pub fn filter(mut self, field: UserField, op: FilterOp, value: impl Display) -> Self {
        self.query.filter(field.key(), op, value);
        self
    }

    /// `field[op][]=a&field[op][]=b` (`in`, `nin`).
    pub fn filter_list<I, V>(mut self, field: UserField, op: FilterOp, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        let key = format!("{}[{}][]", field.key(), op.as_str());
        self.query.push_each(&key, values);
        self
    }

    /// `sort_asc=field`.
    pub fn sort_asc(mut self, field: UserField) -> Self {
        self.sort = Some(Sort::Asc(field.key().into()));
        self
    }

    /// `sort_desc=field`.
    pub fn sort_desc(mut self, field: UserField) -> Self {
        self.sort = Some(Sort::Desc(field.key().into()));
        self
    }

    /// Users to skip.
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Page size (at most 100, the default).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

impl Endpoint for ListUsers {
    type Response = Page<User>;
    const METADATA: Metadata = Metadata::get("ListUsers", "/users/v2");
    fn query(&self) -> Query {
        let mut q = self.query.clone();
        if let Some(s) = &self.sort {
            s.write(&mut q);
        }
        q.push_opt("offset", self.offset)
            .push_opt("limit", self.limit);
        q
    }
}

/// One key that names a single user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserKey {
    /// `GET /users/{id}` (deprecated).
    Id(UserId),
    /// `GET /users/by_login?login=…` (deprecated).
    Login(String),
    /// `GET /users/by_email?email=…` (deprecated).
    Email(String),
    /// `GET /users/by_facebook_id?facebook_id=…` (deprecated).
    FacebookId(String),
    /// `GET /users/by_twitter_id?twitter_id=…` (deprecated).
    TwitterId(String),
    /// `GET /users/external/{id}` (deprecated).
    External(u64),
}

/// Reads one user by a [`UserKey`]; 404 when there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindUser(pub UserKey);

/// The routes of the keys other than an id (`FindUser::METADATA` is by id).
impl FindUser {
    /// `GET /users/by_login?login=…`.
    pub const BY_LOGIN: Metadata = Metadata::get("FindUser::Login", "/users/by_login");
    /// `GET /users/by_email?email=…`.
    pub const BY_EMAIL: Metadata = Metadata::get("FindUser::Email", "/users/by_email");
    /// `GET /users/by_facebook_id?facebook_id=…`.
    pub const BY_FACEBOOK_ID: Metadata =
        Metadata::get("FindUser::FacebookId", "/users/by_facebook_id");
    /// `GET /users/by_twitter_id?twitter_id=…`.
    pub const BY_TWITTER_ID: Metadata =
        Metadata::get("FindUser::TwitterId", "/users/by_twitter_id");
    /// `GET /users/external/{id}`.
    pub const BY_EXTERNAL_ID: Metadata =
        Metadata::get("FindUser::External", "/users/external/{id}");
}

impl Endpoint for FindUser {
    type Response = UserResponse;
    const METADATA: Metadata = Metadata::get("FindUser", "/users/{id}");
    fn metadata(&self) -> Metadata {
        match &self.0 {
            UserKey::Id(_) => Self::METADATA,
            UserKey::Login(_) => Self::BY_LOGIN,
            UserKey::Email(_) => Self::BY_EMAIL,
            UserKey::FacebookId(_) => Self::BY_FACEBOOK_ID,
            UserKey::TwitterId(_) => Self::BY_TWITTER_ID,
            UserKey::External(_) => Self::BY_EXTERNAL_ID,
        }
    }
    fn path_params(&self) -> Vec<String> {
        match &self.0 {
            UserKey::Id(id) => vec![id.to_string()],
            UserKey::External(id) => vec![id.to_string()],
            _ => Vec::new(),
        }
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        match &self.0 {
            UserKey::Login(v) => q.push("login", v),
            UserKey::Email(v) => q.push("email", v),
            UserKey::FacebookId(v) => q.push("facebook_id", v),
            UserKey::TwitterId(v) => q.push("twitter_id", v),
            UserKey::Id(_) | UserKey::External(_) => &mut q,
        };
        q
    }
}

/// What [`SearchUsers`] matches on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Search {
    FullName(String),
    Tags(Vec<String>),
}

/// `GET /users/by_full_name` or `GET /users/by_tags` (deprecated): pages of v1 results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchUsers {
    by: Search,
    page: Option<u32>,
    per_page: Option<u32>,
}

impl SearchUsers {
    /// Users with this full name.
    pub fn full_name(name: impl Into<String>) -> Self {
        Self {
            by: Search::FullName(name.into()),
            page: None,
            per_page: None,
        }
    }

    /// Users with at least one of these tags.
    pub fn tags<I, S>(tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            by: Search::Tags(tags.into_iter().map(Into::into).collect()),
            page: None,
            per_page: None,
        }
    }

    /// The page number, from 1.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Page size (default 10, at most 100).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }
}

/// The route by tags (`SearchUsers::METADATA` is by full name).
impl SearchUsers {
    /// `GET /users/by_tags?tags=…`.
    pub const BY_TAGS: Metadata = Metadata::get("SearchUsers::Tags", "/users/by_tags");
}

impl Endpoint for SearchUsers {
    type Response = UserPage;
    const METADATA: Metadata = Metadata::get("SearchUsers::FullName", "/users/by_full_name");
    fn metadata(&self) -> Metadata {
        match self.by {
            Search::FullName(_) => Self::METADATA,
            Search::Tags(_) => Self::BY_TAGS,
        }
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        match &self.by {
            Search::FullName(name) => q.push("full_name", name),
            Search::Tags(tags) => q.push_list("tags", tags),
        };
        q.push_opt("page", self.page)
            .push_opt("per_page", self.per_page);
        q
    }
}
