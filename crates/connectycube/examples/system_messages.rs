//! System messages: custom data to a user over chat (and over REST), received as an event.
//!
//! `cargo run -p connectycube --example system_messages` (embedded devserver, no setup).

mod support;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::model::CustomProperties;
use support::{Result, devserver, login, wait};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob"]).await?;
    let (alice, _alice_events) = login(&client, "alice").await?;
    let (bob, mut bob_events) = login(&client, "bob").await?;

    // guide: System messages
    let mut properties = CustomProperties::new();
    properties.insert("custom_param_1".into(), "custom_param_1".into());
    properties.insert("custom_param_2".into(), "custom_param_2".into());
    alice
        .chat()
        .send_system_message(bob.user(), properties)
        .await?;
    let system = wait(&mut bob_events, |e| match e {
        ChatEvent::System(s) => Some(s.payload),
        _ => None,
    })
    .await?;
    // end
    println!("bob: system message {:?}", system.properties());
    srv.shutdown().await;
    Ok(())
}
