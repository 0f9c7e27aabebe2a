//! The devserver's own admin endpoints, for tests in any language (they are not the cloud's):
//! under `/_devserver/`, with the application's auth key in `CB-AuthKey`.
//!
//! - `GET /_devserver/pushes[?user_id=N]`: the pushes delivered to subscribed devices (chat
//!   alerts and events), oldest first: `{"items": [{...}]}`.
//! - `POST /_devserver/faults` with `{"fault": "...", ...}`: `cut` (`user_id`), `stall`
//!   (`user_id`, `ms`), `refuse_next_resumption` (`user_id`), `delay_delivery` (`user_id`,
//!   `ms`; 0 stops), `fail_next_requests` (`count`, `status`, default 500), `clear`.

use std::time::Duration;

use connectycube_protocol::ids::UserId;
use http::StatusCode;
use serde_json::{Value, json};

use super::reply::Reply;
use super::request::{Req, as_u64};
use super::{ApiError, RestState};
use crate::store::{PushDelivery, PushSource};

/// The first path segment of every admin route.
pub(crate) const PREFIX: &str = "_devserver";

/// Answers an admin request (`req.path[0]` is [`PREFIX`]).
pub(crate) fn dispatch(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let key = req.auth_key.as_deref().ok_or_else(ApiError::no_session)?;
    if st.store.app_by_key(key)?.is_none() {
        return Err(ApiError::unauthorized("Unknown application auth key"));
    }
    match (req.method.as_str(), req.seg(1)) {
        ("GET", "pushes") => pushes(st, req),
        ("POST", "faults") => fault(st, req),
        (_, "pushes" | "faults") => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

fn render(p: &PushDelivery) -> Value {
    let (source, event) = match p.source {
        PushSource::Event(id) => ("event", Some(id)),
        _ => ("chat", None),
    };
    json!({
        "id": p.id,
        "user_id": p.user.0,
        "subscription_id": p.subscription,
        "channel": p.channel,
        "source": source,
        "event_id": event,
        "sender_id": p.sender.map(|u| u.0),
        "message_id": p.message.map(|m| m.to_string()),
        "dialog_id": p.dialog.map(|d| d.to_string()),
        "payload": p.payload,
        "created_at": p.created_at,
    })
}

fn pushes(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let user = req.number("user_id")?.map(UserId);
    let items: Vec<Value> = st.store.push_deliveries(user)?.iter().map(render).collect();
    Ok(Reply::ok(json!({ "items": items })))
}

fn fault(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let kind = req
        .text("fault")
        .ok_or_else(|| ApiError::required("fault"))?;
    let number = |k: &str| req.param(k).as_ref().and_then(as_u64);
    let user = || {
        number("user_id")
            .map(UserId)
            .ok_or_else(|| ApiError::required("user_id"))
    };
    let ms = || Duration::from_millis(number("ms").unwrap_or(0));
    if kind == "fail_next_requests" {
        let count = number("count").ok_or_else(|| ApiError::required("count"))?;
        let status = number("status").unwrap_or(500);
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .filter(|s| s.is_client_error() || s.is_server_error())
            .ok_or_else(|| ApiError::invalid("status", "is not an error status"))?;
        st.fail_next_requests_with(u32::try_from(count).unwrap_or(u32::MAX), status);
        return Ok(Reply::ok(json!({})));
    }
    let faults = st
        .chat_faults
        .get()
        .ok_or_else(|| ApiError::invalid("fault", "the chat server is not running"))?;
    match kind.as_str() {
        "cut" => faults.cut(user()?),
        "stall" => faults.stall(user()?, ms()),
        "refuse_next_resumption" => faults.refuse_next_resumption(user()?),
        "delay_delivery" => faults.delay_delivery(user()?, ms()),
        "withhold_acks" => faults.withhold_acks(user()?, true),
        "clear" => {
            faults.clear();
            st.fail_next_requests_with(0, StatusCode::INTERNAL_SERVER_ERROR);
        }
        _ => return Err(ApiError::invalid("fault", "is not a known fault")),
    }
    Ok(Reply::ok(json!({})))
}
