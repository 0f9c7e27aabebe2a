//! The hub without a server: every subscriber gets every event it asked for, and a slow one
//! is told exactly what it missed, at the place of the gap.

use connectycube_protocol::classify_xml;
use connectycube_protocol::ids::{MessageId, ObjectId};
use futures_util::FutureExt;

use super::*;

const DIALOG: &str = "5c093376e588ce6856f873fe";

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
    let hub = Hub::new(3);
    let mut fast = hub.subscribe(EventFilter::ALL);
    let mut slow = hub.subscribe(EventFilter::ALL);
    let mut seen_fast = Vec::new();
    for n in 1..=10 {
        hub.publish(&message(n));
        seen_fast.extend(drain(&mut fast).iter().map(body));
    }
    assert_eq!(
        seen_fast,
        (1..=10).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    // The slow one read nothing: 3 kept, 7 counted, and the count names the dialog.
    let got = drain(&mut slow);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        got[..3].iter().map(body).collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    let Event::Lagged(lag) = &got[3] else {
        panic!("{:?}", got[3])
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
    let hub = Hub::new(2);
    let mut slow = hub.subscribe(EventFilter::ALL);
    for n in 1..=5 {
        hub.publish(&message(n));
    }
    // Reads one: room for the next event, which comes after the notice of the gap.
    assert_eq!(body(&drain_one(&mut slow)), "1");
    hub.publish(&message(6));
    let rest = drain(&mut slow);
    assert_eq!(body(&rest[0]), "2");
    let Event::Lagged(lag) = &rest[1] else {
        panic!("{rest:?}")
    };
    assert_eq!(lag.missed, 3, "3, 4 and 5 had no room");
    assert_eq!(body(&rest[2]), "6");
    assert_eq!(rest.len(), 3);
}

#[test]
fn the_dialogs_a_lag_names_are_bounded() {
    let hub = Hub::new(1);
    let mut slow = hub.subscribe(EventFilter::ALL);
    let extra = 10;
    for n in 0..(MAX_LAGGED_DIALOGS + extra) as u32 {
        let dialog = ObjectId::from_parts(1_700_000_000, [2; 5], n).to_string();
        hub.publish(&message_in(n + 1, &dialog));
    }
    drain_one(&mut slow);
    hub.publish(&message(9_999));
    let got = drain(&mut slow);
    let Event::Lagged(lag) = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(lag.missed_messages, (MAX_LAGGED_DIALOGS + extra - 1) as u64);
    assert_eq!(lag.dialogs.len(), MAX_LAGGED_DIALOGS);
    assert!(lag.dialogs_truncated);
}

fn drain_one(sub: &mut Subscription) -> Event {
    sub.next().now_or_never().flatten().unwrap()
}

#[test]
fn a_subscriber_gets_only_the_kinds_it_asked_for() {
    let hub = Hub::new(16);
    let mut messages = hub.subscribe(EventKind::Messages.into());
    let mut typing_and_states =
        hub.subscribe(EventFilter::only(EventKind::Typing).and(EventKind::Connection));
    hub.publish(&typing());
    hub.publish(&message(1));
    hub.publish(&Event::State(ConnectionState::Ready));
    let got = drain(&mut messages);
    assert_eq!(got.iter().map(body).collect::<Vec<_>>(), ["1"]);
    let got = drain(&mut typing_and_states);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].kind(), Some(EventKind::Typing));
    assert!(matches!(got[1], Event::State(ConnectionState::Ready)));
}

#[test]
fn a_filtered_subscriber_counts_only_what_it_asked_for() {
    let hub = Hub::new(1);
    let mut messages = hub.subscribe(EventKind::Messages.into());
    for n in 1..=3 {
        hub.publish(&message(n));
        hub.publish(&typing());
    }
    let got = drain(&mut messages);
    let Event::Lagged(lag) = &got[1] else {
        panic!("{got:?}")
    };
    assert_eq!(
        lag.missed, 2,
        "typing is not counted: it was never asked for"
    );
}

#[tokio::test]
async fn dropped_subscribers_are_forgotten_and_ending_ends_the_others() {
    let hub = Hub::new(4);
    let dropped = hub.subscribe(EventFilter::ALL);
    let mut kept = hub.subscribe(EventFilter::ALL);
    assert!(hub.has_subscribers());
    drop(dropped);
    hub.publish(&message(1));
    assert_eq!(lock(&hub.slots).len(), 1);
    let waiting = tokio::spawn(async move {
        let first = kept.next().await;
        let second = kept.next().await;
        (first.is_some(), second.is_none())
    });
    tokio::task::yield_now().await;
    hub.end();
    assert_eq!(waiting.await.unwrap(), (true, true));
    assert!(hub.subscribe(EventFilter::ALL).next().await.is_none());
}
