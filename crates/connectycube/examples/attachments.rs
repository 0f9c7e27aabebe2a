//! Attachments: `send_file` uploads a file, attaches it and sends the message, with progress;
//! the receiver gets the attachment and its private download URL.
//!
//! `cargo run -p connectycube --example attachments` (embedded devserver, no setup).

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
    let file = std::env::temp_dir().join(format!("cc-example-{}.jpeg", std::process::id()));
    std::fs::write(&file, b"\xFF\xD8\xFF\xE0 not really a cat")?;

    // guide: Attachments
    let mut messages = bob.messages();
    let sent = dialog
        .send_file(
            &file,
            "image/jpeg",
            AttachmentType::Image,
            Message::new("Attachment"),
            |p| println!("alice: {p:?}"),
        )
        .await?;
    let received = next(&mut messages).await?.message;
    let uid = received
        .attachments
        .first()
        .and_then(|a| a.uid.clone())
        .ok_or("no attachment")?;
    let url = bob.dialog(dialog.id()).await?.private_url(&uid)?;
    // end
    std::fs::remove_file(&file)?;
    println!(
        "bob: got {:?} with attachment {uid} (sent as {:?})",
        received.body, sent.attachments[0].uid
    );
    println!(
        "bob: download it from {}…",
        &url[..url.find('?').unwrap_or(url.len())]
    );
    srv.shutdown().await;
    Ok(())
}
