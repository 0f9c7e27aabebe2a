//! Editing and deleting messages, over chat (the others get an event) and over REST; marking
//! a dialog's messages read.
//!
//! `cargo run -p connectycube --example edit_delete` (embedded devserver, no setup).

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
    let first = dialog.send_text("Helo").await?;
    let second = dialog.send_text("typo here too").await?;
    let third = dialog.send_text("to be deleted").await?;

    // guide: Update message via chat
    let mut edits = bob.edited_messages();
    dialog.send_edit(first.id, "Hello", false).await?;
    let edit = next(&mut edits).await?;
    // end
    println!(
        "bob: message {} now reads {:?}",
        edit.message_id(),
        edit.body
    );

    // guide: Update message via HTTP
    dialog.update_messages([second.id], "no typo here").await?;
    // end

    // guide: Delete messages via chat
    let mut deletions = bob.deleted_messages();
    dialog.send_delete(third.id).await?;
    let deleted = next(&mut deletions).await?;
    // end
    println!("bob: message {} was deleted", deleted.message_id());

    let bobs = bob.dialog(dialog.id()).await?;
    // guide: Mark all as read
    bobs.mark_all_read().await?;
    // end
    println!(
        "bob: unread in the dialog now {}",
        bobs.unread_count().await?
    );

    // guide: Delete messages via HTTP
    let result = bobs.delete_messages([second.id], false).await?;
    // end
    println!("bob: deleted {:?} from his history", result.deleted);
    srv.shutdown().await;
    Ok(())
}
