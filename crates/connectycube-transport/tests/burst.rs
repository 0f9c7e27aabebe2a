//! Issue 11's burst against the test ejabberd with its default limits (`max_ack_queue` 5,000):
//! 20,000 1-1 messages sent as fast as the API takes them to a receiver that keeps reading.
//! Nothing may be lost or duplicated, and every handle's outcome must match what the
//! receiver got. `cargo xtask test --test burst -- --nocapture` prints the figures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use connectycube_protocol::ids::MessageId;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{ChatConnection, SendStage, SessionSettings};
use minidom::Element;

const COUNT: usize = 20_000;

fn chat(to: u32, id: &str) -> Element {
    format!(
        "<message xmlns='jabber:client' type='chat' to='{to}-1@localhost' id='{id}'><body>{id}</body>\
         <markable xmlns='urn:xmpp:chat-markers:0'/></message>"
    )
    .parse()
    .unwrap()
}

// Ignored until issue 11 is done: it is meant for the test ejabberd at its default limits
// (remove the raised `max_ack_queue`, `resume_timeout` and offline quota from
// xtask/ejabberd/ejabberd.yml), where on 2026-12-01 it lost 1,212 of 20,000 messages
// (docs/PERFORMANCE.md); against the forgiving configuration it proves nothing.
#[ignore = "issue 11: needs ejabberd at its default limits, where it still loses messages"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_messages_none_lost_none_duplicated() {
    let s = support::server();
    let settings = SessionSettings::default()
        .with_reconnection_timeout(Duration::from_millis(100))
        .with_keepalive(Duration::from_secs(5), Duration::from_secs(5));
    let connect = |user| {
        ChatConnection::new(
            XmppConnector::new(s.direct_tls()).unwrap(),
            s.user(user, None),
            settings.clone(),
        )
    };
    let (alice, _a_in) = connect(1018);
    let (bob, mut b_in) = connect(1019);
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
            let next = tokio::time::timeout(Duration::from_secs(20), b_in.recv()).await;
            let Ok(Some(el)) = next else { break };
            if el.name() != "message" || el.attr("type") == Some("error") {
                continue;
            }
            if let Some(&i) = el.attr("id").and_then(|id| index.get(id)) {
                got[i] += 1;
                received += 1;
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
    let lost = got.iter().filter(|n| **n == 0).count();
    let duplicated = got.iter().filter(|n| **n > 1).count();
    // A handle that says delivered-to-server and not bounced must match a received message;
    // a failed or bounced one must match a missing one.
    let mismatched = outcomes
        .iter()
        .zip(&got)
        .filter(|((ok, handle), n)| {
            let bounced = matches!(handle.stage(), SendStage::Bounced(_));
            (*ok && !bounced) != (**n > 0)
        })
        .count();
    println!(
        "burst: {COUNT} messages, acked in {acked_in:.2?}, delivered in {delivered_in:.2?}, \
         lost {lost}, duplicated {duplicated}, handle/receipt mismatches {mismatched}"
    );
    assert_eq!(lost, 0, "lost");
    assert_eq!(duplicated, 0, "duplicated");
    assert_eq!(
        mismatched, 0,
        "every handle's outcome matches what the receiver got"
    );
}
