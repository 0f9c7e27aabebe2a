//! The SDK's own REST client against the devserver, end to end: sessions, sign-up, a group
//! dialog, messages, history with filters, unread counts, reactions, files, deletes; and
//! what the devserver does with bad input and across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

mod support;

use connectycube_devserver::push::Push;
use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};
use connectycube_protocol::ids::AppId;
use connectycube_rest::chat::dialogs::{CreateDialog, DeleteDialogs, ListDialogs, UpdateDialog};
use connectycube_rest::chat::messages::{
    CreateMessage, DeleteMessages, ListMessages, MessageField, Target,
};
use connectycube_rest::chat::reactions::{ListReactions, UpdateReactions};
use connectycube_rest::chat::unread::UnreadCount;
use connectycube_rest::query::FilterOp;
use connectycube_rest::session::{CreateSession, Secret, SessionUser};
use connectycube_rest::storage::CreateBlob;
use connectycube_rest::users::account::{SignUp, UserFields};
use connectycube_rest::{RestClient, RestConfig, RestError};

async fn server() -> DevServer {
    // REST only: these tests read the pushes a REST call makes, which a chat server would take.
    let mut config = DevServerConfig {
        chat: None,
        ..DevServerConfig::default()
    };
    config.users.push(SeedUser::new("bob", "bob-password1"));
    DevServer::start(config).await.unwrap()
}

fn client(srv: &DevServer) -> RestClient {
    let mut config = RestConfig::new().with_api_url(&srv.api_url()).unwrap();
    config.allow_plain_http = true;
    config.max_retries = 0;
    RestClient::new(config).unwrap()
}

fn login(srv: &DevServer, login: &str, password: &str) -> CreateSession {
    let user = SessionUser::Login {
        login: login.into(),
        password: Secret(password.into()),
    };
    CreateSession::new(AppId(srv.app_id()), srv.auth_key(), user)
}

#[tokio::test]
async fn the_rest_client_runs_the_main_job_against_the_devserver() {
    let srv = server().await;
    let mut pushes = srv.take_pushes().unwrap();
    let ann_client = client(&srv);
    let fields = UserFields::new()
        .login("ann")
        .password("ann-password1")
        .full_name("Ann");
    let ann = ann_client
        .send(&SignUp::new(srv.auth_key(), fields))
        .await
        .unwrap()
        .user;
    let session = ann_client
        .create_session(&login(&srv, "ann", "ann-password1"))
        .await
        .unwrap();
    assert_eq!(session.user_id, Some(ann.id));

    let bob_client = client(&srv);
    let bob_id = bob_client
        .create_session(&login(&srv, "bob", "bob-password1"))
        .await
        .unwrap()
        .user_id
        .unwrap();

    let dialog = ann_client
        .send(&CreateDialog::group("Team", [bob_id]))
        .await
        .unwrap();
    assert!(dialog.occupants_ids.contains(&ann.id) && dialog.occupants_ids.contains(&bob_id));

    let mut sent = Vec::new();
    for text in ["one", "two", "three"] {
        let m = ann_client
            .send(&CreateMessage::new(Target::Dialog(dialog.id)).text(text))
            .await
            .unwrap();
        sent.push(m.id);
    }
    let with_t = ann_client
        .send(&ListMessages::new(dialog.id).filter(MessageField::Message, FilterOp::Ctn, "t"))
        .await
        .unwrap();
    let texts: Vec<_> = with_t.items.iter().filter_map(|m| m.body.clone()).collect();
    assert_eq!(texts, ["two", "three"]);

    let unread = bob_client
        .send(&UnreadCount::for_dialogs([dialog.id]))
        .await
        .unwrap();
    assert_eq!((unread.total, unread.get(dialog.id)), (3, Some(3)));
    // Reading without marking leaves them unread; reading the history marks them read.
    bob_client
        .send(&ListMessages::new(dialog.id).keep_unread())
        .await
        .unwrap();
    let unread = bob_client.send(&UnreadCount::total()).await.unwrap();
    assert_eq!(unread.total, 3);
    let history = bob_client
        .send(&ListMessages::new(dialog.id))
        .await
        .unwrap();
    assert_eq!(history.items.len(), 3);
    assert_eq!(
        bob_client.send(&UnreadCount::total()).await.unwrap().total,
        0
    );

    bob_client
        .send(&UpdateReactions::add(sent[0], "👍"))
        .await
        .unwrap();
    let reactions = ann_client
        .send(&ListReactions { id: sent[0] })
        .await
        .unwrap();
    assert_eq!(reactions.users_of("👍"), [bob_id]);
    match pushes.try_recv().unwrap() {
        Push::Reactions {
            message, user, add, ..
        } => assert_eq!(
            (message, user, add.as_deref()),
            (sent[0], bob_id, Some("👍"))
        ),
        other => panic!("expected a reactions push, got {other:?}"),
    }

    let gone = ann_client
        .send(&DeleteMessages::new([sent[0]]).force())
        .await
        .unwrap();
    assert!(gone.all_deleted());
    let history = bob_client
        .send(&ListMessages::new(dialog.id))
        .await
        .unwrap();
    assert_eq!(history.items.len(), 2);
    let listed = ann_client.send(&ListDialogs::new()).await.unwrap();
    assert_eq!(listed.items[0].last_message.as_deref(), Some("three"));

    // Bob may not delete the dialog for everyone; the owner may, and it is gone for both.
    let denied = bob_client
        .send(&DeleteDialogs::new([dialog.id]).force())
        .await;
    assert!(matches!(denied, Err(RestError::Http { .. })), "{denied:?}");
    ann_client
        .send(&DeleteDialogs::new([dialog.id]).force())
        .await
        .unwrap();
    assert!(
        bob_client
            .send(&ListDialogs::new())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn removing_an_occupant_pushes_it_to_the_chat_and_needs_an_admin() {
    let srv = server().await;
    let mut pushes = srv.take_pushes().unwrap();
    let ann = client(&srv);
    ann.create_session(&login(&srv, "ann", "ann-password1"))
        .await
        .unwrap();
    let bob = client(&srv);
    let bob_id = bob
        .create_session(&login(&srv, "bob", "bob-password1"))
        .await
        .unwrap()
        .user_id
        .unwrap();
    let d = ann.send(&CreateDialog::group("G", [bob_id])).await.unwrap();
    let by_bob = bob
        .send(&UpdateDialog::new(d.id).remove_occupants([d.user_id.unwrap()]))
        .await;
    assert!(by_bob.is_err(), "an occupant removes nobody");
    let d2 = ann
        .send(&UpdateDialog::new(d.id).remove_occupants([bob_id]))
        .await
        .unwrap();
    assert!(!d2.occupants_ids.contains(&bob_id));
    assert_eq!(
        pushes.try_recv().unwrap(),
        Push::OccupantsRemoved {
            dialog: d.id,
            users: vec![bob_id]
        }
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn a_file_is_stored_through_the_upload_form_and_read_back_by_its_private_url() {
    let srv = server().await;
    let ann = client(&srv);
    ann.create_session(&login(&srv, "ann", "ann-password1"))
        .await
        .unwrap();
    let path = std::env::temp_dir().join(format!(
        "cc-devserver-upload-{}.txt",
        connectycube_devserver::store::random_hex(6)
    ));
    std::fs::write(&path, b"hello devserver").unwrap();
    let blob = ann
        .store_file(&path, &CreateBlob::new("hello.txt", "text/plain"))
        .await
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(blob.size, Some(15));
    let url = ann.private_url(&blob.uid).unwrap();
    let got = support::send(
        srv.api_addr(),
        "GET",
        &format!("{}?{}", url.path(), url.query().unwrap_or("")),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(
        (got.status, got.body.as_slice()),
        (200, &b"hello devserver"[..])
    );
    let anonymous = support::send(srv.api_addr(), "GET", url.path(), &[], Vec::new()).await;
    assert_eq!(anonymous.status, 401, "a private file needs a session");
    srv.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_an_error_answer_and_the_server_keeps_serving() {
    let mut config = DevServerConfig::default();
    config.rest.max_body_bytes = 1024;
    let srv = DevServer::start(config).await.unwrap();
    let addr = srv.api_addr();
    let token = srv
        .store()
        .create_session(srv.app_id(), None, 0, 3600)
        .unwrap()
        .token;
    let auth = [("cb-token", token.as_str())];
    let cases: [(&str, &str, Vec<u8>, u16); 5] = [
        ("POST", "/session", b"{not json".to_vec(), 400),
        ("POST", "/session", b"[1,2]".to_vec(), 400),
        ("GET", "/no/such/endpoint", Vec::new(), 404),
        ("PATCH", "/chat/Dialog", Vec::new(), 405),
        ("POST", "/chat/Dialog", vec![b' '; 4096], 413),
    ];
    for (method, path, body, status) in cases {
        let a = support::send(addr, method, path, &auth, body).await;
        assert_eq!(a.status, status, "{method} {path}");
        // The documented shape, the one the JS SDK reads: `{"errors": {"base": [...]}}`.
        assert!(
            a.json()["errors"]["base"].is_array(),
            "{method} {path}: errors.base list"
        );
    }
    let expired = support::send(
        addr,
        "GET",
        "/chat/Dialog",
        &[("cb-token", "nope")],
        Vec::new(),
    )
    .await;
    assert_eq!(expired.status, 401);
    assert_eq!(
        expired.json()["errors"]["base"][0],
        "Required session does not exist"
    );
    // Still serving: a new application session works.
    let body = serde_json::json!({"application_id": srv.app_id(), "auth_key": srv.auth_key()});
    let ok = support::send(
        addr,
        "POST",
        "/session.json",
        &[],
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(ok.status, 201);
    let wrong_key = serde_json::json!({"application_id": srv.app_id(), "auth_key": "wrong"});
    let refused = support::send(
        addr,
        "POST",
        "/session",
        &[],
        wrong_key.to_string().into_bytes(),
    )
    .await;
    assert_eq!(refused.status, 401);
    srv.shutdown().await;
}

#[tokio::test]
async fn everything_survives_a_restart_with_a_database_file() {
    let dir = std::env::temp_dir().join(format!(
        "cc-devserver-db-{}",
        connectycube_devserver::store::random_hex(6)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("dev.sqlite");
    let config = || DevServerConfig {
        db: Some(db.clone()),
        users: vec![SeedUser::new("bob", "bob-password1")],
        ..DevServerConfig::default()
    };
    let srv = DevServer::start(config()).await.unwrap();
    let key = srv.auth_key().to_owned();
    let ann = client(&srv);
    ann.create_session(&login(&srv, "ann", "ann-password1"))
        .await
        .unwrap();
    let bob_id = srv
        .store()
        .users(srv.app_id())
        .unwrap()
        .iter()
        .find(|u| u.login.as_deref() == Some("bob"))
        .unwrap()
        .id;
    let d = ann
        .send(&CreateDialog::group("Kept", [bob_id]))
        .await
        .unwrap();
    ann.send(&CreateMessage::new(Target::Dialog(d.id)).text("still here"))
        .await
        .unwrap();
    srv.shutdown().await;

    let srv = DevServer::start(config()).await.unwrap();
    assert_eq!(srv.auth_key(), key, "the stored auth key is kept");
    let bob = client(&srv);
    bob.create_session(&login(&srv, "bob", "bob-password1"))
        .await
        .unwrap();
    let history = bob.send(&ListMessages::new(d.id)).await.unwrap();
    assert_eq!(history.items[0].body.as_deref(), Some("still here"));
    assert_eq!(
        srv.store().users(srv.app_id()).unwrap().len(),
        2,
        "seed users once"
    );
    srv.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_expired_session_is_renewed_by_the_client() {
    let mut config = DevServerConfig::default();
    config.users.push(SeedUser::new("bob", "bob-password1"));
    let srv = DevServer::start(config).await.unwrap();
    let request = login(&srv, "bob", "bob-password1");
    let c = client(&srv).renew_sessions_with(request.clone());
    c.create_session(&request).await.unwrap();
    // The server forgets the session (as after 2 h idle); the client renews once.
    let old = c.token().unwrap();
    srv.store().delete_session(&old).unwrap();
    let page = c.send(&ListDialogs::new()).await.unwrap();
    assert!(page.items.is_empty());
    assert_ne!(c.token().unwrap(), old);
    srv.shutdown().await;
}
