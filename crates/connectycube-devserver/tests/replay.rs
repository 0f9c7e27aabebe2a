//! Reverse replay, the devserver's fidelity measure: every documented exchange of
//! `fixtures/http/` is sent to a fresh devserver, seeded first with the state the exchange
//! needs, and must be answered with the documented status and a body of the documented
//! shape (see `support::compare` for the rules; ids, dates and counts may differ).
//!
//! The world every fixture starts from is read from the fixtures themselves: each user,
//! dialog, message and file a documented answer shows is stored with its documented
//! fields; ids only referred to (an occupant, a sender, a dialog in a path) get a
//! placeholder. Then each fixture's own setup says who sends it and what its example
//! assumes (a user with the request's password, the ids the answer says were not found).
//! A fixture without a setup fails the test: a new fixture must be answered, not skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

mod support;

use std::collections::{BTreeMap, BTreeSet};

use connectycube_devserver::rest::{RateLimit, RestSettings};
use connectycube_devserver::store::{Dialog, Message, NewBlob, NewUser, Store};
use connectycube_devserver::{DevServer, DevServerConfig};
use connectycube_fixtures::HttpFixture;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use serde_json::{Map, Value};

const APP: u64 = 1;
const AUTH_KEY: &str = "29WfrNWdvkhmX6V";
/// Who sends a fixture unless its setup says otherwise: the owner of most documented dialogs.
const OWNER: u64 = 29085;

fn ts(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.timestamp())
}

fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn ids(v: &Value, k: &str) -> Vec<UserId> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).map(UserId).collect())
        .unwrap_or_default()
}

/// Every object in `v`, depth first.
fn objects<'a>(v: &'a Value, out: &mut Vec<&'a Map<String, Value>>) {
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
fn merge(into: &mut Map<String, Value>, new: &Map<String, Value>) {
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
struct Documented {
    users: BTreeMap<u64, Map<String, Value>>,
    dialogs: BTreeMap<String, Map<String, Value>>,
    messages: BTreeMap<String, Map<String, Value>>,
    blobs: BTreeMap<u64, Map<String, Value>>,
    /// Dialog ids only referred to (paths, `chat_dialog_id`).
    dialog_refs: BTreeSet<String>,
}

fn documented(all: &[(String, HttpFixture)]) -> Documented {
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

fn new_user(id: u64, v: &Value) -> NewUser {
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
fn placeholder(id: u64) -> NewUser {
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

fn ensure_user(s: &Store, id: UserId) {
    if s.user(id).unwrap().is_none() {
        s.create_user(APP, &placeholder(id.0)).unwrap();
    }
}

/// A message that makes a dialog's `last_message_status` what the docs show.
fn last_message(s: &Store, d: &Dialog, v: &Value) {
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

fn plain_message(id: MessageId, dialog: DialogId, sender: UserId, date: i64) -> Message {
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
fn seed(s: &Store, doc: &Documented) {
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
fn put_blob(s: &Store, id: Option<u64>, uid: Option<&str>, size: u64) {
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
fn ensure_dialog(s: &Store, id: &str, with: &[UserId]) {
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

/// Who sends a fixture.
#[derive(Debug, Clone, Copy)]
enum Actor {
    /// No credentials (creating a session).
    Nobody,
    /// An application session.
    App,
    /// A session of this user.
    User(u64),
    /// The application's auth key in `CB-AuthKey`.
    AuthKey,
}

/// What a fixture assumes beyond the documented world.
struct Setup {
    actor: Actor,
    /// Lists the docs' example fills but this request cannot (ids it never sent).
    may_be_empty: &'static [&'static str],
    prepare: fn(&DevServer, &HttpFixture),
    settings: fn(&mut RestSettings),
}

fn nothing(_: &DevServer, _: &HttpFixture) {}
fn defaults(_: &mut RestSettings) {}

fn setup(name: &str) -> Option<Setup> {
    let s = |actor| Setup {
        actor,
        may_be_empty: &[],
        prepare: nothing,
        settings: defaults,
    };
    let owner = Actor::User(OWNER);
    Some(match name {
        "session/create-facebook"
        | "session/create-firebase-phone"
        | "session/create-guest"
        | "session/create-user-email"
        | "session/create-user-login" => Setup {
            prepare: provider_user,
            ..s(Actor::Nobody)
        },
        "session/get" | "session/destroy" | "session/logout" => s(Actor::User(47592)),
        "session/login" => Setup {
            prepare: |srv, f| {
                let body = f.request.body.clone().unwrap_or(Value::Null);
                let patch = NewUser {
                    password: body["password"].as_str().map(str::to_owned),
                    ..NewUser::default()
                };
                srv.store().update_user(UserId(47592), &patch).unwrap();
            },
            ..s(Actor::App)
        },
        "users/sign-up" => Setup {
            prepare: |srv, _| srv.store().delete_user(UserId(51941)).unwrap(),
            ..s(Actor::AuthKey)
        },
        "users/update" => s(Actor::User(51943)),
        "users/delete" => s(Actor::User(51959)),
        "users/delete-by-external-id" => s(Actor::User(51941)),
        "users/reset-password" => s(Actor::App),
        "users/get-by-email"
        | "users/get-by-external-id"
        | "users/get-by-facebook-id"
        | "users/get-by-full-name"
        | "users/get-by-id"
        | "users/get-by-login"
        | "users/get-by-tags"
        | "users/get-by-twitter-id"
        | "users/list" => s(owner),
        "users/list-v1" => Setup {
            prepare: only_documented_users,
            ..s(owner)
        },
        "dialogs/list" | "dialogs/list-by-extension" => Setup {
            prepare: only_documented_dialogs,
            ..s(owner)
        },
        "dialogs/delete-many" => Setup {
            may_be_empty: &["WrongPermissions.ids"],
            prepare: |srv, f| {
                // The example answers the second id as not found.
                let id = f.request.path.rsplit(',').next().unwrap().parse().unwrap();
                srv.store().delete_dialog(id).unwrap();
            },
            ..s(owner)
        },
        "dialogs/occupants" => Setup {
            prepare: documented_occupants,
            ..s(owner)
        },
        "dialogs/notifications-get" => Setup {
            prepare: |srv, _| {
                let id = "5c093376e588ce6856f873fe".parse().unwrap();
                srv.store()
                    .set_notifications(id, UserId(OWNER), false)
                    .unwrap();
            },
            ..s(owner)
        },
        "dialogs/admins-add"
        | "dialogs/clear-history"
        | "dialogs/create-with-extensions"
        | "dialogs/delete"
        | "dialogs/notifications-get-enabled"
        | "dialogs/notifications-update"
        | "dialogs/subscribe"
        | "dialogs/unsubscribe"
        | "dialogs/update-extensions"
        | "dialogs/update" => s(owner),
        "messages/delete" | "messages/delete-force" => Setup {
            may_be_empty: &["WrongPermissions.ids"],
            prepare: |srv, _| {
                // The example answers 5c094682e588ce59fff87424 as not found.
                srv.store()
                    .delete_message("5c094682e588ce59fff87424".parse().unwrap())
                    .unwrap();
            },
            ..s(owner)
        },
        "messages/reactions-list" => Setup {
            prepare: documented_reactions,
            ..s(owner)
        },
        "messages/create"
        | "messages/create-custom"
        | "messages/list"
        | "messages/reactions-update"
        | "messages/system"
        | "messages/unread"
        | "messages/update"
        | "messages/update-all"
        | "messages/update-many" => s(owner),
        "search/global" => s(Actor::User(2172)),
        "storage/complete" | "storage/delete" | "storage/update" => Setup {
            prepare: |srv, _| put_blob(srv.store(), Some(111), None, 347),
            ..s(owner)
        },
        "storage/get-object" => Setup {
            prepare: |srv, _| {
                put_blob(
                    srv.store(),
                    None,
                    Some("789AFF0737033E93E179BD7491169D6043B0"),
                    70980,
                );
            },
            ..s(owner)
        },
        "storage/create" | "storage/get" | "storage/list" => s(owner),
        // The error shapes the client must read: each is made by its cause.
        "errors/session-expired" => Setup {
            settings: |r| r.session_ttl = std::time::Duration::ZERO,
            ..s(owner)
        },
        "errors/rate-limited" => Setup {
            settings: |r| {
                r.rate_limit = Some(RateLimit {
                    requests: 0,
                    window: std::time::Duration::from_secs(3600),
                });
            },
            ..s(owner)
        },
        "errors/server-error" => Setup {
            prepare: |srv, _| srv.rest().fail_next_requests(1),
            ..s(owner)
        },
        "errors/not-found" | "errors/validation" => s(owner),
        _ => return None,
    })
}

/// The user a session fixture logs in as: the documented one, with the request's password,
/// or reached through the provider's token.
fn provider_user(srv: &DevServer, f: &HttpFixture) {
    let body = f.request.body.clone().unwrap_or(Value::Null);
    let provider = body["provider"].as_str();
    let mut patch = NewUser::default();
    match provider {
        Some(p @ ("facebook" | "twitter")) => {
            let token = body["keys"]["token"].as_str().unwrap();
            let identity = connectycube_devserver::rest::provider_identity(p, token);
            if p == "facebook" {
                patch.facebook_id = Some(identity);
            } else {
                patch.twitter_id = Some(identity);
            }
        }
        Some(p) => {
            let token = body[p]["access_token"].as_str().unwrap();
            patch.login = Some(connectycube_devserver::rest::provider_identity(p, token));
        }
        None => patch.password = body["user"]["password"].as_str().map(str::to_owned),
    }
    srv.store().update_user(UserId(81), &patch).unwrap();
}

/// A list example shows the sender's dialogs: those it documents, no others.
fn only_documented_dialogs(srv: &DevServer, f: &HttpFixture) {
    let keep: Vec<String> = f.response.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["_id"].as_str().map(str::to_owned))
        .collect();
    let s = srv.store();
    for d in s.dialogs_for(APP, UserId(OWNER)).unwrap() {
        if !keep.contains(&d.id.to_string()) {
            s.delete_dialog(d.id).unwrap();
        }
    }
    // The example filters by the value `Sunbar`: the stored dialog carries that value.
    if let Some(v) = f.request.query.get("extensions[location]") {
        let id = keep[0].parse().unwrap();
        let mut d = s.dialog(id).unwrap().unwrap();
        let mut ext = Map::new();
        ext.insert("location".into(), Value::String(v.clone()));
        d.extensions = Some(ext);
        s.put_dialog(&d).unwrap();
    }
}

/// The v1 list example shows the application's users: those it documents (and the sender,
/// whose login sorts after them).
fn only_documented_users(srv: &DevServer, f: &HttpFixture) {
    let keep: Vec<u64> = f.response.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["user"]["id"].as_u64())
        .chain([OWNER])
        .collect();
    let s = srv.store();
    for u in s.users(APP).unwrap() {
        if !keep.contains(&u.id.0) {
            s.delete_user(u.id).unwrap();
        }
    }
}

/// The occupants example lists two users: they are the dialog's occupants.
fn documented_occupants(srv: &DevServer, f: &HttpFixture) {
    let s = srv.store();
    let id: DialogId = f.request.path.split('/').nth(3).unwrap().parse().unwrap();
    let mut d = s.dialog(id).unwrap().unwrap();
    d.occupants = f.response.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["id"].as_u64().map(UserId))
        .chain([UserId(OWNER)])
        .collect();
    s.put_dialog(&d).unwrap();
}

/// The reactions example: exactly the documented reactions, by the documented users.
fn documented_reactions(srv: &DevServer, f: &HttpFixture) {
    let s = srv.store();
    let id: MessageId = f.request.path.split('/').nth(3).unwrap().parse().unwrap();
    for (r, users) in s.reactions(id).unwrap() {
        for u in users {
            s.react(id, u, None, Some(&r)).unwrap();
        }
    }
    for (r, users) in f.response.body.as_object().unwrap() {
        for u in users.as_array().unwrap() {
            s.react(id, UserId(u.as_u64().unwrap()), Some(r), None)
                .unwrap();
        }
    }
}

/// The request the fixture describes, or for an error shape the request that causes it.
fn request_of(name: &str, f: &HttpFixture) -> (String, String, Option<Value>) {
    match name {
        "errors/not-found" => (
            "GET".into(),
            "/chat/Dialog/5c093376e588ce6856f80000/occupants".into(),
            None,
        ),
        "errors/validation" => (
            "POST".into(),
            "/chat/Dialog".into(),
            Some(serde_json::json!({"type": 2, "name": "n".repeat(201), "occupants_ids": [29086]})),
        ),
        _ => {
            let q = support::query_string(&f.request.query);
            let path = if q.is_empty() {
                f.request.path.clone()
            } else {
                format!("{}?{q}", f.request.path)
            };
            (f.request.method.clone(), path, f.request.body.clone())
        }
    }
}

async fn replay(name: &str, f: &HttpFixture, doc: &Documented) -> Result<(), String> {
    let setup = setup(name).ok_or_else(|| "no setup: the fixture is not covered".to_owned())?;
    let mut rest = RestSettings {
        dialog_extensions: Some(vec!["location".into()]),
        ..RestSettings::default()
    };
    (setup.settings)(&mut rest);
    let config = DevServerConfig {
        app_id: APP,
        auth_key: Some(AUTH_KEY.into()),
        rest,
        ..DevServerConfig::default()
    };
    let srv = DevServer::start(config).await.map_err(|e| e.to_string())?;
    seed(srv.store(), doc);
    ensure_user(srv.store(), UserId(OWNER));
    let session_ttl = if name == "errors/session-expired" {
        0
    } else {
        7200
    };
    let token = match setup.actor {
        Actor::User(u) => {
            ensure_user(srv.store(), UserId(u));
            Some(
                srv.store()
                    .create_session(APP, Some(UserId(u)), 0, session_ttl)
                    .unwrap()
                    .token,
            )
        }
        Actor::App => Some(
            srv.store()
                .create_session(APP, None, 0, session_ttl)
                .unwrap()
                .token,
        ),
        Actor::Nobody | Actor::AuthKey => None,
    };
    (setup.prepare)(&srv, f);
    let (method, path, body) = request_of(name, f);
    let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    if let Some(t) = &token {
        headers.push(("cb-token", t));
    }
    if matches!(setup.actor, Actor::AuthKey) {
        headers.push(("cb-authkey", AUTH_KEY));
    }
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let answer = support::send(srv.api_addr(), &method, &path, &headers, bytes).await;
    srv.shutdown().await;
    let mut errs = Vec::new();
    if answer.status != f.response.status {
        errs.push(format!(
            "status {} (documented {}): {}",
            answer.status,
            f.response.status,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(400)])
        ));
    }
    for k in f.response.headers.keys() {
        if !answer.headers.contains_key(&k.to_ascii_lowercase()) {
            errs.push(format!("header {k} missing"));
        }
    }
    if f.response.raw {
        if answer.body.is_empty() || serde_json::from_slice::<Value>(&answer.body).is_ok() {
            errs.push("documented a non-JSON body".into());
        }
    } else if errs.is_empty() {
        match (&f.response.body, answer.body.is_empty()) {
            (Value::Null, true) => {}
            (Value::Null, false) => errs.push("documented an empty body".into()),
            (doc_body, _) => {
                let ours: Value = serde_json::from_slice(&answer.body)
                    .map_err(|e| format!("answer is not JSON: {e}"))?;
                support::compare(doc_body, &ours, "", setup.may_be_empty, &mut errs);
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

#[tokio::test]
async fn every_documented_exchange_is_answered_as_documented() {
    let all = connectycube_fixtures::http_all();
    assert!(
        all.len() >= 60,
        "fixtures/http/ holds the documented exchanges"
    );
    let doc = documented(&all);
    let mut failed = Vec::new();
    for (name, f) in &all {
        if let Err(e) = replay(name, f, &doc).await {
            failed.push(format!("{name}: {e}"));
        }
    }
    println!(
        "reverse replay: {} of {} fixtures answered as documented",
        all.len() - failed.len(),
        all.len()
    );
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[tokio::test]
async fn a_fixture_without_a_setup_is_not_covered() {
    assert!(setup("dialogs/some-new-fixture").is_none());
    let f = connectycube_fixtures::http("dialogs/list");
    let err = replay("dialogs/some-new-fixture", &f, &Documented::default())
        .await
        .unwrap_err();
    assert!(err.contains("not covered"));
}
