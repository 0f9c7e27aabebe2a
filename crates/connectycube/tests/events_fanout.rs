//! Several listeners on one client against the devserver: each gets every event it asked
//! for, a slow one is told exactly what it missed, connection states arrive as events, a
//! privacy block is a typed event, and the last-activity and system-message streams.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use connectycube::protocol::address::ChatDomain;
use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::AppId;
use connectycube::protocol::iq::privacy::{PrivacyAction, PrivacyList, PrivacyRule, request};
use connectycube::protocol::message::system::SystemMessage;
use connectycube::protocol::model::{CustomProperties, Message};
use connectycube::transport::session::ConnectionState;
use connectycube::{DeliverySettings, Event, EventFilter, EventKind};
use support::{WAIT, server, user, user_with, wait};
use xmpp_parsers::jid::Jid;

fn body(e: &Event) -> Option<String> {
    match e.chat()? {
        ChatEvent::ChatMessage(m) => m.payload.body.clone(),
        _ => None,
    }
}

#[tokio::test]
async fn every_listener_gets_every_message_and_a_slow_one_learns_what_it_missed() {
    const N: usize = 30;
    let srv = server(&["ann", "bob"]).await;
    let (ann_session, ann_events, _) = user(&srv, "ann").await;
    let ann = ann_session.chat().clone();
    drop(ann_events);
    let delivery = DeliverySettings::default().with_subscriber_buffer(5);
    let (bob_session, login_events, _) = user_with(&srv, "bob", delivery).await;
    let bob = bob_session.chat().clone();
    // The login's stream lags like any other; this one holds the client back instead.
    drop(login_events);
    let mut bob_events = bob_session.events_lossless(EventFilter::ALL);
    // Two listeners that keep reading, on their own tasks.
    let collect = |mut sub: connectycube::Subscription| {
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while seen.len() < N {
                seen.push(wait(&mut sub, |e| body(&e)).await);
            }
            seen
        })
    };
    let fast = collect(bob_session.events(EventKind::Messages));
    let all = collect(bob_session.events(EventFilter::ALL));
    let mut slow = bob_session.events(EventKind::Messages);

    for n in 0..N {
        ann.send_private(bob.user(), &Message::new(format!("m{n}")))
            .await
            .unwrap();
    }
    let expected: Vec<String> = (0..N).map(|n| format!("m{n}")).collect();
    // The app's own stream and a reading subscriber see all, in order.
    let mut primary = Vec::new();
    while primary.len() < N {
        let e = tokio::time::timeout(WAIT, bob_events.next())
            .await
            .unwrap()
            .unwrap();
        if let Some(ChatEvent::ChatMessage(m)) = e.chat() {
            primary.push(m.payload.body.clone().unwrap());
        }
    }
    assert_eq!(primary, expected);
    assert_eq!(fast.await.unwrap(), expected);
    assert_eq!(all.await.unwrap(), expected);

    // The one that read nothing is told first how many it missed (the dialog-less 1-1
    // messages counted as messages), then has the latest ones the log of 5 kept.
    let next = tokio::time::timeout(WAIT, slow.next()).await.unwrap();
    let Some(Event::Lagged(lag)) = next else {
        panic!("the gap first: {next:?}")
    };
    let mut kept = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), slow.next()).await {
        kept.push(body(&e).unwrap());
    }
    assert!(!kept.is_empty() && kept.len() <= 5, "{kept:?}");
    assert_eq!(kept, expected[N - kept.len()..], "the latest, in order");
    assert_eq!(lag.missed, (N - kept.len()) as u64);
    assert_eq!(lag.missed_messages, (N - kept.len()) as u64);

    // And it goes on with what comes next.
    ann.send_private(bob.user(), &Message::new("after"))
        .await
        .unwrap();
    assert_eq!(wait(&mut slow, |e| body(&e)).await, "after");

    drop(bob_events);
    let mut states = bob_session.events(EventKind::Connection);
    bob.logout().await;
    wait(&mut states, |e| {
        matches!(e, Event::State(ConnectionState::Closed)).then_some(())
    })
    .await;
    ann.logout().await;
    srv.shutdown().await;
}

#[tokio::test]
async fn a_message_to_a_user_who_blocked_us_is_a_typed_event() {
    let srv = server(&["ann", "bob"]).await;
    let (ann_session, ann_events, _) = user(&srv, "ann").await;
    let ann = ann_session.chat().clone();
    drop(ann_events);
    let (bob_session, bob_events, _) = user(&srv, "bob").await;
    let bob = bob_session.chat().clone();
    drop(bob_events);
    let mut errors = ann_session.events(EventKind::Errors);

    // Bob blocks Ann with his default list.
    let domain = ChatDomain::new(srv.chat().unwrap().host(), AppId(srv.app_id()));
    let list = PrivacyList {
        name: "blocked".into(),
        rules: vec![PrivacyRule {
            user: ann.user(),
            action: PrivacyAction::Deny,
            mutual: true,
        }],
    };
    bob.request(request::set_list("p1", &list, &domain).unwrap())
        .await
        .unwrap();
    bob.request(request::set_default("p2", Some("blocked")))
        .await
        .unwrap();

    let message = Message::new("are you there?");
    let sent = ann
        .send_private(bob.user(), &message)
        .queued()
        .await
        .unwrap();
    let blocked = wait(&mut errors, |e| match e {
        Event::Blocked(b) => Some(b),
        _ => None,
    })
    .await;
    assert_eq!(blocked.user, bob.user());
    assert_eq!(blocked.message_id, Some(message.id.to_string()));
    assert!(sent.await.is_err(), "the send itself says it bounced too");

    ann.logout().await;
    bob.logout().await;
    srv.shutdown().await;
}

/// The guide's pair: a subscription per user, their pushes on one typed stream (each named
/// by its user), until unsubscribed.
#[tokio::test]
async fn last_activity_pushes_follow_the_subscribed_users_until_unsubscribed() {
    let srv = server(&["ann", "bob", "cat"]).await;
    let (ann, ann_events, _) = user(&srv, "ann").await;
    drop(ann_events);
    let (bob_session, bob_events, _) = user(&srv, "bob").await;
    let bob = bob_session.chat().clone();
    drop(bob_events);
    let (cat_session, cat_events, _) = user(&srv, "cat").await;
    let cat = cat_session.chat().clone();
    drop(cat_events);
    let mut activity = ann.last_activity_updates();
    let mut next = async || {
        let got = tokio::time::timeout(WAIT, activity.next()).await.unwrap();
        let update = got.unwrap().unwrap();
        (update.user, update.seconds)
    };

    ann.chat()
        .subscribe_last_activity(bob.user(), true)
        .await
        .unwrap();
    ann.chat()
        .subscribe_last_activity(cat.user(), true)
        .await
        .unwrap();
    cat.logout().await;
    let (who, seconds) = next().await;
    assert_eq!(who, cat.user());
    assert!(seconds > 0, "offline: seconds since active");
    bob.logout().await;
    assert_eq!(next().await.0, bob.user());
    bob.login().await.unwrap();
    assert_eq!(next().await, (bob.user(), 0), "online now");

    // Unsubscribed from bob: only cat's next change is pushed.
    ann.chat()
        .subscribe_last_activity(bob.user(), false)
        .await
        .unwrap();
    bob.logout().await;
    cat.login().await.unwrap();
    assert_eq!(next().await, (cat.user(), 0));
    let quiet = tokio::time::timeout(Duration::from_millis(1500), activity.next()).await;
    assert!(quiet.is_err(), "nothing of bob's: {quiet:?}");

    ann.logout().await.unwrap();
    cat.logout().await;
    srv.shutdown().await;
}

#[tokio::test]
async fn system_messages_have_their_own_stream() {
    let srv = server(&["ann", "bob"]).await;
    let (ann_session, ann_events, _) = user(&srv, "ann").await;
    let ann = ann_session.chat().clone();
    drop(ann_events);
    let (bob_session, bob_events, _) = user(&srv, "bob").await;
    let bob = bob_session.chat().clone();
    drop(bob_events);
    let mut system = bob_session.system_messages();

    // A chat message first: the system stream skips it.
    ann.send_private(bob.user(), &Message::new("not system"))
        .await
        .unwrap();
    let mut properties = CustomProperties::new();
    properties.insert("call".into(), serde_json::json!("started"));
    let domain = ChatDomain::new(srv.chat().unwrap().host(), AppId(srv.app_id()));
    let to = Jid::from(domain.user_jid(bob.user()).unwrap());
    let stanza = SystemMessage::new(properties).to_stanza(to).unwrap();
    ann.connection().send(stanza).await.unwrap();
    let got = tokio::time::timeout(WAIT, system.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.user_id(), Some(ann.user()));
    assert_eq!(
        got.message.params.custom.get("call"),
        Some(&serde_json::json!("started"))
    );

    ann.logout().await;
    bob.logout().await;
    srv.shutdown().await;
}
