//! Connect to chat, watch the connection states, log in with a session token instead of a
//! password (provider logins), reconnection settings, relogin, logout and destroy.
//!
//! `cargo run -p connectycube --example connect_and_states` (embedded devserver, no setup).

mod support;

use std::time::Duration;

use connectycube::prelude::*;
use support::{Result, app_config, credentials, devserver};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob"]).await?;

    // guide: Connect to chat
    let (alice, _events) = client.login(credentials("alice")).await?;
    // end
    println!("alice is user {}: {:?}", alice.user(), alice.chat().state());

    // guide: Connection states
    let mut states = alice.connection_states();
    tokio::spawn(async move {
        while let Some(Ok(state)) = states.next().await {
            println!("chat connection state: {state:?}");
        }
    });
    // end

    // guide: Custom authentication providers
    let by_token = Client::new(app_config(&srv)?.with_chat_auth(ChatAuth::SessionToken));
    let (bob, _bob_events) = by_token.login(credentials("bob")).await?;
    // end
    println!(
        "bob logged in to chat with his session token: {:?}",
        bob.chat().state()
    );

    // guide: Reconnection
    let mut config = app_config(&srv)?;
    config.settings = SessionSettings::default()
        .with_total_reconnections(5)
        .with_reconnection_timeout(Duration::from_secs(5));
    // end
    let (carol, _carol_events) = Client::new(config).login(credentials("alice")).await?;
    carol.chat().logout().await;
    carol.chat().relogin().await?;
    println!("relogin after logout: {:?}", carol.chat().state());

    // guide: Disconnect
    alice.logout().await?;
    bob.destroy().await?;
    // end
    carol.destroy().await?;
    println!("alice after logout: {:?}", alice.chat().state());
    srv.shutdown().await;
    Ok(())
}
