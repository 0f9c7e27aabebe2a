//! The facade's ejabberd tests' share: a test user of the private ejabberd logged in through
//! `Client::login_chat` (its coordinates from the `CC_XMPP_*` environment `cargo xtask test`
//! sets) and waiting for an event of one kind.

use std::time::Duration;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::{AppId, UserId};
use connectycube::rest::session::Secret;
use connectycube::transport::config::ConnectionConfig;
use connectycube::transport::session::SessionSettings;
use connectycube::{AppConfig, Client, DeliverySettings, Event, Session, Subscription};

/// Whether the test ejabberd's environment is there: when not, the test is skipped with how to
/// run it (`cargo xtask test`), or fails under `cargo xtask test`.
pub fn available() -> bool {
    connectycube_fixtures::needs::xmpp_server()
}

/// A variable `cargo xtask test` sets for the test ejabberd.
fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: start the test server: cargo xtask test"))
}

/// Test user `user` of the test ejabberd logged in (password `pass{user}`): its session and
/// all its events.
pub async fn client(user: u64) -> (Session, Subscription) {
    client_with(user, DeliverySettings::default()).await
}

/// As [`client`], with `delivery` settings.
pub async fn client_with(user: u64, delivery: DeliverySettings) -> (Session, Subscription) {
    app(None, SessionSettings::default(), delivery)
        .login_chat(UserId(user), Secret(format!("pass{user}")))
        .await
        .unwrap()
}

/// As [`client`] through `port` (a cut proxy) when given, with `settings` and `delivery`;
/// the events are left to the caller to subscribe to.
pub async fn login(
    user: u64,
    port: Option<u16>,
    settings: SessionSettings,
    delivery: DeliverySettings,
) -> Session {
    let (session, _events) = app(port, settings, delivery)
        .login_chat(UserId(user), Secret(format!("pass{user}")))
        .await
        .unwrap();
    session
}

/// The test ejabberd's application (chat only: it has no REST API): its direct TLS port, or
/// `port` instead (a cut proxy in front of it).
pub fn app(port: Option<u16>, settings: SessionSettings, delivery: DeliverySettings) -> Client {
    let port = port.unwrap_or_else(|| var("CC_XMPP_TLS_PORT").parse().unwrap());
    let connection = ConnectionConfig::direct_tls(var("CC_XMPP_DOMAIN"), port)
        .with_address(var("CC_XMPP_ADDR"))
        .with_custom_root_ca_pem(std::fs::read(var("CC_XMPP_CA_PEM")).unwrap());
    let mut config = AppConfig::new(AppId(var("CC_XMPP_APP_ID").parse().unwrap()), "");
    config.chat = connection;
    config.settings = settings;
    config.delivery = delivery;
    Client::new(config)
}

/// The next event of `kind` (as `ChatEvent::kind` names it), within 10 s.
pub async fn next(events: &mut Subscription, kind: &str) -> ChatEvent {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = events.next().await.expect("events ended");
            if let Event::Chat(received) = event
                && received.kind() == kind
            {
                return received.into_event();
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} within 10 s"))
}
