//! The side-by-side burst measurement: the burst of `burst.rs` (20,000 1-1 messages from our
//! facade) to the official JS SDK (npm `connectycube`, pinned in `fixtures/js-peer/`) as the
//! receiver, logged in to the test ejabberd (default limits) over WebSocket as the transport's
//! JS tests do, with its stream management off (its default) and on. The SDK sends its
//! 'delivered' marker for every message with a dialog id before its listener sees it, so each
//! burst message carries one. What the JS app got (count, duplicates, lost, out of order) and
//! what our sender's handles said is printed; only what must hold is asserted (the run
//! completes, the counts agree, every handle resolved). Long, so ignored: `cargo xtask burst`
//! (`--only js_burst` for only this file).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use connectycube::protocol::ids::{DialogId, UserId};
use connectycube::transport::session::SendStage;
use connectycube_fixtures::js_peer::JsPeer;
use serde_json::{Value, json};
use support::burst::{
    Markers, RECEIVER, SENDER, Seen, Tally, client, count, drain, kick, messages, send_all, settle,
    tally, var,
};

const WAIT: Duration = Duration::from_secs(20);
/// The JS app is done when its count has not moved for this long.
const IDLE: Duration = Duration::from_secs(40);

/// The JS SDK as the receiver, in count mode, logged in.
async fn js_receiver(stream_management: bool) -> JsPeer {
    let ca = var("CC_XMPP_CA_PEM");
    let mut js = JsPeer::spawn(Some(ca.as_ref())).await.expect("JS SDK peer");
    let init = json!({
        "cmd": "init", "app_id": var("CC_XMPP_APP_ID").parse::<u64>().unwrap(),
        "auth_key": "unused", "api_url": "http://127.0.0.1:9",
        "chat_host": var("CC_XMPP_DOMAIN"), "chat_url": var("CC_XMPP_WS_URL"),
        "stream_management": stream_management,
    });
    js.call(init, WAIT).await.unwrap();
    js.call(json!({"cmd": "count"}), WAIT).await.unwrap();
    let connect =
        json!({"cmd": "connect", "user_id": RECEIVER, "password": format!("pass{RECEIVER}")});
    js.call(connect, WAIT).await.unwrap();
    js
}

/// Polls the JS app's tally until it has `n` distinct messages or has not moved for [`IDLE`].
async fn wait_for_js(js: &mut JsPeer, n: usize) -> Value {
    let (mut last, mut moved) = (u64::MAX, Instant::now());
    loop {
        let counts = js.call(json!({"cmd": "counts"}), WAIT).await.unwrap();
        let total = counts["total"].as_u64().unwrap();
        if counts["distinct"].as_u64().unwrap() >= n as u64 || moved.elapsed() > IDLE {
            return counts;
        }
        if total != last {
            (last, moved) = (total, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What the JS app got (`ids` in arrival order) by burst index, and how many ids were not
/// this run's. A message counts as out of order when it arrives after a later-sent one.
fn by_index(ids: &[Value], index: &HashMap<String, usize>) -> (Seen, usize) {
    let mut seen = Seen {
        got: vec![0; index.len()],
        out_of_order: 0,
        unreadable: 0,
    };
    let (mut newest, mut foreign) = (None, 0);
    for id in ids {
        let Some(&i) = id.as_str().and_then(|id| index.get(id)) else {
            foreign += 1; // An earlier run's offline message.
            continue;
        };
        seen.got[i] += 1;
        if seen.got[i] == 1 {
            seen.out_of_order += usize::from(newest.is_some_and(|n| i < n));
            newest = newest.max(Some(i));
        }
    }
    (seen, foreign)
}

/// One JS burst's figures, printed as one line.
struct JsReport {
    stream_management: bool,
    n: usize,
    acked_in: Duration,
    delivered_in: Duration,
    /// Messages the JS app's listener got, copies and other runs' included.
    received: usize,
    foreign: usize,
    seen: Seen,
    /// The peer's last `counts` answer.
    counts: Value,
    tally: Tally,
    markers: Markers,
}

impl fmt::Display for JsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (c, t) = (&self.counts, &self.tally);
        write!(
            f,
            "js burst (JS SDK stream management: {}): {} messages, acked in {:.2?}, JS done in \
             {:.2?}; JS app: received {} ({} distinct of ours, {} from earlier runs), lost {}, \
             duplicated {}, out of order {}; JS stream management enabled by the server: {}; \
             JS saw {} error events, {} disconnects, {} reconnects, ended {}; our handles: \
             final stages {:?} (why not acked: {:?}), handle/receipt mismatches {}; our sender \
             saw {} 'delivered' markers and {} error events",
            self.stream_management,
            self.n,
            self.acked_in,
            self.delivered_in,
            self.received,
            self.n - self.seen.lost(),
            self.foreign,
            self.seen.lost(),
            self.seen.duplicated(),
            self.seen.out_of_order,
            c["sm_enabled"],
            c["errors"],
            c["disconnects"],
            c["reconnects"],
            c["status"],
            t.stages,
            t.reasons,
            t.mismatched,
            self.markers.delivered,
            self.markers.errors,
        )
    }
}

async fn js_burst(stream_management: bool) {
    kick(SENDER);
    kick(RECEIVER);
    let mut js = js_receiver(stream_management).await;
    let (alice, alice_events) = client(SENDER, "burst-sender").await;
    alice.login().await.unwrap();
    let n = count();
    let (mut messages, index) = messages(n);
    // The JS SDK marks 'delivered' only messages with a dialog id.
    let dialog: DialogId = "5f0c5e2e1c2d3e4f5a6b7c8d".parse().unwrap();
    for m in &mut messages {
        m.dialog_id = Some(dialog);
    }
    let markers = tokio::spawn(drain(alice_events));
    let started = Instant::now();
    let (handles, acked_in) = send_all(&alice, UserId(RECEIVER), &messages).await;
    let counts = wait_for_js(&mut js, n).await;
    let delivered_in = started.elapsed();
    settle(&handles, Duration::from_secs(120)).await;
    let received = js.call(json!({"cmd": "received"}), WAIT).await.unwrap();
    let ids = received["ids"].as_array().unwrap();
    let _ = js.call(json!({"cmd": "disconnect"}), WAIT).await;
    let markers = markers.await.unwrap();
    alice.logout().await;
    let (seen, foreign) = by_index(ids, &index);
    let shown: usize = seen.got.iter().map(|c| *c as usize).sum();
    let report = JsReport {
        stream_management,
        n,
        acked_in,
        delivered_in,
        received: ids.len(),
        foreign,
        tally: tally(&handles, &seen.got),
        seen,
        counts: counts.clone(),
        markers,
    };
    println!("{report}");
    assert!(ids.len() as u64 >= counts["total"].as_u64().unwrap());
    assert_eq!(
        shown + foreign,
        ids.len(),
        "every id the JS app got is counted once"
    );
    let unresolved = handles
        .iter()
        .filter(|h| matches!(h.stage(), SendStage::Queued | SendStage::Written))
        .count();
    assert_eq!(unresolved, 0, "every handle resolved");
}

#[ignore = "long: cargo xtask burst"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_to_the_js_sdk_without_stream_management() {
    js_burst(false).await;
}

#[ignore = "long: cargo xtask burst"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_to_the_js_sdk_with_stream_management() {
    js_burst(true).await;
}
