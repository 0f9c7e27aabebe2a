//! Nothing missed while away, against the devserver: bob's connection is cut, the server
//! forgets his session (no resumption), Ann sends to their group and to him meanwhile; after
//! the new session bob's client rejoins, fetches the gap from the REST history and delivers
//! each message once, in order, then says each dialog is synced.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use connectycube::fanout::Synced;
use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::DialogId;
use connectycube::protocol::model::Message;
use connectycube::rest::chat::dialogs::CreateDialog;
use connectycube::rest::session::Secret;
use connectycube::transport::session::{ConnectionState, SessionSettings};
use connectycube::{Client, Event, EventFilter, EventKind};
use support::proxy::Proxy;
use support::{WAIT, app_config, credentials, rest, server_with, user};

/// What bob's listener saw of the messages: (body, from history), and the syncs.
async fn run(
    gap_fill: bool,
) -> (
    Vec<(String, bool)>,
    HashMap<DialogId, Synced>,
    [DialogId; 2],
) {
    let srv = server_with(&["ann", "bob"], |c| {
        c.chat.as_mut().unwrap().resume_timeout = Duration::ZERO;
    })
    .await;
    let (ann_session, ann_events, ann_rest) = user(&srv, "ann").await;
    let ann = ann_session.chat().clone();
    drop(ann_events);

    // Bob through a proxy that can cut him and hold his reconnects (an attempt gives up
    // after 1 s, the next follows 100 ms later).
    let (_, bob_id, _) = rest(&srv, "bob").await;
    let chat = srv.chat().unwrap();
    let proxy = Proxy::start(chat.ports().direct_tls).await;
    let mut connection = chat.connection_config();
    connection.port = proxy.port;
    connection.connect_timeout = Duration::from_secs(1);
    let mut config = app_config(&srv, connection);
    config.settings =
        SessionSettings::default().with_reconnection_timeout(Duration::from_millis(100));
    config.settings.login_timeout = Duration::from_secs(1);
    let bob_app = Client::new(config);
    // The REST login fills gaps after a new chat session; the chat-only login cannot.
    let (bob_session, _) = if gap_fill {
        bob_app.login(credentials("bob")).await.unwrap()
    } else {
        let password = Secret("bob-password1".into());
        bob_app.login_chat(bob_id, password).await.unwrap()
    };
    let bob = bob_session.chat().clone();
    let mut events =
        bob_session.events(EventFilter::only(EventKind::Messages).and(EventKind::Connection));

    let group = ann_rest
        .send(&CreateDialog::group("ours", [bob.user()]))
        .await
        .unwrap()
        .id;
    let private = ann_rest
        .send(&CreateDialog::private(bob.user()))
        .await
        .unwrap()
        .id;
    ann.join(group).await.unwrap();
    bob.join(group).await.unwrap();
    let to_group = |body: &str| {
        let mut m = Message::new(body);
        m.dialog_id = Some(group);
        ann.send_to_dialog(group, &m)
    };
    let to_bob = |body: &str| {
        let mut m = Message::new(body);
        m.dialog_id = Some(private);
        ann.send_private(bob.user(), &m)
    };
    to_group("g0").await.unwrap();
    to_bob("p0").await.unwrap();

    let mut seen = Vec::new();
    let mut synced = HashMap::new();
    let collect = |e: Event, seen: &mut Vec<(String, bool)>, synced: &mut HashMap<_, _>| match e {
        Event::Chat(r) => {
            let from_history = r.from_history;
            if let ChatEvent::ChatMessage(m) = r.into_event() {
                seen.push((m.payload.body.unwrap_or_default(), from_history));
            }
        }
        Event::Synced(s) => {
            synced.insert(s.dialog, s);
        }
        _ => {}
    };
    // Both live messages in before the cut.
    while seen.len() < 2 {
        let e = tokio::time::timeout(WAIT, events.next())
            .await
            .unwrap()
            .unwrap();
        collect(e, &mut seen, &mut synced);
    }

    // Bob's network goes: his reconnects hang until it is back. Meanwhile g1..g3 go to the
    // room he is no longer in, p1 to him (the server keeps it offline; it is in the history
    // too).
    proxy.blackhole(true);
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for body in ["g1", "g2", "g3"] {
        to_group(body).await.unwrap();
    }
    to_bob("p1").await.unwrap();
    proxy.blackhole(false);

    // Until the new session is up, then everything that follows within a quiet second
    // (with the gap filler: until both dialogs are synced).
    let mut new_session = false;
    loop {
        let wait = if new_session && (!gap_fill || synced.len() == 2) {
            Duration::from_secs(1)
        } else {
            WAIT
        };
        let Ok(e) = tokio::time::timeout(wait, events.next()).await else {
            break;
        };
        let e = e.unwrap();
        new_session |= matches!(e, Event::State(ConnectionState::NewSession));
        collect(e, &mut seen, &mut synced);
    }
    assert!(new_session, "the reconnect made a new session");
    // After the gap: Ann's next message still comes live.
    to_group("g4").await.unwrap();
    loop {
        let e = tokio::time::timeout(WAIT, events.next())
            .await
            .unwrap()
            .unwrap();
        collect(e, &mut seen, &mut synced);
        if seen.last().is_some_and(|(b, _)| b == "g4") {
            break;
        }
    }
    ann.logout().await;
    bob.logout().await;
    srv.shutdown().await;
    (seen, synced, [group, private])
}

fn bodies(seen: &[(String, bool)]) -> Vec<&str> {
    seen.iter().map(|(b, _)| b.as_str()).collect()
}

#[tokio::test]
async fn what_was_sent_while_away_is_fetched_once_in_order_then_synced() {
    let (seen, synced, [group, private]) = run(true).await;
    let all = bodies(&seen);
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len(), "no message twice: {all:?}");
    assert_eq!(sorted, ["g0", "g1", "g2", "g3", "g4", "p0", "p1"]);
    // The group's gap came from the history, in send order.
    let gap: Vec<&str> = seen
        .iter()
        .filter(|(b, h)| *h && b.starts_with('g'))
        .map(|(b, _)| b.as_str())
        .collect();
    assert_eq!(gap, ["g1", "g2", "g3"]);
    assert_eq!(synced[&group].fetched, 3);
    // p1 came once: live from the server's offline store or from the history, not both.
    assert!(synced.contains_key(&private));
}

#[tokio::test]
async fn without_the_gap_filler_the_groups_gap_stays_open() {
    let (seen, synced, _) = run(false).await;
    let all = bodies(&seen);
    assert!(!all.contains(&"g1"), "{all:?}");
    assert!(
        all.contains(&"p1"),
        "1-1 messages come from the offline store anyway"
    );
    assert!(synced.is_empty());
}
