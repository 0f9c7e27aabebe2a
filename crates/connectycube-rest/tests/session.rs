//! Session endpoints against the documented exchanges of `server-auth.mdx`, and a session
//! created through the client.

#![allow(clippy::unwrap_used)]

mod support;

use connectycube_fixtures::http;
use connectycube_protocol::ids::{AppId, UserId};
use connectycube_rest::login::{Login, Logout};
use connectycube_rest::session::{CreateSession, DestroySession, GetSession, Secret, SessionUser};
use connectycube_rest::{RestClient, RestConfig};
use support::replay::Replay;

fn login() -> CreateSession {
    CreateSession {
        application_id: AppId(1),
        auth_key: Secret("29WfrNWdvkhmX6V".into()),
        timestamp: 1544010993,
        user: SessionUser::Login {
            login: "john".into(),
            password: Secret("11111111".into()),
        },
    }
}

#[test]
fn create_with_login_and_password() {
    let f = http("session/create-user-login");
    support::assert_request(&login(), &f);
    let s = support::decode::<CreateSession>(&f).session;
    assert_eq!(s.token.expose(), "83153a14fb2df777c2f866178902a4bb15000001");
    assert_eq!((s.user_id, s.application_id), (Some(UserId(111)), AppId(1)));
    assert_eq!(s.user.unwrap()["login"], "john");
}

#[test]
fn create_as_guest() {
    let f = http("session/create-guest");
    let guest = CreateSession {
        timestamp: 1678966390,
        user: SessionUser::Guest {
            full_name: Some("Olof Shodger".into()),
        },
        ..login()
    };
    support::assert_request(&guest, &f);
    let s = support::decode::<CreateSession>(&f).session;
    let user = s.user_record().unwrap().unwrap();
    assert_eq!((user.id, user.is_guest), (UserId(900265), Some(true)));
    assert_eq!(user.object_id.as_deref(), Some("6412fe76d6600d1d3d67877d"));
    assert_eq!(s.user.unwrap()["is_guest"], true);
}

#[test]
fn create_with_email_and_with_provider_tokens() {
    let cases = [
        (
            "session/create-user-email",
            SessionUser::Email {
                email: "johnsmith@domain.com".into(),
                password: Secret("11111111".into()),
            },
        ),
        (
            "session/create-facebook",
            SessionUser::Facebook {
                token: Secret("EAAGm0PX4ZCpsBAKZAZBd0ZCZCv".into()),
            },
        ),
        (
            "session/create-firebase-phone",
            SessionUser::FirebasePhone {
                project_id: "cube-chat-123".into(),
                access_token: Secret("eyJhbGciOiJSUzI1NiJ9.firebase-id-token".into()),
            },
        ),
    ];
    for (name, user) in cases {
        let f = http(name);
        let e = CreateSession { user, ..login() };
        support::assert_request(&e, &f);
        let shown = format!("{e:?}");
        assert!(
            !shown.contains("11111111") && !shown.contains("EAAG"),
            "{shown}"
        );
        assert!(!shown.contains("firebase-id-token"), "{shown}");
        assert_eq!(
            support::decode::<CreateSession>(&f).session.user_id,
            Some(UserId(111))
        );
    }
}

#[test]
fn login_into_an_app_session_and_out() {
    let f = http("session/login");
    let e = Login::new(SessionUser::Login {
        login: "johnsmith".into(),
        password: Secret("7665727zxc".into()),
    })
    .unwrap();
    support::assert_request(&e, &f);
    assert!(!format!("{e:?}").contains("7665727zxc"));
    let user = support::decode::<Login>(&f).user;
    assert_eq!(
        (user.id, user.login.as_deref()),
        (UserId(47592), Some("johnsmith"))
    );
    let f = http("session/logout");
    support::assert_request(&Logout, &f);
    support::decode::<Logout>(&f);
}

#[test]
fn get_and_destroy() {
    let f = http("session/get");
    support::assert_request(&GetSession, &f);
    assert_eq!(
        support::decode::<GetSession>(&f).session.user_id,
        Some(UserId(47592))
    );
    let f = http("session/destroy");
    support::assert_request(&DestroySession, &f);
    support::decode::<DestroySession>(&f);
}

#[tokio::test]
async fn the_client_keeps_the_created_token() {
    let replay = Replay::start().await;
    let mut config = RestConfig::new().with_api_url(&replay.url).unwrap();
    config.allow_plain_http = true;
    let client = RestClient::new(config).unwrap();
    let mut create = http("session/create-user-login");
    create.request.body.as_mut().unwrap()["timestamp"] =
        serde_json::json!(login().timestamp.to_string());
    replay.expect(create);
    client.create_session(&login()).await.unwrap();
    assert_eq!(
        client.token().as_deref(),
        Some("83153a14fb2df777c2f866178902a4bb15000001")
    );
    replay.expect(http("session/get"));
    client.send(&GetSession).await.unwrap();
    replay.assert_done();
    let tokens = replay.seen.lock().unwrap().tokens.clone();
    assert_eq!(tokens[0], None, "creating a session sends no token");
    assert_eq!(
        tokens[1].as_deref(),
        Some("83153a14fb2df777c2f866178902a4bb15000001")
    );
}
