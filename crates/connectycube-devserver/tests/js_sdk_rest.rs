//! The official JS SDK (npm `connectycube` 6.1.2, `fixtures/js-peer`), unchanged, makes the
//! REST calls of each guide section against the devserver and gets what the cloud answers:
//! sessions and their renewal, `login`, dialogs (with the force delete it sends as a form
//! body), messages, reactions, unread counts, system messages, files (upload, complete
//! with `{"size": N}`, download), push subscriptions and events, and the moderation reports
//! kept as custom objects. Skipped, with a note, when node or the package is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

use std::time::Duration;

use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};
use connectycube_fixtures::js_peer::JsPeer;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

async fn server() -> DevServer {
    let mut config = DevServerConfig {
        chat: None,
        ..DevServerConfig::default()
    };
    for login in ["ann", "bob", "cat"] {
        config
            .users
            .push(SeedUser::new(login, &format!("{login}-password1")));
    }
    DevServer::start(config).await.unwrap()
}

/// A JS SDK pointed at `srv`, renewing expired sessions as the SDK asks apps to; `login`
/// `None` makes an application session.
async fn peer(srv: &DevServer, login: Option<&str>) -> Option<(JsPeer, Value)> {
    // `cargo xtask test` installs the peer first: missing there is a failure, not a skip.
    if !connectycube_fixtures::needs::js_peer() {
        return None;
    }
    let mut js = JsPeer::spawn(None).await.unwrap();
    js.call(
        json!({"cmd": "init", "app_id": srv.app_id(), "auth_key": srv.auth_key(),
            "api_url": srv.api_url(), "chat_host": "localhost",
            "chat_url": "wss://localhost:1/ws", "renew": true}),
        WAIT,
    )
    .await
    .unwrap();
    let session = match login {
        Some(l) => json!({"cmd": "session", "login": l, "password": format!("{l}-password1")}),
        None => json!({"cmd": "session"}),
    };
    let s = js.call(session, WAIT).await.unwrap();
    Some((js, s))
}

/// Calls SDK function `f` (dotted name) with `args`; its result, or the error it rejected with
/// as `{"failed": {"code": …, "info": …}}`.
async fn call(js: &mut JsPeer, f: &str, args: Value) -> Value {
    js.call(json!({"cmd": "api", "fn": f, "args": args}), WAIT)
        .await
        .unwrap()
}

/// The result of a call that must succeed.
async fn ok(js: &mut JsPeer, f: &str, args: Value) -> Value {
    let r = call(js, f, args).await;
    assert!(r.get("failed").is_none(), "{f} failed: {r}");
    r["result"].clone()
}

/// The error of a call that must fail.
async fn fails(js: &mut JsPeer, f: &str, args: Value) -> Value {
    let r = call(js, f, args).await;
    r.get("failed")
        .cloned()
        .unwrap_or_else(|| panic!("{f} succeeded: {r}"))
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn login_upgrades_an_app_session_and_an_expired_session_is_renewed() {
    let srv = server().await;
    let Some((mut js, _)) = peer(&srv, None).await else {
        return;
    };
    // `login` reads the answer's `user`: a bare user made it throw.
    let user = ok(
        &mut js,
        "login",
        json!([{"login": "ann", "password": "ann-password1"}]),
    )
    .await;
    assert_eq!(user["login"], "ann");
    // A user session (the credentials the app renews with), then gone server-side: the SDK
    // sees the documented 401, calls the app's `sessionExpired`, and retries the request
    // with the new session.
    let session = json!({"cmd": "session", "login": "ann", "password": "ann-password1"});
    let app = js.call(session, WAIT).await.unwrap();
    srv.store()
        .delete_session(app["token"].as_str().unwrap())
        .unwrap();
    ok(&mut js, "chat.dialog.list", json!([])).await;
    js.event(WAIT, |e| e["event"] == "session_renewed")
        .await
        .expect("the SDK recognised the expired session and renewed it");
    // Other errors come in the documented shape too.
    let missing = fails(
        &mut js,
        "chat.dialog.update",
        json!(["5356c64ab35c12bd3b10ba32", {"name": "x"}]),
    )
    .await;
    assert_eq!(missing["code"], 404);
    assert_eq!(missing["info"]["errors"]["base"][0], "Resource not found");
}

#[tokio::test]
async fn dialogs_force_delete_from_the_form_body_and_admin_calls() {
    let srv = server().await;
    let Some((mut ann, _)) = peer(&srv, Some("ann")).await else {
        return;
    };
    let (mut bob, b) = peer(&srv, Some("bob")).await.unwrap();
    let bob_id = b["user_id"].as_u64().unwrap();
    let group = ok(
        &mut ann,
        "chat.dialog.create",
        json!([{"type": 2, "name": "team", "occupants_ids": [bob_id]}]),
    )
    .await;
    let gid = group["_id"].as_str().unwrap().to_owned();
    let updated = ok(
        &mut ann,
        "chat.dialog.update",
        json!([gid, {"name": "renamed"}]),
    )
    .await;
    assert_eq!(updated["name"], "renamed");
    let admins = ok(&mut ann, "chat.dialog.addAdmins", json!([gid, [bob_id]])).await;
    assert_eq!(admins["admins_ids"], json!([bob_id]));
    let admins = ok(&mut ann, "chat.dialog.removeAdmins", json!([gid, [bob_id]])).await;
    assert_eq!(admins["admins_ids"], json!([]));
    ok(
        &mut bob,
        "chat.dialog.updateNotificationsSettings",
        json!([gid, 0]),
    )
    .await;
    let settings = ok(
        &mut bob,
        "chat.dialog.getNotificationsSettings",
        json!([gid]),
    )
    .await;
    assert_eq!(settings["notifications"]["enabled"], 0);

    // A public dialog: subscribe, be listed as an occupant, unsubscribe.
    let public = ok(
        &mut ann,
        "chat.dialog.create",
        json!([{"type": 4, "name": "town square"}]),
    )
    .await;
    let pid = public["_id"].as_str().unwrap().to_owned();
    ok(&mut bob, "chat.dialog.subscribe", json!([pid])).await;
    let occupants = ok(&mut ann, "chat.dialog.getPublicOccupants", json!([pid])).await;
    assert!(occupants["items"].to_string().contains(&bob_id.to_string()));
    ok(&mut bob, "chat.dialog.unsubscribe", json!([pid])).await;

    // `force=1` travels as a form body: a non-owner's force delete is refused.
    let refused = fails(&mut bob, "chat.dialog.delete", json!([gid, {"force": 1}])).await;
    assert_eq!(refused["code"], 403, "{refused}");
    assert!(
        ids(&ok(&mut bob, "chat.dialog.list", json!([])).await).contains(&gid),
        "a refused delete leaves the dialog"
    );
    // The owner's force delete removes it for everyone.
    ok(&mut ann, "chat.dialog.delete", json!([gid, {"force": 1}])).await;
    assert!(!ids(&ok(&mut bob, "chat.dialog.list", json!([])).await).contains(&gid));
}

#[tokio::test]
async fn messages_reactions_unread_counts_and_system_messages() {
    let srv = server().await;
    let Some((mut ann, _)) = peer(&srv, Some("ann")).await else {
        return;
    };
    let (mut bob, b) = peer(&srv, Some("bob")).await.unwrap();
    let bob_id = b["user_id"].as_u64().unwrap();
    let dialog = ok(
        &mut ann,
        "chat.dialog.create",
        json!([{"type": 3, "occupants_ids": [bob_id]}]),
    )
    .await;
    let did = dialog["_id"].as_str().unwrap().to_owned();
    let mut sent = Vec::new();
    for text in ["one", "two"] {
        let m = ok(
            &mut ann,
            "chat.message.create",
            json!([{"chat_dialog_id": did, "message": text, "recipient_id": bob_id}]),
        )
        .await;
        sent.push(m["_id"].as_str().unwrap().to_owned());
    }
    let unread = ok(
        &mut bob,
        "chat.message.unreadCount",
        json!([{"chat_dialog_ids": [did]}]),
    )
    .await;
    assert_eq!(unread["total"], 2, "{unread}");
    assert_eq!(unread[&did], 2, "{unread}");
    ok(
        &mut bob,
        "chat.message.update",
        json!([sent[0], {"chat_dialog_id": did, "read": 1}]),
    )
    .await;
    let unread = ok(
        &mut bob,
        "chat.message.unreadCount",
        json!([{"chat_dialog_ids": [did]}]),
    )
    .await;
    assert_eq!(unread["total"], 1, "{unread}");

    ok(&mut bob, "chat.message.addReaction", json!([sent[0], "👍"])).await;
    let reactions = ok(&mut ann, "chat.message.listReactions", json!([sent[0]])).await;
    assert_eq!(reactions["👍"], json!([bob_id]), "{reactions}");
    ok(
        &mut bob,
        "chat.message.removeReaction",
        json!([sent[0], "👍"]),
    )
    .await;
    let reactions = ok(&mut ann, "chat.message.listReactions", json!([sent[0]])).await;
    assert!(reactions.get("👍").is_none(), "{reactions}");

    // A force delete (form body) removes the message for bob too.
    ok(
        &mut ann,
        "chat.message.delete",
        json!([sent[1], {"force": 1}]),
    )
    .await;
    let history = ok(
        &mut bob,
        "chat.message.list",
        json!([{"chat_dialog_id": did}]),
    )
    .await;
    let left: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["_id"].as_str().unwrap())
        .collect();
    assert_eq!(left, [sent[0].as_str()]);

    let system = ok(
        &mut ann,
        "chat.message.createSystem",
        json!([{"recipientId": bob_id, "kind": "ping"}]),
    )
    .await;
    assert_eq!(system["recipientId"], bob_id);

    // Global search: the SDK sends its dates as ISO strings with milliseconds.
    let findable = ok(
        &mut ann,
        "chat.message.create",
        json!([{"chat_dialog_id": did, "message": "findable words", "recipient_id": bob_id}]),
    )
    .await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let found = ok(
        &mut bob,
        "chat.search",
        json!([{"search_text": "findable", "chat_dialog_ids": [did],
            "start_date": now_ms + 60_000, "end_date": now_ms - 3_600_000}]),
    )
    .await;
    assert!(
        found
            .to_string()
            .contains(findable["_id"].as_str().unwrap()),
        "{found}"
    );
}

#[tokio::test]
async fn files_upload_complete_with_the_sdks_size_and_download() {
    let srv = server().await;
    let Some((mut ann, a)) = peer(&srv, Some("ann")).await else {
        return;
    };
    let text = "hello from the JS SDK";
    // createAndUpload ends with `PUT /blobs/{id}/complete` `{"size": N}`.
    let public = ok(
        &mut ann,
        "storage.createAndUpload",
        json!([{"name": "hello.txt", "file": {"$bytes": text},
            "type": "text/plain", "size": text.len(), "public": true}]),
    )
    .await;
    let uid = public["uid"].as_str().unwrap();
    let info = ok(&mut ann, "storage.getInfo", json!([public["id"]])).await;
    assert_eq!(info["blob"]["size"], text.len(), "{info}");
    // The documented download link, with no session.
    let got = ann
        .call(
            json!({"cmd": "fetch", "url": format!("{}/blobs/{uid}/download", srv.api_url())}),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        (got["status"].as_u64(), got["text"].as_str()),
        (Some(200), Some(text))
    );

    // A private file: its link carries the session's token; without it, refused.
    let private = ok(
        &mut ann,
        "storage.createAndUpload",
        json!([{"name": "secret.txt", "file": {"$bytes": text},
            "type": "text/plain", "size": text.len(), "public": false}]),
    )
    .await;
    let puid = private["uid"].as_str().unwrap();
    let url = ok(&mut ann, "storage.privateUrl", json!([puid])).await;
    assert!(url.as_str().unwrap().contains(a["token"].as_str().unwrap()));
    let got = ann
        .call(json!({"cmd": "fetch", "url": url}), WAIT)
        .await
        .unwrap();
    assert_eq!(got["text"].as_str(), Some(text));
    let bare = format!("{}/blobs/{puid}/download", srv.api_url());
    let got = ann
        .call(json!({"cmd": "fetch", "url": bare}), WAIT)
        .await
        .unwrap();
    assert_eq!(got["status"], 401);
}

#[tokio::test]
async fn push_subscriptions_and_events_through_the_sdk() {
    let srv = server().await;
    let Some((mut bob, b)) = peer(&srv, Some("bob")).await else {
        return;
    };
    let (mut ann, _) = peer(&srv, Some("ann")).await.unwrap();
    let bob_id = b["user_id"].as_u64().unwrap();
    let made = ok(
        &mut bob,
        "pushnotifications.subscriptions.create",
        json!([{"notification_channel": "gcm",
            "push_token": {"environment": "development", "client_identification_sequence": "fcm-1"},
            "device": {"platform": "android", "udid": "js-phone"}}]),
    )
    .await;
    let sub = made[0]["subscription"]["id"].clone();
    let listed = ok(&mut bob, "pushnotifications.subscriptions.list", json!([])).await;
    assert_eq!(listed[0]["subscription"]["device"]["udid"], "js-phone");
    let payload = connectycube_rest::push::base64(br#"{"message":"from the JS SDK"}"#);
    let event = ok(
        &mut ann,
        "pushnotifications.events.create",
        json!([{"notification_type": "push", "environment": "development",
            "user": {"ids": bob_id.to_string()}, "message": payload}]),
    )
    .await;
    assert!(event[0]["event"]["id"].is_u64(), "{event}");
    let pushes = srv
        .pushes_delivered(Some(connectycube_protocol::ids::UserId(bob_id)))
        .unwrap();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].payload["message"], "from the JS SDK");
    ok(
        &mut bob,
        "pushnotifications.subscriptions.delete",
        json!([sub]),
    )
    .await;
    let listed = ok(&mut bob, "pushnotifications.subscriptions.list", json!([])).await;
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn dialog_metadata_edits_mark_all_read_and_clear_history() {
    let srv = server().await;
    let Some((mut ann, _)) = peer(&srv, Some("ann")).await else {
        return;
    };
    let (mut bob, b) = peer(&srv, Some("bob")).await.unwrap();
    let bob_id = b["user_id"].as_u64().unwrap();
    // Chat metadata: custom fields in `extensions`.
    let group = ok(
        &mut ann,
        "chat.dialog.create",
        json!([{"type": 2, "name": "trip", "occupants_ids": [bob_id],
            "extensions": {"location": "Paris"}}]),
    )
    .await;
    assert_eq!(group["extensions"]["location"], "Paris", "{group}");
    let gid = group["_id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for text in ["first", "second", "third"] {
        let m = ok(
            &mut ann,
            "chat.message.create",
            json!([{"chat_dialog_id": gid, "message": text}]),
        )
        .await;
        ids.push(m["_id"].as_str().unwrap().to_owned());
    }
    // An edit over REST.
    ok(
        &mut ann,
        "chat.message.update",
        json!([ids[0], {"chat_dialog_id": gid, "message": "first, edited"}]),
    )
    .await;
    // Mark every message of the dialog read: no id in the path.
    ok(
        &mut bob,
        "chat.message.update",
        json!([null, {"chat_dialog_id": gid, "read": 1}]),
    )
    .await;
    let unread = ok(
        &mut bob,
        "chat.message.unreadCount",
        json!([{"chat_dialog_ids": [gid]}]),
    )
    .await;
    assert_eq!(unread[&gid], 0, "{unread}");
    let history = ok(
        &mut bob,
        "chat.message.list",
        json!([{"chat_dialog_id": gid, "sort_asc": "date_sent"}]),
    )
    .await;
    assert_eq!(history["items"][0]["message"], "first, edited", "{history}");
    // Clearing the history is bob's alone.
    ok(&mut bob, "chat.dialog.clearHistory", json!([gid])).await;
    let mine = ok(
        &mut bob,
        "chat.message.list",
        json!([{"chat_dialog_id": gid}]),
    )
    .await;
    assert_eq!(mine["items"], json!([]));
    let theirs = ok(
        &mut ann,
        "chat.message.list",
        json!([{"chat_dialog_id": gid}]),
    )
    .await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn moderation_reports_are_custom_objects() {
    let srv = server().await;
    let Some((mut bob, _)) = peer(&srv, Some("bob")).await else {
        return;
    };
    let (mut ann, a) = peer(&srv, Some("ann")).await.unwrap();
    let ann_id = a["user_id"].as_u64().unwrap();
    let report = ok(
        &mut bob,
        "data.create",
        json!(["UserReports", {"reportedUserId": ann_id, "reason": "spam"}]),
    )
    .await;
    let id = report["_id"].as_str().unwrap().to_owned();
    assert_eq!(report["reportedUserId"], ann_id);
    ok(
        &mut bob,
        "data.create",
        json!(["MessageReports", {"reportedMessageId": "58e6a9c8a1834a3ea6001f15",
            "reason": "phishing"}]),
    )
    .await;
    let spam = ok(
        &mut ann,
        "data.list",
        json!(["UserReports", {"reason": "spam"}]),
    )
    .await;
    assert_eq!(spam["class_name"], "UserReports");
    assert_eq!(spam["items"][0]["_id"], id.as_str(), "{spam}");
    let other = ok(
        &mut ann,
        "data.list",
        json!(["UserReports", {"reason": "rude"}]),
    )
    .await;
    assert_eq!(other["items"], json!([]));
    // Only its author deletes a record.
    let refused = fails(&mut ann, "data.delete", json!(["UserReports", id])).await;
    assert_eq!(refused["code"], 403, "{refused}");
    ok(&mut bob, "data.delete", json!(["UserReports", id])).await;
    let left = ok(&mut bob, "data.list", json!(["UserReports"])).await;
    assert_eq!(left["items"], json!([]));
}
