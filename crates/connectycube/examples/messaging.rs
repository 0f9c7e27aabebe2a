//! Messaging and statuses: a 1-1 and a group message sent and received, 'sent' (the send
//! resolves), 'delivered' (automatic) and 'read', typing in 1-1 and in a group, a silent
//! message, marking the client inactive and active.
//!
//! `cargo run -p connectycube --example messaging` (embedded devserver, no setup).

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
    let bobs_dialog = bob.dialog(dialog.id()).await?;

    // guide: Send/receive chat messages
    let mut messages = bob.messages();
    let mut message = Message::new("How are you today?");
    message.custom.insert("country".into(), "USA".into());
    dialog.send(&message).await?;
    let received = next(&mut messages).await?;
    // end
    println!(
        "bob got {:?} with {:?}",
        received.body(),
        received.message.custom
    );

    // guide: Message statuses: sent
    dialog.send(&Message::new("Sent?")).await?; // Ok: the server has it, 'sent'
    // end
    println!("alice: 'sent' (the server has it)");
    next(&mut messages).await?;

    // guide: Delivered / read
    let (mut delivered, mut read) = (alice.delivered_statuses(), alice.read_statuses());
    let sent = dialog.send_text("Read me").await?;
    let received = next(&mut messages).await?;
    while next(&mut delivered).await?.message_id() != sent.id {} // bob's client answers itself
    bobs_dialog.send_read(&received.message).await?;
    let reading = next(&mut read).await?;
    // end
    println!(
        "alice: {} 'delivered' (automatic) and 'read'",
        reading.message_id()
    );

    // guide: Typing
    let (mut typing, mut stopped) = (bob.typing_started(), bob.typing_stopped());
    dialog.start_typing().await?;
    dialog.stop_typing().await?;
    let (started, stopped) = (next(&mut typing).await?, next(&mut stopped).await?);
    // end
    println!(
        "bob: alice {:?} typed, then stopped ({:?})",
        started.user_id(),
        stopped.state
    );

    let group = alice
        .create_dialog(&CreateDialog::group("Rustaceans", [bob.user()]))
        .await?;
    let bobs_group = bob.dialog(group.id()).await?;
    bobs_group.join().await?;
    group.start_typing().await?;
    let started = next(&mut typing).await?;
    println!(
        "bob: in the group {:?}, alice is typing",
        started.dialog_id()
    );
    group.send_text("Hello, group!").await?;
    let got = next(&mut messages).await?;
    println!("bob: in the group, {:?}", got.body());

    // guide: Chat alerts
    let mut quiet = Message::new("no push for this one");
    quiet.silent = true;
    dialog.send(&quiet).await?;
    // end

    // guide: Active / inactive
    bob.chat().set_client_state(ClientState::Inactive).await?;
    bob.chat().set_client_state(ClientState::Active).await?;
    // end
    println!("bob: marked inactive, then active");
    alice.logout().await?;
    bob.logout().await?;
    srv.shutdown().await;
    Ok(())
}
