//! System messages: custom data to a user over chat (and over REST), received as an event.
//!
//! `cargo run -p connectycube --example system_messages` (embedded devserver, no setup).

mod support;

use connectycube::prelude::*;
use support::{Result, devserver, login, next};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob"]).await?;
    let (alice, _) = login(&client, "alice").await?;
    let (bob, _) = login(&client, "bob").await?;

    // guide: System messages
    let mut system = bob.system_messages();
    let mut properties = CustomProperties::new();
    properties.insert("custom_param_1".into(), "custom_param_1".into());
    properties.insert("custom_param_2".into(), "custom_param_2".into());
    alice
        .chat()
        .send_system_message(bob.user(), properties)
        .await?;
    let notice = next(&mut system).await?;
    // end
    let (from, properties) = (notice.user_id(), notice.message.properties());
    println!("bob: system message from {from:?}: {properties:?}");
    srv.shutdown().await;
    Ok(())
}
