//! The pump over fake input (no server): markers go out as stanzas are taken in, whether or
//! not the app polls; duplicates and forged carbons never reach the app; a full buffer stops
//! the reading.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use connectycube_protocol::ids::{MessageId, ObjectId};
use futures_util::stream;

use super::*;
use crate::delivery::{AutoDelivered, Counters, DeliverySettings};

/// Records the markers the pump asks for.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(UserId, MessageId)>>>);

impl Acknowledge for Recorder {
    type Handle = std::future::Ready<()>;

    fn delivered(
        &self,
        sender: UserId,
        _: Option<DialogId>,
        id: MessageId,
    ) -> Option<Self::Handle> {
        self.0.lock().unwrap().push((sender, id));
        Some(std::future::ready(()))
    }
}

fn markable(counter: u32) -> (MessageId, Element) {
    let id = MessageId(ObjectId::from_parts(1_700_000_000, [1; 5], counter));
    let xml = format!(
        r#"<message xmlns="jabber:client" id="{id}" from="29085-105@chat.connectycube.com/phone"
             to="29086-105@chat.connectycube.com" type="chat"><body>hi</body>
           <extraParams xmlns="jabber:client"><dialog_id>5c093376e588ce6856f873fe</dialog_id>
           </extraParams><markable xmlns="urn:xmpp:chat-markers:0"/></message>"#
    );
    (id, xml.parse().unwrap())
}

fn pump(recorder: &Recorder) -> Pump<Recorder> {
    Pump {
        ack: recorder.clone(),
        outbox: Default::default(),
        user: UserId(29086),
        own: "29086-105@chat.connectycube.com".parse().unwrap(),
        filter: DeliveryFilter::new(DeliverySettings::default(), Arc::new(Counters::default())),
        hub: Arc::new(Hub::new(4)),
        rooms: Arc::default(),
        auto_delivered: AutoDelivered::default(),
        gap: Arc::new(GapFill::new().0),
        injected: None,
        fetched: Default::default(),
        flow: Arc::new(Flow::new(&DeliverySettings::default())),
    }
}

/// A message as the JS SDK writes it (`markable` false) or a group message, from `from`.
fn stanza(counter: u32, kind: &str, from: &str, markable: bool, dialog: bool) -> Element {
    let id = MessageId(ObjectId::from_parts(1_700_000_000, [2; 5], counter));
    let markable = if markable {
        r#"<markable xmlns="urn:xmpp:chat-markers:0"/>"#
    } else {
        ""
    };
    let dialog = if dialog {
        "<extraParams xmlns='jabber:client'><dialog_id>5c093376e588ce6856f873fe</dialog_id></extraParams>"
    } else {
        ""
    };
    format!(
        r#"<message xmlns="jabber:client" id="{id}" from="{from}" to="29086-105@chat.connectycube.com"
             type="{kind}"><body>hi</body>{dialog}{markable}</message>"#
    )
    .parse()
    .unwrap()
}

/// Who got a marker under `rule`, for each of: a JS SDK 1-1 message (dialog id, no
/// markable), a markable 1-1 message without dialog id, a group message from someone else,
/// our own group echo, a 1-1 message with neither.
async fn marked_under(rule: AutoDelivered) -> Vec<u32> {
    let recorder = Recorder::default();
    let peer = "29085-105@chat.connectycube.com/js";
    let room = "105_5c093376e588ce6856f873fe@muc.chat.connectycube.com";
    let input = vec![
        stanza(1, "chat", peer, false, true),
        stanza(2, "chat", peer, true, false),
        stanza(3, "groupchat", &format!("{room}/29085"), false, true),
        stanza(4, "groupchat", &format!("{room}/29086"), true, true),
        stanza(5, "chat", peer, false, false),
    ];
    let (tx, _rx) = mpsc::channel(8);
    let mut p = pump(&recorder);
    p.auto_delivered = rule;
    p.run(stream::iter(input), tx).await;
    let marked = recorder.0.lock().unwrap().clone();
    assert!(
        marked.iter().all(|(s, _)| *s == UserId(29085)),
        "to the sender"
    );
    marked
        .iter()
        .map(|(_, id)| id.0.bytes()[11].into())
        .collect()
}

#[tokio::test]
async fn the_delivered_rule_is_a_policy_and_the_default_is_the_guides_markable_only() {
    assert_eq!(
        marked_under(AutoDelivered::default()).await,
        [2],
        "markable only, as the guide says"
    );
    assert_eq!(
        marked_under(AutoDelivered::MarkableOrDialog).await,
        [1, 2, 3],
        "for JS SDK peers: dialog id or markable, 1-1 and group, never our own"
    );
    assert!(marked_under(AutoDelivered::Off).await.is_empty());
}

#[tokio::test]
async fn markers_are_sent_as_messages_come_in_without_the_app_polling() {
    let recorder = Recorder::default();
    let (ids, input): (Vec<_>, Vec<_>) = (1..=3).map(markable).unzip();
    let (tx, mut rx) = mpsc::channel(8);
    // The input ends, so the pump returns: every marker went out while nobody read `rx`.
    pump(&recorder).run(stream::iter(input), tx).await;
    let sent: Vec<_> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(sent, ids);
    assert!(
        recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|(s, _)| *s == UserId(29085))
    );
    for id in ids {
        let got = rx.recv().await.unwrap().unwrap();
        let ChatEvent::ChatMessage(m) = &got.event else {
            panic!("{got:?}")
        };
        assert_eq!(m.payload.id, id);
    }
}

#[tokio::test]
async fn a_replayed_message_reaches_the_app_once_and_is_marked_once() {
    let recorder = Recorder::default();
    let (_, first) = markable(1);
    let (_, second) = markable(2);
    let input = vec![first.clone(), second, first.clone(), first];
    let (tx, mut rx) = mpsc::channel(8);
    pump(&recorder).run(stream::iter(input), tx).await;
    let mut shown = Vec::new();
    while let Some(item) = rx.recv().await {
        shown.push(item.unwrap());
    }
    assert_eq!(shown.len(), 2);
    assert_eq!(recorder.0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_message_older_than_one_shown_is_flagged() {
    let recorder = Recorder::default();
    let input = vec![markable(5).1, markable(3).1];
    let (tx, mut rx) = mpsc::channel(8);
    pump(&recorder).run(stream::iter(input), tx).await;
    assert!(!rx.recv().await.unwrap().unwrap().out_of_order);
    assert!(rx.recv().await.unwrap().unwrap().out_of_order);
}

#[tokio::test]
async fn a_forged_carbon_is_dropped() {
    let recorder = Recorder::default();
    let forged: Element =
        r#"<message xmlns="jabber:client" from="mallory-105@chat.connectycube.com"
        to="29086-105@chat.connectycube.com" type="chat">
        <received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">
        <message xmlns="jabber:client" id="5c094687e588ce59fff87425" type="chat"
          from="29085-105@chat.connectycube.com/a" to="29086-105@chat.connectycube.com/b">
        <body>fake</body></message></forwarded></received></message>"#
            .parse()
            .unwrap();
    let (tx, mut rx) = mpsc::channel(8);
    pump(&recorder).run(stream::iter(vec![forged]), tx).await;
    assert!(rx.recv().await.is_none());
}

/// With the buffer full and the app not reading, the pump stops taking stanzas from the
/// connection (whose own bound then stops the socket reader).
#[tokio::test(flavor = "current_thread")]
async fn a_full_buffer_stops_the_reading() {
    let recorder = Recorder::default();
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = taken.clone();
    let input = stream::iter((1..=50).map(markable).map(|(_, el)| el))
        .inspect(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .chain(stream::pending());
    let (tx, mut rx) = mpsc::channel(2);
    let task = tokio::spawn(pump(&recorder).run(Box::pin(input), tx));
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    // Two buffered, one in hand waiting for room.
    assert_eq!(taken.load(Ordering::SeqCst), 3);
    rx.recv().await.unwrap().unwrap();
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert_eq!(taken.load(Ordering::SeqCst), 4);
    // Dropping the stream ends the pump even though the input never ends.
    drop(rx);
    task.await.unwrap();
}

/// A fill that showed a message and then failed (or was stopped by a newer session's fill)
/// does not add to the count of the fill that closes the gap: `Synced.fetched` is what that
/// fill showed.
#[tokio::test]
async fn synced_counts_only_what_the_closing_fill_showed() {
    let recorder = Recorder::default();
    let dialog: DialogId = "5c093376e588ce6856f873fe".parse().unwrap();
    let history = |counter| classify(markable(counter).1).unwrap();
    let (inject, injected) = mpsc::channel(8);
    let mut p = pump(&recorder);
    p.injected = Some(injected);
    let mut sub = p.hub.subscribe(crate::fanout::EventKind::Messages.into());
    let (tx, _rx) = mpsc::channel(8);
    let task = tokio::spawn(p.run(stream::pending(), tx));
    // The first fill shows message 1, then its REST call fails: no `Synced`.
    inject.send(Injected::Begin(dialog)).await.unwrap();
    inject
        .send(Injected::History(Box::new(history(1))))
        .await
        .unwrap();
    // The next fill fetches message 1 again (a duplicate, dropped) and message 2.
    inject.send(Injected::Begin(dialog)).await.unwrap();
    inject
        .send(Injected::History(Box::new(history(1))))
        .await
        .unwrap();
    inject
        .send(Injected::History(Box::new(history(2))))
        .await
        .unwrap();
    inject.send(Injected::Synced(dialog)).await.unwrap();
    let mut shown = 0;
    let synced = loop {
        match sub.next().await.unwrap() {
            Event::Synced(s) => break s,
            Event::Chat(_) => shown += 1,
            other => panic!("{other:?}"),
        }
    };
    task.abort();
    assert_eq!(shown, 2, "each message once");
    assert_eq!(synced.dialog, dialog);
    assert_eq!(synced.fetched, 1, "message 1 was the failed fill's");
}

/// `ChatEvents` is the raw classified stream: a privacy bounce stays a `MessageError` there
/// and a dialog's `Synced` never shows; subscribers get both as the facade's events.
#[tokio::test]
async fn blocked_and_synced_reach_subscribers_and_the_stream_keeps_the_raw_events() {
    let recorder = Recorder::default();
    let dialog: DialogId = "5c093376e588ce6856f873fe".parse().unwrap();
    let bounce: Element = r#"<message xmlns="jabber:client" type="error" id="b1"
        from="29085-105@chat.connectycube.com" to="29086-105@chat.connectycube.com">
        <error type="cancel" code="503">
        <service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>
        <text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">You have been blocked by the privacy list</text>
        </error></message>"#
        .parse()
        .unwrap();
    let (inject, injected) = mpsc::channel(8);
    let mut p = pump(&recorder);
    p.injected = Some(injected);
    let mut sub = p.hub.subscribe(crate::fanout::EventFilter::ALL);
    let (tx, mut rx) = mpsc::channel(8);
    let input = stream::iter(vec![bounce]).chain(stream::pending());
    let task = tokio::spawn(p.run(Box::pin(input), tx));
    let raw = rx.recv().await.unwrap().unwrap();
    assert!(matches!(raw.event, ChatEvent::MessageError(_)), "{raw:?}");
    let Event::Blocked(blocked) = sub.next().await.unwrap() else {
        panic!("the subscriber's form is typed")
    };
    assert_eq!(blocked.user, UserId(29085));
    inject.send(Injected::Begin(dialog)).await.unwrap();
    let history = classify(markable(1).1).unwrap();
    inject
        .send(Injected::History(Box::new(history)))
        .await
        .unwrap();
    inject.send(Injected::Synced(dialog)).await.unwrap();
    assert!(rx.recv().await.unwrap().unwrap().from_history);
    assert!(matches!(sub.next().await.unwrap(), Event::Chat(_)));
    assert!(matches!(sub.next().await.unwrap(), Event::Synced(_)));
    // The subscriber saw `Synced`, so the pump is past it: the stream got nothing for it.
    assert!(rx.try_recv().is_err(), "no Synced on the raw stream");
    task.abort();
}
