//! Dialogs: create (1-1, group, public), list, update, delete one and many, subscribe,
//! occupants, admins, notification settings, history as a stream, unread counts, search.

use connectycube::protocol::model::DialogType;
use connectycube::rest::chat::dialogs::{CreateDialog, DialogField, ListDialogs, UpdateDialog};
use connectycube::rest::chat::messages::MessageField;
use connectycube::rest::chat::search::GlobalSearch;
use connectycube::rest::query::FilterOp;
use futures_util::{StreamExt, TryStreamExt};

use super::two;

#[tokio::test]
async fn create_private_group_and_public_dialogs() {
    let t = two().await;
    let (private, theirs) = t.private().await;
    assert_eq!(private.kind(), DialogType::Private);
    assert_eq!(private.opponent(), Some(t.bob.user()));
    assert_eq!(theirs.opponent(), Some(t.alice.user()));
    let group = t
        .alice
        .create_dialog(&CreateDialog::group("Hawaii", [t.bob.user()]).description("d"))
        .await
        .unwrap();
    assert_eq!(group.kind(), DialogType::Group);
    assert_eq!(group.info().name.as_deref(), Some("Hawaii"));
    assert!(group.info().occupants_ids.contains(&t.bob.user()));
    let public = t
        .alice
        .create_dialog(&CreateDialog::public("Open"))
        .await
        .unwrap();
    assert_eq!(public.kind(), DialogType::Public);
}

#[tokio::test]
async fn list_update_and_delete_dialogs() {
    let t = two().await;
    let (private, _) = t.private().await;
    let mut group = t
        .alice
        .create_dialog(&CreateDialog::group("Old", [t.bob.user()]))
        .await
        .unwrap();
    let groups = t
        .alice
        .dialogs(&ListDialogs::new().types([DialogType::Group]))
        .await
        .unwrap();
    assert_eq!(
        groups.iter().map(|d| d.id()).collect::<Vec<_>>(),
        [group.id()]
    );
    let recent = t
        .alice
        .dialogs(&ListDialogs::new().filter(DialogField::UpdatedAt, FilterOp::Gt, 1583402980))
        .await
        .unwrap();
    assert_eq!(recent.len(), 2);
    group.rename("New").await.unwrap();
    assert_eq!(group.info().name.as_deref(), Some("New"));
    let carol = super::carol(&t);
    group
        .change_occupants([carol], [t.bob.user()])
        .await
        .unwrap();
    assert!(group.info().occupants_ids.contains(&carol));
    assert!(!group.info().occupants_ids.contains(&t.bob.user()));
    let again = t.alice.dialog(group.id()).await.unwrap();
    assert_eq!(again.info().name.as_deref(), Some("New"));
    group
        .update(&UpdateDialog::new(group.id()).description("about"))
        .await
        .unwrap();
    assert_eq!(group.info().description.as_deref(), Some("about"));
    assert!(private.delete(false).await.unwrap().all_deleted());
    let gone = t.alice.delete_dialogs([group.id()], true).await.unwrap();
    assert_eq!(gone.deleted, [group.id().to_string()]);
    assert!(
        t.alice
            .dialogs(&ListDialogs::new())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn subscribe_occupants_and_unsubscribe_a_public_dialog() {
    let t = two().await;
    let public = t
        .alice
        .create_dialog(&CreateDialog::public("Open"))
        .await
        .unwrap();
    let mut bobs = t.bob.subscribe_dialog(public.id()).await.unwrap();
    let ids: Vec<_> = public
        .occupants()
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert!(ids.contains(&t.bob.user()), "{ids:?}");
    bobs.unsubscribe().await.unwrap();
    let ids: Vec<_> = public
        .occupants()
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert!(!ids.contains(&t.bob.user()), "{ids:?}");
    bobs.subscribe().await.unwrap();
    assert_eq!(bobs.id(), public.id());
}

#[tokio::test]
async fn admins_and_notification_settings() {
    let t = two().await;
    let mut group = t
        .alice
        .create_dialog(&CreateDialog::group("G", [t.bob.user()]))
        .await
        .unwrap();
    group.change_admins([t.bob.user()], []).await.unwrap();
    assert_eq!(group.info().admins_ids, [t.bob.user()]);
    group.change_admins([], [t.bob.user()]).await.unwrap();
    assert!(group.info().admins_ids.is_empty());
    assert!(group.notifications().await.unwrap(), "on by default");
    assert!(!group.set_notifications(false).await.unwrap());
    assert!(!group.notifications().await.unwrap());
}

#[tokio::test]
async fn history_streams_every_page_with_filters_and_sort() {
    let t = two().await;
    let (mine, theirs) = t.private().await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(mine.send_text(format!("m{i}")).await.unwrap().id);
    }
    let all: Vec<_> = theirs
        .history()
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), sent);
    let newest: Vec<_> = theirs
        .history()
        .sort_desc(MessageField::Id)
        .page_size(2)
        .stream()
        .take(3)
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<_> = sent.iter().rev().take(3).copied().collect();
    assert_eq!(newest.iter().map(|m| m.id).collect::<Vec<_>>(), expected);
    let after: Vec<_> = theirs
        .history()
        .filter(MessageField::Id, FilterOp::Gt, sent[2])
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(after.iter().map(|m| m.id).collect::<Vec<_>>(), sent[3..]);
}

#[tokio::test]
async fn unread_counts_and_global_search() {
    let t = two().await;
    let (mine, theirs) = t.private().await;
    mine.send_text("find the ukulele").await.unwrap();
    mine.send_text("second").await.unwrap();
    let counts = t.bob.unread_counts([mine.id()]).await.unwrap();
    assert_eq!((counts.total, counts.get(mine.id())), (2, Some(2)));
    assert_eq!(theirs.unread_count().await.unwrap(), 2);
    assert_eq!(t.bob.unread_counts([]).await.unwrap().total, 2);
    let search = GlobalSearch::builder("ukulele")
        .dialogs([mine.id()])
        .limit(3)
        .build()
        .unwrap();
    let found = t.bob.search(&search).await.unwrap();
    assert_eq!(found.messages.len(), 1);
    assert_eq!(found.messages[0].body.as_deref(), Some("find the ukulele"));
    assert!(
        t.bob
            .search_text("nothing like it")
            .await
            .unwrap()
            .messages
            .is_empty()
    );
    assert!(matches!(
        t.bob.search_text("").await,
        Err(connectycube::Error::Search(_))
    ));
}
