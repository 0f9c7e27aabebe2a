//! Pacing by markers, on tokio's paused clock (no server).

use std::sync::Arc;

use connectycube_protocol::classify_xml;
use connectycube_protocol::ids::ObjectId;

use super::*;

const PEER: UserId = UserId(29085);
const ME: UserId = UserId(29086);

fn id(counter: u32) -> MessageId {
    MessageId(ObjectId::from_parts(1_700_000_000, [3; 5], counter))
}

fn flow(window: usize, timeout: Duration) -> Arc<Flow> {
    Arc::new(Flow::new(
        &DeliverySettings::default().with_delivered_window(window, timeout),
    ))
}

fn marker(kind: &str, of: MessageId, from: &str) -> ChatEvent {
    classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{}" from="{from}@chat.connectycube.com/a"
             to="29086-105@chat.connectycube.com" type="chat">
           <{kind} xmlns="urn:xmpp:chat-markers:0" id="{of}"/></message>"#,
        id(900)
    ))
    .unwrap()
}

fn bounce(of: MessageId) -> ChatEvent {
    classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{of}" from="29085-105@chat.connectycube.com"
             to="29086-105@chat.connectycube.com/a" type="error"><body>hi</body>
           <error type="cancel"><service-unavailable
             xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>"#
    ))
    .unwrap()
}

/// Starts a paced admission of `id` and lets it run as far as it can.
async fn start(flow: &Arc<Flow>, id: MessageId) -> tokio::task::JoinHandle<()> {
    let f = flow.clone();
    let task = tokio::spawn(async move { f.admit(PEER, id).await });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    task
}

#[tokio::test(start_paused = true)]
async fn a_full_window_waits_for_a_marker_and_each_marker_frees_one_place() {
    let f = flow(3, Duration::from_secs(5));
    for c in 0..3 {
        f.admit(PEER, id(c)).await;
    }
    let fourth = start(&f, id(3)).await;
    assert!(!fourth.is_finished(), "the window is full");
    // A marker from someone else, or our own from another device, frees nothing.
    f.observe(&marker("received", id(0), "777-105"), ME);
    f.observe(&marker("received", id(0), "29086-105"), ME);
    tokio::task::yield_now().await;
    assert!(!fourth.is_finished());
    f.observe(&marker("received", id(0), "29085-105"), ME);
    fourth.await.unwrap();
    assert_eq!(f.pending(PEER), 3);
    assert_eq!(f.waits(), 1);
    // 'read' answers too, and a bounce ends a wait (nothing will answer it).
    let fifth = start(&f, id(4)).await;
    assert!(!fifth.is_finished());
    f.observe(&marker("displayed", id(1), "29085-105"), ME);
    fifth.await.unwrap();
    let sixth = start(&f, id(5)).await;
    assert!(!sixth.is_finished());
    f.observe(&bounce(id(2)), ME);
    sixth.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_silent_recipient_is_waited_for_once_then_not_until_it_answers() {
    let f = flow(2, Duration::from_secs(5));
    f.admit(PEER, id(0)).await;
    f.admit(PEER, id(1)).await;
    let third = start(&f, id(2)).await;
    assert!(!third.is_finished());
    tokio::time::advance(Duration::from_secs(5)).await;
    third.await.unwrap();
    // Silent now: sends are neither held nor tracked.
    for c in 3..100 {
        start(&f, id(c)).await.await.unwrap();
    }
    assert_eq!(f.pending(PEER), 0);
    // It answers again: paced again.
    f.observe(&marker("received", id(99), "29085-105"), ME);
    f.admit(PEER, id(100)).await;
    f.admit(PEER, id(101)).await;
    assert!(!start(&f, id(102)).await.is_finished());
}

#[tokio::test(start_paused = true)]
async fn window_zero_never_waits() {
    let off = flow(0, Duration::from_secs(5));
    for c in 0..10_000 {
        off.admit(PEER, id(c)).await;
    }
    assert_eq!((off.pending(PEER), off.waits()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn answers_out_of_order_leave_no_growing_backlog() {
    let f = flow(100, Duration::from_secs(5));
    for round in 0..50u32 {
        for c in 0..100 {
            f.admit(PEER, id(round * 100 + c)).await;
        }
        // Answered newest first: the order queue is compacted, not left full of holes.
        for c in (0..100).rev() {
            f.observe(&marker("received", id(round * 100 + c), "29085-105"), ME);
        }
    }
    assert_eq!(f.pending(PEER), 0);
    let order = f.lock().recipients.get(&PEER).map_or(0, |r| r.order.len());
    assert!(order <= 2 * 100 + 64, "{order}");
}

fn marker_from(of: MessageId, device: &str) -> ChatEvent {
    classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{}" from="29085-105@chat.connectycube.com/{device}"
             to="29086-105@chat.connectycube.com" type="chat">
           <received xmlns="urn:xmpp:chat-markers:0" id="{of}"/></message>"#,
        id(900)
    ))
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_slowest_answering_device_holds_the_window_until_it_goes_quiet() {
    let f = flow(3, Duration::from_secs(5));
    for c in 0..3 {
        f.admit(PEER, id(c)).await;
    }
    // The phone answers the first message, the desktop all three: the phone is 2 behind.
    f.observe(&marker_from(id(0), "phone"), ME);
    for c in 0..3 {
        f.observe(&marker_from(id(c), "desktop"), ME);
    }
    f.admit(PEER, id(3)).await;
    let fifth = start(&f, id(4)).await;
    assert!(
        !fifth.is_finished(),
        "the phone has 3 unanswered: 1, 2 and 3"
    );
    // The desktop answering more frees nothing; the phone catching up does.
    f.observe(&marker_from(id(3), "desktop"), ME);
    tokio::task::yield_now().await;
    assert!(!fifth.is_finished());
    f.observe(&marker_from(id(1), "phone"), ME);
    fifth.await.unwrap();
    // The phone goes quiet (3 behind: 2, 3 and 4): after the timeout it no longer holds
    // the desktop back.
    f.observe(&marker_from(id(4), "desktop"), ME);
    let sixth = start(&f, id(5)).await;
    assert!(!sixth.is_finished(), "the phone is 3 behind");
    tokio::time::advance(Duration::from_secs(5)).await;
    sixth.await.unwrap();
    f.admit(PEER, id(6)).await;
    assert_eq!(f.waits(), 2);
}

#[tokio::test(start_paused = true)]
async fn past_eight_devices_the_quietest_is_forgotten_and_holds_nothing() {
    let f = flow(3, Duration::from_secs(5));
    for c in 0..3 {
        f.admit(PEER, id(c)).await;
    }
    // d0 answers only the first message, then eight other devices answer the third.
    f.observe(&marker_from(id(0), "d0"), ME);
    for d in 1..=8 {
        tokio::time::advance(Duration::from_millis(1)).await;
        f.observe(&marker_from(id(2), &format!("d{d}")), ME);
    }
    f.admit(PEER, id(3)).await;
    // Remembered, d0 would be 4 behind (1 to 4) and hold this send for 5 s.
    let fifth = start(&f, id(4)).await;
    assert!(fifth.is_finished(), "d0 was forgotten");
    let devices = f
        .lock()
        .recipients
        .get(&PEER)
        .map_or(0, |r| r.devices.len());
    assert_eq!(devices, MAX_DEVICES);
}

#[tokio::test(start_paused = true)]
async fn a_marker_answers_the_earlier_sends_too_a_bounce_only_its_own() {
    let f = flow(10, Duration::from_secs(5));
    for c in 0..8 {
        f.admit(PEER, id(c)).await;
    }
    // A flooded receiver answers only the newest of its sender's messages (markers.rs).
    f.observe(&marker("received", id(4), "29085-105"), ME);
    assert_eq!(f.pending(PEER), 3, "0..=4 answered by one marker");
    f.observe(&bounce(id(6)), ME);
    assert_eq!(f.pending(PEER), 2, "a bounce answers its own message only");
    f.observe(&marker("received", id(7), "29085-105"), ME);
    assert_eq!(f.pending(PEER), 0);
    // A late marker for an answered message changes nothing.
    f.observe(&marker("received", id(5), "29085-105"), ME);
    assert_eq!(f.pending(PEER), 0);
}
