//! Privacy lists: create, activate, update as the guide says, names, get, remove,
//! block/unblock (read-modify-write of the default list), the blocked sender's error.

use connectycube::BLOCK_LIST;
use connectycube::protocol::iq::privacy::{PrivacyAction, PrivacyList, PrivacyRule};
use connectycube::protocol::model::Message;
use connectycube::transport::session::StanzaErrorCondition;

use super::{carol, next_message, two};

fn rule(
    user: connectycube::protocol::ids::UserId,
    action: PrivacyAction,
    mutual: bool,
) -> PrivacyRule {
    PrivacyRule {
        user,
        action,
        mutual,
    }
}

#[tokio::test]
async fn create_activate_name_get_and_remove_a_list() {
    let t = two().await;
    let chat = t.bob.chat();
    let list = PrivacyList {
        name: "custom".into(),
        rules: vec![
            rule(t.alice.user(), PrivacyAction::Deny, false),
            rule(carol(&t), PrivacyAction::Allow, true),
        ],
    };
    chat.create_privacy_list(&list).await.unwrap();
    assert_eq!(chat.privacy_list_names().await.unwrap().default, None);
    chat.set_default_privacy_list("custom").await.unwrap();
    let names = chat.privacy_list_names().await.unwrap();
    assert_eq!(
        (names.names, names.default.as_deref()),
        (vec!["custom".to_owned()], Some("custom"))
    );
    assert_eq!(chat.privacy_list("custom").await.unwrap(), list);
    let empty = PrivacyList {
        name: "x".into(),
        rules: vec![],
    };
    assert!(matches!(
        chat.create_privacy_list(&empty).await,
        Err(connectycube::Error::Privacy(_))
    ));
    chat.decline_default_privacy_list().await.unwrap();
    assert_eq!(chat.privacy_list_names().await.unwrap().default, None);
    chat.remove_privacy_list("custom").await.unwrap();
    assert!(chat.privacy_list_names().await.unwrap().names.is_empty());
    assert!(chat.privacy_list("custom").await.is_err());
}

#[tokio::test]
async fn update_a_list_declines_writes_and_activates_it() {
    let t = two().await;
    let chat = t.bob.chat();
    let mut list = PrivacyList {
        name: "custom".into(),
        rules: vec![rule(t.alice.user(), PrivacyAction::Deny, true)],
    };
    chat.create_privacy_list(&list).await.unwrap();
    chat.set_default_privacy_list("custom").await.unwrap();
    list.rules.push(rule(carol(&t), PrivacyAction::Deny, true));
    chat.update_privacy_list(&list).await.unwrap();
    assert_eq!(chat.privacy_list("custom").await.unwrap(), list);
    assert_eq!(
        chat.privacy_list_names().await.unwrap().default.as_deref(),
        Some("custom")
    );
}

#[tokio::test]
async fn a_blocked_sender_gets_the_error_and_unblock_lets_messages_through() {
    let mut t = two().await;
    let chat = t.bob.chat();
    let other = rule(carol(&t), PrivacyAction::Deny, false);
    let list = PrivacyList {
        name: "mine".into(),
        rules: vec![other.clone()],
    };
    chat.create_privacy_list(&list).await.unwrap();
    chat.set_default_privacy_list("mine").await.unwrap();
    chat.block(t.alice.user()).await.unwrap();
    let after = chat.privacy_list("mine").await.unwrap();
    assert_eq!(
        after.rules,
        [
            other.clone(),
            rule(t.alice.user(), PrivacyAction::Deny, true)
        ]
    );
    let mut errors = t.alice.errors();
    let sent = t
        .alice
        .chat()
        .send_private(t.bob.user(), &Message::new("hi?"))
        .await;
    let bounce = sent.as_ref().err().and_then(|e| e.bounce());
    assert_eq!(
        bounce.map(|b| b.condition.clone()),
        Some(StanzaErrorCondition::ServiceUnavailable),
        "{sent:?}"
    );
    let blocked = tokio::time::timeout(std::time::Duration::from_secs(10), errors.next())
        .await
        .unwrap();
    let Some(Ok(connectycube::ErrorEvent::Blocked(blocked))) = blocked else {
        panic!("a typed block: {blocked:?}")
    };
    assert_eq!(blocked.user, t.bob.user());
    assert_eq!(
        blocked.error.condition.as_deref(),
        Some("service-unavailable")
    );
    chat.unblock(t.alice.user()).await.unwrap();
    assert_eq!(chat.privacy_list("mine").await.unwrap().rules, [other]);
    t.alice
        .chat()
        .send_private(t.bob.user(), &Message::new("now?"))
        .await
        .unwrap();
    assert_eq!(
        next_message(&mut t.bob_events).await.body.as_deref(),
        Some("now?")
    );
}

#[tokio::test]
async fn block_with_no_default_list_creates_one_and_unblock_removes_it() {
    let t = two().await;
    let chat = t.bob.chat();
    chat.block(t.alice.user()).await.unwrap();
    let names = chat.privacy_list_names().await.unwrap();
    assert_eq!(names.default.as_deref(), Some(BLOCK_LIST));
    chat.unblock(t.alice.user()).await.unwrap();
    let names = chat.privacy_list_names().await.unwrap();
    assert!(
        names.names.is_empty() && names.default.is_none(),
        "{names:?}"
    );
}
