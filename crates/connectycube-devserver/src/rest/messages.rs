//! `/chat/Message`: history with filters, create, update (read, delivered, text), delete,
//! unread counts, system messages, reactions; and `/chat/search` (`server-chat.md`).

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use serde_json::{Map, Value, json};

use super::dialogs::delete_result;
use super::filter::ListQuery;
use super::reply::Reply;
use super::request::{Req, id_list, is_true};
use super::route::user_of;
use super::{ApiError, RestState, render};
use crate::push::Push;
use crate::store::{Dialog, Message, NewMessage, User, dialog_type};

/// How many messages a non-member previews (`preview=1`, `allow_preview`).
const PREVIEW: usize = 20;
/// The most dialogs a search names.
const MAX_SEARCH_DIALOGS: usize = 10;
/// The widest search window.
const MAX_SEARCH_SPAN_SECS: i64 = 92 * 24 * 3600;

/// The dialog `id` names (a 24-hex id), in the user's application.
fn dialog_by_id(st: &RestState, me: &User, id: &str) -> Result<Dialog, ApiError> {
    let id: DialogId = id.parse().map_err(|_| ApiError::not_found())?;
    st.store
        .dialog(id)?
        .filter(|d| d.app_id == me.app_id)
        .ok_or_else(ApiError::not_found)
}

fn allows_preview(d: &Dialog) -> bool {
    d.permissions
        .as_ref()
        .and_then(|p| p.get("allow_preview"))
        .is_some_and(is_true)
}

/// `GET /chat/Message?chat_dialog_id=…`: oldest first unless sorted, limit 100 by default;
/// what is answered is marked read unless `mark_as_read=0`.
pub(crate) fn list(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let dialog_id = req
        .text("chat_dialog_id")
        .ok_or_else(|| ApiError::required("chat_dialog_id"))?;
    let d = dialog_by_id(st, &me, &dialog_id)?;
    let preview = !d.is_member(me.id);
    if preview && !(req.flag("preview") && allows_preview(&d)) {
        return Err(ApiError::no_permission());
    }
    let reserved = ["chat_dialog_id", "mark_as_read", "preview", "token"];
    let mut q = ListQuery::parse(&req.query, &reserved, 100, 1000)?.unlimited(req.ignore_limit);
    // The usual request (a page by date) is read as a page in SQL; other filters and sorts
    // read the dialog and filter in memory.
    let sql_page = q.history_page().filter(|_| !preview);
    let messages = match &sql_page {
        Some(page) => st.store.messages_page(d.id, Some(me.id), page)?,
        None => st.store.messages_in(d.id, Some(me.id))?,
    };
    let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
    let reactions = st.store.reactions_of(&ids)?;
    let items: Vec<Value> = messages
        .iter()
        .map(|m| {
            let r = reactions.get(&m.id).map_or(&[][..], Vec::as_slice);
            render::message(m, me.id, Some(r))
        })
        .collect();
    let page = if sql_page.is_some() {
        items
    } else {
        let mut items = items;
        if preview {
            let skip = items.len().saturating_sub(PREVIEW);
            items.drain(..skip);
            q.skip = 0;
            q.limit = PREVIEW;
        }
        q.apply(items).1
    };
    let mark = req.param("mark_as_read").is_none_or(|v| is_true(&v));
    if mark && !preview {
        let ids: Vec<MessageId> = page
            .iter()
            .filter_map(|v| v["_id"].as_str().and_then(|s| s.parse().ok()))
            .collect();
        let changed = st.store.mark_read(d.id, Some(&ids), me.id)?;
        if !changed.is_empty() {
            tracing::debug!(count = changed.len(), "history read marks messages read");
        }
    }
    Ok(Reply::ok(json!({
        "skip": q.skip,
        "limit": q.limit,
        "items": page,
    })))
}

/// The fixed parameters of a new message; the rest are custom properties.
const FIXED: &[&str] = &[
    "chat_dialog_id",
    "message",
    "recipient_id",
    "attachments",
    "send_to_chat",
    "markable",
    "date_sent",
];

/// Attachments as a list: the docs send `{"0": {...}, "1": {...}}`, others send a list.
fn attachments(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Object(m)) => {
            let mut keyed: Vec<(u64, &Value)> = m
                .iter()
                .map(|(k, v)| (k.parse().unwrap_or(u64::MAX), v))
                .collect();
            keyed.sort_by_key(|(k, _)| *k);
            keyed.into_iter().map(|(_, v)| v.clone()).collect()
        }
        _ => Vec::new(),
    }
}

/// `POST /chat/Message`: stores a message (in the dialog, or the private dialog with
/// `recipient_id`); `send_to_chat=1` also delivers it over chat.
pub(crate) fn create(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let recipient: Option<UserId> = req.text("recipient_id").and_then(|s| s.parse().ok());
    let d = match (req.text("chat_dialog_id"), recipient) {
        (Some(id), _) => dialog_by_id(st, &me, &id)?,
        (None, Some(r)) => {
            if st.store.user(r)?.is_none_or(|u| u.app_id != me.app_id) {
                return Err(ApiError::invalid("recipient_id", "is not a user"));
            }
            st.store.private_dialog(me.app_id, me.id, r)?
        }
        (None, None) => return Err(ApiError::required("chat_dialog_id")),
    };
    let may_post = match d.kind {
        dialog_type::BROADCAST => d.is_admin(me.id),
        _ => d.is_member(me.id),
    };
    if !may_post {
        return Err(ApiError::no_permission());
    }
    let custom: Map<String, Value> = req
        .body
        .iter()
        .filter(|(k, _)| !FIXED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut new = NewMessage::new(d.id, me.id);
    new.body = req.text("message");
    new.recipient_id = recipient.or_else(|| {
        (d.kind == dialog_type::PRIVATE)
            .then(|| d.opponent(me.id))
            .flatten()
    });
    new.attachments = attachments(req.body.get("attachments"));
    new.custom = custom;
    new.markable = req.flag("markable");
    let saved = st.store.save_message(&new)?;
    let m = st.store.message(saved.id)?.ok_or_else(ApiError::internal)?;
    if req.flag("send_to_chat") {
        let _ = st.push.send(Push::MessageCreated {
            dialog: d.id,
            message: m.id,
            sender: me.id,
            recipients: others(&d, me.id),
        });
    }
    Ok(Reply::ok(render::message(&m, me.id, None)))
}

/// Who hears of a change `me` made in `d`: its audience but `me`.
fn others(d: &Dialog, me: UserId) -> Vec<UserId> {
    d.audience().into_iter().filter(|u| *u != me).collect()
}

fn message_ids(segment: &str) -> Vec<MessageId> {
    segment
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// `PUT /chat/Message[/{ids}]`: `read`/`delivered` mark the messages (all of the dialog
/// without ids) for the user; `message` edits the user's own messages.
pub(crate) fn update(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let ids = req.params.get("ids").map(message_ids);
    let dialog = match req.text("chat_dialog_id") {
        Some(id) => dialog_by_id(st, &me, &id)?,
        None => {
            // Without a dialog, the first message says which.
            let first = ids
                .as_ref()
                .and_then(|i| i.first().copied())
                .ok_or_else(|| ApiError::required("chat_dialog_id"))?;
            let m = st.store.message(first)?.ok_or_else(ApiError::not_found)?;
            dialog_by_id(st, &me, &m.dialog_id.to_string())?
        }
    };
    if !dialog.is_member(me.id) {
        return Err(ApiError::no_permission());
    }
    if req.flag("read") {
        st.store.mark_read(dialog.id, ids.as_deref(), me.id)?;
    }
    if req.flag("delivered") {
        st.store.mark_delivered(dialog.id, ids.as_deref(), me.id)?;
    }
    if let (Some(text), Some(ids)) = (req.text("message"), &ids) {
        for id in ids {
            // Only the sender edits; others' messages (and other dialogs') stay as they are.
            if let Some(m) = st.store.message(*id)?
                && m.sender_id == me.id
                && m.dialog_id == dialog.id
            {
                st.store.edit_message(*id, &text)?;
                let _ = st.push.send(Push::MessageEdited {
                    dialog: dialog.id,
                    message: *id,
                    sender: me.id,
                    body: text.clone(),
                    recipients: others(&dialog, me.id),
                });
            }
        }
    }
    Ok(Reply::Empty)
}

/// Whether `me` may delete `m` for everyone: their own message, or an admin's right in a
/// group, public dialog or broadcast.
fn may_force(d: &Dialog, m: &Message, me: UserId) -> bool {
    m.sender_id == me || (d.kind != dialog_type::PRIVATE && d.is_admin(me))
}

/// `DELETE /chat/Message/{ids}`: for the user, or for everyone with `force=1`.
pub(crate) fn delete(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let force = req.flag("force");
    let (mut done, mut missing, mut denied) = (Vec::new(), Vec::new(), Vec::new());
    for raw in req.path_param("ids").split(',').filter(|s| !s.is_empty()) {
        let m = match raw.parse::<MessageId>() {
            Ok(id) => st.store.message(id)?,
            Err(_) => None,
        };
        let Some(m) = m else {
            missing.push(raw);
            continue;
        };
        let Some(d) = st
            .store
            .dialog(m.dialog_id)?
            .filter(|d| d.app_id == me.app_id)
        else {
            missing.push(raw);
            continue;
        };
        let allowed = match (d.kind, force) {
            (_, true) => may_force(&d, &m, me.id),
            (dialog_type::BROADCAST, false) => d.is_admin(me.id),
            (dialog_type::PRIVATE, false) => m.sender_id == me.id,
            (_, false) => d.is_member(me.id),
        };
        if !allowed || !d.is_member(me.id) {
            denied.push(raw);
            continue;
        }
        if force {
            st.store.delete_message(m.id)?;
            let _ = st.push.send(Push::MessageDeleted {
                dialog: d.id,
                message: m.id,
                sender: me.id,
                recipients: others(&d, me.id),
            });
        } else {
            st.store.delete_message_for(m.id, me.id)?;
        }
        done.push(raw);
    }
    Ok(Reply::ok(delete_result(&done, &missing, &denied)))
}

/// `GET /chat/Message/unread[?chat_dialog_ids=…]`: the total over the user's group and
/// private dialogs, and the count of each dialog asked for.
pub(crate) fn unread(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let mut out = Map::new();
    let mut total = 0;
    let dialogs = st.store.dialogs_for(me.app_id, me.id)?;
    for d in dialogs
        .iter()
        .filter(|d| matches!(d.kind, dialog_type::GROUP | dialog_type::PRIVATE))
    {
        total += st.store.unread_count(d.id, me.id)?;
    }
    out.insert("total".into(), json!(total));
    for id in req
        .param("chat_dialog_ids")
        .map(|v| id_list(&v))
        .unwrap_or_default()
    {
        let count = match id.parse::<DialogId>() {
            Ok(did) => match dialogs.iter().find(|d| d.id == did) {
                Some(d) => st.store.unread_count(d.id, me.id)?,
                None => 0,
            },
            Err(_) => 0,
        };
        out.insert(id, json!(count));
    }
    Ok(Reply::ok(Value::Object(out)))
}

/// `POST /chat/Message/system`: a signal to `recipientId` over chat (a headline).
pub(crate) fn system(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let to: UserId = req
        .text("recipientId")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::required("recipientId"))?;
    if st.store.user(to)?.is_none_or(|u| u.app_id != me.app_id) {
        return Err(ApiError::invalid("recipientId", "is not a user"));
    }
    let params: Map<String, Value> = req
        .body
        .iter()
        .filter(|(k, _)| k.as_str() != "recipientId")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let id = MessageId::generate();
    let _ = st.push.send(Push::SystemMessage {
        from: me.id,
        to,
        id,
        params: params.clone(),
    });
    Ok(Reply::ok(json!({
        "messageId": id.to_string(),
        "recipientId": to.0,
        "extensionParams": params,
    })))
}

/// The message named by the route's `{id}`, in a dialog `me` belongs to.
fn member_message(st: &RestState, req: &Req, me: &User) -> Result<(Dialog, Message), ApiError> {
    let id: MessageId = req
        .path_param("id")
        .parse()
        .map_err(|_| ApiError::not_found())?;
    let m = st.store.message(id)?.ok_or_else(ApiError::not_found)?;
    let d = dialog_by_id(st, me, &m.dialog_id.to_string())?;
    if !d.is_member(me.id) {
        return Err(ApiError::no_permission());
    }
    Ok((d, m))
}

/// `GET /chat/Message/{id}/reactions`: reaction → user ids.
pub(crate) fn reactions(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let (_, m) = member_message(st, req, &me)?;
    let out: Map<String, Value> = st
        .store
        .reactions(m.id)?
        .into_iter()
        .map(|(r, users)| (r, json!(users.iter().map(|u| u.0).collect::<Vec<_>>())))
        .collect();
    Ok(Reply::ok(Value::Object(out)))
}

/// `PUT /chat/Message/{id}/reactions` with `add` and/or `remove`; pushed to the occupants.
pub(crate) fn react(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let (d, m) = member_message(st, req, &me)?;
    let add = req.text("add").filter(|s| !s.is_empty());
    let remove = req.text("remove").filter(|s| !s.is_empty());
    if add.is_none() && remove.is_none() {
        return Err(ApiError::required("add"));
    }
    if add
        .iter()
        .chain(remove.iter())
        .any(|r| r.chars().count() > 32)
    {
        return Err(ApiError::invalid("add", "is too long"));
    }
    st.store
        .react(m.id, me.id, add.as_deref(), remove.as_deref())?;
    let _ = st.push.send(Push::Reactions {
        dialog: d.id,
        message: m.id,
        user: me.id,
        add,
        remove,
        recipients: d.audience(),
    });
    Ok(Reply::Empty)
}

/// An ISO time or unix seconds.
fn when(s: &str, field: &str) -> Result<i64, ApiError> {
    s.trim()
        .parse::<i64>()
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|d| d.timestamp())
        })
        .ok_or_else(|| ApiError::invalid(field, "is not a date"))
}

/// `GET /chat/search`: `search_text` (longer than 4 characters, case sensitive) in dialog
/// names, message texts and user names; at most 10 `chat_dialog_ids`; `start_date` needs an
/// `end_date` no more than 3 months before it; `limit` at most 100.
pub(crate) fn search(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let text = req
        .text("search_text")
        .ok_or_else(|| ApiError::required("search_text"))?;
    if text.chars().count() <= 4 {
        return Err(ApiError::invalid(
            "search_text",
            "should be longer than 4 symbols",
        ));
    }
    let only: Vec<String> = req
        .param("chat_dialog_ids")
        .map(|v| id_list(&v))
        .unwrap_or_default();
    if only.len() > MAX_SEARCH_DIALOGS {
        return Err(ApiError::invalid(
            "chat_dialog_ids",
            "can include 10 items at most",
        ));
    }
    let window = match (req.text("start_date"), req.text("end_date")) {
        (Some(s), Some(e)) => {
            let (start, end) = (when(&s, "start_date")?, when(&e, "end_date")?);
            if start.abs_diff(end) > MAX_SEARCH_SPAN_SECS.unsigned_abs() {
                return Err(ApiError::invalid(
                    "end_date",
                    "differs by more than 3 months",
                ));
            }
            Some((end.min(start), end.max(start)))
        }
        (Some(_), None) => return Err(ApiError::required("end_date")),
        _ => None,
    };
    let limit = req.number("limit")?.unwrap_or(100).min(100) as usize;
    let dialogs: Vec<Dialog> = st
        .store
        .dialogs_for(me.app_id, me.id)?
        .into_iter()
        .filter(|d| only.is_empty() || only.contains(&d.id.to_string()))
        .collect();
    let mut found_dialogs = Vec::new();
    let mut found_messages = Vec::new();
    for d in &dialogs {
        if found_dialogs.len() < limit && d.name.as_deref().is_some_and(|n| n.contains(&text)) {
            found_dialogs.push(render::dialog(st, d, me.id)?);
        }
        for m in st.store.messages_in(d.id, Some(me.id))? {
            let in_window = window.is_none_or(|(lo, hi)| (lo..=hi).contains(&m.date_sent));
            if found_messages.len() < limit
                && in_window
                && m.body.as_deref().is_some_and(|b| b.contains(&text))
            {
                found_messages.push(render::message(&m, me.id, None));
            }
        }
    }
    let users: Vec<Value> = st
        .store
        .users(me.app_id)?
        .iter()
        .filter(|u| {
            u.full_name.as_deref().is_some_and(|n| n.contains(&text))
                || u.login.as_deref().is_some_and(|n| n.contains(&text))
        })
        .take(limit)
        .map(render::user)
        .collect();
    Ok(Reply::ok(json!({
        "results": {
            "dialogs": found_dialogs,
            "messages": found_messages,
            "users": users,
        }
    })))
}
