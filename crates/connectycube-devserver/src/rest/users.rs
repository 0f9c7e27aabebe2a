//! `/users`: sign up, lists (v2 and the older v1), lookups, update, delete, password reset
//! (`server-users.md`). Users see the users of their own application.

use connectycube_protocol::ids::UserId;
use http::StatusCode;
use serde_json::{Value, json};

use super::filter::ListQuery;
use super::reply::Reply;
use super::request::{Req, as_text, as_u64};
use super::route::{session_of, user_of};
use super::{ApiError, RestState, render};
use crate::store::{NewUser, User};

/// Reads the `user` object of a sign-up or update.
fn fields(req: &Req) -> Result<(NewUser, Option<String>), ApiError> {
    let Some(Value::Object(u)) = req.body.get("user") else {
        return Err(ApiError::required("user"));
    };
    let text = |k: &str| u.get(k).and_then(as_text);
    let num = |k: &str| -> Result<Option<u64>, ApiError> {
        match u.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => as_u64(v)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(k, "is not a number")),
        }
    };
    let timezone = match u.get("timezone") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .or_else(|| as_text(v).and_then(|s| s.parse().ok()))
                .ok_or_else(|| ApiError::invalid("timezone", "is not a number"))?,
        ),
    };
    let website = text("website").map(|w| {
        if w.contains("://") {
            w
        } else {
            format!("http://{w}")
        }
    });
    let new = NewUser {
        id: None,
        login: text("login"),
        email: text("email"),
        password: text("password"),
        full_name: text("full_name").map(|n| n.trim().to_owned()),
        phone: text("phone"),
        website,
        external_user_id: num("external_user_id")?,
        facebook_id: text("facebook_id"),
        twitter_id: text("twitter_id"),
        blob_id: num("blob_id")?,
        custom_data: text("custom_data"),
        avatar: text("avatar"),
        user_tags: text("tag_list").or_else(|| text("user_tags")),
        timezone,
        is_guest: false,
        last_request_at: None,
    };
    if let Some(p) = &new.password
        && p.chars().count() < 8
    {
        return Err(ApiError::invalid(
            "password",
            "is too short (minimum is 8 characters)",
        ));
    }
    if let Some(e) = &new.email
        && !e.contains('@')
    {
        return Err(ApiError::invalid("email", "is invalid"));
    }
    Ok((new, text("old_password")))
}

/// `POST /users`: with the app's `CB-AuthKey`, or within a session.
pub(crate) fn sign_up(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let app_id = match (&req.auth_key, &req.token) {
        (Some(key), _) => {
            st.store
                .app_by_key(key)?
                .ok_or_else(|| ApiError::unauthorized("Unexpected auth key"))?
                .id
        }
        (None, _) => session_of(st, req)?.app_id,
    };
    let (new, _) = fields(req)?;
    if new.login.is_none() && new.email.is_none() {
        return Err(ApiError::required("login"));
    }
    if new.password.is_none() {
        return Err(ApiError::required("password"));
    }
    let user = st.store.create_user(app_id, &new)?;
    Ok(Reply::Json(
        StatusCode::CREATED,
        json!({ "user": render::user(&user) }),
    ))
}

/// The user named in the path, of the session's application.
fn path_user(st: &RestState, app_id: u64, id: &str) -> Result<User, ApiError> {
    let id: UserId = id.parse().map_err(|_| ApiError::not_found())?;
    st.store
        .user(id)?
        .filter(|u| u.app_id == app_id)
        .ok_or_else(ApiError::not_found)
}

/// The user JSON for filtering: `user_tags` as a list, so `user_tags=vip` matches one tag.
fn filterable(u: &User) -> Value {
    let mut v = render::user(u);
    if let Some(obj) = v.as_object_mut() {
        let tags: Vec<String> = u
            .user_tags
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        obj.insert("user_tags".into(), json!(tags));
    }
    v
}

const STAND_ALONE: &[&str] = &[
    "id",
    "login",
    "email",
    "full_name",
    "phone",
    "external_id",
    "facebook_id",
    "twitter_id",
    "user_tags",
];

/// `GET /users/v2`: filters as documented (at least one stand-alone field with eq, in or
/// start_with), `offset`/`limit` (max 100), `sort_asc`/`sort_desc`.
pub(crate) fn list_v2(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, _) = user_of(st, req)?;
    let mut q = ListQuery::parse(&req.query, &[], 100, 100)?;
    let primary = q.fields().any(|(f, op)| {
        STAND_ALONE.contains(&f.as_str()) && ["eq", "in", "start_with"].contains(&op)
    });
    if !primary {
        return Err(ApiError::invalid(
            "base",
            "query needs a stand-alone field with an eq, in or start_with operator",
        ));
    }
    if let Some((_, v)) = req.query.iter().find(|(k, _)| k.ends_with("[start_with]")) {
        if v.chars().count() < 4 {
            return Err(ApiError::invalid(
                "start_with",
                "is too short (minimum is 4)",
            ));
        }
        q.limit = q.limit.min(5);
    }
    let users = st.store.users(s.app_id)?;
    let (total, page) = q.apply(users.iter().map(filterable).collect());
    let items: Vec<Value> = page
        .iter()
        .filter_map(|v| v["id"].as_u64())
        .filter_map(|id| users.iter().find(|u| u.id.0 == id))
        .map(render::user)
        .collect();
    Ok(Reply::ok(json!({
        "limit": q.limit,
        "skip": q.skip,
        "total_entries": total,
        "items": items,
    })))
}

/// A numbered page (`current_page`, `per_page`, `total_entries`, items as `{"user": …}`).
fn numbered(req: &Req, users: Vec<&User>) -> Result<Reply, ApiError> {
    let page = req.number("page")?.unwrap_or(1).max(1) as usize;
    let per_page = req.number("per_page")?.unwrap_or(10).clamp(1, 100) as usize;
    let total = users.len();
    let items: Vec<Value> = users
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|u| json!({ "user": render::user(u) }))
        .collect();
    Ok(Reply::ok(json!({
        "current_page": page,
        "per_page": per_page,
        "total_entries": total,
        "items": items,
    })))
}

/// `GET /users` (v1): `order=asc+string+login`, `page`, `per_page`.
pub(crate) fn list_v1(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, _) = user_of(st, req)?;
    let users = st.store.users(s.app_id)?;
    let filters = v1_filters(req)?;
    let (_, kept) = filters.apply(users.iter().map(filterable).collect());
    let kept: Vec<u64> = kept.iter().filter_map(|v| v["id"].as_u64()).collect();
    let mut refs: Vec<&User> = users.iter().filter(|u| kept.contains(&u.id.0)).collect();
    if let Some(order) = req.query.get("order") {
        let parts: Vec<&str> = order.split([' ', '+']).collect();
        let (dir, field) = match parts.as_slice() {
            [dir, _type, field] => (*dir, *field),
            _ => return Err(ApiError::invalid("order", "is invalid")),
        };
        let key = |u: &User| filterable(u).get(field).cloned().unwrap_or(Value::Null);
        refs.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            let o = match (ka.as_str(), kb.as_str()) {
                (Some(x), Some(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
                _ => ka
                    .as_f64()
                    .partial_cmp(&kb.as_f64())
                    .unwrap_or(std::cmp::Ordering::Equal),
            };
            if dir == "desc" { o.reverse() } else { o }
        });
    }
    numbered(req, refs)
}

/// The v1 `filter[]={type} {field} {op} {value}` parameters (ops gt, lt, ge, le, eq, ne,
/// between, in) as list filters over the user records.
fn v1_filters(req: &Req) -> Result<ListQuery, ApiError> {
    let mut q = std::collections::BTreeMap::new();
    for (k, v) in req.pairs.iter().filter(|(k, _)| k.starts_with("filter[")) {
        let parts: Vec<&str> = v.splitn(4, [' ', '+']).collect();
        let [_type, field, op, value] = parts.as_slice() else {
            return Err(ApiError::invalid(
                k,
                "is not `{type} {field} {operator} {value}`",
            ));
        };
        let mut put = |op: &str, value: &str| {
            q.insert(format!("{field}[{op}]"), value.to_owned());
        };
        match *op {
            "eq" => {
                q.insert((*field).to_owned(), (*value).to_owned());
            }
            "gt" | "lt" | "ne" | "in" => put(op, value),
            "ge" => put("gte", value),
            "le" => put("lte", value),
            "between" => {
                let Some((lo, hi)) = value.split_once(',') else {
                    return Err(ApiError::invalid(
                        k,
                        "between takes two comma-separated limits",
                    ));
                };
                put("gte", lo);
                put("lte", hi);
            }
            _ => return Err(ApiError::invalid(k, "has an unknown operator")),
        }
    }
    ListQuery::parse(&q, &[], usize::MAX, usize::MAX)
}

/// `GET /users/by_login|by_email|by_facebook_id|by_twitter_id` (one user) and
/// `by_full_name|by_tags` (a numbered page).
pub(crate) fn by_field(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, _) = user_of(st, req)?;
    let users = st.store.users(s.app_id)?;
    let by = req.seg(1).to_ascii_lowercase();
    let want = |k: &str| req.text(k).ok_or_else(|| ApiError::required(k));
    let one = |f: &dyn Fn(&User) -> Option<&str>, value: String| -> Result<Reply, ApiError> {
        users
            .iter()
            .find(|u| f(u) == Some(value.as_str()))
            .map(|u| Reply::ok(json!({ "user": render::user(u) })))
            .ok_or_else(ApiError::not_found)
    };
    match by.as_str() {
        "by_login" => one(&|u| u.login.as_deref(), want("login")?),
        "by_email" => one(&|u| u.email.as_deref(), want("email")?),
        "by_facebook_id" => one(&|u| u.facebook_id.as_deref(), want("facebook_id")?),
        "by_twitter_id" => one(&|u| u.twitter_id.as_deref(), want("twitter_id")?),
        "by_full_name" => {
            let name = want("full_name")?.to_lowercase();
            let found = users
                .iter()
                .filter(|u| {
                    u.full_name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&name))
                })
                .collect();
            numbered(req, found)
        }
        "by_tags" => {
            let tags = want("tags")?;
            let wanted: Vec<&str> = tags.split(',').map(str::trim).collect();
            let found = users
                .iter()
                .filter(|u| {
                    u.user_tags
                        .as_deref()
                        .unwrap_or("")
                        .split(',')
                        .any(|t| wanted.contains(&t.trim()))
                })
                .collect();
            numbered(req, found)
        }
        _ => Err(ApiError::not_found()),
    }
}

/// `GET /users/{id}`.
pub(crate) fn get(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, _) = user_of(st, req)?;
    let u = path_user(st, s.app_id, req.path_param("id"))?;
    Ok(Reply::ok(json!({ "user": render::user(&u) })))
}

fn by_external(st: &RestState, app_id: u64, id: &str) -> Result<User, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
    st.store
        .users(app_id)?
        .into_iter()
        .find(|u| u.external_user_id == Some(id))
        .ok_or_else(ApiError::not_found)
}

/// `GET /users/external/{id}`.
pub(crate) fn get_external(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, _) = user_of(st, req)?;
    let u = by_external(st, s.app_id, req.path_param("id"))?;
    Ok(Reply::ok(json!({ "user": render::user(&u) })))
}

/// `PUT /users/{id}`: users change only themselves; a new password needs the old one.
pub(crate) fn update(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, me) = user_of(st, req)?;
    let target = path_user(st, s.app_id, req.path_param("id"))?;
    if target.id != me.id {
        return Err(ApiError::no_permission());
    }
    let (patch, old) = fields(req)?;
    if patch.password.is_some() {
        let ok = match old {
            Some(old) => st.store.password_matches(me.id, &old)?,
            None => false,
        };
        if !ok {
            return Err(ApiError::invalid("old_password", "is invalid"));
        }
    }
    let u = st.store.update_user(me.id, &patch)?;
    Ok(Reply::ok(json!({ "user": render::user(&u) })))
}

fn delete_self(st: &RestState, me: &User, target: &User) -> Result<Reply, ApiError> {
    if target.id != me.id {
        return Err(ApiError::no_permission());
    }
    st.store.delete_user(me.id)?;
    Ok(Reply::Empty)
}

/// `DELETE /users/{id}`: users delete only their own account.
pub(crate) fn delete(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, me) = user_of(st, req)?;
    let target = path_user(st, s.app_id, req.path_param("id"))?;
    delete_self(st, &me, &target)
}

/// `DELETE /users/external/{id}`.
pub(crate) fn delete_external(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, me) = user_of(st, req)?;
    let target = by_external(st, s.app_id, req.path_param("id"))?;
    delete_self(st, &me, &target)
}

/// `GET /users/password/reset?email=…`: the cloud mails a link; the devserver has no mail,
/// so it checks the address and answers as the cloud does.
pub(crate) fn reset_password(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let s = session_of(st, req)?;
    let email = req
        .text("email")
        .ok_or_else(|| ApiError::required("email"))?;
    let known = st
        .store
        .users(s.app_id)?
        .iter()
        .any(|u| u.email.as_deref() == Some(email.as_str()));
    if !known {
        return Err(ApiError::not_found());
    }
    tracing::info!("password reset asked (no mail is sent by the devserver)");
    Ok(Reply::Empty)
}
