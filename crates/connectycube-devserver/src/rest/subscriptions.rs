//! `/subscriptions` and `/events` (`server-push_notifications.md`): devices subscribe, users
//! create push events; every push is recorded as delivered to the subscribed devices.

use connectycube_protocol::ids::UserId;
use serde_json::{Value, json};

use super::reply::Reply;
use super::request::{Req, as_text, id_list};
use super::route::user_of;
use super::{ApiError, RestState};
use crate::store::{NewSubscription, PushSubscription, User};

const CHANNELS: &[&str] = &["apns", "apns_voip", "gcm", "web"];
const ENVIRONMENTS: &[&str] = &["development", "production"];

/// A text at `path` in the body (`["push_token", "environment"]`), or in the form/query as
/// `push_token[environment]`.
fn field(req: &Req, path: &[&str]) -> Option<String> {
    value(req, path).as_ref().and_then(as_text)
}

/// The value at `path` in the body, or the form/query's `a[b][c]` as text.
fn value(req: &Req, path: &[&str]) -> Option<Value> {
    let mut v: Option<&Value> = req.body.get(*path.first()?);
    for k in &path[1..] {
        v = v.and_then(|x| x.get(*k));
    }
    v.cloned().or_else(|| {
        let mut key = path[0].to_owned();
        for k in &path[1..] {
            key.push_str(&format!("[{k}]"));
        }
        req.query.get(&key).cloned().map(Value::String)
    })
}

fn render(s: &PushSubscription) -> Value {
    json!({ "subscription": {
        "id": s.id,
        "notification_channel": { "name": s.fields.channel },
        "device": { "udid": s.fields.udid, "platform": { "name": s.fields.platform } },
    }})
}

/// `POST /subscriptions`.
pub(crate) fn create(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let channel = field(req, &["notification_channel"])
        .ok_or_else(|| ApiError::required("notification_channel"))?;
    if !CHANNELS.contains(&channel.as_str()) {
        return Err(ApiError::invalid(
            "notification_channel",
            "is not included in the list",
        ));
    }
    let environment = field(req, &["push_token", "environment"])
        .ok_or_else(|| ApiError::required("push_token[environment]"))?;
    if !ENVIRONMENTS.contains(&environment.as_str()) {
        return Err(ApiError::invalid(
            "environment",
            "is not included in the list",
        ));
    }
    let token = field(req, &["push_token", "client_identification_sequence"])
        .or_else(|| field(req, &["push_token", "web_endpoint"]));
    if token.is_none() {
        return Err(ApiError::required(
            "push_token[client_identification_sequence]",
        ));
    }
    let new = NewSubscription {
        channel,
        environment,
        token,
        bundle_identifier: field(req, &["push_token", "bundle_identifier"]),
        platform: field(req, &["device", "platform"])
            .ok_or_else(|| ApiError::required("device[platform]"))?,
        udid: field(req, &["device", "udid"]).ok_or_else(|| ApiError::required("device[udid]"))?,
    };
    let s = st.store.subscribe_device(me.app_id, me.id, &new)?;
    Ok(Reply::Json(http::StatusCode::CREATED, json!([render(&s)])))
}

/// `GET /subscriptions`.
pub(crate) fn list(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let all: Vec<Value> = st
        .store
        .subscriptions_of(me.id)?
        .iter()
        .map(render)
        .collect();
    Ok(Reply::ok(Value::Array(all)))
}

/// `DELETE /subscriptions/{id}`.
pub(crate) fn delete(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let id: u64 = req
        .path_param("id")
        .parse()
        .map_err(|_| ApiError::not_found())?;
    st.store.unsubscribe_device(me.id, id)?;
    Ok(Reply::Empty)
}

/// The users an event names (`user[ids]`, `external_user[ids]`, `user[tags][any|all|exclude]`)
/// in `me`'s application.
fn recipients(st: &RestState, req: &Req, me: &User) -> Result<Vec<UserId>, ApiError> {
    let list = |path: &[&str]| -> Vec<String> {
        value(req, path).map(|v| id_list(&v)).unwrap_or_default()
    };
    let ids = list(&["event", "user", "ids"]);
    let external = list(&["event", "external_user", "ids"]);
    let any = list(&["event", "user", "tags", "any"]);
    let all = list(&["event", "user", "tags", "all"]);
    let exclude = list(&["event", "user", "tags", "exclude"]);
    if ids.is_empty()
        && external.is_empty()
        && any.is_empty()
        && all.is_empty()
        && exclude.is_empty()
    {
        return Err(ApiError::invalid(
            "event",
            "needs user[ids], external_user[ids] or user[tags]",
        ));
    }
    let users = st.store.users(me.app_id)?;
    let tags = |u: &User| -> Vec<String> {
        u.user_tags
            .as_deref()
            .map(|t| t.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default()
    };
    Ok(users
        .iter()
        .filter(|u| {
            let t = tags(u);
            ids.contains(&u.id.0.to_string())
                || u.external_user_id
                    .is_some_and(|e| external.contains(&e.to_string()))
                || (!any.is_empty() && any.iter().any(|x| t.contains(x)))
                || (!all.is_empty() && all.iter().all(|x| t.contains(x)))
                || (!exclude.is_empty() && !exclude.iter().any(|x| t.contains(x)))
        })
        .map(|u| u.id)
        .collect())
}

/// `POST /events`: a push now to the named users' devices.
pub(crate) fn create_event(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let kind = field(req, &["event", "notification_type"])
        .ok_or_else(|| ApiError::required("event[notification_type]"))?;
    if kind != "push" {
        return Err(ApiError::invalid(
            "notification_type",
            "is not included in the list",
        ));
    }
    let environment = field(req, &["event", "environment"])
        .ok_or_else(|| ApiError::required("event[environment]"))?;
    if !ENVIRONMENTS.contains(&environment.as_str()) {
        return Err(ApiError::invalid(
            "environment",
            "is not included in the list",
        ));
    }
    let message =
        field(req, &["event", "message"]).ok_or_else(|| ApiError::required("event[message]"))?;
    let push_type = field(req, &["event", "push_type"]).filter(|p| !p.is_empty());
    if push_type.as_deref().is_some_and(|p| !CHANNELS.contains(&p)) {
        return Err(ApiError::invalid(
            "push_type",
            "is not included in the list",
        ));
    }
    let users = recipients(st, req, &me)?;
    let (id, _) = st.store.create_push_event(
        me.app_id,
        me.id,
        &message,
        push_type.as_deref(),
        &environment,
        &users,
    )?;
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Ok(Reply::Json(
        http::StatusCode::CREATED,
        json!([{ "event": {
            "id": id,
            "event_type": "one_shot",
            "message": message,
            "date": null,
            "period": null,
            "name": null,
            "occured_count": 0,
            "created_at": now,
            "updated_at": now,
            "end_date": null,
            "active": true,
            "application_id": me.app_id,
            "user_id": me.id.0,
            "kind": "API",
            "environment": environment,
            "tag_query": null,
            "notification_channel": { "name": push_type.as_deref().unwrap_or("universal") },
        }}]),
    ))
}
