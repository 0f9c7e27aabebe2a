//! Nothing missed while away, against the devserver: bob's connection is cut, the server
//! forgets his session (no resumption), Ann sends to their group and to him meanwhile; after
//! the new session bob's client rejoins, fetches the gap from the REST history and delivers
//! each message once, in order, then says each dialog is synced. Then the fill's bounds and
//! failures ([`away`]): a server that ignores the page size, a fill that fails, more missed
//! than a fill takes, a thousand rooms of which a few got messages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "gap_fill/away.rs"]
mod away;

use std::collections::HashMap;
use std::time::Duration;

use connectycube::fanout::Synced;
use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::DialogId;
use connectycube::protocol::model::Message;
use connectycube::rest::RestError;
use connectycube::rest::chat::dialogs::CreateDialog;
use connectycube::rest::session::Secret;
use connectycube::transport::session::{ConnectionState, SessionSettings};
use connectycube::{AppConfig, Client, Error, Event, EventFilter, EventKind, Retry};
use connectycube_devserver::rest::{RestFault, RouteFault};
use support::proxy::Proxy;
use support::{WAIT, app_config, credentials, rest, server_with, user};

use away::{Away, Outcome};

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

/// A server that answers every matching message whatever the page's `limit`: the fill keeps
/// what it asked for per page and no more than its bound in all (3,000 missed, each page
/// answering all that remain: before the fix the first page alone showed all 3,000).
#[tokio::test]
async fn a_server_ignoring_the_page_limit_cannot_flood_the_app() {
    let mut away = Away::new(1, |_| {}).await;
    let room = away.rooms[0];
    away.sent_while_away(room, 3_000);
    let hostile = RouteFault::new("ListMessages", RestFault::IgnoreLimit).times(1_000);
    away.srv.rest().inject_route_fault(hostile);
    away.come_back().await;
    let seen = away.outcome().await;
    assert_eq!(
        seen.history[&room],
        Away::bodies(0, 1_000),
        "the first 1,000, in order"
    );
    let synced = &seen.synced[&room];
    assert_eq!((synced.fetched, synced.complete), (1_000, false));
    away.end().await;
}

/// More missed than a fill takes (3,000 in one room): the first 1,000 are shown in order
/// and its `Synced` says the rest is in the history; exactly 1,000 (another room) is whole.
#[tokio::test]
async fn more_missed_than_a_fill_takes_is_said_not_hidden() {
    let mut away = Away::new(2, |_| {}).await;
    let [busy, full] = [away.rooms[0], away.rooms[1]];
    away.sent_while_away(busy, 3_000);
    away.sent_while_away(full, 1_000);
    away.come_back().await;
    let seen = away.outcome().await;
    assert_eq!(seen.history[&busy], Away::bodies(0, 1_000));
    let synced = &seen.synced[&busy];
    assert_eq!((synced.fetched, synced.complete), (1_000, false));
    assert!(synced.to_string().contains("Dialog::history()"), "{synced}");
    assert_eq!(seen.history[&full], Away::bodies(0, 1_000));
    let synced = &seen.synced[&full];
    assert_eq!(
        (synced.fetched, synced.complete),
        (1_000, true),
        "nothing more"
    );
    away.end().await;
}

/// Which request fails and how, and what the app must be told.
async fn failed_fill(
    missed: usize,
    fault: RouteFault,
    adjust: impl FnOnce(&mut AppConfig),
) -> (Outcome, DialogId) {
    let mut away = Away::new(1, adjust).await;
    let room = away.rooms[0];
    away.sent_while_away(room, missed);
    away.srv.rest().inject_route_fault(fault);
    away.come_back().await;
    let seen = away.outcome().await;
    away.end().await;
    assert!(
        !seen.synced.contains_key(&room),
        "a failed fill is not synced"
    );
    assert_eq!(seen.late, 0, "the failure comes after what the fill showed");
    (seen, room)
}

/// A history page that is not JSON, after a first page that was: the app gets the first
/// page's messages, then `SyncFailed` with their count and the decode error (final).
#[tokio::test]
async fn a_malformed_history_page_fails_the_fill_visibly_after_what_it_showed() {
    let fault = RouteFault::new("ListMessages", RestFault::MalformedJson).after(1);
    let (seen, room) = failed_fill(150, fault, |_| {}).await;
    assert_eq!(seen.history[&room], Away::bodies(0, 100));
    let failed = &seen.failed[&room];
    assert_eq!(failed.fetched, 100);
    assert!(
        matches!(&*failed.error, Error::Rest(RestError::Decode { .. })),
        "{failed:?}"
    );
    assert_eq!(failed.error.retry(), Retry::Permanent);
}

/// An answer over the REST client's size cap fails the fill visibly.
#[tokio::test]
async fn an_oversized_history_answer_fails_the_fill_visibly() {
    let fault = RouteFault::new("ListMessages", RestFault::Oversized(2 << 20));
    let (seen, room) = failed_fill(5, fault, |c| c.rest.max_response_bytes = 1 << 20).await;
    assert_eq!(seen.shown(room), 0);
    let failed = &seen.failed[&room];
    assert!(
        matches!(
            &*failed.error,
            Error::Rest(RestError::ResponseTooLarge { .. })
        ),
        "{failed:?}"
    );
}

/// A 500 on the history request and on each of the REST client's 3 retries: `SyncFailed`,
/// and its error says a later retry may work.
#[tokio::test]
async fn a_failing_server_fails_the_fill_visibly_and_retryably() {
    let status = RestFault::Status(http::StatusCode::INTERNAL_SERVER_ERROR);
    let fault = RouteFault::new("ListMessages", status).times(4);
    let (seen, room) = failed_fill(5, fault, |_| {}).await;
    let failed = &seen.failed[&room];
    assert!(
        matches!(
            &*failed.error,
            Error::Rest(RestError::Http { status: 500, .. })
        ),
        "{failed:?}"
    );
    assert!(matches!(failed.error.retry(), Retry::Transient { .. }));
    assert!(failed.to_string().contains(&room.to_string()), "{failed}");
}

/// Rooms bob is in after the new session; a few of them get messages while he is away. The
/// full thousand of the issue: joins, rejoins and the fill take under 2 s in a debug build.
const ROOMS: usize = 1_000;
/// The rooms that got messages while away.
const CHANGED: usize = 5;
/// The rooms that got a message bob saw before he went away.
const SEEN: usize = 3;

/// A thousand joined rooms of which five got messages while away (and three had messages
/// bob saw before): one dialogs-list request, then the history of those five only, not
/// one request per room; every room is synced.
#[tokio::test]
async fn only_the_rooms_that_got_messages_are_asked_for_their_history() {
    let mut away = Away::new(ROOMS, |_| {}).await;
    let rooms = away.rooms.clone();
    // Ann says hello live in three rooms: they changed, but bob saw it.
    let (ann, _, _) = user(&away.srv, "ann").await;
    for room in &rooms[CHANGED..CHANGED + SEEN] {
        ann.chat().join(*room).await.unwrap();
        let mut m = Message::new("hello");
        m.dialog_id = Some(*room);
        ann.chat().send_to_dialog(*room, &m).await.unwrap();
    }
    away.live(SEEN).await;
    // Then five others get messages, right before the cut: the dialogs' `updated_at` falls
    // in the gap, as for messages sent during it.
    for (n, room) in rooms.iter().take(CHANGED).enumerate() {
        away.sent_while_away(*room, n + 1);
    }
    let history_before = away.srv.rest().served("ListMessages");
    let lists_before = away.srv.rest().served("ListDialogs");
    away.come_back().await;
    let seen = away.outcome().await;
    let history = away.srv.rest().served("ListMessages") - history_before;
    let lists = away.srv.rest().served("ListDialogs") - lists_before;
    assert_eq!(
        history, CHANGED as u64,
        "one history request per room that changed"
    );
    assert_eq!(lists, 1, "the changed dialogs fit one list page");
    assert_eq!(seen.synced.len(), ROOMS, "every room is synced");
    for (n, room) in rooms.iter().enumerate() {
        let fetched = if n < CHANGED { n + 1 } else { 0 };
        assert_eq!(seen.synced[room].fetched, fetched, "room {n}");
        assert!(seen.synced[room].complete);
    }
    ann.chat().logout().await;
    away.end().await;
}

/// When the dialogs list cannot be read, the fill does not guess: it asks every room's
/// history, as it did before it had the list, and shows what the changed one got.
#[tokio::test]
async fn without_the_dialogs_list_every_room_is_asked_for_its_history() {
    let mut away = Away::new(3, |_| {}).await;
    let changed = away.rooms[1];
    away.sent_while_away(changed, 2);
    let refused = RestFault::Status(http::StatusCode::UNPROCESSABLE_ENTITY);
    away.srv
        .rest()
        .inject_route_fault(RouteFault::new("ListDialogs", refused));
    let before = away.srv.rest().served("ListMessages");
    away.come_back().await;
    let seen = away.outcome().await;
    assert_eq!(away.srv.rest().served("ListMessages") - before, 3);
    assert_eq!(seen.history[&changed], Away::bodies(0, 2));
    assert_eq!(seen.synced.len(), 3, "every room synced");
    away.end().await;
}
