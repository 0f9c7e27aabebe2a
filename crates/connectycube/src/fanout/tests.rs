//! The hub without a server: every subscriber gets every event it asked for, and a slow one
//! is told exactly what it missed, at the place of the gap, then gets the latest events.

use std::sync::Arc;

use connectycube_protocol::classify_xml;
use connectycube_protocol::ids::{MessageId, ObjectId};
use futures_util::FutureExt;

use super::*;

const DIALOG: &str = "5c093376e588ce6856f873fe";

/// Publishes to subscriptions that never hold the publisher back.
fn publish(hub: &Hub, event: Event) {
    futures_util::FutureExt::now_or_never(hub.publish(event))
        .expect("a lagging subscription never waits");
}

fn message(counter: u32) -> Event {
    message_in(counter, DIALOG)
}

fn message_in(counter: u32, dialog: &str) -> Event {
    let id = MessageId(ObjectId::from_parts(1_700_000_000, [1; 5], counter));
    let event = classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{id}" from="29085-105@chat.connectycube.com/a"
             to="29086-105@chat.connectycube.com" type="chat"><body>{counter}</body>
           <extraParams xmlns="jabber:client"><dialog_id>{dialog}</dialog_id></extraParams>
           </message>"#
    ))
    .unwrap();
    Event::Chat(Received {
        event,
        out_of_order: false,
        from_history: false,
    })
}

fn typing() -> Event {
    let event = classify_xml(
        r#"<message xmlns="jabber:client" from="29085-105@chat.connectycube.com/a"
             to="29086-105@chat.connectycube.com" type="chat">
           <composing xmlns="http://jabber.org/protocol/chatstates"/></message>"#,
    )
    .unwrap();
    Event::Chat(Received {
        event,
        out_of_order: false,
        from_history: false,
    })
}

fn body(e: &Event) -> String {
    match e.chat() {
        Some(ChatEvent::ChatMessage(m)) => m.payload.body.clone().unwrap(),
        other => panic!("not a message: {other:?} / {e:?}"),
    }
}

/// Everything queued now, without waiting.
fn drain(sub: &mut Subscription) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(Some(e)) = sub.next().now_or_never() {
        out.push(e);
    }
    out
}

#[test]
fn every_subscriber_gets_every_event_and_a_slow_one_is_told_what_it_missed() {
    let hub = Arc::new(Hub::new(3));
    let mut fast = hub.subscribe(EventFilter::ALL, false);
    let mut slow = hub.subscribe(EventFilter::ALL, false);
    let mut seen_fast = Vec::new();
    for n in 1..=10 {
        publish(&hub, message(n));
        seen_fast.extend(drain(&mut fast).iter().map(body));
    }
    assert_eq!(
        seen_fast,
        (1..=10).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    // The slow one read nothing: 7 counted (the count names the dialog), the latest 3 kept.
    let got = drain(&mut slow);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        got[1..].iter().map(body).collect::<Vec<_>>(),
        ["8", "9", "10"]
    );
    let Event::Lagged(lag) = &got[0] else {
        panic!("{:?}", got[0])
    };
    assert_eq!(lag.missed, 7);
    assert_eq!(lag.missed_messages, 7);
    assert_eq!(
        lag.dialogs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [DIALOG]
    );
}

#[test]
fn the_gap_is_reported_where_it_happened() {
    let hub = Arc::new(Hub::new(2));
    let mut slow = hub.subscribe(EventFilter::ALL, false);
    publish(&hub, message(1));
    assert_eq!(body(&drain_one(&mut slow)), "1");
    for n in 2..=6 {
        publish(&hub, message(n));
    }
    // 2, 3 and 4 fell out of the log unread: the notice comes where they were.
    let rest = drain(&mut slow);
    let Event::Lagged(lag) = &rest[0] else {
        panic!("{rest:?}")
    };
    assert_eq!(lag.missed, 3, "2, 3 and 4 were dropped unread");
    assert_eq!(body(&rest[1]), "5");
    assert_eq!(body(&rest[2]), "6");
    assert_eq!(rest.len(), 3);
}

#[test]
fn the_dialogs_a_lag_names_are_bounded() {
    let hub = Arc::new(Hub::new(1));
    let mut slow = hub.subscribe(EventFilter::ALL, false);
    let extra = 10;
    for n in 0..(MAX_LAGGED_DIALOGS + extra) as u32 {
        let dialog = ObjectId::from_parts(1_700_000_000, [2; 5], n).to_string();
        publish(&hub, message_in(n + 1, &dialog));
    }
    let got = drain(&mut slow);
    let Event::Lagged(lag) = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(lag.missed_messages, (MAX_LAGGED_DIALOGS + extra - 1) as u64);
    assert_eq!(got.len(), 2, "the latest one kept");
    assert_eq!(lag.dialogs.len(), MAX_LAGGED_DIALOGS);
    assert!(lag.dialogs_truncated);
}

fn drain_one(sub: &mut Subscription) -> Event {
    sub.next().now_or_never().flatten().unwrap()
}

#[test]
fn a_subscriber_gets_only_the_kinds_it_asked_for() {
    let hub = Arc::new(Hub::new(16));
    let mut messages = hub.subscribe(EventKind::Messages.into(), false);
    let mut typing_and_states = hub.subscribe(
        EventFilter::only(EventKind::Typing).and(EventKind::Connection),
        false,
    );
    publish(&hub, typing());
    publish(&hub, message(1));
    publish(&hub, Event::State(ConnectionState::Ready));
    let got = drain(&mut messages);
    assert_eq!(got.iter().map(body).collect::<Vec<_>>(), ["1"]);
    let got = drain(&mut typing_and_states);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].kind(), Some(EventKind::Typing));
    assert!(matches!(got[1], Event::State(ConnectionState::Ready)));
}

#[test]
fn a_filtered_subscriber_counts_only_what_it_asked_for() {
    let hub = Arc::new(Hub::new(1));
    let mut messages = hub.subscribe(EventKind::Messages.into(), false);
    for n in 1..=3 {
        publish(&hub, message(n));
        publish(&hub, typing());
    }
    // The log holds one event, shared: the typing notices pushed the messages out.
    let got = drain(&mut messages);
    let Event::Lagged(lag) = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(
        lag.missed, 3,
        "typing is not counted: it was never asked for"
    );
    assert_eq!(got.len(), 1, "the typing notice kept is not for this one");
}

#[tokio::test]
async fn dropped_subscribers_are_forgotten_and_ending_ends_the_others() {
    let hub = Arc::new(Hub::new(4));
    let dropped = hub.subscribe(EventFilter::ALL, false);
    let mut kept = hub.subscribe(EventFilter::ALL, false);
    assert_eq!(hub.readers(), 2);
    drop(dropped);
    publish(&hub, message(1));
    assert_eq!(hub.readers(), 1);
    let waiting = tokio::spawn(async move {
        let first = kept.next().await;
        let second = kept.next().await;
        (first.is_some(), second.is_none())
    });
    tokio::task::yield_now().await;
    hub.end();
    assert_eq!(waiting.await.unwrap(), (true, true));
    assert!(
        hub.subscribe(EventFilter::ALL, false)
            .next()
            .await
            .is_none()
    );
}

/// A lossless subscription holds the publisher back when the log is full, and lets it go
/// when it reads or is dropped.
#[tokio::test(flavor = "current_thread")]
async fn a_lossless_subscription_holds_the_publisher_until_it_reads() {
    let hub = Arc::new(Hub::new(2));
    let mut lossless = hub.subscribe(EventFilter::ALL, true);
    publish(&hub, message(1));
    publish(&hub, message(2));
    let third = hub.publish(message(3));
    let mut third = std::pin::pin!(third);
    assert!(third.as_mut().now_or_never().is_none(), "full: waits");
    assert_eq!(body(&drain_one(&mut lossless)), "1");
    third.await;
    assert_eq!(
        drain(&mut lossless).iter().map(body).collect::<Vec<_>>(),
        ["2", "3"],
        "nothing missed"
    );
    publish(&hub, message(4));
    publish(&hub, message(5));
    let sixth = hub.publish(message(6));
    drop(lossless);
    sixth.await;
}

/// 10,000 subscriptions that never read cost their cursors, not a queue each: the log
/// keeps only its capacity of events, and a reading one gets everything.
#[test]
fn ten_thousand_unread_subscriptions_share_one_bounded_log() {
    let hub = Arc::new(Hub::new(64));
    let unread: Vec<_> = (0..10_000)
        .map(|_| hub.subscribe(EventFilter::ALL, false))
        .collect();
    let mut reader = hub.subscribe(EventFilter::ALL, false);
    let mut got = 0;
    for n in 0..2_000 {
        publish(&hub, message(n));
        got += drain(&mut reader).len();
    }
    assert_eq!(got, 2_000);
    assert!(hub.logged() <= 64, "{} events kept", hub.logged());
    drop(unread);
}

/// An event is stored once: every subscription's queue holds the same allocation.
#[test]
fn subscribers_share_one_copy_of_each_event() {
    let hub = Arc::new(Hub::new(8));
    let mut subs: Vec<_> = (0..3)
        .map(|_| hub.subscribe(EventFilter::ALL, false))
        .collect();
    publish(&hub, message(1));
    let waker = futures_util::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let got: Vec<_> = subs
        .iter_mut()
        .map(|s| match s.poll_shared(&mut cx) {
            std::task::Poll::Ready(Some(e)) => e,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(Arc::ptr_eq(&got[0], &got[1]) && Arc::ptr_eq(&got[1], &got[2]));
}
