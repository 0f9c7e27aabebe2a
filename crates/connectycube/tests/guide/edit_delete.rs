//! Edit and delete, over chat (the peer gets the event, the history changes) and over REST;
//! mark all read.

use connectycube::protocol::event::ChatEvent;

use super::support::wait;
use super::two;

#[tokio::test]
async fn an_edit_over_chat_reaches_the_peer_and_the_history() {
    let mut t = two().await;
    let (mine, theirs) = t.private().await;
    let sent = mine.send_text("Helo").await.unwrap();
    mine.send_edit(sent.id, "Hello", true).await.unwrap();
    let edit = wait(&mut t.bob_events, |e| match e {
        ChatEvent::Edited(e) => Some(e.payload),
        _ => None,
    })
    .await
    .unwrap();
    assert_eq!(
        (edit.message_id, edit.body.as_str(), edit.last),
        (sent.id, "Hello", Some(true))
    );
    let stored = t.srv.store().message(sent.id).unwrap().unwrap();
    assert_eq!(stored.body.as_deref(), Some("Hello"));
    drop(theirs);
}

#[tokio::test]
async fn an_update_over_rest_changes_the_history() {
    let t = two().await;
    let (mine, _) = t.private().await;
    let sent = mine.send_text("typo").await.unwrap();
    mine.update_messages([sent.id], "fixed").await.unwrap();
    let stored = t.srv.store().message(sent.id).unwrap().unwrap();
    assert_eq!(stored.body.as_deref(), Some("fixed"));
}

#[tokio::test]
async fn a_delete_over_chat_reaches_the_peer_and_the_history() {
    let mut t = two().await;
    let (mine, _) = t.private().await;
    let sent = mine.send_text("oops").await.unwrap();
    mine.send_delete(sent.id).await.unwrap();
    let deleted = wait(&mut t.bob_events, |e| match e {
        ChatEvent::Deleted(d) => Some(d.payload),
        _ => None,
    });
    assert_eq!(deleted.await.unwrap(), sent.id);
    let left = t
        .srv
        .store()
        .messages_in(mine.id(), Some(t.bob.user()))
        .unwrap();
    assert!(
        left.iter().all(|m| m.id != sent.id),
        "gone from the history"
    );
}

#[tokio::test]
async fn a_delete_over_rest_removes_it_for_this_user_only_or_for_all_with_force() {
    let t = two().await;
    let (mine, theirs) = t.private().await;
    let a = mine.send_text("a").await.unwrap();
    let b = mine.send_text("b").await.unwrap();
    let result = mine.delete_messages([a.id], false).await.unwrap();
    assert_eq!(result.deleted, [a.id.to_string()]);
    let bobs = t
        .srv
        .store()
        .messages_in(mine.id(), Some(t.bob.user()))
        .unwrap();
    let alices = t
        .srv
        .store()
        .messages_in(mine.id(), Some(t.alice.user()))
        .unwrap();
    assert!(
        alices.iter().all(|m| m.id != a.id),
        "gone from alice's history"
    );
    assert!(bobs.iter().any(|m| m.id == a.id), "still in bob's history");
    let refused = theirs.delete_messages([b.id], true).await;
    assert!(
        refused.is_err() || !refused.unwrap().all_deleted(),
        "not bob's message"
    );
    mine.delete_messages([b.id], true).await.unwrap();
    assert!(t.srv.store().message(b.id).unwrap().is_none());
}

#[tokio::test]
async fn mark_all_read_and_mark_read() {
    let t = two().await;
    let (mine, theirs) = t.private().await;
    let first = mine.send_text("1").await.unwrap();
    mine.send_text("2").await.unwrap();
    mine.send_text("3").await.unwrap();
    assert_eq!(theirs.unread_count().await.unwrap(), 3);
    theirs.mark_read([first.id]).await.unwrap();
    assert_eq!(theirs.unread_count().await.unwrap(), 2);
    theirs.mark_all_read().await.unwrap();
    assert_eq!(theirs.unread_count().await.unwrap(), 0);
}
