//! Paced 1-1 sends against the local ejabberd (`cargo xtask test`): the sender holds at most
//! the window's messages unanswered by the recipient's 'delivered' markers, everything
//! arrives, and a recipient that never marks slows the sender once, not for good.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::time::Duration;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::model::Message;
use connectycube::transport::session::SendHandle;
use connectycube::{AutoDelivered, ChatClient, DeliverySettings, EventKind, Subscription};

use support::ejabberd::client_with;

/// Reads `events` until `n` distinct messages arrived (or none for 10 s); how many did.
async fn distinct_messages(mut events: Subscription, n: usize) -> usize {
    let mut ids = HashSet::new();
    while ids.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(10), events.next());
        let Ok(Some(event)) = next.await else {
            break;
        };
        if let Some(ChatEvent::ChatMessage(m)) = event.chat() {
            ids.insert(m.payload.id);
        }
    }
    ids.len()
}

/// Sends `n` paced messages from `alice` to `bob`; their handles, each awaited.
async fn send_paced(alice: &ChatClient, bob: &ChatClient, n: usize) -> Vec<SendHandle> {
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let m = Message::new(format!("paced {i}"));
        handles.push(
            alice
                .send_private_paced(bob.user(), &m)
                .queued()
                .await
                .unwrap(),
        );
    }
    for h in &handles {
        h.clone().await.unwrap();
    }
    handles
}

#[tokio::test]
async fn paced_sends_wait_for_markers_and_all_arrive() {
    if !support::ejabberd::available() {
        return;
    }
    let window = DeliverySettings::default().with_delivered_window(50, Duration::from_secs(5));
    let (alice_session, _alice_events) = client_with(1021, window).await;
    let alice = alice_session.chat().clone();
    let (bob_session, _) = client_with(1022, DeliverySettings::default()).await;
    let bob_events = bob_session.events_lossless(EventKind::Messages);
    let bob = bob_session.chat().clone();
    tokio::try_join!(alice.login(), bob.login()).unwrap();
    let received = tokio::spawn(distinct_messages(bob_events, 1_000));
    send_paced(&alice, &bob, 1_000).await;
    assert_eq!(received.await.unwrap(), 1_000);
    // 1,000 sends handed over at once against a window of 50: most had to wait for markers.
    let waits = alice.delivery_stats().paced_waits;
    assert!(waits > 0, "no send waited for a marker");
    tokio::join!(alice.logout(), bob.logout());
}

#[tokio::test]
async fn a_recipient_that_never_marks_is_waited_for_once() {
    if !support::ejabberd::available() {
        return;
    }
    let window = DeliverySettings::default().with_delivered_window(20, Duration::from_secs(1));
    let silent = DeliverySettings::default().with_auto_delivered(AutoDelivered::Off);
    let (alice_session, _alice_events) = client_with(1023, window).await;
    let alice = alice_session.chat().clone();
    let (bob_session, _) = client_with(1024, silent).await;
    let bob_events = bob_session.events_lossless(EventKind::Messages);
    let bob = bob_session.chat().clone();
    tokio::try_join!(alice.login(), bob.login()).unwrap();
    let received = tokio::spawn(distinct_messages(bob_events, 300));
    send_paced(&alice, &bob, 300).await;
    assert_eq!(received.await.unwrap(), 300);
    assert_eq!(
        alice.delivery_stats().paced_waits,
        1,
        "one wait, then not paced"
    );
    tokio::join!(alice.logout(), bob.logout());
}
