//! The facade's ejabberd tests' share: a `ChatClient` for a test user of the private ejabberd
//! (its coordinates from the `CC_XMPP_*` environment `cargo xtask test` sets) and waiting
//! for an event of one kind.

use std::time::Duration;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::{AppId, UserId};
use connectycube::transport::config::ConnectionConfig;
use connectycube::transport::session::SessionSettings;
use connectycube::{ChatClient, ChatConfig, ChatEvents, DeliverySettings};

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

/// A client for test user `user` of the test ejabberd (password `pass{user}`), not logged in.
pub fn client(user: u64) -> (ChatClient, ChatEvents) {
    client_with(user, DeliverySettings::default())
}

/// As [`client`], with `delivery` settings.
pub fn client_with(user: u64, delivery: DeliverySettings) -> (ChatClient, ChatEvents) {
    ChatClient::new(config(user, None, SessionSettings::default(), delivery)).unwrap()
}

/// What test user `user` logs in with: the server's direct TLS port, or `port` instead (a
/// cut proxy in front of it).
pub fn config(
    user: u64,
    port: Option<u16>,
    settings: SessionSettings,
    delivery: DeliverySettings,
) -> ChatConfig {
    let port = port.unwrap_or_else(|| var("CC_XMPP_TLS_PORT").parse().unwrap());
    let connection = ConnectionConfig::direct_tls(var("CC_XMPP_DOMAIN"), port)
        .with_address(var("CC_XMPP_ADDR"))
        .with_custom_root_ca_pem(std::fs::read(var("CC_XMPP_CA_PEM")).unwrap());
    ChatConfig {
        connection,
        app_id: AppId(var("CC_XMPP_APP_ID").parse().unwrap()),
        user: UserId(user),
        password: format!("pass{user}"),
        settings,
        delivery,
    }
}

/// The next event of `kind` (as `ChatEvent::kind` names it), within 10 s.
pub async fn next(events: &mut ChatEvents, kind: &str) -> ChatEvent {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = events
                .next()
                .await
                .expect("events ended")
                .expect("readable");
            if event.kind() == kind {
                return event.into_event();
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} within 10 s"))
}
