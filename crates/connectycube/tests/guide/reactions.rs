//! Reactions: add, remove, replace (one request), the event to the sender, the list.

use connectycube::protocol::event::ChatEvent;

use super::support::wait;
use super::two;

#[tokio::test]
async fn add_replace_remove_and_list_reactions() {
    let mut t = two().await;
    let (mine, theirs) = t.private().await;
    let m = mine.send_text("react to me").await.unwrap();
    theirs.react(m.id, "🔥").await.unwrap();
    let event = wait(&mut t.alice_events, |e| match e {
        ChatEvent::Reactions(r) => Some(r.payload),
        _ => None,
    })
    .await
    .unwrap();
    assert_eq!((event.user_id, event.message_id), (t.bob.user(), m.id));
    assert_eq!(event.changes[0].kind, "🔥");
    mine.react(m.id, "🔥").await.unwrap();
    let list = mine.reactions(m.id).await.unwrap();
    assert_eq!(list.users_of("🔥").len(), 2);
    theirs.change_reaction(m.id, "🔥", "🚀").await.unwrap();
    let list = mine.reactions(m.id).await.unwrap();
    assert_eq!(list.users_of("🔥"), [t.alice.user()]);
    assert_eq!(list.users_of("🚀"), [t.bob.user()]);
    theirs.unreact(m.id, "🚀").await.unwrap();
    assert!(
        mine.reactions(m.id)
            .await
            .unwrap()
            .users_of("🚀")
            .is_empty()
    );
}
