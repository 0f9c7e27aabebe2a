//! Time to the first dialog list with the network down, from a store file: a user with 100
//! group dialogs of 50 kept messages each logs in while nothing answers, lists the dialogs and
//! reads the last 50 messages of the newest. "cold": the first open of the file by this
//! process; "warm": later opens (median of 20). Anchor: the same calls online, against the
//! devserver on loopback (a real server is a network away).
//!
//! `cargo bench -p connectycube --bench offline_open`; figures in docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use connectycube::StoreConfig;
use connectycube::prelude::*;
use connectycube::transport::config::ConnectionConfig;
use connectycube_devserver::store::NewMessage;
use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};

const DIALOGS: usize = 100;
const MESSAGES: usize = 50;

fn credentials(login: &str) -> SessionUser {
    SessionUser::Login {
        login: login.into(),
        password: Secret(format!("{login}-password1")),
    }
}

/// Logs in with the network down, lists the dialogs, reads the newest one's last 50.
async fn open(config: &AppConfig) -> (Duration, Duration) {
    let started = Instant::now();
    let (me, _events) = Client::new(config.clone())
        .login(credentials("ann"))
        .await
        .unwrap();
    let dialogs = me.dialogs(&ListDialogs::new()).await.unwrap();
    let listed = started.elapsed();
    assert_eq!(dialogs.len(), DIALOGS);
    let last = dialogs[0].history().limit(50).fetch().await.unwrap();
    let read = started.elapsed();
    assert_eq!(last.len(), MESSAGES);
    me.destroy().await.unwrap();
    (listed, read)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut config = DevServerConfig::default();
    for login in ["ann", "bob"] {
        config
            .users
            .push(SeedUser::new(login, &format!("{login}-password1")));
    }
    let srv = DevServer::start(config).await.unwrap();
    let dir = std::env::temp_dir().join(format!("cc-offline-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = StoreConfig::sqlite(dir.join("chat.sqlite3"));
    let chat = srv.chat().unwrap().connection_config();
    let online = AppConfig::new(AppId(srv.app_id()), srv.auth_key())
        .with_endpoints(&srv.api_url(), chat)
        .unwrap()
        .with_store(store.clone());

    // The first run: the dialogs and their history are read once online, and so kept.
    let (ann, _events) = Client::new(online.clone())
        .login(credentials("ann"))
        .await
        .unwrap();
    let (bob, _bob_events) = Client::new(online.clone())
        .login(credentials("bob"))
        .await
        .unwrap();
    for d in 0..DIALOGS {
        let dialog = ann
            .create_dialog(&CreateDialog::group(format!("room {d}"), [bob.user()]))
            .await
            .unwrap();
        for m in 0..MESSAGES {
            let mut message = NewMessage::new(dialog.id(), bob.user());
            message.body = Some(format!("message {m} in room {d}"));
            srv.store().save_message(&message).unwrap();
        }
    }
    let dialogs = ann.dialogs(&ListDialogs::new()).await.unwrap();
    for dialog in &dialogs {
        dialog.history().limit(50).fetch().await.unwrap();
    }
    ann.destroy().await.unwrap();

    // Nothing listens on port 9: every request fails as with no network.
    let down = AppConfig::new(AppId(srv.app_id()), srv.auth_key())
        .with_endpoints(
            "http://127.0.0.1:9",
            ConnectionConfig::direct_tls("127.0.0.1", 9),
        )
        .unwrap()
        .with_store(store);
    let (cold_list, cold_read) = open(&down).await;
    let (mut lists, mut reads) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let (l, r) = open(&down).await;
        lists.push(l);
        reads.push(r);
    }
    let (online_list, online_read) = open(&online).await;
    println!("offline open, {DIALOGS} dialogs x {MESSAGES} messages kept:");
    println!("  cold: first dialog list at {cold_list:?}, the last 50 messages at {cold_read:?}");
    println!("  anchor, online from the devserver on loopback: {online_list:?}, {online_read:?}");
    println!(
        "  warm (median of 20): first dialog list at {:?}, the last 50 messages at {:?}",
        median(lists),
        median(reads)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
