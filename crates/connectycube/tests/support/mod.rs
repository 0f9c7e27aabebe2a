//! What the facade's devserver tests share: a server with seeded users, a client logged in
//! through a REST session, waiting for an event.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

// Not every test binary that includes this module cuts connections.
#[allow(unused_imports)]
pub use connectycube_fixtures::proxy;

pub mod burst;
pub mod ejabberd;

use std::time::Duration;

use connectycube::protocol::ids::{AppId, UserId};
use connectycube::rest::session::{CreateSession, Secret, SessionUser};
use connectycube::rest::{RestClient, RestConfig};
use connectycube::transport::config::ConnectionConfig;
use connectycube::{AppConfig, Client, DeliverySettings, Event, Session, Subscription};
use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};
use connectycube_fixtures::js_peer::JsPeer;
use serde_json::json;

pub const WAIT: Duration = Duration::from_secs(20);

/// A devserver with these users (password `{login}-password1`).
pub async fn server(logins: &[&str]) -> DevServer {
    server_with(logins, |_| {}).await
}

/// As [`server`], with the config adjusted first.
pub async fn server_with(logins: &[&str], adjust: impl FnOnce(&mut DevServerConfig)) -> DevServer {
    let mut config = DevServerConfig::default();
    for login in logins {
        config
            .users
            .push(SeedUser::new(login, &format!("{login}-password1")));
    }
    adjust(&mut config);
    DevServer::start(config).await.unwrap()
}

/// A REST client with a session of `login`.
pub async fn rest(srv: &DevServer, login: &str) -> (RestClient, UserId, String) {
    let mut config = RestConfig::new().with_api_url(&srv.api_url()).unwrap();
    config.allow_plain_http = true;
    let rest = RestClient::new(config).unwrap();
    let who = SessionUser::Login {
        login: login.into(),
        password: Secret(format!("{login}-password1")),
    };
    let session = rest
        .create_session(&CreateSession::new(
            AppId(srv.app_id()),
            srv.auth_key(),
            who,
        ))
        .await
        .unwrap();
    let token = session.token.expose().to_owned();
    (rest, session.user_id.unwrap(), token)
}

/// The client of `srv`'s application with its chat through `connection` (the server's own,
/// or a cuttable proxy in front of it) and `delivery` settings.
pub fn app(srv: &DevServer, connection: ConnectionConfig, delivery: DeliverySettings) -> Client {
    let mut config = app_config(srv, connection);
    config.delivery = delivery;
    Client::new(config)
}

/// The configuration of `srv`'s application with its chat through `connection`.
pub fn app_config(srv: &DevServer, connection: ConnectionConfig) -> AppConfig {
    AppConfig::new(AppId(srv.app_id()), srv.auth_key())
        .with_endpoints(&srv.api_url(), connection)
        .unwrap()
}

/// The login of seeded user `login`.
pub fn credentials(login: &str) -> SessionUser {
    SessionUser::Login {
        login: login.into(),
        password: Secret(format!("{login}-password1")),
    }
}

/// `login` logged in through [`Client::login`] (REST session and chat, chat through
/// `connection`): the session and the stream of all its events.
pub async fn session_via(
    srv: &DevServer,
    login: &str,
    connection: ConnectionConfig,
    delivery: DeliverySettings,
) -> (Session, Subscription) {
    app(srv, connection, delivery)
        .login(credentials(login))
        .await
        .unwrap()
}

/// `login` logged in (with `delivery`): its session, its events and its REST client.
pub async fn user_with(
    srv: &DevServer,
    login: &str,
    delivery: DeliverySettings,
) -> (Session, Subscription, RestClient) {
    let connection = srv.chat().unwrap().connection_config();
    let (session, events) = session_via(srv, login, connection, delivery).await;
    let rest = session.rest().clone();
    (session, events, rest)
}

/// `login` logged in: its session, its events and its REST client.
pub async fn user(srv: &DevServer, login: &str) -> (Session, Subscription, RestClient) {
    user_with(srv, login, DeliverySettings::default()).await
}

/// The first event `pick` takes, within [`WAIT`].
pub async fn wait<T>(sub: &mut Subscription, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = sub.next().await.expect("client gone");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
    .expect("no such event")
}

/// The official JS SDK as `login`: its REST session with the devserver and chat over wss.
/// Gives the peer and its user id.
pub async fn js_user(srv: &DevServer, login: &str) -> (JsPeer, UserId) {
    let chat = srv.chat().unwrap();
    let ca = std::env::temp_dir().join(format!("cc-js-ca-{}-{login}.pem", std::process::id()));
    std::fs::write(&ca, chat.ca_pem()).unwrap();
    let mut js = JsPeer::spawn(Some(&ca)).await.expect("the JS SDK peer");
    let init = json!({"cmd": "init", "app_id": srv.app_id(), "auth_key": srv.auth_key(),
        "api_url": srv.api_url(), "chat_host": chat.host(), "chat_url": chat.wss_url()});
    js.call(init, WAIT).await.unwrap();
    // Node read the CA at its start; the file is no longer needed.
    let _ = std::fs::remove_file(&ca);
    let password = format!("{login}-password1");
    let session = js
        .call(
            json!({"cmd": "session", "login": login, "password": password}),
            WAIT,
        )
        .await
        .unwrap();
    let user = UserId(session["user_id"].as_u64().unwrap());
    let connect = json!({"cmd": "connect", "user_id": user.0, "password": session["token"]});
    js.call(connect, WAIT).await.unwrap();
    (js, user)
}
