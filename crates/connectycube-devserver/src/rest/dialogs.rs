//! `/chat/Dialog`: list, create, update, delete, clear history, subscribe, occupants,
//! admins and notification settings (`server-chat.md`), with the roles its table gives:
//! occupants of a group add users and rename it; admins also remove users and pin
//! messages; only the owner (super admin) changes admins or deletes it for everyone.

use connectycube_protocol::ids::{DialogId, UserId};
use serde_json::{Map, Value, json};

use super::filter::ListQuery;
use super::reply::Reply;
use super::request::{Req, as_text, id_list};
use super::route::user_of;
use super::{ApiError, RestState, render};
use crate::push::Push;
use crate::store::{Dialog, User, dialog_type};

/// The most admins a dialog has.
pub(crate) const MAX_ADMINS: usize = 5;
/// The longest dialog name.
const MAX_NAME: usize = 200;

/// The dialog named by the route's `{id}`, in the user's application.
pub(crate) fn path_dialog(st: &RestState, req: &Req, me: &User) -> Result<Dialog, ApiError> {
    let id: DialogId = req
        .path_param("id")
        .parse()
        .map_err(|_| ApiError::not_found())?;
    st.store
        .dialog(id)?
        .filter(|d| d.app_id == me.app_id)
        .ok_or_else(ApiError::not_found)
}

fn users_of(v: Option<&Value>) -> Vec<UserId> {
    v.map(id_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn add_all(list: &mut Vec<UserId>, users: &[UserId]) {
    for u in users {
        if !list.contains(u) {
            list.push(*u);
        }
    }
}

/// The custom fields kept: allowed ones only, values as text (as the docs say).
fn extensions(st: &RestState, v: &Value) -> Option<Map<String, Value>> {
    let obj = v.as_object()?;
    let kept: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| {
            st.settings
                .dialog_extensions
                .as_ref()
                .is_none_or(|allowed| allowed.iter().any(|a| a == *k))
        })
        .filter_map(|(k, v)| as_text(v).map(|t| (k.clone(), Value::String(t))))
        .collect();
    Some(kept)
}

fn check_name(name: &Option<String>) -> Result<(), ApiError> {
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
        return Err(ApiError::invalid(
            "name",
            "is too long (maximum is 200 characters)",
        ));
    }
    Ok(())
}

/// `GET /chat/Dialog`: the user's dialogs, filtered and sorted as asked (by default the
/// most recently active first), `count=1` for the number only.
pub(crate) fn list(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let q = ListQuery::parse(&req.query, &[], 100, 100)?.unlimited(req.ignore_limit);
    let mut dialogs = st.store.dialogs_for(me.app_id, me.id)?;
    if !q.has_sort() {
        dialogs
            .sort_by_key(|d| std::cmp::Reverse(d.last_message_date_sent.unwrap_or(d.created_at)));
    }
    let items = dialogs
        .iter()
        .map(|d| render::dialog(st, d, me.id))
        .collect::<Result<Vec<_>, _>>()?;
    let (total, page) = q.apply(items);
    if req.flag("count") {
        return Ok(Reply::ok(json!({ "items": { "count": total } })));
    }
    Ok(Reply::ok(json!({
        "total_entries": total,
        "skip": q.skip,
        "limit": q.limit,
        "items": page,
    })))
}

/// `POST /chat/Dialog`: a private dialog is created once per pair (asking again answers
/// the existing one); the creator joins the occupants.
pub(crate) fn create(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let kind = req
        .number("type")?
        .ok_or_else(|| ApiError::required("type"))?;
    let kind = u8::try_from(kind)
        .ok()
        .filter(|k| (1..=4).contains(k))
        .ok_or_else(|| ApiError::invalid("type", "is not included in the list"))?;
    let mut occupants = users_of(req.param("occupants_ids").as_ref());
    occupants.retain(|u| *u != me.id);
    if kind == dialog_type::PRIVATE {
        let [other] = occupants.as_slice() else {
            return Err(ApiError::invalid(
                "occupants_ids",
                "a private dialog has exactly one other occupant",
            ));
        };
        let d = st.store.private_dialog(me.app_id, me.id, *other)?;
        return Ok(Reply::ok(render::dialog(st, &d, me.id)?));
    }
    let name = req.text("name");
    if name.is_none() {
        return Err(ApiError::required("name"));
    }
    check_name(&name)?;
    if kind == dialog_type::GROUP && occupants.is_empty() {
        return Err(ApiError::required("occupants_ids"));
    }
    let mut d = Dialog::new(me.app_id, kind, me.id);
    d.name = name;
    d.description = req.text("description");
    d.photo = req.text("photo");
    if kind != dialog_type::PUBLIC && kind != dialog_type::BROADCAST {
        d.occupants = std::iter::once(me.id).chain(occupants).collect();
    }
    d.admins = users_of(req.param("admins_ids").as_ref());
    d.admins.truncate(MAX_ADMINS);
    d.extensions = req.param("extensions").and_then(|v| extensions(st, &v));
    d.permissions = req
        .param("permissions")
        .and_then(|v| v.as_object().cloned());
    st.store.put_dialog(&d)?;
    Ok(Reply::ok(render::dialog(st, &d, me.id)?))
}

/// `PUT /chat/Dialog/{id}`.
pub(crate) fn update(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let id = path_dialog(st, req, &me)?.id;
    // Checked and changed on the dialog as stored in the same transaction, so a concurrent
    // update is never overwritten by this one's stale copy.
    let (d, removed) = st
        .store
        .modify_dialog(id, |d| edit_dialog(st, req, &me, d))?;
    if !removed.is_empty() {
        let _ = st.push.send(Push::OccupantsRemoved {
            dialog: d.id,
            users: removed,
        });
    }
    Ok(Reply::ok(render::dialog(st, &d, me.id)?))
}

/// Applies `PUT /chat/Dialog/{id}`'s changes to `d` if `me` may make them; answers the
/// occupants removed. Calls no store method (it runs inside [`Store::modify_dialog`]).
fn edit_dialog(
    st: &RestState,
    req: &Req,
    me: &User,
    d: &mut Dialog,
) -> Result<Vec<UserId>, ApiError> {
    if !d.is_member(me.id) || d.kind == dialog_type::PRIVATE {
        return Err(ApiError::no_permission());
    }
    let admin = d.is_admin(me.id);
    // In a group every occupant renames; in a public dialog or broadcast only admins do.
    let may_edit = admin || d.kind == dialog_type::GROUP;
    let push = req.body.get("push_all");
    let pull = req.body.get("pull_all");
    let list = |v: Option<&Value>, k: &str| users_of(v.and_then(|v| v.get(k)));
    let texts =
        |v: Option<&Value>, k: &str| v.and_then(|v| v.get(k)).map(id_list).unwrap_or_default();
    let (add_occ, del_occ) = (list(push, "occupants_ids"), list(pull, "occupants_ids"));
    let (add_adm, del_adm) = (list(push, "admins_ids"), list(pull, "admins_ids"));
    let (add_pin, del_pin) = (
        texts(push, "pinned_messages_ids"),
        texts(pull, "pinned_messages_ids"),
    );
    let edits_fields = ["name", "photo", "description", "extensions", "permissions"]
        .iter()
        .any(|k| req.body.contains_key(*k));
    let denied = (edits_fields && !may_edit)
        || (!add_occ.is_empty() && d.kind != dialog_type::GROUP && !admin)
        || (!del_occ.is_empty() && !admin)
        || ((!add_pin.is_empty() || !del_pin.is_empty()) && !admin)
        || ((!add_adm.is_empty() || !del_adm.is_empty()) && d.owner != me.id);
    if denied {
        return Err(ApiError::no_permission());
    }
    if let Some(name) = req.body.get("name") {
        d.name = as_text(name);
        check_name(&d.name)?;
    }
    if let Some(v) = req.body.get("photo") {
        d.photo = as_text(v);
    }
    if let Some(v) = req.body.get("description") {
        d.description = as_text(v);
    }
    if let Some(v) = req.body.get("extensions") {
        d.extensions = extensions(st, v);
    }
    if let Some(v) = req.body.get("permissions") {
        d.permissions = v.as_object().cloned();
    }
    add_all(&mut d.occupants, &add_occ);
    let owner = d.owner;
    d.occupants.retain(|u| !del_occ.contains(u) || *u == owner);
    add_all(&mut d.admins, &add_adm);
    d.admins.retain(|u| !del_adm.contains(u));
    if d.admins.len() > MAX_ADMINS {
        return Err(ApiError::invalid("admins_ids", "maximum 5 admins"));
    }
    for p in add_pin {
        if !d.pinned.contains(&p) {
            d.pinned.push(p);
        }
    }
    d.pinned.retain(|p| !del_pin.contains(p));
    d.updated_at = crate::store::now();
    Ok(del_occ.into_iter().filter(|u| *u != owner).collect())
}

/// What deleting one dialog did.
enum Deleted {
    Done,
    NotFound,
    Denied,
}

/// Deletes dialog `id` for `me`, or for everyone with `force` (owner only).
fn delete_one(st: &RestState, me: &User, id: &str, force: bool) -> Result<Deleted, ApiError> {
    let Some(d) = id
        .parse::<DialogId>()
        .ok()
        .map(|id| st.store.dialog(id))
        .transpose()?
        .flatten()
        .filter(|d| d.app_id == me.app_id)
    else {
        return Ok(Deleted::NotFound);
    };
    if !d.is_member(me.id) && d.owner != me.id {
        return Ok(Deleted::Denied);
    }
    if force {
        if d.owner != me.id {
            return Ok(Deleted::Denied);
        }
        st.store.delete_dialog(d.id)?;
        let users: Vec<UserId> = d.audience().into_iter().filter(|u| *u != me.id).collect();
        if d.kind != dialog_type::PRIVATE && !users.is_empty() {
            let _ = st.push.send(Push::OccupantsRemoved {
                dialog: d.id,
                users,
            });
        }
        return Ok(Deleted::Done);
    }
    match d.kind {
        dialog_type::PRIVATE | dialog_type::BROADCAST => st.store.hide_dialog(d.id, me.id)?,
        dialog_type::PUBLIC => {
            st.store.modify_dialog(d.id, |d| {
                d.subscribers.retain(|u| *u != me.id);
                Ok::<_, ApiError>(())
            })?;
        }
        _ => {
            // Leaving a group: out of the occupants (and admins); the others keep it.
            st.store.modify_dialog(d.id, |d| {
                d.occupants.retain(|u| *u != me.id);
                d.admins.retain(|u| *u != me.id);
                d.updated_at = crate::store::now();
                Ok::<_, ApiError>(())
            })?;
        }
    }
    Ok(Deleted::Done)
}

/// `DELETE /chat/Dialog/{id}[,{id}…]`: one id answers an empty 200 (or 404/403); several
/// answer which went, which were not found and which were not allowed.
pub(crate) fn delete(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let force = req.flag("force");
    let ids: Vec<&str> = req
        .path_param("ids")
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    if let [one] = ids.as_slice() {
        return match delete_one(st, &me, one, force)? {
            Deleted::Done => Ok(Reply::Empty),
            Deleted::NotFound => Err(ApiError::not_found()),
            Deleted::Denied => Err(ApiError::no_permission()),
        };
    }
    let (mut done, mut missing, mut denied) = (Vec::new(), Vec::new(), Vec::new());
    for id in ids {
        match delete_one(st, &me, id, force)? {
            Deleted::Done => done.push(id),
            Deleted::NotFound => missing.push(id),
            Deleted::Denied => denied.push(id),
        }
    }
    Ok(Reply::ok(delete_result(&done, &missing, &denied)))
}

/// The documented answer to deleting several records.
pub(crate) fn delete_result(done: &[&str], missing: &[&str], denied: &[&str]) -> Value {
    json!({
        "SuccessfullyDeleted": { "ids": done },
        "NotFound": { "ids": missing },
        "WrongPermissions": { "ids": denied },
    })
}

/// `DELETE /chat/Dialog/clearHistory/{id}`: for the user, or for everyone with `force=1`
/// (the owner only).
pub(crate) fn clear_history(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let d = path_dialog(st, req, &me)?;
    if !d.is_member(me.id) {
        return Err(ApiError::no_permission());
    }
    if req.flag("force") {
        if d.owner != me.id {
            return Err(ApiError::no_permission());
        }
        st.store.clear_history(d.id, None)?;
    } else {
        st.store.clear_history(d.id, Some(me.id))?;
    }
    Ok(Reply::Empty)
}

fn public(st: &RestState, req: &Req, me: &User) -> Result<Dialog, ApiError> {
    let d = path_dialog(st, req, me)?;
    if d.kind != dialog_type::PUBLIC {
        return Err(ApiError::forbidden(
            "Only public dialogs can be subscribed to",
        ));
    }
    Ok(d)
}

/// `POST /chat/Dialog/{id}/subscribe` (public dialogs).
pub(crate) fn subscribe(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let id = public(st, req, &me)?.id;
    let (d, ()) = st.store.modify_dialog(id, |d| {
        add_all(&mut d.subscribers, &[me.id]);
        Ok::<_, ApiError>(())
    })?;
    Ok(Reply::ok(render::dialog(st, &d, me.id)?))
}

/// `DELETE /chat/Dialog/{id}/subscribe`.
pub(crate) fn unsubscribe(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let id = public(st, req, &me)?.id;
    let (d, ()) = st.store.modify_dialog(id, |d| {
        d.subscribers.retain(|u| *u != me.id);
        Ok::<_, ApiError>(())
    })?;
    let _ = st.push.send(Push::OccupantsRemoved {
        dialog: d.id,
        users: vec![me.id],
    });
    Ok(Reply::Empty)
}

/// `GET /chat/Dialog/{id}/occupants`: the users (subscribers of a public dialog).
pub(crate) fn occupants(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let d = path_dialog(st, req, &me)?;
    let q = ListQuery::parse(&req.query, &[], 100, 100)?.unlimited(req.ignore_limit);
    let ids = if d.kind == dialog_type::PUBLIC {
        d.subscribers.clone()
    } else {
        d.occupants.clone()
    };
    let mut users = Vec::new();
    for id in ids.iter().skip(q.skip).take(q.limit) {
        if let Some(u) = st.store.user(*id)? {
            users.push(render::user(&u));
        }
    }
    Ok(Reply::ok(json!({ "items": users })))
}

/// `PUT /chat/Dialog/{id}/admins`: the owner adds or removes admins, at most five.
pub(crate) fn admins(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let id = path_dialog(st, req, &me)?.id;
    let add = users_of(req.body.get("push_all").and_then(|v| v.get("admins_ids")));
    let del = users_of(req.body.get("pull_all").and_then(|v| v.get("admins_ids")));
    let (d, ()) = st.store.modify_dialog(id, |d| {
        if d.kind == dialog_type::PRIVATE || d.owner != me.id {
            return Err(ApiError::no_permission());
        }
        add_all(&mut d.admins, &add);
        d.admins.retain(|u| !del.contains(u));
        if d.admins.len() > MAX_ADMINS {
            return Err(ApiError::invalid("admins_ids", "maximum 5 admins"));
        }
        d.updated_at = crate::store::now();
        Ok(())
    })?;
    Ok(Reply::ok(render::dialog(st, &d, me.id)?))
}

fn notifications_answer(enabled: bool) -> Reply {
    Reply::ok(json!({ "notifications": { "enabled": u8::from(enabled) } }))
}

/// `GET /chat/Dialog/{id}/notifications`.
pub(crate) fn get_notifications(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let d = path_dialog(st, req, &me)?;
    if !d.is_member(me.id) {
        return Err(ApiError::no_permission());
    }
    Ok(notifications_answer(
        st.store.notifications_enabled(d.id, me.id)?,
    ))
}

/// `PUT /chat/Dialog/{id}/notifications` with `enabled` 0 or 1.
pub(crate) fn set_notifications(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let d = path_dialog(st, req, &me)?;
    if !d.is_member(me.id) {
        return Err(ApiError::no_permission());
    }
    let enabled = match req.text("enabled").as_deref() {
        Some("1") | Some("true") => true,
        Some("0") | Some("false") => false,
        _ => return Err(ApiError::invalid("enabled", "must be 0 or 1")),
    };
    st.store.set_notifications(d.id, me.id, enabled)?;
    Ok(notifications_answer(enabled))
}
