//! Group rooms through the facade against the devserver: a join resolves on the room's own
//! presence or fails typed; the client rejoins after a reconnect that could not resume, not
//! after one that did; sending to a room joins it on demand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::DialogId;
use connectycube::protocol::model::Message;
use connectycube::rest::RestClient;
use connectycube::rest::chat::dialogs::CreateDialog;
use connectycube::transport::session::{ConnectionState, SessionSettings};
use connectycube::{ChatClient, Client, Error, Event, EventKind, JoinError, Session};
use connectycube_devserver::DevServer;
use support::{app_config, credentials, server, server_with, user, wait};

async fn group(rest: &RestClient, name: &str, occupants: &[&ChatClient]) -> DialogId {
    let create = CreateDialog::group(name, occupants.iter().map(|c| c.user()));
    rest.send(&create).await.unwrap().id
}

/// `login`'s client, reconnecting after 100 ms; the devserver's faults cut it
/// ([`cut`]).
async fn cuttable(srv: &DevServer, login: &str) -> Session {
    cuttable_after(srv, login, Duration::from_millis(100)).await
}

/// As [`cuttable`], reconnecting after `delay`.
async fn cuttable_after(srv: &DevServer, login: &str, delay: Duration) -> Session {
    let mut config = app_config(srv, srv.chat().unwrap().connection_config());
    config.settings = SessionSettings::default().with_reconnection_timeout(delay);
    let (session, _) = Client::new(config).login(credentials(login)).await.unwrap();
    session
}

/// Drops `client`'s connection as a network cut does (the devserver's fault injection).
fn cut(srv: &DevServer, client: &ChatClient) {
    srv.chat_faults().unwrap().cut(client.user());
}

async fn state(sub: &mut connectycube::Subscription, want: ConnectionState) {
    wait(sub, |e| {
        matches!(e, Event::State(s) if s == want).then_some(())
    })
    .await;
}

async fn group_message(sub: &mut connectycube::Subscription) -> String {
    wait(sub, |e| match e.chat() {
        Some(ChatEvent::ChatMessage(m)) => m.payload.body.clone(),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_join_resolves_on_the_rooms_presence_and_fails_typed_when_refused() {
    let srv = server(&["ann", "bob", "cat"]).await;
    let (ann_session, ann_events, ann_rest) = user(&srv, "ann").await;
    let ann = ann_session.chat().clone();
    drop(ann_events);
    let (bob_session, bob_events, _) = user(&srv, "bob").await;
    let bob = bob_session.chat().clone();
    drop(bob_events);
    let ours = group(&ann_rest, "ours", &[&bob]).await;
    let (cat_session, cat_events, cat_rest) = user(&srv, "cat").await;
    let cat = cat_session.chat().clone();
    drop(cat_events);
    let private = group(&cat_rest, "cat's", &[&ann]).await;

    bob.join(ours).await.unwrap();
    assert_eq!(bob.joined_dialogs(), [ours]);
    let Err(Error::Join(JoinError::Refused { dialog, error })) = bob.join(private).await else {
        panic!("bob is not an occupant of cat's group")
    };
    assert_eq!(dialog, private);
    assert_eq!(error.condition.as_deref(), Some("registration-required"));
    assert_eq!(bob.joined_dialogs(), [ours], "a refused room is not kept");

    // Leaving takes it out of the set.
    bob.leave(ours).await.unwrap();
    assert!(bob.joined_dialogs().is_empty());
    for c in [&ann, &bob, &cat] {
        c.logout().await;
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn sending_to_a_room_joins_it_on_demand() {
    let srv = server(&["ann", "bob"]).await;
    let (ann_session, ann_events, ann_rest) = user(&srv, "ann").await;
    let ann = ann_session.chat().clone();
    drop(ann_events);
    let (bob_session, bob_events, _) = user(&srv, "bob").await;
    let bob = bob_session.chat().clone();
    drop(bob_events);
    let dialog = group(&ann_rest, "ours", &[&bob]).await;
    bob.join(dialog).await.unwrap();
    let mut bob_messages = bob_session.events(EventKind::Messages);

    // Ann never joined: the send joins first, and the room takes the message.
    let mut m = Message::new("no join needed");
    m.dialog_id = Some(dialog);
    ann.send_to_dialog(dialog, &m).await.unwrap();
    assert_eq!(group_message(&mut bob_messages).await, "no join needed");
    assert_eq!(ann.joined_dialogs(), [dialog]);
    ann.logout().await;
    bob.logout().await;
    srv.shutdown().await;
}

/// The cut, then what bob's room membership looks like after `expect` (a new session or a
/// resumed one): does Ann's next group message reach him, and did he send a join again?
async fn cut_and_observe(resume: bool) -> (bool, bool) {
    let srv = server_with(&["ann", "bob"], |c| {
        if !resume {
            // The server forgets a broken session at once: the reconnect is a new session.
            c.chat.as_mut().unwrap().resume_timeout = Duration::ZERO;
        }
    })
    .await;
    let (ann_session, ann_events, ann_rest) = user(&srv, "ann").await;
    let ann = ann_session.chat().clone();
    drop(ann_events);
    let bob_session = cuttable(&srv, "bob").await;
    let bob = bob_session.chat().clone();
    let dialog = group(&ann_rest, "ours", &[&bob]).await;
    ann.join(dialog).await.unwrap();
    bob.join(dialog).await.unwrap();
    let mut events = bob_session.events(
        connectycube::EventFilter::only(EventKind::Connection)
            .and(EventKind::Presence)
            .and(EventKind::Messages),
    );

    cut(&srv, &bob);
    let expect = if resume {
        ConnectionState::Resumed
    } else {
        ConnectionState::NewSession
    };
    state(&mut events, expect).await;
    state(&mut events, ConnectionState::Ready).await;
    let mut rejoined = false;
    let mut m = Message::new("after the cut");
    m.dialog_id = Some(dialog);
    // Give a rejoin time to land before Ann sends.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, events.next()).await {
        if let Some(ChatEvent::OccupantJoined(o)) = e.chat() {
            rejoined |= o.is_self && o.dialog == dialog;
        }
    }
    ann.send_to_dialog(dialog, &m).await.unwrap();
    let received = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match events.next().await?.chat() {
                Some(ChatEvent::ChatMessage(m))
                    if m.payload.body.as_deref() == Some("after the cut") =>
                {
                    return Some(());
                }
                Some(ChatEvent::OccupantJoined(o)) if o.is_self => rejoined = true,
                _ => {}
            }
        }
    })
    .await
    .ok()
    .flatten()
    .is_some();
    ann.logout().await;
    bob.logout().await;
    srv.shutdown().await;
    (received, rejoined)
}

#[tokio::test]
async fn rooms_are_rejoined_after_a_new_session() {
    let (received, rejoined) = cut_and_observe(false).await;
    assert!(rejoined, "bob joined the room again");
    assert!(received, "and gets the room's messages");
}

#[tokio::test]
async fn rooms_are_not_rejoined_after_a_resumption() {
    let (received, rejoined) = cut_and_observe(true).await;
    assert!(!rejoined, "a resumed session is still in the room");
    assert!(received, "and gets the room's messages");
}

/// A join made while the client reconnects resolves on the rejoin of the new session, so the
/// message sent after it reaches the room. Before, the join returned at once (the room still
/// counted as joined), the message waited in the transport's queue, went out as soon as the
/// new session was up, ahead of the rejoin, and the room refused it.
#[tokio::test]
async fn a_join_while_reconnecting_waits_for_the_rejoin_so_the_send_lands() {
    let srv = server_with(&["ann", "bob"], |c| {
        c.chat.as_mut().unwrap().resume_timeout = Duration::ZERO;
    })
    .await;
    let (ann_session, ann_events, ann_rest) = user(&srv, "ann").await;
    let ann = ann_session.chat().clone();
    drop(ann_events);
    // Reconnecting for a while, so the join below is made before the new session.
    let bob_session = cuttable_after(&srv, "bob", Duration::from_millis(500)).await;
    let bob = bob_session.chat().clone();
    let dialog = group(&ann_rest, "ours", &[&bob]).await;
    ann.join(dialog).await.unwrap();
    bob.join(dialog).await.unwrap();
    let mut ann_messages = ann_session.events(EventKind::Messages);
    let mut states = bob_session.events(EventKind::Connection);

    cut(&srv, &bob);
    state(&mut states, ConnectionState::Reconnecting).await;
    bob.join(dialog).await.unwrap();
    assert!(bob.joined_dialogs().contains(&dialog));
    let mut m = Message::new("after the rejoin");
    m.dialog_id = Some(dialog);
    bob.send_to_dialog(dialog, &m).await.unwrap();
    assert_eq!(group_message(&mut ann_messages).await, "after the rejoin");
    ann.logout().await;
    bob.logout().await;
    srv.shutdown().await;
}
