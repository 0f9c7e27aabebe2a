//! Records as the API shows them (the keys of the documented answers).

use connectycube_protocol::ids::UserId;
use serde_json::{Map, Value, json};

use super::{ApiError, RestState};
use crate::store::{Blob, Dialog, Message, Session, User, dialog_type};

/// Unix seconds as the API's `2018-12-06T09:16:26Z`.
pub(crate) fn time(t: i64) -> Value {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| Value::String(d.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
        .unwrap_or(Value::Null)
}

fn opt_time(t: Option<i64>) -> Value {
    t.map_or(Value::Null, time)
}

/// A user profile (every key any documented answer shows).
pub(crate) fn user(u: &User) -> Value {
    json!({
        "id": u.id.0,
        "_id": format!("{:024x}", u.id.0),
        "full_name": u.full_name,
        "email": u.email,
        "login": u.login,
        "phone": u.phone,
        "website": u.website,
        "created_at": time(u.created_at),
        "updated_at": time(u.updated_at),
        "last_request_at": opt_time(u.last_request_at),
        "external_user_id": u.external_user_id,
        "external_id": Value::Null,
        "facebook_id": u.facebook_id,
        "twitter_id": u.twitter_id,
        "blob_id": u.blob_id,
        "custom_data": u.custom_data,
        "avatar": u.avatar,
        "user_tags": u.user_tags,
        "timezone": u.timezone,
        "is_guest": u.is_guest,
    })
}

/// A session, with its user when it has one.
pub(crate) fn session(s: &Session, u: Option<&User>) -> Value {
    let mut v = json!({
        "id": s.id,
        "user_id": s.user_id.map_or(0, |u| u.0),
        "application_id": s.app_id,
        "token": s.token,
        "ts": s.ts,
        "created_at": time(s.created_at),
        "updated_at": time(s.updated_at),
    });
    if let (Some(u), Some(obj)) = (u, v.as_object_mut()) {
        obj.insert("user".into(), user(u));
    }
    v
}

/// Read, delivered or sent: how far the dialog's last message got with the others.
fn last_status(st: &RestState, d: &Dialog) -> Result<Value, ApiError> {
    let Some(id) = d.last_message_id else {
        return Ok(Value::Null);
    };
    let Some(m) = st.store.message(id)? else {
        return Ok(Value::Null);
    };
    let others = |ids: &[UserId]| ids.iter().any(|u| *u != m.sender_id);
    Ok(json!(if others(&m.read_ids) {
        "read"
    } else if others(&m.delivered_ids) {
        "delivered"
    } else {
        "sent"
    }))
}

/// A dialog as `viewer` sees it (their unread count).
pub(crate) fn dialog(st: &RestState, d: &Dialog, viewer: UserId) -> Result<Value, ApiError> {
    let public = d.kind == dialog_type::PUBLIC;
    let unread = if public {
        Value::Null
    } else {
        json!(st.store.unread_count(d.id, viewer)?)
    };
    let room = (d.kind != dialog_type::PRIVATE)
        .then(|| format!("{}_{}@muc.{}", d.app_id, d.id, st.settings.chat_host));
    let mut v = json!({
        "_id": d.id.to_string(),
        "type": d.kind,
        "name": d.name,
        "description": d.description,
        "photo": d.photo,
        "user_id": d.owner.0,
        "occupants_ids": if public { Vec::new() } else { d.occupants.iter().map(|u| u.0).collect::<Vec<_>>() },
        "admins_ids": d.admins.iter().map(|u| u.0).collect::<Vec<_>>(),
        "pinned_messages_ids": d.pinned,
        "extensions": d.extensions,
        "permissions": d.permissions,
        "created_at": time(d.created_at),
        "updated_at": time(d.updated_at),
        "last_message": d.last_message,
        "last_message_date_sent": d.last_message_date_sent,
        "last_message_id": d.last_message_id.map(|m| m.to_string()),
        "last_message_user_id": d.last_message_user_id.map(|u| u.0),
        "last_message_status": last_status(st, d)?,
        "unread_messages_count": unread,
        "xmpp_room_jid": room,
    });
    if public && let Some(obj) = v.as_object_mut() {
        obj.insert("occupants_count".into(), json!(d.subscribers.len()));
    }
    Ok(v)
}

/// A message as `viewer` sees it, with the reactions summary when asked for.
pub(crate) fn message(
    m: &Message,
    viewer: UserId,
    reactions: Option<&[(String, Vec<UserId>)]>,
) -> Value {
    let mut v = json!({
        "_id": m.id.to_string(),
        "chat_dialog_id": m.dialog_id.to_string(),
        "message": m.body,
        "date_sent": m.date_sent,
        "sender_id": m.sender_id.0,
        "recipient_id": m.recipient_id.map_or(0, |u| u.0),
        "attachments": m.attachments,
        "read_ids": m.read_ids.iter().map(|u| u.0).collect::<Vec<_>>(),
        "delivered_ids": m.delivered_ids.iter().map(|u| u.0).collect::<Vec<_>>(),
        "views_count": m.views_count,
        "read": u8::from(m.read_ids.iter().any(|u| *u != m.sender_id)),
        "created_at": time(m.created_at),
        "updated_at": time(m.updated_at),
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if m.edited {
        obj.insert("edited".into(), json!(true));
    }
    if let Some(r) = reactions {
        obj.insert("reactions".into(), reaction_summary(r, viewer));
    }
    // Custom properties sit beside the fixed keys, as the cloud answers them; they cannot
    // replace a fixed key.
    for (k, val) in &m.custom {
        obj.entry(k.clone()).or_insert_with(|| val.clone());
    }
    v
}

/// `{"own": [...], "total": {"👍": 2}}`, or null when there are none.
fn reaction_summary(r: &[(String, Vec<UserId>)], viewer: UserId) -> Value {
    if r.is_empty() {
        return Value::Null;
    }
    let own: Vec<&str> = r
        .iter()
        .filter(|(_, users)| users.contains(&viewer))
        .map(|(k, _)| k.as_str())
        .collect();
    let total: Map<String, Value> = r
        .iter()
        .map(|(k, users)| (k.clone(), json!(users.len())))
        .collect();
    json!({ "own": own, "total": total })
}

/// A file record (`blob_status` and `set_completed_at` as the older answers show them).
pub(crate) fn blob(b: &Blob) -> Value {
    json!({
        "id": b.id,
        "uid": b.uid,
        "content_type": b.content_type,
        "name": b.name,
        "size": b.size,
        "public": b.public,
        "blob_status": b.status,
        "set_completed_at": opt_time(b.completed_at),
        "created_at": time(b.created_at),
        "updated_at": time(b.updated_at),
    })
}
