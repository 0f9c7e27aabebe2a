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

mod replay_world;
mod support;

use connectycube_devserver::rest::{RateLimit, RestSettings};
use connectycube_devserver::store::NewUser;
use connectycube_devserver::{DevServer, DevServerConfig};
use connectycube_fixtures::HttpFixture;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use replay_world::{APP, Documented, OWNER, documented, ensure_user, put_blob, seed};
use serde_json::{Map, Value};

const AUTH_KEY: &str = "29WfrNWdvkhmX6V";

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
