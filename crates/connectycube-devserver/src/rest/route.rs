//! Method and path to handler, and the session check every handler starts with.
//!
//! Requests are matched by the client's own route declarations
//! ([`connectycube_rest::ROUTES`]): each handler is keyed by an endpoint type's
//! [`Metadata`], so the devserver writes no path string of its own except the upload form's
//! (the presigned form is not a REST endpoint). Literal segments match case-insensitively;
//! ids are read by the route's parameter names (`{id}`, `{ids}`), as sent. A known path with another method answers 405, an
//! unknown path 404.

use connectycube_rest::Metadata;
use connectycube_rest::chat::dialogs::{
    ClearHistory, CountDialogs, CreateDialog, DeleteDialogs, ListDialogs, Subscribe, Unsubscribe,
    UpdateDialog,
};
use connectycube_rest::chat::messages::{
    CreateMessage, DeleteMessages, ListMessages, UpdateMessages,
};
use connectycube_rest::chat::notifications::{GetNotifications, UpdateNotifications};
use connectycube_rest::chat::occupants::{ListOccupants, UpdateAdmins};
use connectycube_rest::chat::reactions::{ListReactions, UpdateReactions};
use connectycube_rest::chat::search::GlobalSearch;
use connectycube_rest::chat::system::SendSystemMessage;
use connectycube_rest::chat::unread::UnreadCount;
use connectycube_rest::data::{CreateRecord, DeleteRecord, ListRecords};
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::login::{Login, Logout};
use connectycube_rest::push::{
    CreateEvent, CreateSubscription, DeleteSubscription, ListSubscriptions,
};
use connectycube_rest::route::{Lookup, lookup};
use connectycube_rest::session::{CreateSession, DestroySession, GetSession};
use connectycube_rest::storage::{
    CompleteBlob, CreateBlob, DeleteBlob, GetBlob, GetBlobObject, ListBlobs, UpdateBlob,
};
use connectycube_rest::users::{
    DeleteUser, FindUser, ListUsers, ListUsersV1, ResetPassword, SearchUsers, SignUp, UpdateUser,
};
use http::Method;

use super::request::Req;
use super::{
    ApiError, RestState, dialogs, messages, records, session, storage, subscriptions, users,
};
use crate::store::{Session, User};

type Handler = fn(&RestState, &Req) -> Result<super::reply::Reply, ApiError>;

/// The upload form's path (read with the larger body limit).
pub(crate) const UPLOAD_PATH: &str = "/blobs/upload";

/// Whether `path` is the upload form's.
pub(crate) fn is_upload(path: &str) -> bool {
    path.eq_ignore_ascii_case(UPLOAD_PATH)
}

/// `M::METADATA` of an endpoint type, shorter.
const fn m<E: Endpoint>() -> Metadata {
    E::METADATA
}

/// Each declared route and the handler that answers it.
static HANDLERS: &[(Metadata, Handler)] = &[
    (m::<CreateSession>(), session::create),
    (m::<GetSession>(), session::get),
    (m::<DestroySession>(), session::destroy),
    (m::<Login>(), session::login),
    (m::<Logout>(), session::logout),
    (m::<SignUp>(), users::sign_up),
    (m::<ListUsersV1>(), users::list_v1),
    (m::<ListUsers>(), users::list_v2),
    (m::<ResetPassword>(), users::reset_password),
    (m::<FindUser>(), users::get),
    (FindUser::BY_LOGIN, users::by_field),
    (FindUser::BY_EMAIL, users::by_field),
    (FindUser::BY_FACEBOOK_ID, users::by_field),
    (FindUser::BY_TWITTER_ID, users::by_field),
    (FindUser::BY_EXTERNAL_ID, users::get_external),
    (m::<SearchUsers>(), users::by_field),
    (SearchUsers::BY_TAGS, users::by_field),
    (m::<UpdateUser>(), users::update),
    (m::<DeleteUser>(), users::delete),
    (DeleteUser::EXTERNAL, users::delete_external),
    (m::<ListDialogs>(), dialogs::list),
    (m::<CountDialogs>(), dialogs::list),
    (m::<CreateDialog>(), dialogs::create),
    (m::<UpdateDialog>(), dialogs::update),
    (m::<DeleteDialogs>(), dialogs::delete),
    (m::<ClearHistory>(), dialogs::clear_history),
    (m::<Subscribe>(), dialogs::subscribe),
    (m::<Unsubscribe>(), dialogs::unsubscribe),
    (m::<ListOccupants>(), dialogs::occupants),
    (m::<UpdateAdmins>(), dialogs::admins),
    (m::<GetNotifications>(), dialogs::get_notifications),
    (m::<UpdateNotifications>(), dialogs::set_notifications),
    (m::<ListMessages>(), messages::list),
    (m::<CreateMessage>(), messages::create),
    (m::<UpdateMessages>(), messages::update),
    (UpdateMessages::ALL_IN_DIALOG, messages::update),
    (m::<DeleteMessages>(), messages::delete),
    (m::<UnreadCount>(), messages::unread),
    (m::<SendSystemMessage>(), messages::system),
    (m::<ListReactions>(), messages::reactions),
    (m::<UpdateReactions>(), messages::react),
    (m::<GlobalSearch>(), messages::search),
    (m::<CreateBlob>(), storage::create),
    (m::<ListBlobs>(), storage::list),
    (m::<GetBlob>(), storage::get),
    (m::<UpdateBlob>(), storage::update),
    (m::<DeleteBlob>(), storage::delete),
    (m::<CompleteBlob>(), storage::complete),
    (m::<GetBlobObject>(), storage::object),
    (GetBlobObject::DOWNLOAD, storage::download),
    (m::<CreateSubscription>(), subscriptions::create),
    (m::<ListSubscriptions>(), subscriptions::list),
    (m::<DeleteSubscription>(), subscriptions::delete),
    (m::<CreateEvent>(), subscriptions::create_event),
    (m::<CreateRecord>(), records::create),
    (m::<ListRecords>(), records::list),
    (m::<DeleteRecord>(), records::delete),
];

/// Answers `req`.
/// The handler reads the route's `{name}` parameters from `req.params`.
pub(crate) fn dispatch(st: &RestState, req: &mut Req) -> Result<super::reply::Reply, ApiError> {
    // The upload form first: `/blobs/upload` would otherwise read as `/blobs/{id}`.
    if req.path.len() == 2 && is_upload(&format!("/{}/{}", req.path[0], req.path[1])) {
        return match req.method {
            Method::POST => storage::upload(st, req),
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    match lookup(&req.method, &req.path, |k| req.query.contains_key(k)) {
        Lookup::Found(route, params) => match handler(route) {
            Some(h) => {
                req.params = params;
                let fault = st.route_faults.on_request(route.name);
                if let Some(answer) = fault.as_ref().and_then(super::faults::answer) {
                    return answer;
                }
                req.ignore_limit = fault == Some(super::faults::RestFault::IgnoreLimit);
                h(st, req)
            }
            None => Err(ApiError::not_found()),
        },
        Lookup::WrongMethod => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

/// The handler keyed by `route`.
fn handler(route: &Metadata) -> Option<Handler> {
    HANDLERS.iter().find(|(r, _)| r == route).map(|(_, h)| *h)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each route's `{name}` parameters are what its handler reads by name, wherever they
    /// stand in the path (`/chat/Dialog/clearHistory/{id}` has its id third, not second).
    #[test]
    fn every_route_parameter_reaches_the_handler_by_its_name() {
        for r in connectycube_rest::ROUTES {
            let names: Vec<&str> = r
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let values: Vec<String> = (0..names.len()).map(|i| format!("v{i}x")).collect();
            let path = r.fill(&values);
            let segments: Vec<String> = path[1..].split('/').map(str::to_owned).collect();
            let has_flag = |k: &str| r.flag == Some(k);
            let Lookup::Found(found, params) = lookup(&r.method, &segments, has_flag) else {
                panic!("{} does not route", r.name);
            };
            assert_eq!(found, r, "{path}");
            for (name, value) in names.iter().zip(&values) {
                assert_eq!(params.get(name), Some(value.as_str()), "{} {name}", r.name);
            }
        }
    }

    #[test]
    fn every_declared_route_has_exactly_one_handler() {
        for r in connectycube_rest::ROUTES {
            let n = HANDLERS.iter().filter(|(h, _)| h == r).count();
            assert_eq!(n, 1, "{} has {n} handlers", r.name);
        }
        for (h, _) in HANDLERS {
            assert!(
                connectycube_rest::ROUTES.contains(h),
                "{} is not declared",
                h.name
            );
        }
    }
}
