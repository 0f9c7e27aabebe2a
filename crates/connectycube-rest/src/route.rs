//! Each endpoint's metadata, declared once: method, path pattern (`/chat/Dialog/{id}`), the
//! credentials it needs and whether it may be retried (ruma's `metadata!` block). The client
//! fills the pattern to build a request; a server matches requests against [`ROUTES`], the list
//! of every declaration, so neither side writes a path string of its own.

use http::Method;

use crate::chat::dialogs::{
    ClearHistory, CountDialogs, CreateDialog, DeleteDialogs, ListDialogs, Subscribe, Unsubscribe,
    UpdateDialog,
};
use crate::chat::messages::{CreateMessage, DeleteMessages, ListMessages, UpdateMessages};
use crate::chat::notifications::{GetNotifications, UpdateNotifications};
use crate::chat::occupants::{ListOccupants, UpdateAdmins};
use crate::chat::reactions::{ListReactions, UpdateReactions};
use crate::chat::search::GlobalSearch;
use crate::chat::system::SendSystemMessage;
use crate::chat::unread::UnreadCount;
use crate::data::{CreateRecord, DeleteRecord, ListRecords};
use crate::endpoint::Endpoint;
use crate::login::{Login, Logout};
use crate::push::{CreateEvent, CreateSubscription, DeleteSubscription, ListSubscriptions};
use crate::query::encode_path_param;
use crate::session::{CreateSession, DestroySession, GetSession};
use crate::storage::{
    CompleteBlob, CreateBlob, DeleteBlob, GetBlob, GetBlobObject, ListBlobs, UpdateBlob,
};
use crate::users::{
    DeleteUser, FindUser, ListUsers, ListUsersV1, ResetPassword, SearchUsers, SignUp, UpdateUser,
};

/// Which credentials a route needs (the secret itself lives in the endpoint value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthKind {
    /// No credentials (creating a session).
    None,
    /// A session token in `CB-Token`.
    Session,
    /// The application's auth key in `CB-AuthKey`, or else a session (signing a user up).
    AuthKey,
}

/// One route: what a request to this endpoint looks like on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metadata {
    /// The endpoint's name (its type, and the variant when one type has several routes).
    pub name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path pattern: literal segments and `{name}` parameters.
    pub path: &'static str,
    /// The credentials the request needs.
    pub auth: AuthKind,
    /// Whether sending the request twice has the same effect as once.
    pub idempotent: bool,
    /// A query parameter that tells this route apart from another with the same method and
    /// path (`count` turns a dialog list into a dialog count).
    pub flag: Option<&'static str>,
}

impl Metadata {
    const fn new(name: &'static str, method: Method, path: &'static str, idem: bool) -> Self {
        Self {
            name,
            method,
            path,
            auth: AuthKind::Session,
            idempotent: idem,
            flag: None,
        }
    }

    /// A GET route with a session.
    pub const fn get(name: &'static str, path: &'static str) -> Self {
        Self::new(name, Method::GET, path, true)
    }

    /// A POST route with a session, not retried.
    pub const fn post(name: &'static str, path: &'static str) -> Self {
        Self::new(name, Method::POST, path, false)
    }

    /// A PUT route with a session.
    pub const fn put(name: &'static str, path: &'static str) -> Self {
        Self::new(name, Method::PUT, path, true)
    }

    /// A DELETE route with a session.
    pub const fn delete(name: &'static str, path: &'static str) -> Self {
        Self::new(name, Method::DELETE, path, true)
    }

    /// The same route with other credentials.
    pub const fn auth(mut self, auth: AuthKind) -> Self {
        self.auth = auth;
        self
    }

    /// The same route, marked safe (or not) to retry.
    pub const fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// The same route, told apart from its sibling by the query parameter `flag`.
    pub const fn flag(mut self, flag: &'static str) -> Self {
        self.flag = Some(flag);
        self
    }

    /// The path with each `{..}` filled, in order, by `params`, percent-encoded (commas kept:
    /// lists of ids are comma-joined in one segment). A missing value leaves the segment empty.
    ///
    /// ```
    /// use connectycube_rest::ROUTES;
    ///
    /// let route = ROUTES.iter().find(|r| r.path.contains("{id}")).ok_or("a route with an id")?;
    /// let path = route.fill(&["5356c64ab35c12bd3b108a41"]);
    /// assert!(path.contains("5356c64ab35c12bd3b108a41") && !path.contains('{'));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fill<S: AsRef<str>>(&self, params: &[S]) -> String {
        let mut values = params.iter();
        let mut out = String::with_capacity(self.path.len() + 32);
        for seg in self.path.split('/').filter(|s| !s.is_empty()) {
            out.push('/');
            if param_name(seg).is_some() {
                if let Some(v) = values.next() {
                    out.push_str(&encode_path_param(v.as_ref()));
                }
            } else {
                out.push_str(seg);
            }
        }
        out
    }

    /// The parameters when `method` and `path` (as sent, without query) are this route's.
    pub fn matches(&self, method: &Method, path: &str) -> Option<Params> {
        if self.method != *method {
            return None;
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.match_segments(&segments)
    }

    /// The parameters when the path's segments fit the pattern, whatever the method. Literal
    /// segments compare case-insensitively (the docs write both `Dialog` and `dialog`).
    pub fn match_segments<S: AsRef<str>>(&self, segments: &[S]) -> Option<Params> {
        let pattern: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        if pattern.len() != segments.len() {
            return None;
        }
        let mut params = Params::default();
        for (p, s) in pattern.iter().zip(segments) {
            let s = s.as_ref();
            match param_name(p) {
                Some(name) if !s.is_empty() => params.0.push((name, s.to_owned())),
                Some(_) => return None,
                None if p.eq_ignore_ascii_case(s) => {}
                None => return None,
            }
        }
        Some(params)
    }

    /// How many literal segments the pattern has: the more, the more specific
    /// (`/users/by_login` wins over `/users/{id}`).
    fn literals(&self) -> usize {
        self.path
            .split('/')
            .filter(|s| !s.is_empty() && param_name(s).is_none())
            .count()
    }
}

/// `name` for a `{name}` segment.
fn param_name(seg: &str) -> Option<&str> {
    seg.strip_prefix('{')?.strip_suffix('}')
}

/// The `{name}` segments of a matched path, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The values in path order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(_, v)| v.as_str())
    }
}

/// Where a request lands among [`ROUTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup {
    /// This route, with these parameters.
    Found(&'static Metadata, Params),
    /// The path is a route's, the method is none of that path's.
    WrongMethod,
    /// No route has this path.
    NotFound,
}

/// The routes a request fits, most specific path first: those whose pattern has the most
/// literal segments, then the method, then the flag when `has_param` reports it (else the
/// route without a flag). More than one means two declarations overlap.
pub fn candidates<S: AsRef<str>>(
    method: &Method,
    segments: &[S],
    has_param: impl Fn(&str) -> bool,
) -> Result<Vec<&'static Metadata>, Lookup> {
    let by_path: Vec<&'static Metadata> = ROUTES
        .iter()
        .filter(|r| r.match_segments(segments).is_some())
        .collect();
    let best = by_path
        .iter()
        .map(|r| r.literals())
        .max()
        .ok_or(Lookup::NotFound)?;
    let by_method: Vec<&'static Metadata> = by_path
        .into_iter()
        .filter(|r| r.literals() == best && r.method == *method)
        .collect();
    if by_method.is_empty() {
        return Err(Lookup::WrongMethod);
    }
    let flagged: Vec<&'static Metadata> = by_method
        .iter()
        .copied()
        .filter(|r| r.flag.is_some_and(&has_param))
        .collect();
    if !flagged.is_empty() {
        return Ok(flagged);
    }
    let plain: Vec<&'static Metadata> = by_method
        .iter()
        .copied()
        .filter(|r| r.flag.is_none())
        .collect();
    Ok(if plain.is_empty() { by_method } else { plain })
}

/// The route a request takes (the first of [`candidates`]).
pub fn lookup<S: AsRef<str>>(
    method: &Method,
    segments: &[S],
    has_param: impl Fn(&str) -> bool,
) -> Lookup {
    match candidates(method, segments, has_param) {
        Ok(found) => match found.first() {
            Some(r) => match r.match_segments(segments) {
                Some(params) => Lookup::Found(r, params),
                None => Lookup::NotFound,
            },
            None => Lookup::NotFound,
        },
        Err(miss) => miss,
    }
}

/// Every route of every endpoint in this crate, the list a server matches requests against.
pub static ROUTES: &[Metadata] = &[
    <CreateSession as Endpoint>::METADATA,
    <GetSession as Endpoint>::METADATA,
    <DestroySession as Endpoint>::METADATA,
    <Login as Endpoint>::METADATA,
    <Logout as Endpoint>::METADATA,
    <SignUp as Endpoint>::METADATA,
    <ListUsersV1 as Endpoint>::METADATA,
    <ListUsers as Endpoint>::METADATA,
    <ResetPassword as Endpoint>::METADATA,
    <FindUser as Endpoint>::METADATA,
    FindUser::BY_LOGIN,
    FindUser::BY_EMAIL,
    FindUser::BY_FACEBOOK_ID,
    FindUser::BY_TWITTER_ID,
    FindUser::BY_EXTERNAL_ID,
    <SearchUsers as Endpoint>::METADATA,
    SearchUsers::BY_TAGS,
    <UpdateUser as Endpoint>::METADATA,
    <DeleteUser as Endpoint>::METADATA,
    DeleteUser::EXTERNAL,
    <ListDialogs as Endpoint>::METADATA,
    <CountDialogs as Endpoint>::METADATA,
    <CreateDialog as Endpoint>::METADATA,
    <UpdateDialog as Endpoint>::METADATA,
    <DeleteDialogs as Endpoint>::METADATA,
    <ClearHistory as Endpoint>::METADATA,
    <Subscribe as Endpoint>::METADATA,
    <Unsubscribe as Endpoint>::METADATA,
    <ListOccupants as Endpoint>::METADATA,
    <UpdateAdmins as Endpoint>::METADATA,
    <GetNotifications as Endpoint>::METADATA,
    <UpdateNotifications as Endpoint>::METADATA,
    <ListMessages as Endpoint>::METADATA,
    <CreateMessage as Endpoint>::METADATA,
    <UpdateMessages as Endpoint>::METADATA,
    UpdateMessages::ALL_IN_DIALOG,
    <DeleteMessages as Endpoint>::METADATA,
    <UnreadCount as Endpoint>::METADATA,
    <SendSystemMessage as Endpoint>::METADATA,
    <ListReactions as Endpoint>::METADATA,
    <UpdateReactions as Endpoint>::METADATA,
    <GlobalSearch as Endpoint>::METADATA,
    <CreateBlob as Endpoint>::METADATA,
    <ListBlobs as Endpoint>::METADATA,
    <GetBlob as Endpoint>::METADATA,
    <UpdateBlob as Endpoint>::METADATA,
    <DeleteBlob as Endpoint>::METADATA,
    <CompleteBlob as Endpoint>::METADATA,
    <GetBlobObject as Endpoint>::METADATA,
    GetBlobObject::DOWNLOAD,
    <CreateSubscription as Endpoint>::METADATA,
    <ListSubscriptions as Endpoint>::METADATA,
    <DeleteSubscription as Endpoint>::METADATA,
    <CreateEvent as Endpoint>::METADATA,
    <CreateRecord as Endpoint>::METADATA,
    <ListRecords as Endpoint>::METADATA,
    <DeleteRecord as Endpoint>::METADATA,
];
