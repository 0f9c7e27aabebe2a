//! The facade's ejabberd tests' share: a `ChatClient` for a test user of the private ejabberd
//! (its coordinates from the `CC_XMPP_*` environment `cargo xtask test` sets) and waiting
//! for an event of one kind.

use std::time::Duration;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::{AppId, UserId};
use connectycube::transport::config::ConnectionConfig;
use connectycube::transport::session::SessionSettings;
use connectycube::{ChatClient, ChatConfig, ChatEvents, DeliverySettings};

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
    let connection = ConnectionConfig::direct_tls(
        var("CC_XMPP_DOMAIN"),
        var("CC_XMPP_TLS_PORT").parse().unwrap(),
    )
    .with_address(var("CC_XMPP_ADDR"))
    .with_custom_root_ca_pem(std::fs::read(var("CC_XMPP_CA_PEM")).unwrap());
    let config = ChatConfig {
        connection,
        app_id: AppId(var("CC_XMPP_APP_ID").parse().unwrap()),
        user: UserId(user),
        password: format!("pass{user}"),
        settings: SessionSettings::default(),
        delivery,
    };
    ChatClient::new(config).unwrap()
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
