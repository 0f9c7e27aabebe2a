//! Message reactions: add, remove, replace, receive them in real time, list who reacted.
//!
//! `cargo run -p connectycube --example reactions` (embedded devserver, no setup).

mod support;

use connectycube::prelude::*;
use support::{Result, devserver, login, next};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob"]).await?;
    let (alice, _) = login(&client, "alice").await?;
    let (bob, _) = login(&client, "bob").await?;
    let dialog = alice
        .create_dialog(&CreateDialog::private(bob.user()))
        .await?;
    let message = dialog.send_text("Rust 1.0 was ten years ago").await?;
    let bobs = bob.dialog(dialog.id()).await?;

    // guide: Reactions: add / remove / listen
    let mut reactions = alice.reaction_changes();
    bobs.react(message.id, "🔥").await?;
    bobs.change_reaction(message.id, "🔥", "🚀").await?;
    bobs.unreact(message.id, "🚀").await?;
    bobs.react(message.id, "👍").await?;
    let reaction = next(&mut reactions).await?;
    // end
    println!(
        "alice: {:?} reacted {:?}",
        reaction.user_id(),
        reaction.changes
    );

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
