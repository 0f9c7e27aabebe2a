//! The transport's burst against the test ejabberd at its default limits (`max_ack_queue`
//! 5,000): 20,000 1-1 messages at a fixed rate (the transport has no evidence of how fast its
//! recipient reads; the facade's burst paces by markers) to a receiver that keeps reading.
//! Nothing may be lost, and every handle's final stage must match what the receiver got.
//! Copies are possible at this layer (a message the server bounced after the receiver read
//! it goes again, with its id) and are reported; the facade drops them
//! (`crates/connectycube/tests/burst.rs` proves 0 duplicates at the app).
//! `cargo xtask burst` runs it and prints the figures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use connectycube_protocol::ids::MessageId;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{ChatConnection, SendStage, SessionSettings};
use minidom::Element;

const COUNT: usize = 20_000;

/// Stanzas a second: what a debug-build receiver on a loaded 2-core machine reads.
const TRANSPORT_ONLY_RATE: u32 = 1_000;

fn chat(to: u32, id: &str) -> Element {
    format!(
        "<message xmlns='jabber:client' type='chat' to='{to}-1@localhost' id='{id}'><body>{id}</body>\
         <markable xmlns='urn:xmpp:chat-markers:0'/></message>"
    )
    .parse()
    .unwrap()
}

// Long (20,000 messages and their checks): run by `cargo xtask burst`.
#[ignore = "long: cargo xtask burst"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_messages_none_lost() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    let Some(s) = support::server() else {
        return;
    };
    // Sessions an earlier run left waiting for resumption would take copies of the burst.
    for user in ["1018", "1019"] {
        s.ctl(&["kick_user", user, "localhost"]);
    }
    // A fixed send rate, which is not the default: the transport alone has no evidence of
    // how fast the recipient reads (the server acks a message once routed), and ejabberd
    // closes a recipient that falls `max_ack_queue` behind. The facade paces by the
    // recipients' markers at its defaults (crates/connectycube/tests/burst.rs); a program on
    // the transport alone sets a rate its recipients can follow, as this one does.
    let settings = SessionSettings::default()
        .with_max_send_rate(TRANSPORT_ONLY_RATE)
        .with_reconnection_timeout(Duration::from_millis(100))
        .with_keepalive(Duration::from_secs(5), Duration::from_secs(5));
    let connect = |user| {
        ChatConnection::new(
            XmppConnector::new(s.direct_tls()).unwrap(),
            s.user(user, None),
            settings.clone(),
        )
    };
    let (bob, mut b_in) = connect(1019);
    let (alice, mut a_in) = connect(1018);
    // The sender reads too: a session that stops reading is closed by the server.
    let a_reader = tokio::spawn(async move {
        let mut errors = 0usize;
        while let Some(el) = a_in.recv().await {
            errors += usize::from(el.attr("type") == Some("error"));
        }
        errors
    });
    alice.login().await.unwrap();
    bob.login().await.unwrap();
    let ids: Vec<String> = (0..COUNT)
        .map(|_| MessageId::generate().to_string())
        .collect();
    let index: HashMap<String, usize> = ids.iter().cloned().zip(0..).collect();
    let receiver = tokio::spawn(async move {
        let mut got = vec![0u32; COUNT];
        let mut received = 0;
        while received < COUNT {
            let next = tokio::time::timeout(Duration::from_secs(40), b_in.recv()).await;
            let Ok(Some(el)) = next else { break };
            if el.name() != "message" || el.attr("type") == Some("error") {
                continue;
            }
            if let Some(&i) = el.attr("id").and_then(|id| index.get(id)) {
                got[i] += 1;
                if got[i] == 1 {
                    received += 1;
                }
            }
        }
        got
    });
    let started = Instant::now();
    let handles: Vec<_> = ids.iter().map(|id| alice.send(chat(1019, id))).collect();
    let mut outcomes = Vec::with_capacity(COUNT);
    for h in handles {
        let stage_after = h.clone();
        let ok = h.await.is_ok();
        outcomes.push((ok, stage_after));
    }
    let acked_in = started.elapsed();
    let got = receiver.await.unwrap();
    let delivered_in = started.elapsed();
    // Resends after a bounce may still be under way: wait for every final stage.
    let settle_until = Instant::now() + Duration::from_secs(120);
    while Instant::now() < settle_until
        && outcomes
            .iter()
            .any(|(_, h)| matches!(h.stage(), SendStage::Retrying(_) | SendStage::Queued))
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alice.logout().await;
    bob.logout().await;
    let mut stages = std::collections::BTreeMap::new();
    for (_, h) in &outcomes {
        let stage = format!("{:?}", h.stage());
        let name = stage.split('(').next().unwrap_or_default().to_owned();
        *stages.entry(name).or_insert(0) += 1;
    }
    drop(alice);
    let errors = tokio::time::timeout(Duration::from_secs(10), a_reader)
        .await
        .map_or(0, Result::unwrap);
    let lost = got.iter().filter(|n| **n == 0).count();
    let duplicated = got.iter().filter(|n| **n > 1).count();
    // A handle whose final stage is Acked must match a received message; a failed or bounced
    // one must match a missing one.
    let mismatched = outcomes
        .iter()
        .zip(&got)
        .filter(|((_, handle), n)| matches!(handle.stage(), SendStage::Acked) != (**n > 0))
        .count();
    println!(
        "burst: {COUNT} messages, acked in {acked_in:.2?}, delivered in {delivered_in:.2?}, \
         lost {lost}, copies received twice or more {duplicated}, handle/receipt mismatches \
         {mismatched}, final stages {stages:?}, error stanzas at the sender {errors}"
    );
    assert_eq!(lost, 0, "lost");
    assert_eq!(
        mismatched, 0,
        "every handle's outcome matches what the receiver got"
    );
}
