//! `/data/{class}`: custom objects, as the guide's moderation section uses them (a user
//! reports a user or a message into `UserReports` / `MessageReports`).

use serde_json::{Map, Value, json};

use super::filter::ListQuery;
use super::reply::Reply;
use super::request::Req;
use super::route::user_of;
use super::{ApiError, RestState};
use crate::store::CustomRecord;

/// The longest class name taken.
const MAX_CLASS: usize = 100;

fn class(req: &Req) -> Result<&str, ApiError> {
    let c = req.path_param("class");
    let ok = !c.is_empty()
        && c.len() <= MAX_CLASS
        && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    if !ok {
        return Err(ApiError::invalid("class_name", "is invalid"));
    }
    Ok(c)
}

fn render(r: &CustomRecord) -> Value {
    let mut v = r.fields.clone();
    v.insert("_id".into(), json!(r.id));
    v.insert("_parent_id".into(), Value::Null);
    v.insert("user_id".into(), json!(r.user.0));
    v.insert("created_at".into(), json!(r.created_at));
    v.insert("updated_at".into(), json!(r.updated_at));
    Value::Object(v)
}

/// `POST /data/{class}`: the body's fields (`_id`, `user_id` and the dates are the server's).
pub(crate) fn create(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let class = class(req)?;
    let reserved = [
        "_id",
        "_parent_id",
        "user_id",
        "created_at",
        "updated_at",
        "token",
    ];
    let mut fields: Map<String, Value> = req
        .body
        .iter()
        .filter(|(k, _)| !reserved.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // A form (or query) instead of JSON: its flat keys.
    if fields.is_empty() {
        for (k, v) in &req.query {
            if !reserved.contains(&k.as_str()) {
                fields.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    let r = st.store.create_record(me.app_id, class, me.id, &fields)?;
    Ok(Reply::Json(http::StatusCode::CREATED, render(&r)))
}

/// `GET /data/{class}`: filters, sort and page as for other lists (limit 100 by default).
pub(crate) fn list(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let class = class(req)?;
    let q = ListQuery::parse(&req.query, &["token"], 100, 1000)?;
    let items: Vec<Value> = st
        .store
        .records(me.app_id, class)?
        .iter()
        .map(render)
        .collect();
    let (_, page) = q.apply(items);
    Ok(Reply::ok(json!({
        "class_name": class,
        "skip": q.skip,
        "limit": q.limit,
        "items": page,
    })))
}

/// `DELETE /data/{class}/{id}`: the owner's record.
pub(crate) fn delete(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let class = class(req)?;
    let r = st
        .store
        .record(me.app_id, class, req.path_param("id"))?
        .ok_or_else(ApiError::not_found)?;
    if r.user != me.id {
        return Err(ApiError::no_permission());
    }
    st.store.delete_record(&r.id)?;
    Ok(Reply::Empty)
}
