//! Last activity: ask when a user was last active, subscribe to their activity pushes,
//! and ping the server.
//!
//! `cargo run -p connectycube --example last_activity` (embedded devserver, no setup).

mod support;

use support::{Result, devserver, login};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob"]).await?;
    let (alice, _alice_events) = login(&client, "alice").await?;
    let (bob, _bob_events) = login(&client, "bob").await?;

    // guide: Get last activity
    let seconds = alice.chat().last_activity(bob.user()).await?;
    // end
    println!("alice: bob was last active {seconds} s ago");

    // guide: Last activity subscription
    let (mut activity, chat) = (alice.last_activity_updates(), alice.chat());
    chat.subscribe_last_activity(bob.user(), true).await?;
    bob.logout().await?; // (not the guide's: makes the server push bob's activity)
    let pushed = activity.next().await;
    chat.subscribe_last_activity(bob.user(), false).await?;
    // end
    println!("alice: pushed {pushed:?}");

    alice.chat().ping().await?;
    println!("alice: the server answered a ping");
    alice.logout().await?;
    srv.shutdown().await;
    Ok(())
}
