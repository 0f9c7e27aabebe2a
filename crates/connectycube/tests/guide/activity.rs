//! Last activity (get, subscription pushes) and ping.

use connectycube::protocol::event::ChatEvent;

use super::support::wait;
use super::two;

#[tokio::test]
async fn last_activity_of_an_online_user_and_of_one_never_seen() {
    let t = two().await;
    assert_eq!(t.alice.chat().last_activity(t.bob.user()).await.unwrap(), 0);
    let never = t.alice.chat().last_activity(super::carol(&t)).await;
    assert!(
        matches!(never, Err(connectycube::Error::Refused(_))),
        "{never:?}"
    );
}

#[tokio::test]
async fn a_subscription_pushes_the_users_activity_until_unsubscribed() {
    let mut t = two().await;
    let bob = t.bob.user();
    t.alice
        .chat()
        .subscribe_last_activity(bob, true)
        .await
        .unwrap();
    t.bob.chat().logout().await;
    let pushed = wait(&mut t.alice_events, |e| match e {
        ChatEvent::LastActivity(a) => Some(a),
        _ => None,
    })
    .await
    .unwrap();
    assert_eq!(pushed.user, bob);
    t.alice
        .chat()
        .subscribe_last_activity(bob, false)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_server_answers_a_ping() {
    let t = two().await;
    t.alice.chat().ping().await.unwrap();
    t.bob.chat().ping().await.unwrap();
}
