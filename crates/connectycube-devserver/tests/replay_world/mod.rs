//! The world a replayed fixture starts from, read from the fixtures themselves: each user,
//! dialog, message and file a documented answer shows is stored with its documented
//! fields; ids only referred to (an occupant, a sender, a dialog in a path) get a placeholder.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use connectycube_devserver::store::{Dialog, Message, NewBlob, NewUser, Store};
use connectycube_fixtures::HttpFixture;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use serde_json::{Map, Value};

/// The application of the docs' examples.
pub const APP: u64 = 1;
/// Who sends a fixture unless its setup says otherwise: the owner of most documented dialogs.
pub const OWNER: u64 = 29085;

pub fn ts(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.timestamp())
}

pub fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

pub fn ids(v: &Value, k: &str) -> Vec<UserId> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).map(UserId).collect())
        .unwrap_or_default()
}

/// Every object in `v`, depth first.
pub fn objects<'a>(v: &'a Value, out: &mut Vec<&'a Map<String, Value>>) {
    match v {
        Value::Object(m) => {
            out.push(m);
            m.values().for_each(|x| objects(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| objects(x, out)),
        _ => {}
    }
}

/// Merges `new` into `into`: documented values fill what earlier examples left null.
pub fn merge(into: &mut Map<String, Value>, new: &Map<String, Value>) {
    for (k, v) in new {
        match into.get(k) {
            None | Some(Value::Null) => {
                into.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
}

/// The records the fixtures' answers show, by kind and id.
#[derive(Default)]
pub struct Documented {
    pub users: BTreeMap<u64, Map<String, Value>>,
    pub dialogs: BTreeMap<String, Map<String, Value>>,
    pub messages: BTreeMap<String, Map<String, Value>>,
    pub blobs: BTreeMap<u64, Map<String, Value>>,
    /// Dialog ids only referred to (paths, `chat_dialog_id`).
    pub dialog_refs: BTreeSet<String>,
}

pub fn documented(all: &[(String, HttpFixture)]) -> Documented {
    let mut d = Documented::default();
    for (_, f) in all {
        let mut objs = Vec::new();
        objects(&f.response.body, &mut objs);
        for o in objs {
            let v = Value::Object(o.clone());
            if o.contains_key("login") && o.contains_key("full_name") {
                if let Some(id) = v["id"].as_u64() {
                    merge(d.users.entry(id).or_default(), o);
                }
            } else if o.contains_key("occupants_ids") && o.contains_key("type") {
                if let Some(id) = text(&v, "_id") {
                    merge(d.dialogs.entry(id).or_default(), o);
                }
            } else if o.contains_key("chat_dialog_id") && o.contains_key("sender_id") {
                if let Some(id) = text(&v, "_id") {
                    merge(d.messages.entry(id).or_default(), o);
                }
            } else if o.contains_key("uid")
                && o.contains_key("content_type")
                && let Some(id) = v["id"].as_u64()
            {
                merge(d.blobs.entry(id).or_default(), o);
            }
        }
        let path = f.request.path.to_ascii_lowercase();
        for seg in path.split(['/', ',']) {
            if seg.len() == 24 && seg.parse::<DialogId>().is_ok() && path.contains("/dialog") {
                d.dialog_refs.insert(seg.to_owned());
            }
        }
        if let Some(id) = f
            .request
            .body
            .as_ref()
            .and_then(|b| text(b, "chat_dialog_id"))
        {
            d.dialog_refs.insert(id);
        }
    }
    d
}

pub fn new_user(id: u64, v: &Value) -> NewUser {
    NewUser {
        id: Some(UserId(id)),
        login: text(v, "login"),
        email: text(v, "email"),
        password: Some(format!("password-{id}")),
        full_name: text(v, "full_name"),
        phone: text(v, "phone"),
        website: text(v, "website"),
        external_user_id: v["external_user_id"].as_u64(),
        facebook_id: text(v, "facebook_id"),
        twitter_id: text(v, "twitter_id"),
        blob_id: v["blob_id"].as_u64(),
        custom_data: text(v, "custom_data"),
        avatar: text(v, "avatar"),
        user_tags: text(v, "user_tags"),
        timezone: v["timezone"].as_i64(),
        is_guest: false,
        last_request_at: ts(&v["last_request_at"]),
    }
}

/// A placeholder with every profile field set, for ids only referred to.
pub fn placeholder(id: u64) -> NewUser {
    NewUser {
        id: Some(UserId(id)),
        login: Some(format!("user{id}")),
        email: Some(format!("user{id}@example.com")),
        password: Some(format!("password-{id}")),
        full_name: Some(format!("User {id}")),
        phone: Some(format!("+1000{id}")),
        ..NewUser::default()
    }
}

pub fn ensure_user(s: &Store, id: UserId) {
    if s.user(id).unwrap().is_none() {
        s.create_user(APP, &placeholder(id.0)).unwrap();
    }
}

/// A message that makes a dialog's `last_message_status` what the docs show.
pub fn last_message(s: &Store, d: &Dialog, v: &Value) {
    let Some(status) = v["last_message_status"].as_str() else {
        return;
    };
    let sender = v["last_message_user_id"].as_u64().map_or(d.owner, UserId);
    let other = d
        .audience()
        .into_iter()
        .find(|u| *u != sender)
        .unwrap_or(UserId(OWNER));
    let id = text(v, "last_message_id")
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(MessageId::generate);
    // Without a documented date, after every documented message (history lists stay as shown).
    let date = v["last_message_date_sent"]
        .as_i64()
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    let mut m = plain_message(id, d.id, sender, date);
    m.body = text(v, "last_message").or(Some("last".into()));
    if status == "read" {
        m.read_ids.push(other);
    }
    if status != "sent" {
        m.delivered_ids.push(other);
    }
    s.put_message(&m).unwrap();
}

pub fn plain_message(id: MessageId, dialog: DialogId, sender: UserId, date: i64) -> Message {
    Message {
        id,
        dialog_id: dialog,
        sender_id: sender,
        recipient_id: None,
        body: None,
        date_sent: date,
        created_at: date,
        updated_at: date,
        attachments: Vec::new(),
        custom: Map::new(),
        read_ids: vec![sender],
        delivered_ids: vec![sender],
        deleted_for: Vec::new(),
        edited: false,
        markable: false,
        views_count: 0,
    }
}

/// Stores the documented world.
pub fn seed(s: &Store, doc: &Documented) {
    for (id, u) in &doc.users {
        s.create_user(APP, &new_user(*id, &Value::Object(u.clone())))
            .unwrap();
    }
    for (id, o) in &doc.dialogs {
        let v = Value::Object(o.clone());
        let kind = v["type"].as_u64().unwrap_or(2) as u8;
        let owner = UserId(v["user_id"].as_u64().unwrap_or(OWNER));
        let mut d = Dialog::new(APP, kind, owner);
        d.id = id.parse().unwrap();
        d.name = text(&v, "name");
        d.description = text(&v, "description");
        d.photo = text(&v, "photo");
        d.occupants = ids(&v, "occupants_ids");
        d.admins = ids(&v, "admins_ids");
        d.pinned = v["pinned_messages_ids"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        d.extensions = v["extensions"].as_object().cloned();
        d.permissions = v["permissions"].as_object().cloned();
        if kind == 4 {
            // Public dialogs show `occupants_count`: that many subscribers.
            let n = v["occupants_count"].as_u64().unwrap_or(0);
            d.subscribers = (0..n).map(|i| UserId(800_000 + i)).collect();
        }
        for u in d
            .occupants
            .iter()
            .chain(&d.admins)
            .chain(&d.subscribers)
            .chain([&owner])
        {
            ensure_user(s, *u);
        }
        s.put_dialog(&d).unwrap();
        last_message(s, &d, &v);
    }
    for (id, o) in &doc.messages {
        let v = Value::Object(o.clone());
        let dialog: DialogId = text(&v, "chat_dialog_id").unwrap().parse().unwrap();
        let sender = UserId(v["sender_id"].as_u64().unwrap());
        ensure_dialog(s, &dialog.to_string(), &[sender]);
        let mut m = plain_message(
            id.parse().unwrap(),
            dialog,
            sender,
            v["date_sent"].as_i64().unwrap(),
        );
        m.body = text(&v, "message");
        m.attachments = v["attachments"].as_array().cloned().unwrap_or_default();
        m.read_ids = ids(&v, "read_ids");
        m.delivered_ids = ids(&v, "delivered_ids");
        s.put_message(&m).unwrap();
        // The summary's reactions: the owner's own, the rest by stand-in users.
        if let Some(total) = v["reactions"]["total"].as_object() {
            let own: Vec<&str> = v["reactions"]["own"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (r, n) in total {
                let n = n.as_u64().unwrap_or(0);
                let mut by: Vec<UserId> = (0..n).map(|i| UserId(700_000 + i)).collect();
                if own.contains(&r.as_str()) {
                    by[0] = UserId(OWNER);
                }
                for u in by {
                    s.react(m.id, u, Some(r), None).unwrap();
                }
            }
        }
    }
    for id in &doc.dialog_refs {
        ensure_dialog(s, id, &[]);
    }
    for (id, o) in &doc.blobs {
        let v = Value::Object(o.clone());
        put_blob(
            s,
            Some(*id),
            text(&v, "uid").as_deref(),
            v["size"].as_u64().unwrap_or(10),
        );
    }
}

/// A complete file of `size` bytes owned by the default sender.
pub fn put_blob(s: &Store, id: Option<u64>, uid: Option<&str>, size: u64) {
    let mut new = NewBlob::new(APP, UserId(OWNER));
    new.id = id;
    new.uid = uid.map(str::to_owned);
    new.content_type = Some("image/jpeg".into());
    new.name = Some("f.jpg".into());
    new.public = true;
    let b = s.create_blob(&new).unwrap();
    s.put_blob_data(&b.uid, &vec![7u8; size as usize]).unwrap();
    s.complete_blob(b.id, size).unwrap();
}

/// A group dialog `id` of the default sender (and `with`) when it is not there.
pub fn ensure_dialog(s: &Store, id: &str, with: &[UserId]) {
    let id: DialogId = id.parse().unwrap();
    if let Some(mut d) = s.dialog(id).unwrap() {
        for u in with {
            if !d.occupants.contains(u) && d.kind != 4 {
                d.occupants.push(*u);
            }
        }
        s.put_dialog(&d).unwrap();
        return;
    }
    let mut d = Dialog::new(APP, 2, UserId(OWNER));
    d.id = id;
    d.name = Some("referred".into());
    d.occupants = vec![UserId(OWNER), UserId(29086)];
    for u in with {
        if !d.occupants.contains(u) {
            d.occupants.push(*u);
        }
    }
    for u in &d.occupants {
        ensure_user(s, *u);
    }
    s.put_dialog(&d).unwrap();
}
