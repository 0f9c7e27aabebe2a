//! What listeners that never read cost: 10,000 subscriptions held and never read while
//! 2,000 messages arrive. Each event is stored once in the session's bounded log, so they
//! cost their cursors; a subscription that reads gets every message. (When every
//! subscription had its own queue of copies, 1,000 such listeners took 905 MiB.) Alone in
//! its test binary, so the process's peak memory is this test's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use connectycube::prelude::*;
use support::{WAIT, server, user};

/// The process's peak resident memory in KiB (`VmHWM`); `None` off Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_unread_listeners_cost_cursors_and_a_reader_gets_everything() {
    const LISTENERS: usize = 10_000;
    const MESSAGES: usize = 2_000;
    let srv = server(&["ann", "bob"]).await;
    let (ann, _, _) = user(&srv, "ann").await;
    let (bob, _, _) = user(&srv, "bob").await;
    let dialog = ann
        .create_dialog(&CreateDialog::private(bob.user()))
        .await
        .unwrap();
    let before = peak_rss_kib();

    let unread: Vec<Subscription> = (0..LISTENERS)
        .map(|_| bob.events(EventFilter::ALL))
        .collect();
    let mut messages = bob.messages();
    let reader = tokio::spawn(async move {
        let mut got = 0;
        while got < MESSAGES {
            let next = tokio::time::timeout(WAIT, messages.next()).await;
            next.expect("a message within the wait")
                .expect("the session lives")
                .expect("the reader keeps up");
            got += 1;
        }
        got
    });
    for i in 0..MESSAGES {
        dialog.send_text(format!("m{i}")).await.unwrap();
    }
    assert_eq!(
        reader.await.unwrap(),
        MESSAGES,
        "every message reached the reader"
    );

    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown_mib = after.saturating_sub(before) as f64 / 1024.0;
        println!("peak memory grew by {grown_mib:.1} MiB ({LISTENERS} unread listeners)");
        assert!(grown_mib < 64.0, "{grown_mib:.1} MiB");
    }
    drop(unread);
    ann.logout().await.unwrap();
    bob.logout().await.unwrap();
    srv.shutdown().await;
}
