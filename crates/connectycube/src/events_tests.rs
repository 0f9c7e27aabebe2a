//! The pump over fake input (no server): markers go out as stanzas are taken in, whether or
//! not the app polls; duplicates and forged carbons never reach the app; only a full lossless
//! subscription stops the reading; the pump ends with the session's last handle.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use connectycube_protocol::ids::{MessageId, ObjectId};
use futures_util::stream;

use super::*;
use crate::delivery::{AutoDelivered, Counters, DeliverySettings};
use crate::fanout::{EventFilter, Subscription};
use connectycube_transport::session::{ConnectionState, StateChange};

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
        hub: Arc::new(Hub::new(64)),
        rooms: Arc::default(),
        auto_delivered: AutoDelivered::default(),
        gap: Arc::new(GapFill::new().0),
        injected: None,
        fetched: Default::default(),
        flow: Arc::new(Flow::new(&DeliverySettings::default())),
        store: crate::StoreConfig::memory().open().unwrap(),
        echoes: Vec::new(),
    }
}

/// Runs `p` over `input` to its end, and gives what a subscription made before got.
async fn run_to_end(p: Pump<Recorder>, input: Vec<Element>) -> Vec<Event> {
    let mut sub = p.hub.subscribe(EventFilter::ALL, false);
    let (_alive, alive) = Alive::new();
    let input = stream::iter(input.into_iter().map(Stanza::from));
    p.run(input, stream::pending(), alive).await;
    let mut got = Vec::new();
    while let Some(event) = sub.next().await {
        got.push(event);
    }
    got
}

/// The messages among `events`.
fn received(events: Vec<Event>) -> Vec<Received> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Chat(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The next message `sub` gets.
async fn next_received(sub: &mut Subscription) -> Received {
    loop {
        if let Event::Chat(r) = sub.next().await.unwrap() {
            return r;
        }
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
    let mut p = pump(&recorder);
    p.auto_delivered = rule;
    run_to_end(p, input).await;
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
    // The input ends, so the pump returns: every marker went out while nobody read.
    let shown = received(run_to_end(pump(&recorder), input).await);
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
    assert_eq!(shown.len(), ids.len());
    for (id, got) in ids.into_iter().zip(shown) {
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
    let shown = received(run_to_end(pump(&recorder), input).await);
    assert_eq!(shown.len(), 2);
    assert_eq!(recorder.0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_message_older_than_one_shown_is_flagged() {
    let recorder = Recorder::default();
    let input = vec![markable(5).1, markable(3).1];
    let shown = received(run_to_end(pump(&recorder), input).await);
    assert!(!shown[0].out_of_order);
    assert!(shown[1].out_of_order);
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
    assert!(run_to_end(pump(&recorder), vec![forged]).await.is_empty());
}

/// Fifty markable messages, counting how many the pump took in, then never ending.
fn counted_input(taken: &Arc<AtomicUsize>) -> impl Stream<Item = Stanza> + Unpin + use<> {
    let counter = taken.clone();
    Box::pin(
        stream::iter((1..=50).map(markable).map(|(_, el)| Stanza::from(el)))
            .inspect(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .chain(stream::pending()),
    )
}

async fn settle() {
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
}

/// With a lossless subscription full and the app not reading, the pump stops taking stanzas
/// from the connection (whose own bound then stops the socket reader); dropping it lets
/// the pump go on.
#[tokio::test(flavor = "current_thread")]
async fn a_full_lossless_subscription_stops_the_reading_until_read_or_dropped() {
    let recorder = Recorder::default();
    let taken = Arc::new(AtomicUsize::new(0));
    let mut p = pump(&recorder);
    p.hub = Arc::new(Hub::new(2));
    let mut sub = p.hub.subscribe(EventFilter::ALL, true);
    let (alive, alive_rx) = Alive::new();
    let task = tokio::spawn(p.run(counted_input(&taken), stream::pending(), alive_rx));
    settle().await;
    // Two queued, one in hand waiting for room.
    assert_eq!(taken.load(Ordering::SeqCst), 3);
    next_received(&mut sub).await;
    settle().await;
    assert_eq!(taken.load(Ordering::SeqCst), 4);
    drop(sub);
    settle().await;
    assert_eq!(
        taken.load(Ordering::SeqCst),
        50,
        "nobody holds the pump back any more"
    );
    assert_eq!(recorder.0.lock().unwrap().len(), 50, "every message marked");
    // The session's last handle goes: the pump ends though the input never does.
    drop(alive);
    task.await.unwrap();
}

/// A normal subscription that is never read, and a stream dropped at once, never stop the
/// client: every message is taken in and marked; the unread one says exactly how much it
/// missed, then has the latest events.
#[tokio::test(flavor = "current_thread")]
async fn unread_and_dropped_subscriptions_never_stop_the_client() {
    let recorder = Recorder::default();
    let taken = Arc::new(AtomicUsize::new(0));
    let mut p = pump(&recorder);
    p.hub = Arc::new(Hub::new(2));
    let mut unread = p.hub.subscribe(EventFilter::ALL, false);
    drop(p.hub.subscribe(EventFilter::ALL, false));
    let (alive, alive_rx) = Alive::new();
    let task = tokio::spawn(p.run(counted_input(&taken), stream::pending(), alive_rx));
    settle().await;
    assert_eq!(taken.load(Ordering::SeqCst), 50);
    assert_eq!(recorder.0.lock().unwrap().len(), 50);
    let Some(Event::Lagged(lag)) = unread.next().await else {
        panic!("the gap is reported")
    };
    assert_eq!((lag.missed, lag.missed_messages), (48, 48));
    assert!(
        matches!(unread.next().await, Some(Event::Chat(_))),
        "the latest two kept"
    );
    assert!(matches!(unread.next().await, Some(Event::Chat(_))));
    drop(alive);
    task.await.unwrap();
    assert!(
        unread.next().await.is_none(),
        "the stream ends with the session"
    );
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
    let mut sub = p
        .hub
        .subscribe(crate::fanout::EventKind::Messages.into(), false);
    let (_alive, alive) = Alive::new();
    let task = tokio::spawn(p.run(stream::pending(), stream::pending(), alive));
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
    inject
        .send(Injected::Synced {
            dialog,
            complete: true,
        })
        .await
        .unwrap();
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

/// A fill whose REST call fails reaches subscribers as `SyncFailed`, after the messages it
/// showed: their count and the typed error, which says whether retrying may help.
#[tokio::test]
async fn a_failed_fill_is_told_after_what_it_showed() {
    let recorder = Recorder::default();
    let dialog: DialogId = "5c093376e588ce6856f873fe".parse().unwrap();
    let (inject, injected) = mpsc::channel(8);
    let mut p = pump(&recorder);
    p.injected = Some(injected);
    let mut sub = p
        .hub
        .subscribe(crate::fanout::EventKind::Messages.into(), false);
    let (_alive, alive) = Alive::new();
    let task = tokio::spawn(p.run(stream::pending(), stream::pending(), alive));
    inject.send(Injected::Begin(dialog)).await.unwrap();
    let history = classify(markable(1).1).unwrap();
    inject
        .send(Injected::History(Box::new(history)))
        .await
        .unwrap();
    let timeout = connectycube_rest::RestError::Timeout(std::time::Duration::from_secs(1));
    inject
        .send(Injected::Failed {
            dialog,
            error: std::sync::Arc::new(timeout.into()),
        })
        .await
        .unwrap();
    assert!(next_received(&mut sub).await.from_history);
    let Event::SyncFailed(failed) = sub.next().await.unwrap() else {
        panic!("the failure follows the message it showed")
    };
    task.abort();
    assert_eq!((failed.dialog, failed.fetched), (dialog, 1));
    assert_eq!(failed.error.retry(), crate::Retry::Network);
    assert!(failed.to_string().contains("after 1 messages"), "{failed}");
}

/// A privacy bounce reaches subscribers typed as `Blocked`, and a dialog's history ends
/// with `Synced` after its messages.
#[tokio::test]
async fn blocked_and_synced_reach_subscribers_typed() {
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
    let mut sub = p.hub.subscribe(EventFilter::ALL, false);
    let input = stream::iter(vec![Stanza::from(bounce)]).chain(stream::pending());
    let (_alive, alive) = Alive::new();
    let task = tokio::spawn(p.run(Box::pin(input), stream::pending(), alive));
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
    inject
        .send(Injected::Synced {
            dialog,
            complete: true,
        })
        .await
        .unwrap();
    assert!(next_received(&mut sub).await.from_history);
    assert!(matches!(sub.next().await.unwrap(), Event::Synced(_)));
    task.abort();
}

/// Connection states are published in their place among the stanzas, whichever of the two
/// the task reads first.
#[tokio::test]
async fn states_come_in_order_with_the_stanzas() {
    let recorder = Recorder::default();
    let p = pump(&recorder);
    let mut sub = p.hub.subscribe(EventFilter::ALL, false);
    let (_alive, alive) = Alive::new();
    let (state_tx, state_rx) = mpsc::channel(4);
    let (stanza_tx, stanza_rx) = mpsc::channel(4);
    let task = tokio::spawn(p.run(
        tokio_stream(stanza_rx).map(Stanza::from),
        tokio_stream(state_rx),
        alive,
    ));
    let change = |state, after| StateChange::new(state, after);
    state_tx
        .send(change(ConnectionState::Ready, 0))
        .await
        .unwrap();
    assert!(matches!(
        sub.next().await,
        Some(Event::State(ConnectionState::Ready))
    ));
    // The change is read first, but it happened after two stanzas still on their way.
    state_tx
        .send(change(ConnectionState::Reconnecting, 2))
        .await
        .unwrap();
    tokio::task::yield_now().await;
    stanza_tx.send(markable(1).1).await.unwrap();
    stanza_tx.send(markable(2).1).await.unwrap();
    assert!(matches!(sub.next().await, Some(Event::Chat(_))));
    assert!(matches!(sub.next().await, Some(Event::Chat(_))));
    assert!(matches!(
        sub.next().await,
        Some(Event::State(ConnectionState::Reconnecting))
    ));
    task.abort();
}

fn tokio_stream<T: Send + 'static>(mut rx: mpsc::Receiver<T>) -> impl Stream<Item = T> + Unpin {
    Box::pin(stream::poll_fn(move |cx| rx.poll_recv(cx)))
}
