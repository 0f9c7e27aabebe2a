//! Dialogs as values: create 1-1, group and public dialogs, list, update, subscribe,
//! occupants, admins, notification settings, history, unread counts, global search, delete.
//!
//! `cargo run -p connectycube --example dialogs` (embedded devserver, no setup).

mod support;

use connectycube::prelude::*;
use support::{Result, devserver, login};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob", "carol"]).await?;
    let (alice, _a) = login(&client, "alice").await?;
    let (bob, _b) = login(&client, "bob").await?;
    let (carol, _c) = login(&client, "carol").await?;

    // guide: Dialogs: create 1-1
    let private = alice
        .create_dialog(&CreateDialog::private(bob.user()))
        .await?;
    // end
    // guide: Create group chat
    let mut group = alice
        .create_dialog(
            &CreateDialog::group("Hawaii relax team", [bob.user()]).description("Some description"),
        )
        .await?;
    // end
    // guide: Create public group chat
    let public = alice
        .create_dialog(&CreateDialog::public("Blockchain trends"))
        .await?;
    // end
    println!(
        "created {} (1-1), {} (group), {} (public)",
        private.id(),
        group.id(),
        public.id()
    );

    // guide: List dialogs
    let dialogs = alice
        .dialogs(&ListDialogs::new().filter(DialogField::UpdatedAt, FilterOp::Gt, 1583402980))
        .await?;
    // end
    println!("alice has {} dialogs", dialogs.len());

    // guide: Update dialog
    group
        .update(
            &UpdateDialog::new(group.id())
                .name("New name")
                .add_occupants([carol.user()]),
        )
        .await?;
    // end
    println!(
        "group renamed {:?}, occupants {:?}",
        group.info().name,
        group.info().occupants_ids
    );

    // guide: Subscribe to public dialog
    let mut joined = bob.subscribe_dialog(public.id()).await?;
    // end
    // guide: Retrieve public dialog occupants
    let occupants = public.occupants().await?;
    // end
    println!(
        "public dialog occupants: {:?}",
        occupants.iter().map(|o| o.id).collect::<Vec<_>>()
    );
    // guide: Unsubscribe from public dialog
    joined.unsubscribe().await?;
    // end
    joined.subscribe().await?;

    // guide: Add / remove admins
    group.change_admins([bob.user()], []).await?;
    // end
    println!("group admins: {:?}", group.info().admins_ids);

    // guide: Update notification settings
    let enabled = group.set_notifications(false).await?;
    // end
    // guide: Get notification settings
    let now = group.notifications().await?;
    // end
    println!("notifications set to {enabled}, now {now}");

    group.send_text("Aloha!").await?;
    group.send_text("Who brings the ukulele?").await?;
    let bobs_group = bob.dialog(group.id()).await?;
    // guide: Chat history
    let history = bobs_group
        .history()
        .filter(MessageField::DateSent, FilterOp::Gt, 1583402980)
        .sort_desc(MessageField::DateSent)
        .limit(100)
        .fetch()
        .await?;
    // end
    println!(
        "history, newest first: {:?}",
        history
            .iter()
            .map(|m| m.body.as_deref())
            .collect::<Vec<_>>()
    );

    // guide: Unread messages count
    let unread = carol.unread_counts([group.id()]).await?;
    // end
    println!(
        "carol's unread: total {}, in the group {:?}",
        unread.total,
        unread.get(group.id())
    );

    // guide: Global search
    let found = bob
        .search(
            &GlobalSearch::builder("ukulele")
                .dialogs([group.id()])
                .limit(3)
                .build()?,
        )
        .await?;
    // end
    println!("search 'ukulele': {} messages", found.messages.len());

    // guide: Remove dialog
    private.delete(false).await?;
    alice
        .delete_dialogs([public.id(), group.id()], true)
        .await?;
    // end
    let left = alice
        .dialogs(&ListDialogs::new().types([DialogType::Group]))
        .await?;
    println!("alice's group dialogs after deleting: {}", left.len());
    srv.shutdown().await;
    Ok(())
}
