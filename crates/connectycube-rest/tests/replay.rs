//! Replays every documented exchange in `fixtures/http/` through the real `RestClient`: the
//! index below names, for each fixture, the endpoint value that must produce its request. The
//! loopback server records any difference (method, path, query, JSON body); the answer must
//! decode, or give the expected typed error. A fixture missing from the index fails the test.
//!
//! `cargo xtask replay http` runs this file and prints one line per fixture.

#![allow(clippy::unwrap_used)]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use connectycube_fixtures::{http, http_all};
use connectycube_protocol::ids::{AppId, DialogId, MessageId, UserId};
use connectycube_protocol::model::{Attachment, DialogPermissions};
use connectycube_rest::chat::dialogs::{
    ClearHistory, CreateDialog, DeleteDialogs, DialogField, ListDialogs, Subscribe, Unsubscribe,
    UpdateDialog,
};
use connectycube_rest::chat::messages::{
    CreateMessage, DeleteMessages, ListMessages, Target, UpdateMessages,
};
use connectycube_rest::chat::notifications::{GetNotifications, UpdateNotifications};
use connectycube_rest::chat::occupants::{ListOccupants, UpdateAdmins};
use connectycube_rest::chat::reactions::{ListReactions, UpdateReactions};
use connectycube_rest::chat::search::GlobalSearch;
use connectycube_rest::chat::system::SendSystemMessage;
use connectycube_rest::chat::unread::UnreadCount;
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::error::ApiErrors;
use connectycube_rest::login::{Login, Logout};
use connectycube_rest::query::FilterOp;
use connectycube_rest::session::{CreateSession, DestroySession, GetSession, Secret, SessionUser};
use connectycube_rest::storage::{
    CompleteBlob, CreateBlob, DeleteBlob, GetBlob, GetBlobObject, ListBlobs, UpdateBlob,
};
use connectycube_rest::users::v1::ValueType;
use connectycube_rest::users::{
    DeleteUser, FindUser, ListUsers, ListUsersV1, ResetPassword, SearchUsers, SignUp, UpdateUser,
    UserField, UserFields, UserKey,
};
use connectycube_rest::{Metadata, RestClient, RestConfig, RestError, route};
use http::Method;
use serde_json::{Map, Value, json};
use support::replay::Replay;

type Outcome<'a> = Pin<Box<dyn Future<Output = Result<(), RestError>> + 'a>>;

/// Sends one endpoint value through a client and drops its decoded answer.
type Sender = Box<dyn Fn(&RestClient) -> Outcome<'_>>;

/// What the answer must be.
enum Expect {
    /// Decoded into the endpoint's response type.
    Decoded,
    /// This typed error.
    Error(fn(&RestError) -> bool),
}

struct Entry {
    fixture: &'static str,
    /// The declaration the endpoint value took: a server must resolve the fixture to it.
    route: Metadata,
    send: Sender,
    expect: Expect,
}

fn sender<E: Endpoint + 'static>(endpoint: E) -> Sender {
    let endpoint = Arc::new(endpoint);
    Box::new(move |client| {
        let endpoint = endpoint.clone();
        Box::pin(async move { client.send(&*endpoint).await.map(|_| ()) })
    })
}

fn ok<E: Endpoint + 'static>(fixture: &'static str, endpoint: E) -> Entry {
    Entry {
        fixture,
        route: endpoint.metadata(),
        send: sender(endpoint),
        expect: Expect::Decoded,
    }
}

fn fails<E: Endpoint + 'static>(
    fixture: &'static str,
    endpoint: E,
    check: fn(&RestError) -> bool,
) -> Entry {
    Entry {
        fixture,
        route: endpoint.metadata(),
        send: sender(endpoint),
        expect: Expect::Error(check),
    }
}

fn dialog(id: &str) -> DialogId {
    id.parse().unwrap()
}

fn message(id: &str) -> MessageId {
    id.parse().unwrap()
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn session(timestamp: i64, user: SessionUser) -> CreateSession {
    CreateSession {
        application_id: AppId(1),
        auth_key: Secret("29WfrNWdvkhmX6V".into()),
        timestamp,
        user,
    }
}

fn session_entries() -> Vec<Entry> {
    let password = || Secret("11111111".into());
    vec![
        ok(
            "session/create-user-login",
            session(
                1544010993,
                SessionUser::Login {
                    login: "john".into(),
                    password: password(),
                },
            ),
        ),
        ok(
            "session/create-user-email",
            session(
                1544010993,
                SessionUser::Email {
                    email: "johnsmith@domain.com".into(),
                    password: password(),
                },
            ),
        ),
        ok(
            "session/create-guest",
            session(
                1678966390,
                SessionUser::Guest {
                    full_name: Some("Olof Shodger".into()),
                },
            ),
        ),
        ok(
            "session/create-facebook",
            session(
                1544010993,
                SessionUser::Facebook {
                    token: Secret("EAAGm0PX4ZCpsBAKZAZBd0ZCZCv".into()),
                },
            ),
        ),
        ok(
            "session/create-firebase-phone",
            session(
                1544010993,
                SessionUser::FirebasePhone {
                    project_id: "cube-chat-123".into(),
                    access_token: Secret("eyJhbGciOiJSUzI1NiJ9.firebase-id-token".into()),
                },
            ),
        ),
        ok(
            "session/login",
            Login::new(SessionUser::Login {
                login: "johnsmith".into(),
                password: Secret("7665727zxc".into()),
            })
            .unwrap(),
        ),
        ok("session/logout", Logout),
        ok("session/get", GetSession),
        ok("session/destroy", DestroySession),
    ]
}

fn dialog_entries() -> Vec<Entry> {
    let party = dialog("5c093376e588ce6856f873fe");
    let sun_bar = || object(json!({"location": "Sun bar", "unknown_field": "will be ignored"}));
    vec![
        ok("dialogs/list", ListDialogs::new()),
        ok(
            "dialogs/list-by-extension",
            ListDialogs::new().eq(DialogField::Extension("location".into()), "Sunbar"),
        ),
        ok(
            "dialogs/create-with-extensions",
            CreateDialog::group("Night party", [UserId(29085), UserId(29087)])
                .extensions(sun_bar())
                .permissions(DialogPermissions {
                    allow_preview: Some(true),
                }),
        ),
        ok(
            "dialogs/update",
            UpdateDialog::new(dialog("5c123f75e588ce063e43f541"))
                .name("Crossfit2")
                .add_occupants([UserId(29088)])
                .pin([message("5c123fdce588ce064043f53a")])
                .photo("gym2.jpeg")
                .permissions(DialogPermissions {
                    allow_preview: Some(false),
                }),
        ),
        ok(
            "dialogs/update-extensions",
            UpdateDialog::new(dialog("5c091060e588ce59fdf873dd")).extensions(sun_bar()),
        ),
        ok(
            "dialogs/delete",
            DeleteDialogs::new([dialog("5c091060e588ce59fdf873dc")]),
        ),
        ok(
            "dialogs/delete-many",
            DeleteDialogs::new([dialog("5c091060e588ce59fdf873dc"), party]),
        ),
        ok(
            "dialogs/clear-history",
            ClearHistory::new(dialog("5c091060e588ce59fdf873dc")),
        ),
        ok(
            "dialogs/subscribe",
            Subscribe {
                id: dialog("5c091822e588ce6856f873de"),
            },
        ),
        ok(
            "dialogs/unsubscribe",
            Unsubscribe {
                id: dialog("5c091822e588ce6856f873de"),
            },
        ),
        ok(
            "dialogs/admins-add",
            UpdateAdmins::add(party, [UserId(29087)]),
        ),
        ok(
            "dialogs/notifications-update",
            UpdateNotifications {
                id: party,
                enabled: false,
            },
        ),
        ok("dialogs/notifications-get", GetNotifications { id: party }),
        ok(
            "dialogs/notifications-get-enabled",
            GetNotifications { id: party },
        ),
        ok("dialogs/occupants", ListOccupants::new(party)),
    ]
}

fn message_entries() -> Vec<Entry> {
    let chat = dialog("5c094c0ce588ce6856f87422");
    let two = || {
        [
            message("5c094687e588ce59fff87425"),
            message("5c094682e588ce59fff87424"),
        ]
    };
    vec![
        ok(
            "messages/list",
            ListMessages::new(dialog("5c093376e588ce6856f873fe")),
        ),
        ok(
            "messages/create",
            CreateMessage::new(Target::DialogAndUser(chat, UserId(29086)))
                .text("where are you?")
                .attachment(Attachment::new("image").with_id("3004"))
                .attachment(Attachment::new("image").with_id("24504")),
        ),
        ok(
            "messages/create-custom",
            CreateMessage::new(Target::Dialog(dialog("5bec0186e588ce7ff1c0ad0a")))
                .text("Hi! How are you doing?")
                .attachment(Attachment::new("image").with_id("654645"))
                .attachment(Attachment::new("video").with_id("654646"))
                .custom("country", "USA")
                .send_to_chat()
                .markable(),
        ),
        ok(
            "messages/update",
            UpdateMessages::messages(chat, [message("5c094e30e588ce59fff87431")]).read(),
        ),
        ok(
            "messages/update-many",
            UpdateMessages::messages(chat, two())
                .delivered()
                .text("Morning"),
        ),
        ok("messages/update-all", UpdateMessages::all_in(chat).read()),
        ok("messages/delete", DeleteMessages::new(two())),
        ok("messages/delete-force", DeleteMessages::new(two()).force()),
        ok(
            "messages/unread",
            UnreadCount::for_dialogs([
                dialog("5c093376e588ce6856f873fe"),
                dialog("53aadc78535c127f15009b6c"),
            ]),
        ),
        ok(
            "messages/system",
            SendSystemMessage::new(UserId(29086))
                .param("needToUpdatePhotosStories", "1")
                .param("friendId", "90675")
                .param("userExt", json!({"name": "Smith"}))
                .param("nickname", "Awesome_smith")
                .param("recipientId", 1),
        ),
        ok(
            "messages/reactions-update",
            UpdateReactions::replace(message("5c094687e588ce59fff87425"), "👎", "👍"),
        ),
        ok(
            "messages/reactions-list",
            ListReactions {
                id: message("5c094687e588ce59fff87425"),
            },
        ),
        ok(
            "search/global",
            GlobalSearch::builder("lorem").limit(3).build().unwrap(),
        ),
    ]
}

fn user_entries() -> Vec<Entry> {
    let find = |key| FindUser(key);
    vec![
        ok(
            "users/sign-up",
            SignUp::new(
                "29WfrNWdvkhmX6V",
                UserFields::new()
                    .login("Dacia")
                    .password("petU4or!")
                    .email("dacia_k@domain.com")
                    .facebook_id("91234409")
                    .twitter_id("83510562734")
                    .full_name("Dacia Kail ")
                    .phone("+6110797757")
                    .timezone(180),
            ),
        ),
        ok(
            "users/list",
            ListUsers::new()
                .ids([UserId(52671), UserId(51943)])
                .eq(UserField::Phone, "5464579797975")
                .filter(
                    UserField::LastRequestAt,
                    FilterOp::Gt,
                    "2018-12-06T09:21:41Z",
                )
                .sort_desc(UserField::Id)
                .limit(10),
        ),
        ok(
            "users/list-v1",
            ListUsersV1::new().order_asc(ValueType::String, "login"),
        ),
        ok("users/get-by-id", find(UserKey::Id(UserId(51946)))),
        ok("users/get-by-login", find(UserKey::Login("Dacia".into()))),
        ok(
            "users/get-by-email",
            find(UserKey::Email("dacia_k@domain.com".into())),
        ),
        ok(
            "users/get-by-facebook-id",
            find(UserKey::FacebookId("95610574".into())),
        ),
        ok(
            "users/get-by-twitter-id",
            find(UserKey::TwitterId("83510562734".into())),
        ),
        ok(
            "users/get-by-external-id",
            find(UserKey::External(52691165)),
        ),
        ok(
            "users/get-by-full-name",
            SearchUsers::full_name("Gabrielle Corcoran"),
        ),
        ok("users/get-by-tags", SearchUsers::tags(["accountant"])),
        ok(
            "users/update",
            UpdateUser {
                id: UserId(51943),
                fields: UserFields::new()
                    .email("pallavi.purushottam@yahoo.com")
                    .website("pavalli.com.au"),
            },
        ),
        ok("users/delete", DeleteUser::Id(UserId(51959))),
        ok(
            "users/delete-by-external-id",
            DeleteUser::External(52691165),
        ),
        ok(
            "users/reset-password",
            ResetPassword {
                email: "dacia_k@domain.com".into(),
            },
        ),
    ]
}

fn storage_entries() -> Vec<Entry> {
    vec![
        ok("storage/create", CreateBlob::new("cat.jpeg", "image/jpeg")),
        ok("storage/complete", CompleteBlob { id: 111, size: 347 }),
        ok("storage/get", GetBlob { id: 8049 }),
        ok(
            "storage/get-object",
            GetBlobObject {
                uid: "789AFF0737033E93E179BD7491169D6043B0".into(),
                download_url: true,
            },
        ),
        ok(
            "storage/update",
            UpdateBlob {
                id: 111,
                name: Some("My photo".into()),
                ..UpdateBlob::default()
            },
        ),
        ok("storage/delete", DeleteBlob { id: 111 }),
        ok("storage/list", ListBlobs::default()),
    ]
}

fn error_entries() -> Vec<Entry> {
    vec![
        fails("errors/not-found", ListDialogs::new(), |e| {
            matches!(e, RestError::Http { status: 404, errors: ApiErrors::Fields(f), .. }
                if f == &[("base".to_owned(), vec!["Resource not found".to_owned()])])
        }),
        fails("errors/validation", ListDialogs::new(), |e| {
            matches!(e, RestError::Http { status: 422, errors: ApiErrors::Fields(f), .. }
                if f[0].0 == "name")
        }),
        fails(
            "errors/session-expired",
            ListDialogs::new(),
            |e| matches!(e, RestError::SessionExpired(errors) if errors.says_session_expired()),
        ),
        fails("errors/rate-limited", ListDialogs::new(), |e| {
            matches!(e, RestError::RateLimited { retry_after: Some(d) }
                if *d == Duration::from_secs(1))
        }),
        fails("errors/server-error", ListDialogs::new(), |e| {
            matches!(
                e,
                RestError::Http {
                    status: 500,
                    errors: ApiErrors::Other(_),
                    ..
                }
            )
        }),
    ]
}

fn index() -> Vec<Entry> {
    [
        session_entries(),
        dialog_entries(),
        message_entries(),
        user_entries(),
        storage_entries(),
        error_entries(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[tokio::test]
async fn every_fixture_replays_through_the_client() {
    let replay = Replay::start().await;
    let mut config = RestConfig::new().with_api_url(&replay.url).unwrap();
    config.allow_plain_http = true;
    // Errors must surface as they are, not be retried into the next fixture.
    config.max_retries = 0;
    config.timeout = Duration::from_secs(5);
    let client = RestClient::new(config).unwrap();
    client.set_token(Some("replay-token".into()));

    let index = index();
    let all: Vec<String> = http_all().into_iter().map(|(name, _)| name).collect();
    let listed: Vec<&str> = index.iter().map(|e| e.fixture).collect();
    let missing: Vec<&String> = all
        .iter()
        .filter(|n| !listed.contains(&n.as_str()))
        .collect();
    assert!(missing.is_empty(), "fixtures with no replay: {missing:?}");
    for (i, name) in listed.iter().enumerate() {
        assert!(all.iter().any(|n| n == name), "no fixture {name}");
        assert!(!listed[..i].contains(name), "{name} listed twice");
    }

    let mut failures = Vec::new();
    for entry in &index {
        replay.expect(http(entry.fixture));
        let outcome = (entry.send)(&client).await;
        let mut problems = replay.take_mismatches();
        let f = http(entry.fixture);
        let method: Method = f.request.method.parse().unwrap();
        let segments: Vec<&str> = f
            .request
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        match route::candidates(&method, &segments, |k| f.request.query.contains_key(k)) {
            Ok(found) if found == [&entry.route] => {}
            other => problems.push(format!(
                "declared {} resolves to {other:?}",
                entry.route.name
            )),
        }
        if replay.drop_pending() > 0 {
            problems.push("the fixture was never requested".into());
        }
        match (&entry.expect, &outcome) {
            (Expect::Decoded, Ok(())) => {}
            (Expect::Error(check), Err(e)) if check(e) => {}
            (_, outcome) => problems.push(format!("unexpected outcome {outcome:?}")),
        }
        if problems.is_empty() {
            println!("replay {} ok", entry.fixture);
        } else {
            println!("replay {} FAILED", entry.fixture);
            failures.push(format!("{}: {problems:#?}", entry.fixture));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    replay.assert_done();
    println!("replayed {} fixtures", index.len());
}
