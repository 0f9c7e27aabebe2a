//! Messaging and statuses: a 1-1 and a group message sent and received, 'sent' (the send
//! handle), 'delivered' (automatic) and 'read', typing in 1-1 and in a group, a silent
//! message, marking the client inactive and active.
//!
//! `cargo run -p connectycube --example messaging` (embedded devserver, no setup).

mod support;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::iq::activity::ClientState;
use connectycube::protocol::model::Message;
use connectycube::rest::chat::dialogs::CreateDialog;
use support::{Result, devserver, join, login, wait};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob"]).await?;
    let (alice, mut alice_events) = login(&client, "alice").await?;
    let (bob, mut bob_events) = login(&client, "bob").await?;
    let dialog = alice
        .create_dialog(&CreateDialog::private(bob.user()))
        .await?;

    // guide: Send/receive chat messages
    let mut message = Message::new("How are you today?");
    message.custom.insert("country".into(), "USA".into());
    dialog.send(&message).await?;
    let received = wait(&mut bob_events, |e| match e {
        ChatEvent::ChatMessage(m) => Some(m.payload),
        _ => None,
    })
    .await?;
    // end
    println!("bob got {:?} with {:?}", received.body, received.custom);

    // guide: Message statuses: sent
    dialog.send(&Message::new("Sent?")).await?; // Ok: the server has it, 'sent'
    // end
    println!("alice: 'sent' (the server has it)");
    wait(&mut bob_events, |e| {
        matches!(e, ChatEvent::ChatMessage(_)).then_some(())
    })
    .await?;

    // guide: Delivered / read
    let bobs_dialog = bob.dialog(dialog.id()).await?;
    bobs_dialog.send_read(&received).await?;
    wait(&mut alice_events, |e| {
        matches!(e, ChatEvent::Delivered(_)).then_some(())
    })
    .await?;
    wait(&mut alice_events, |e| {
        matches!(e, ChatEvent::Read(_)).then_some(())
    })
    .await?;
    // end
    println!("alice: 'delivered' (automatic) and 'read'");

    // guide: Typing
    dialog.start_typing().await?;
    dialog.stop_typing().await?;
    // end
    let typing = wait(&mut bob_events, |e| match e {
        ChatEvent::Typing(t) => Some(t.payload),
        _ => None,
    })
    .await?;
    println!("bob: alice is {typing:?}");

    let group = alice
        .create_dialog(&CreateDialog::group("Rustaceans", [bob.user()]))
        .await?;
    let bobs_group = bob.dialog(group.id()).await?;
    join(&bobs_group, &mut bob_events).await?;
    group.start_typing().await?;
    let typing = wait(&mut bob_events, |e| match e {
        ChatEvent::Typing(t) => Some((t.envelope.dialog_id, t.payload)),
        _ => None,
    })
    .await?;
    println!("bob: in the group {:?}, alice is {:?}", typing.0, typing.1);
    group.send_text("Hello, group!").await?;
    let got = wait(&mut bob_events, |e| match e {
        ChatEvent::ChatMessage(m) => Some(m.payload),
        _ => None,
    })
    .await?;
    println!("bob: in the group, {:?}", got.body);

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
