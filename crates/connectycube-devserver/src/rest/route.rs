//! Method and path to handler, and the session check every handler starts with.
//!
//! Paths match case-insensitively (the docs write both `/chat/Dialog` and `/chat/dialog`);
//! ids are read from the path as sent. A known path with another method answers 405, an
//! unknown path 404.

use super::request::Req;
use super::{ApiError, RestState, dialogs, messages, session, storage, users};
use crate::store::{Session, User};

/// The methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum M {
    Get,
    Post,
    Put,
    Delete,
}

type Handler = fn(&RestState, &Req) -> Result<super::reply::Reply, ApiError>;

/// The upload form's path (read with the larger body limit).
pub(crate) const UPLOAD_PATH: &str = "/blobs/upload";

/// Whether `path` is the upload form's.
pub(crate) fn is_upload(path: &str) -> bool {
    path.eq_ignore_ascii_case(UPLOAD_PATH)
}

/// Answers `req`.
pub(crate) fn dispatch(st: &RestState, req: &Req) -> Result<super::reply::Reply, ApiError> {
    use M::{Delete, Get, Post, Put};
    let lower: Vec<String> = req.path.iter().map(|s| s.to_ascii_lowercase()).collect();
    let p: Vec<&str> = lower.iter().map(String::as_str).collect();
    let table: &[(M, Handler)] = match p.as_slice() {
        ["session"] => &[
            (Post, session::create),
            (Get, session::get),
            (Delete, session::destroy),
        ],
        ["login"] => &[(Post, session::login), (Delete, session::logout)],
        ["users"] => &[(Post, users::sign_up), (Get, users::list_v1)],
        ["users", "v2"] => &[(Get, users::list_v2)],
        ["users", "password", "reset"] => &[(Get, users::reset_password)],
        ["users", "external", _] => &[(Get, users::get_external), (Delete, users::delete_external)],
        ["users", by] if by.starts_with("by_") => &[(Get, users::by_field)],
        ["users", _] => &[
            (Get, users::get),
            (Put, users::update),
            (Delete, users::delete),
        ],
        ["chat", "dialog"] => &[(Get, dialogs::list), (Post, dialogs::create)],
        ["chat", "dialog", "clearhistory", _] => &[(Delete, dialogs::clear_history)],
        ["chat", "dialog", _] => &[(Put, dialogs::update), (Delete, dialogs::delete)],
        ["chat", "dialog", _, "subscribe"] => {
            &[(Post, dialogs::subscribe), (Delete, dialogs::unsubscribe)]
        }
        ["chat", "dialog", _, "occupants"] => &[(Get, dialogs::occupants)],
        ["chat", "dialog", _, "admins"] => &[(Put, dialogs::admins)],
        ["chat", "dialog", _, "notifications"] => &[
            (Get, dialogs::get_notifications),
            (Put, dialogs::set_notifications),
        ],
        ["chat", "message"] => &[
            (Get, messages::list),
            (Post, messages::create),
            (Put, messages::update),
        ],
        ["chat", "message", "unread"] => &[(Get, messages::unread)],
        ["chat", "message", "system"] => &[(Post, messages::system)],
        ["chat", "message", _] => &[(Put, messages::update), (Delete, messages::delete)],
        ["chat", "message", _, "reactions"] => {
            &[(Get, messages::reactions), (Put, messages::react)]
        }
        ["chat", "search"] => &[(Get, messages::search)],
        ["blobs"] => &[(Post, storage::create), (Get, storage::list)],
        ["blobs", "upload"] => &[(Post, storage::upload)],
        ["blobs", _] => &[
            (Get, storage::get),
            (Put, storage::update),
            (Delete, storage::delete),
        ],
        ["blobs", _, "complete"] => &[(Put, storage::complete)],
        ["blobs", _, "object"] => &[(Get, storage::object)],
        _ => return Err(ApiError::not_found()),
    };
    let m = match req.method.as_str() {
        "GET" => Get,
        "POST" => Post,
        "PUT" => Put,
        "DELETE" => Delete,
        _ => return Err(ApiError::method_not_allowed()),
    };
    match table.iter().find(|(mm, _)| *mm == m) {
        Some((_, handler)) => handler(st, req),
        None => Err(ApiError::method_not_allowed()),
    }
}

/// The live session the request's token names, prolonged by this request.
pub(crate) fn session_of(st: &RestState, req: &Req) -> Result<Session, ApiError> {
    let token = req.token.as_deref().ok_or_else(ApiError::no_session)?;
    let s = st.store.session(token)?.ok_or_else(ApiError::no_session)?;
    st.store
        .prolong_session(token, st.settings.session_ttl.as_secs() as i64)?;
    Ok(s)
}

/// The session and its user; 403 for an application-only session.
pub(crate) fn user_of(st: &RestState, req: &Req) -> Result<(Session, User), ApiError> {
    let s = session_of(st, req)?;
    let id = s.user_id.ok_or_else(ApiError::need_user)?;
    // A user deleted meanwhile leaves a session without a user.
    let u = st.store.user(id)?.ok_or_else(ApiError::no_session)?;
    st.store.touch_user(id)?;
    Ok((s, u))
}
