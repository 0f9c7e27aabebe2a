//! The burst proof through the facade, against the test ejabberd at its default limits
//! (`max_ack_queue` 5,000, 100 offline messages per user): 20,000 1-1 messages sent as fast
//! as `send_private` takes them, to (a) a receiver whose facade answers each with its
//! automatic 'delivered' marker, and (b) the same with a second resource of the receiver
//! online. Nothing may be lost or shown twice to the receiving app, and every handle's final
//! stage must match what the receiver got.
//!
//! Long (about 25-45 s each at the default 1,000 stanzas a second), so ignored by the default
//! test run:
//! `cargo xtask burst` runs them (set `CC_BURST_COUNT` for another size, `CC_BURST_SEND_RATE`
//! for another send rate). The shared steps are in `support/burst.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::burst::{Peers, RECEIVER, SENDER, client, kick, run};

async fn burst(second_resource: bool) {
    kick(SENDER);
    kick(RECEIVER);
    let peers = Peers {
        sender: client(SENDER, "burst-sender").await,
        app: client(RECEIVER, "burst-app").await,
        second: match second_resource {
            true => Some(client(RECEIVER, "burst-second").await),
            false => None,
        },
    };
    peers.login().await;
    let label = format!("burst (second resource: {second_resource})");
    run(label, peers).await.print_and_assert();
}

#[ignore = "long: cargo xtask burst"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_to_a_facade_that_marks_each_delivered() {
    burst(false).await;
}

#[ignore = "long: cargo xtask burst"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_to_a_facade_with_a_second_resource_online() {
    burst(true).await;
}
