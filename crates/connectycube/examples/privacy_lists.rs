//! Privacy lists: create, activate, update (decline, write, activate), names, get, remove,
//! `block`/`unblock`, and what a blocked user gets.
//!
//! `cargo run -p connectycube --example privacy_lists` (embedded devserver, no setup).

mod support;

use connectycube::prelude::*;
use connectycube::privacy::{allow, deny, privacy_list};
use support::{Result, devserver, login, next};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob", "carol"]).await?;
    let (alice, _) = login(&client, "alice").await?;
    let (bob, _) = login(&client, "bob").await?;
    let (carol, _) = login(&client, "carol").await?;
    let mut alices_errors = alice.errors();
    let chat = bob.chat();

    // guide: Create privacy list
    let rules = [deny(alice.user(), false), allow(carol.user(), true)];
    chat.create_privacy_list(&privacy_list("custom", rules))
        .await?;
    // end
    // guide: Activate privacy list
    chat.set_default_privacy_list("custom").await?;
    // end

    let sent = alice
        .chat()
        .send_private(bob.user(), &Message::new("Are you there?"));
    // guide: Blocked user attempts to communicate
    let refused = sent.await.err(); // Error::bounce(): service-unavailable
    // end
    let error = next(&mut alices_errors).await?;
    println!("alice: blocked, the send ends as {refused:?}; the error event: {error:?}");

    // guide: Update privacy list
    let mut list = chat.privacy_list("custom").await?;
    list.rules.retain(|r| r.user != alice.user());
    chat.update_privacy_list(&list).await?;
    // end
    // guide: Retrieve privacy list names
    let names = chat.privacy_list_names().await?;
    // end
    println!("bob's lists {:?}, default {:?}", names.names, names.default);
    // guide: Retrieve privacy list with name
    let custom = chat.privacy_list("custom").await?;
    // end
    println!("bob's list `custom`: {:?}", custom.rules);
    chat.decline_default_privacy_list().await?;
    // guide: Remove privacy list
    chat.remove_privacy_list("custom").await?;
    // end

    chat.block(carol.user()).await?;
    println!(
        "bob blocked carol: {:?}",
        chat.privacy_list(connectycube::BLOCK_LIST).await?.rules
    );
    chat.unblock(carol.user()).await?;
    println!(
        "bob unblocked carol: lists {:?}",
        chat.privacy_list_names().await?.names
    );
    srv.shutdown().await;
    Ok(())
}
