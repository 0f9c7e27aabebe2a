//! Prints what a marker, a history page and an unread count cost as a dialog's history grows
//! (1,000, then 100,000 stored messages), and how long 10,000 seeded users take to start:
//! the figures of docs/PERFORMANCE.md ("The devserver at size"). Medians, since the machine
//! may be shared. Run in release:
//!
//! ```text
//! cargo run --release -p connectycube-devserver --example store_bench
//! ```

#![allow(clippy::expect_used)] // a benchmark program: a failed call ends the run with its reason

use std::time::{Duration, Instant};

use connectycube_devserver::store::{Dialog, NewMessage, NewUser, PageQuery, Store, dialog_type};
use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};
use connectycube_protocol::ids::{MessageId, UserId};

/// Runs of each measured call.
const RUNS: usize = 301;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn time(mut f: impl FnMut(usize)) -> Duration {
    median(
        (0..RUNS)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect(),
    )
}

/// A group dialog of users 1..=3 with `n` messages from user 1, one a second.
fn dialog_of(store: &Store, n: usize) -> (Dialog, Vec<MessageId>) {
    let mut d = Dialog::new(1, dialog_type::GROUP, UserId(1));
    d.occupants = vec![UserId(1), UserId(2), UserId(3)];
    store.put_dialog(&d).expect("dialog");
    let ids = (0..n)
        .map(|i| {
            let mut m = NewMessage::new(d.id, UserId(1));
            m.body = Some(format!("message {i}"));
            m.date_sent = Some(1_600_000_000 + i as i64);
            store.save_message(&m).expect("message").id
        })
        .collect();
    (d, ids)
}

fn history(n: usize) {
    let store = Store::in_memory().expect("store");
    let t = Instant::now();
    let (d, ids) = dialog_of(&store, n);
    let stored = t.elapsed();
    for (i, id) in ids.iter().rev().take(50).enumerate() {
        store
            .react(*id, UserId(2 + (i as u64 % 2)), Some("👍"), None)
            .expect("react");
    }
    // Markers on the newest messages (what a chat client sends), each message once per user.
    let marker = time(|i| {
        let id = ids[ids.len() - 1 - (i % ids.len())];
        store.mark_message(id, UserId(2), false).expect("marker");
    });
    let read = time(|i| {
        let id = ids[ids.len() - 1 - (i % ids.len())];
        store.mark_read(d.id, Some(&[id]), UserId(3)).expect("read");
    });
    // The page an app asks for first: the newest 50, with their reactions.
    let newest = PageQuery {
        newest_first: true,
        limit: 50,
        ..PageQuery::default()
    };
    let page = time(|_| {
        let page = store
            .messages_page(d.id, Some(UserId(2)), &newest)
            .expect("page");
        let ids: Vec<MessageId> = page.iter().map(|m| m.id).collect();
        store.reactions_of(&ids).expect("reactions");
    });
    let unread = time(|_| {
        store.unread_count(d.id, UserId(2)).expect("unread");
    });
    // What every marker and page cost before issue 20: reading the whole dialog (a page also
    // queried reactions per message). Fewer runs: it is slow at size.
    let t = Instant::now();
    let runs = 5;
    for _ in 0..runs {
        store.messages_in(d.id, Some(UserId(2))).expect("history");
    }
    let whole = t.elapsed() / runs;
    println!(
        "{n:>7} messages (stored in {stored:.2?}): marker {marker:.1?}, read {read:.1?}, \
         newest page of 50 with reactions {page:.1?}, unread count {unread:.1?}; \
         reading the whole dialog (before: every marker and page) {whole:.1?}"
    );
}

/// The median of 5 starts with `users` seeded (REST only, or with the chat's listeners and
/// certificate too).
async fn seeded_start(users: usize, with_chat: bool) -> Duration {
    let mut starts = Vec::new();
    for _ in 0..5 {
        starts.push(one_start(users, with_chat).await);
    }
    median(starts)
}

async fn one_start(users: usize, with_chat: bool) -> Duration {
    let mut config = DevServerConfig::default();
    if !with_chat {
        config.chat = None;
    }
    config.users = (0..users)
        .map(|i| SeedUser::new(&format!("user{i}"), "password1"))
        .collect();
    let t = Instant::now();
    let srv = DevServer::start(config).await.expect("start");
    let took = t.elapsed();
    srv.shutdown().await;
    took
}

/// Seeding as the devserver did before issue 20 (`seed_user`: list every user to check the
/// login, then one insert in its own transaction), for `n` users, to compare.
fn seed_one_by_one(n: usize) -> Duration {
    let store = Store::in_memory().expect("store");
    let t = Instant::now();
    for i in 0..n {
        let login = format!("user{i}");
        let exists = store
            .users(1)
            .expect("users")
            .iter()
            .any(|u| u.login.as_deref() == Some(login.as_str()));
        if !exists {
            let new = NewUser {
                login: Some(login),
                password: Some("password1".into()),
                ..NewUser::default()
            };
            store.create_user(1, &new).expect("user");
        }
    }
    t.elapsed()
}

#[tokio::main]
async fn main() {
    let n = 2_000;
    println!(
        "seeding {n} users one by one, as before (in memory): {:.0?}",
        seed_one_by_one(n)
    );
    for n in [1_000, 100_000] {
        history(n);
    }
    for (users, chat) in [(0, true), (10_000, false), (10_000, true)] {
        let took = seeded_start(users, chat).await;
        let what = if chat { "REST and chat" } else { "REST only" };
        println!("start with {users} seeded users ({what}, in memory): median {took:.0?} of 5");
    }
}
