//! Dialogs: create (1-1, group, public), list, update, delete one and many, subscribe,
//! occupants, admins (five at most), notification settings, history (a page, or every page),
//! unread counts, search (its documented limits).

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
async fn history_with_a_limit_is_one_page_and_marks_only_that_page_read() {
    let t = two().await;
    let (mine, theirs) = t.private().await;
    for i in 0..105 {
        mine.send_text(format!("m{i}")).await.unwrap();
    }
    // The guide's query: limit 100, newest first, marked read.
    let page = theirs
        .history()
        .filter(MessageField::DateSent, FilterOp::Gt, 1583402980)
        .sort_desc(MessageField::DateSent)
        .limit(100)
        .fetch()
        .await
        .unwrap();
    assert_eq!(page.len(), 100, "one page");
    assert_eq!(page[0].body.as_deref(), Some("m104"), "newest first");
    assert_eq!(
        theirs.unread_count().await.unwrap(),
        5,
        "what was not fetched stays unread"
    );
    let rest = theirs
        .history()
        .sort_desc(MessageField::DateSent)
        .limit(100)
        .skip(100)
        .keep_unread()
        .fetch()
        .await
        .unwrap();
    assert_eq!(rest.len(), 5, "the next page");
    assert_eq!(theirs.unread_count().await.unwrap(), 5, "kept unread");
}

#[tokio::test]
async fn history_all_pages_streams_every_page_with_filters_and_sort() {
    let t = two().await;
    let (mine, theirs) = t.private().await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(mine.send_text(format!("m{i}")).await.unwrap().id);
    }
    let all: Vec<_> = theirs
        .history()
        .limit(2)
        .keep_unread()
        .all_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), sent);
    assert_eq!(theirs.unread_count().await.unwrap(), 5);
    let newest: Vec<_> = theirs
        .history()
        .sort_desc(MessageField::Id)
        .limit(2)
        .all_pages()
        .take(3)
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<_> = sent.iter().rev().take(3).copied().collect();
    assert_eq!(newest.iter().map(|m| m.id).collect::<Vec<_>>(), expected);
    assert_eq!(
        theirs.unread_count().await.unwrap(),
        1,
        "the two pages fetched (four messages) were marked read, not the fifth"
    );
    let after: Vec<_> = theirs
        .history()
        .filter(MessageField::Id, FilterOp::Gt, sent[2])
        .all_pages()
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
    // With no dialog ids the server answers the total only (server-chat.md).
    let total_only = t.bob.unread_counts([]).await.unwrap();
    assert_eq!(total_only.total, 2);
    assert!(total_only.per_dialog.is_empty(), "{total_only:?}");
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

#[tokio::test]
async fn global_search_windows_and_limits_are_refused_before_the_request() {
    use chrono::{Months, TimeZone, Utc};
    use connectycube::Error;
    use connectycube::rest::chat::search::SearchError;

    let t = two().await;
    let (mine, _) = t.private().await;
    mine.send_text("find the ukulele").await.unwrap();
    let now = Utc::now();
    // The guide's own example: from now back to 2020, wider than the 3 months the API takes.
    let guide = GlobalSearch::builder("ukulele")
        .limit(3)
        .between(now, Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap())
        .dialogs([mine.id()])
        .build();
    assert_eq!(guide, Err(SearchError::WindowTooWide));
    let refused = |b: connectycube::rest::chat::search::GlobalSearchBuilder| {
        b.build().map(|_| ()).map_err(Error::from)
    };
    assert!(matches!(
        refused(GlobalSearch::builder("ukulele").start_date(now)),
        Err(Error::Search(SearchError::MissingEndDate))
    ));
    assert!(matches!(
        refused(GlobalSearch::builder("ukulele").limit(101)),
        Err(Error::Search(SearchError::LimitTooHigh { limit: 101 }))
    ));
    assert!(matches!(
        refused(GlobalSearch::builder("ukulele").dialogs(vec![mine.id(); 11])),
        Err(Error::Search(SearchError::TooManyDialogs { count: 11 }))
    ));
    assert!(matches!(
        t.bob.search_text("uke").await,
        Err(Error::Search(SearchError::TextTooShort { chars: 3 }))
    ));
    // A window within 3 months finds the message; one that ends before it does not.
    let month_ago = now.checked_sub_months(Months::new(1)).unwrap();
    let within = GlobalSearch::builder("ukulele")
        .between(now + chrono::Duration::minutes(1), month_ago)
        .build()
        .unwrap();
    assert_eq!(t.bob.search(&within).await.unwrap().messages.len(), 1);
    let before = GlobalSearch::builder("ukulele")
        .between(
            month_ago,
            month_ago.checked_sub_months(Months::new(1)).unwrap(),
        )
        .build()
        .unwrap();
    assert!(t.bob.search(&before).await.unwrap().messages.is_empty());
}

#[tokio::test]
async fn a_sixth_admin_is_refused_before_the_request() {
    use connectycube::protocol::ids::UserId;
    use connectycube::rest::chat::occupants::MAX_ADMINS;

    let t = two().await;
    let mut group = t
        .alice
        .create_dialog(&CreateDialog::group("G", [t.bob.user()]))
        .await
        .unwrap();
    let five: Vec<UserId> = (1..=5).map(|i| UserId(900 + i)).collect();
    group.change_admins(five.clone(), []).await.unwrap();
    assert_eq!(group.info().admins_ids.len(), MAX_ADMINS);
    let e = group.change_admins([t.bob.user()], []).await.unwrap_err();
    assert!(
        matches!(&e, connectycube::Error::Admins(a) if a.admins == 6),
        "{e:?}"
    );
    assert_eq!(
        group.info().admins_ids,
        five,
        "nothing sent, nothing changed"
    );
    let server = t.alice.dialog(group.id()).await.unwrap();
    assert_eq!(server.info().admins_ids, five);
    // The same rule through a dialog update and at creation.
    let update = UpdateDialog::new(group.id()).add_admins([t.bob.user()]);
    assert!(matches!(
        group.update(&update).await,
        Err(connectycube::Error::Admins(_))
    ));
    let six = CreateDialog::group("H", [t.bob.user()]).admins((1..=6).map(|i| UserId(900 + i)));
    assert!(matches!(
        t.alice.create_dialog(&six).await,
        Err(connectycube::Error::Admins(_))
    ));
    // One out, one in: still five.
    group
        .change_admins([t.bob.user()], [five[0]])
        .await
        .unwrap();
    assert!(group.info().admins_ids.contains(&t.bob.user()));
    assert_eq!(group.info().admins_ids.len(), MAX_ADMINS);
}
