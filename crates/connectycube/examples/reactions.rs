//! Message reactions: add, remove, replace, receive them in real time, list who reacted.
//!
//! `cargo run -p connectycube --example reactions` (embedded devserver, no setup).

mod support;

use connectycube::protocol::event::ChatEvent;
use connectycube::rest::chat::dialogs::CreateDialog;
use support::{Result, devserver, login, wait};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob"]).await?;
    let (alice, mut alice_events) = login(&client, "alice").await?;
    let (bob, _bob_events) = login(&client, "bob").await?;
    let dialog = alice
        .create_dialog(&CreateDialog::private(bob.user()))
        .await?;
    let message = dialog.send_text("Rust 1.0 was ten years ago").await?;
    let bobs = bob.dialog(dialog.id()).await?;

    // guide: Reactions: add / remove / listen
    bobs.react(message.id, "🔥").await?;
    bobs.change_reaction(message.id, "🔥", "🚀").await?;
    bobs.unreact(message.id, "🚀").await?;
    bobs.react(message.id, "👍").await?;
    let reaction = wait(&mut alice_events, |e| match e {
        ChatEvent::Reactions(r) => Some(r.payload),
        _ => None,
    })
    .await?;
    // end
    println!("alice: first reaction event {reaction:?}");

    // guide: List message reactions
    let reactions = dialog.reactions(message.id).await?;
    // end
    println!(
        "alice: 👍 by {:?}, all {:?}",
        reactions.users_of("👍"),
        reactions.users
    );
    srv.shutdown().await;
    Ok(())
}
