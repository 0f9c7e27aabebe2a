//! Several listeners on one client against the devserver: each gets every event it asked
//! for, a slow one is told exactly what it missed, connection states arrive as events, a
//! privacy block is a typed event, and the last-activity and system-message streams.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use connectycube::fanout::Lagged;
use connectycube::protocol::address::ChatDomain;
use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::AppId;
use connectycube::protocol::iq::privacy::{PrivacyAction, PrivacyList, PrivacyRule, request};
use connectycube::protocol::message::system::SystemMessage;
use connectycube::protocol::model::{CustomProperties, Message};
use connectycube::transport::session::ConnectionState;
use connectycube::{DeliverySettings, Event, EventFilter, EventKind};
use futures_util::StreamExt;
use support::{WAIT, drain, server, user, user_with, wait};
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
    let (ann, ann_events, _) = user(&srv, "ann").await;
    drain(ann_events);
    let delivery = DeliverySettings::default().with_subscriber_buffer(5);
    let (bob, mut bob_events, _) = user_with(&srv, "bob", delivery).await;
    let mut states = bob.subscribe(EventKind::Connection);
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
    let fast = collect(bob.subscribe(EventKind::Messages));
    let all = collect(bob.subscribe(EventFilter::ALL));
    let mut slow = bob.subscribe(EventKind::Messages);
    bob.login().await.unwrap();
    wait(&mut states, |e| {
        matches!(e, Event::State(ConnectionState::Ready)).then_some(())
    })
    .await;

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
            .unwrap()
            .unwrap();
        if let ChatEvent::ChatMessage(m) = e.into_event() {
            primary.push(m.payload.body.unwrap());
        }
    }
    assert_eq!(primary, expected);
    assert_eq!(fast.await.unwrap(), expected);
    assert_eq!(all.await.unwrap(), expected);

    // The one that read nothing kept its first 5 and counted the other 25, naming the
    // dialog-less 1-1 messages as messages.
    let mut kept = Vec::new();
    let lag: Lagged = loop {
        match tokio::time::timeout(WAIT, slow.next())
            .await
            .unwrap()
            .unwrap()
        {
            Event::Lagged(lag) => break lag,
            e => kept.push(body(&e).unwrap()),
        }
    };
    assert_eq!(kept, expected[..5]);
    assert_eq!(lag.missed, (N - 5) as u64);
    assert_eq!(lag.missed_messages, (N - 5) as u64);

    // And it goes on with what comes next.
    ann.send_private(bob.user(), &Message::new("after"))
        .await
        .unwrap();
    assert_eq!(wait(&mut slow, |e| body(&e)).await, "after");

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
    let (ann, ann_events, _) = user(&srv, "ann").await;
    drain(ann_events);
    let (bob, bob_events, _) = user(&srv, "bob").await;
    drain(bob_events);
    let mut errors = ann.subscribe(EventKind::Errors);

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

#[tokio::test]
async fn a_last_activity_stream_follows_one_user_until_dropped() {
    let srv = server(&["ann", "bob", "cat"]).await;
    let (ann, ann_events, _) = user(&srv, "ann").await;
    drain(ann_events);
    let (bob, bob_events, _) = user(&srv, "bob").await;
    drain(bob_events);
    let (cat, cat_events, _) = user(&srv, "cat").await;
    drain(cat_events);
    let mut all = ann.subscribe(EventKind::Presence);

    let mut bob_activity = ann.watch_last_activity(bob.user()).await.unwrap();
    let mut cat_activity = ann.watch_last_activity(cat.user()).await.unwrap();
    assert_eq!(bob_activity.user(), bob.user());
    // Cat goes offline: only cat's stream hears of it.
    cat.logout().await;
    let seconds = tokio::time::timeout(WAIT, cat_activity.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(seconds > 0, "offline: seconds since active");
    bob.logout().await;
    let seconds = tokio::time::timeout(WAIT, bob_activity.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(seconds > 0);
    bob.login().await.unwrap();
    let seconds = tokio::time::timeout(WAIT, bob_activity.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(seconds, 0, "online now");

    // Unsubscribing ends the pushes: the next change of bob's reaches no one.
    bob_activity.unsubscribe().await.unwrap();
    while tokio::time::timeout(std::time::Duration::from_millis(200), all.next())
        .await
        .is_ok()
    {}
    bob.logout().await;
    cat.login().await.unwrap();
    // Cat's push is still coming (its stream lives); bob's is not.
    let mut pushes = Vec::new();
    while let Ok(Some(e)) =
        tokio::time::timeout(std::time::Duration::from_millis(1500), all.next()).await
    {
        if let Some(ChatEvent::LastActivity(a)) = e.chat() {
            pushes.push(a.user);
        }
    }
    assert_eq!(pushes, [cat.user()]);
    drop(cat_activity);

    ann.logout().await;
    cat.logout().await;
    srv.shutdown().await;
}

#[tokio::test]
async fn system_messages_have_their_own_stream() {
    let srv = server(&["ann", "bob"]).await;
    let (ann, ann_events, _) = user(&srv, "ann").await;
    drain(ann_events);
    let (bob, bob_events, _) = user(&srv, "bob").await;
    drain(bob_events);
    let mut system = bob.system_messages();

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
    assert_eq!(
        got.payload.params.custom.get("call"),
        Some(&serde_json::json!("started"))
    );

    ann.logout().await;
    bob.logout().await;
    srv.shutdown().await;
}
