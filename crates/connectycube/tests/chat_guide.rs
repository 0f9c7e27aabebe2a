//! The chat-only guide sections through the facade's `ChatClient` against the local ejabberd
//! (`cargo xtask test`): edit, delete and system messages relayed, ping, privacy lists.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use connectycube::Peer;
use connectycube::privacy::{deny, privacy_list};
use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::{MessageId, UserId};
use connectycube::protocol::model::CustomProperties;

use support::ejabberd::{client, next};

#[tokio::test]
async fn edit_delete_and_system_messages_are_relayed_and_ping_is_answered() {
    if !support::ejabberd::available() {
        return;
    }
    let (alice_session, _alice_events) = client(1003).await;
    let alice = alice_session.chat().clone();
    let (bob_session, mut bob_events) = client(1004).await;
    let bob = bob_session.chat().clone();
    tokio::try_join!(alice.login(), bob.login()).unwrap();
    let to_bob = Peer::User(bob.user(), None);
    let id = MessageId::generate();
    alice.send_edit(to_bob, id, "fixed", true).await.unwrap();
    let ChatEvent::Edited(edit) = next(&mut bob_events, "Edited").await else {
        unreachable!()
    };
    assert_eq!(
        (edit.payload.message_id, edit.payload.body.as_str()),
        (id, "fixed")
    );
    assert_eq!(edit.payload.last, Some(true));
    alice.send_delete(to_bob, id).await.unwrap();
    let ChatEvent::Deleted(deleted) = next(&mut bob_events, "Deleted").await else {
        unreachable!()
    };
    assert_eq!(deleted.payload, id);
    let mut props = CustomProperties::new();
    props.insert("param".into(), "value".into());
    alice
        .send_system_message(bob.user(), props.clone())
        .await
        .unwrap();
    let ChatEvent::System(system) = next(&mut bob_events, "System").await else {
        unreachable!()
    };
    assert_eq!(system.payload.properties(), &props);
    alice.ping().await.unwrap();
    tokio::join!(alice.logout(), bob.logout());
}

#[tokio::test]
async fn privacy_lists_and_block_unblock_against_ejabberd() {
    if !support::ejabberd::available() {
        return;
    }
    // Users no other test here logs in: a default list would block their messages.
    let (bob_session, _events) = client(1005).await;
    let bob = bob_session.chat().clone();
    bob.login().await.unwrap();
    // A run that failed halfway may have left lists behind.
    bob.decline_default_privacy_list().await.unwrap();
    for name in bob.privacy_list_names().await.unwrap().names {
        bob.remove_privacy_list(&name).await.unwrap();
    }
    let list = privacy_list("custom", [deny(UserId(1006), false)]);
    bob.create_privacy_list(&list).await.unwrap();
    bob.set_default_privacy_list("custom").await.unwrap();
    let names = bob.privacy_list_names().await.unwrap();
    assert_eq!(names.default.as_deref(), Some("custom"));
    assert_eq!(bob.privacy_list("custom").await.unwrap(), list);
    bob.block(UserId(1007)).await.unwrap();
    let rules = bob.privacy_list("custom").await.unwrap().rules;
    assert_eq!(rules, [deny(UserId(1006), false), deny(UserId(1007), true)]);
    bob.unblock(UserId(1007)).await.unwrap();
    assert_eq!(bob.privacy_list("custom").await.unwrap(), list);
    bob.decline_default_privacy_list().await.unwrap();
    bob.remove_privacy_list("custom").await.unwrap();
    assert!(bob.privacy_list_names().await.unwrap().names.is_empty());
    bob.logout().await;
}
