//! Offline-first: a store file keeps the send queue and what the app saw, so a process killed
//! midway loses no message, and a restart with the network down opens on what it had.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use connectycube::prelude::*;
use connectycube::protocol::event::ChatEvent;
use connectycube::transport::config::ConnectionConfig;
use connectycube::{LocalStatus, StoreConfig};
use futures_util::StreamExt;
use support::{WAIT, app_config, credentials, server, user};

/// How many messages the killed sender sends in all.
const COUNT: u32 = 1_000;

fn store_path(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("cc-offline-{}-{name}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// `srv`'s application with its store in the file at `store`.
fn online(srv: &connectycube_devserver::DevServer, store: &Path) -> AppConfig {
    let chat = srv.chat().unwrap().connection_config();
    app_config(srv, chat).with_store(StoreConfig::sqlite(store))
}

/// The same application with the network down: nothing listens on port 9, so every request
/// fails as with no network.
fn down(srv: &connectycube_devserver::DevServer, store: &Path) -> AppConfig {
    AppConfig::new(AppId(srv.app_id()), srv.auth_key())
        .with_endpoints(
            "http://127.0.0.1:9",
            ConnectionConfig::direct_tls("127.0.0.1", 9),
        )
        .unwrap()
        .with_store(StoreConfig::sqlite(store))
}

/// The next item of a typed stream, within [`WAIT`].
async fn next<T>(updates: &mut connectycube::Updates<T>) -> T {
    let item = tokio::time::timeout(WAIT, updates.next()).await;
    item.expect("in time")
        .expect("not ended")
        .expect("not lagged")
}

/// Ann logged in on `config` (her store) and Bob with their private dialog open: where the
/// restart tests start.
async fn ann_and_bob(
    srv: &connectycube_devserver::DevServer,
    config: AppConfig,
) -> (Session, Subscription, Session, Dialog) {
    let (ann, events) = Client::new(config).login(credentials("ann")).await.unwrap();
    let (bob, _bob_events, _) = user(srv, "bob").await;
    let bobs = bob
        .create_dialog(&CreateDialog::private(ann.user()))
        .await
        .unwrap();
    (ann, events, bob, bobs)
}

/// Bob sends each of `texts`; Ann's app shows them all, then closes.
async fn shown_then_closed(ann: Session, bobs: &Dialog, texts: impl IntoIterator<Item = String>) {
    let mut incoming = ann.messages();
    let mut n = 0;
    for text in texts {
        bobs.send_text(text).await.unwrap();
        n += 1;
    }
    for _ in 0..n {
        next(&mut incoming).await;
    }
    assert_eq!(ann.dialogs(&ListDialogs::new()).await.unwrap().len(), 1);
    ann.destroy().await.unwrap();
}

/// The child's side: logs in on the store file (which sends what its queue holds), then
/// sends, in order, the numbered messages that neither the server's history nor the queue
/// has, one every 2 ms so the parent can kill it midway, and waits for every ack. Runs only
/// when the parent test starts this binary as its child.
#[tokio::test]
#[ignore = "the child process of sigkill_midway_then_restart_sends_each_once_in_order"]
async fn child_sender() {
    let Ok(store) = std::env::var("CC_CHILD_STORE") else {
        return;
    };
    let var = |k: &str| std::env::var(k).unwrap();
    let chat =
        ConnectionConfig::direct_tls(var("CC_CHILD_HOST"), var("CC_CHILD_PORT").parse().unwrap())
            .with_address(var("CC_CHILD_BIND"))
            .with_custom_root_ca_pem(std::fs::read(var("CC_CHILD_CA")).unwrap());
    let config = AppConfig::new(
        AppId(var("CC_CHILD_APP").parse().unwrap()),
        var("CC_CHILD_KEY"),
    )
    .with_endpoints(&var("CC_CHILD_API"), chat)
    .unwrap()
    .with_store(StoreConfig::sqlite(store));
    let (ann, _events) = Client::new(config).login(credentials("ann")).await.unwrap();
    let dialog = ann
        .dialog(var("CC_CHILD_DIALOG").parse().unwrap())
        .await
        .unwrap();
    let mut done: HashSet<String> = ann
        .unsent()
        .unwrap()
        .into_iter()
        .filter_map(|s| s.message.body)
        .collect();
    let mut history = std::pin::pin!(dialog.history().all_pages());
    while let Some(m) = history.next().await {
        done.extend(m.unwrap().body);
    }
    let mut handles = Vec::new();
    for n in (0..COUNT)
        .map(|n| n.to_string())
        .filter(|n| !done.contains(n))
    {
        handles.push(dialog.send(&Message::new(n)).queued().await.unwrap());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for h in handles {
        h.await.unwrap();
    }
    assert!(ann.unsent().unwrap().is_empty(), "every send acknowledged");
}

/// Starts this test binary's `child_sender` against `srv`.
fn spawn_child(
    srv: &connectycube_devserver::DevServer,
    store: &Path,
    dialog: DialogId,
    ca: &Path,
) -> std::process::Child {
    let chat = srv.chat().unwrap();
    let cfg = chat.connection_config();
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_sender",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CC_CHILD_STORE", store)
        .env("CC_CHILD_HOST", chat.host())
        .env("CC_CHILD_PORT", cfg.port.to_string())
        .env("CC_CHILD_BIND", cfg.address.clone().unwrap())
        .env("CC_CHILD_CA", ca)
        .env("CC_CHILD_APP", srv.app_id().to_string())
        .env("CC_CHILD_KEY", srv.auth_key())
        .env("CC_CHILD_API", srv.api_url())
        .env("CC_CHILD_DIALOG", dialog.to_string())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn sigkill_midway_then_restart_sends_each_once_in_order() {
    let srv = server(&["ann", "bob"]).await;
    let (bob, _bob_events, _) = user(&srv, "bob").await;
    let (ann, _ann_events, _) = user(&srv, "ann").await;
    let dialog = ann
        .create_dialog(&CreateDialog::private(bob.user()))
        .await
        .unwrap()
        .id();
    ann.logout().await.unwrap();
    let mut messages = bob.messages();
    let store = store_path("sigkill");
    let ca = store.with_extension("ca.pem");
    std::fs::write(&ca, srv.chat().unwrap().ca_pem()).unwrap();

    let mut got: Vec<(u32, MessageId)> = Vec::new();
    let mut child = spawn_child(&srv, &store, dialog, &ca);
    while got.len() < 300 {
        let m = next(&mut messages).await;
        got.push((m.body().unwrap().parse().unwrap(), m.message.id));
    }
    child.kill().unwrap(); // SIGKILL
    // Waited for off the runtime: the devserver serving the child runs on it.
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(got.len() < COUNT as usize, "killed midway");
    // Message ids order by their second first: the restart's must come from a later second.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let mut restarted = spawn_child(&srv, &store, dialog, &ca);
    let status = tokio::task::spawn_blocking(move || restarted.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the restarted sender finished");
    while got.len() < COUNT as usize {
        let m = next(&mut messages).await;
        got.push((m.body().unwrap().parse().unwrap(), m.message.id));
    }
    let numbers: Vec<u32> = got.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        numbers,
        (0..COUNT).collect::<Vec<_>>(),
        "each once, in order"
    );
    assert!(got.windows(2).all(|w| w[0].1 < w[1].1), "in id order");
    let extra = tokio::time::timeout(Duration::from_millis(500), messages.next()).await;
    assert!(extra.is_err(), "nothing more: {extra:?}");

    let db = rusqlite::Connection::open(&store).unwrap();
    let sent: i64 = db
        .query_row("SELECT count(*) FROM messages WHERE status >= 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let queued: i64 = db
        .query_row("SELECT count(*) FROM queue", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        (sent, queued),
        (i64::from(COUNT), 0),
        "every local echo ended sent or further"
    );
    let _ = std::fs::remove_file(&ca);
}

#[tokio::test]
async fn a_restart_with_the_network_down_opens_on_the_store() {
    let srv = server(&["ann", "bob"]).await;
    let store = store_path("down");
    let online = online(&srv, &store);
    let (ann, _events, bob, bobs) = ann_and_bob(&srv, online.clone()).await;
    shown_then_closed(ann, &bobs, (0..60).map(|n| format!("{n}"))).await;

    // The network is down: nothing listens where the servers were.
    let down = down(&srv, &store);
    for round in ["cold", "warm"] {
        let started = Instant::now();
        let (ann, _events) = Client::new(down.clone())
            .login(credentials("ann"))
            .await
            .unwrap();
        let dialogs = ann.dialogs(&ListDialogs::new()).await.unwrap();
        let first_list = started.elapsed();
        assert_eq!(dialogs.len(), 1, "{round}");
        let last = dialogs[0].history().limit(50).fetch().await.unwrap();
        let bodies: Vec<String> = last.iter().filter_map(|m| m.body.clone()).collect();
        assert_eq!(
            bodies,
            (10..60).map(|n| n.to_string()).collect::<Vec<_>>(),
            "{round}"
        );
        println!("time to first dialog list, network down, {round}: {first_list:?}");
        ann.destroy().await.unwrap();
    }

    // Typed while offline: queued, shown at once, and out once the network is back.
    let (ann, _events) = Client::new(down).login(credentials("ann")).await.unwrap();
    let dialog = ann.dialogs(&ListDialogs::new()).await.unwrap().remove(0);
    let mut echoes = ann.local_echoes();
    let offline = Message::new("typed offline");
    let sending = tokio::spawn(dialog.send(&offline).queued());
    let queued = next(&mut echoes).await;
    assert_eq!(
        (queued.message.id, queued.status),
        (offline.id, LocalStatus::Queued)
    );
    assert_eq!(ann.unsent().unwrap().len(), 1);
    sending.abort();
    ann.destroy().await.unwrap();
    drop(ann);

    let mut bobs_messages = bob.messages();
    let (ann, _events) = Client::new(online).login(credentials("ann")).await.unwrap();
    let got = next(&mut bobs_messages).await;
    assert_eq!(
        (got.message.id, got.body()),
        (offline.id, Some("typed offline"))
    );
    let acked = tokio::time::timeout(WAIT, async {
        while !ann.unsent().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    acked
        .await
        .expect("the server's ack takes it off the queue");
}

/// 1,000 messages arrive while the app is closed: the restart asks the dialogs list once and
/// the history of that dialog only, from what the store saw last, and shows each of the 1,000
/// once and nothing it showed before.
#[tokio::test]
async fn a_restart_fetches_only_what_came_while_closed() {
    const AWAY: usize = 1_000;
    let srv = server(&["ann", "bob"]).await;
    let store = store_path("catch-up");
    let config = online(&srv, &store);
    let (ann, _events, bob, bobs) = ann_and_bob(&srv, config.clone()).await;
    shown_then_closed(ann, &bobs, (0..5).map(|n| format!("live {n}"))).await;

    // Stored on the server while the app is closed, as the chat does for an offline user.
    let at = chrono::Utc::now().timestamp() + 1;
    for i in 0..AWAY {
        let mut m = connectycube_devserver::store::NewMessage::new(bobs.id(), bob.user());
        m.body = Some(format!("away {i:04}"));
        m.date_sent = Some(at);
        srv.store().save_message(&m).unwrap();
    }
    let (history_before, lists_before) = (
        srv.rest().served("ListMessages"),
        srv.rest().served("ListDialogs"),
    );
    let (ann, mut events) = Client::new(config).login(credentials("ann")).await.unwrap();
    let mut shown: Vec<String> = Vec::new();
    let synced = tokio::time::timeout(WAIT, async {
        loop {
            match events.next().await.unwrap() {
                Event::Synced(s) if s.dialog == bobs.id() => return s,
                Event::SyncFailed(f) => panic!("{f}"),
                e => {
                    if let Some(ChatEvent::ChatMessage(m)) = e.chat() {
                        shown.extend(m.payload.body.clone());
                    }
                }
            }
        }
    })
    .await
    .expect("the dialog's catch-up closes");
    let history = srv.rest().served("ListMessages") - history_before;
    let lists = srv.rest().served("ListDialogs") - lists_before;
    println!(
        "catch-up of {AWAY} messages: {lists} dialogs-list request(s), {history} history request(s), {} shown",
        shown.len()
    );
    let expected: Vec<String> = (0..AWAY).map(|i| format!("away {i:04}")).collect();
    assert_eq!(
        shown, expected,
        "each once, in order, none of those shown before"
    );
    assert_eq!((synced.fetched, synced.complete), (AWAY, true));
    assert_eq!(lists, 1, "one list of the changed dialogs");
    // 100 per page: 10 pages hold them; the 2 s overlap (dates have second resolution)
    // may take an 11th.
    assert!(
        history <= 11,
        "{history} history requests for {AWAY} messages"
    );
    drop(ann);
}

/// A refused send stays on the queue as `Failed` with the reason; edited, it goes out with
/// the same id and the new text; a cancelled one is gone and cannot be retried.
#[tokio::test]
async fn a_refused_send_is_failed_until_edited_retried_or_cancelled() {
    let srv = server(&["ann", "bob"]).await;
    let (ann, _ann_events, _) = user(&srv, "ann").await;
    let (bob, _bob_events, _) = user(&srv, "bob").await;
    let dialog = ann
        .create_dialog(&CreateDialog::private(bob.user()))
        .await
        .unwrap();
    let mut echoes = ann.local_echoes();
    bob.chat().block(ann.user()).await.unwrap();

    let typo = Message::new("helo");
    let error = dialog.send(&typo).await.expect_err("blocked: it bounces");
    assert!(error.bounce().is_some(), "{error:?}");
    assert_eq!(next(&mut echoes).await.status, LocalStatus::Queued);
    let failed = next(&mut echoes).await;
    assert!(
        matches!(failed.status, LocalStatus::Failed(ref why) if !why.is_empty()),
        "{failed:?}"
    );
    let unsent = ann.unsent().unwrap();
    assert_eq!((unsent.len(), unsent[0].message.id), (1, typo.id));

    bob.chat().unblock(ann.user()).await.unwrap();
    let mut bobs_messages = bob.messages();
    ann.edit_unsent(typo.id, "hello").await.unwrap();
    let got = next(&mut bobs_messages).await;
    assert_eq!(
        (got.message.id, got.body()),
        (typo.id, Some("hello")),
        "same id, new text"
    );
    assert_eq!(next(&mut echoes).await.status, LocalStatus::Queued);
    let mut status = LocalStatus::Queued;
    while status == LocalStatus::Queued {
        status = next(&mut echoes).await.status;
    }
    assert!(
        matches!(status, LocalStatus::Sent | LocalStatus::Delivered),
        "{status:?}"
    );
    assert!(ann.unsent().unwrap().is_empty());

    bob.chat().block(ann.user()).await.unwrap();
    let unwanted = Message::new("never mind");
    dialog.send(&unwanted).await.expect_err("blocked again");
    ann.cancel_send(unwanted.id).unwrap();
    assert!(ann.unsent().unwrap().is_empty(), "cancelled");
    let again = ann
        .retry_send(unwanted.id)
        .await
        .expect_err("nothing to retry");
    assert!(
        matches!(again, connectycube::Error::Unsupported(_)),
        "{again:?}"
    );
}

/// A file message waits on the queue with its upload; when the upload fails on the way (here
/// the storage answers 503), a restart on the same store uploads the file again and sends
/// the message, with its id.
#[tokio::test]
async fn a_file_whose_upload_failed_goes_out_after_a_restart() {
    use connectycube_devserver::rest::{RestFault, RouteFault};
    let srv = server(&["ann", "bob"]).await;
    let store = store_path("upload");
    let config = online(&srv, &store);
    let (ann, _events) = Client::new(config.clone())
        .login(credentials("ann"))
        .await
        .unwrap();
    let (bob, _bob_events, _) = user(&srv, "bob").await;
    let dialog = ann
        .create_dialog(&CreateDialog::private(bob.user()))
        .await
        .unwrap();
    let file = store.with_extension("jpeg");
    std::fs::write(&file, b"not really a cat").unwrap();

    let down = RestFault::Status(http::StatusCode::SERVICE_UNAVAILABLE);
    srv.rest()
        .inject_route_fault(RouteFault::new("CreateBlob", down).times(1_000));
    let cat = Message::new("a cat");
    let sent = dialog
        .send_file(
            &file,
            "image/jpeg",
            AttachmentType::Image,
            cat.clone(),
            |_| {},
        )
        .await;
    assert!(sent.is_err(), "the storage is down");
    let unsent = ann.unsent().unwrap();
    assert_eq!(unsent.len(), 1);
    assert_eq!(
        (unsent[0].message.id, &unsent[0].status),
        (cat.id, &LocalStatus::Queued)
    );
    assert!(unsent[0].upload.is_some(), "it waits for its file");
    ann.destroy().await.unwrap();
    drop(ann);

    srv.rest().clear_route_faults();
    let mut bobs_messages = bob.messages();
    let (ann, _events) = Client::new(config).login(credentials("ann")).await.unwrap();
    let got = next(&mut bobs_messages).await;
    assert_eq!((got.message.id, got.body()), (cat.id, Some("a cat")));
    assert_eq!(got.message.attachments.len(), 1, "uploaded and attached");
    assert!(got.message.attachments[0].uid.is_some());
    let acked = tokio::time::timeout(WAIT, async {
        while !ann.unsent().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    acked
        .await
        .expect("the server's ack takes it off the queue");
    let _ = std::fs::remove_file(&file);
}

/// In a group the room reflects our message, sometimes before the server's ack: the echo
/// still says `Sent` once, and nothing of ours is shown as someone else's message.
#[tokio::test]
async fn a_group_send_echoes_sent_once_whatever_comes_first() {
    let srv = server(&["ann", "bob"]).await;
    let (ann, _ann_events, _) = user(&srv, "ann").await;
    let (bob, _bob_events, _) = user(&srv, "bob").await;
    let group = ann
        .create_dialog(&CreateDialog::group("g", [bob.user()]))
        .await
        .unwrap();
    group.join().await.unwrap();
    let mut echoes = ann.local_echoes();
    for n in 0..20 {
        group.send(&Message::new(format!("{n}"))).await.unwrap();
    }
    let mut sent = Vec::new();
    while sent.len() < 20 {
        let echo = next(&mut echoes).await;
        if echo.status == LocalStatus::Sent {
            sent.push(echo.message.body.unwrap());
        }
    }
    sent.sort_by_key(|b| b.parse::<u32>().unwrap());
    assert_eq!(
        sent,
        (0..20).map(|n| n.to_string()).collect::<Vec<_>>(),
        "each Sent once"
    );
    assert!(ann.unsent().unwrap().is_empty());
    let extra = tokio::time::timeout(Duration::from_millis(300), echoes.next()).await;
    assert!(
        !matches!(extra, Ok(Some(Ok(ref e))) if e.status == LocalStatus::Sent),
        "{extra:?}"
    );
}

/// Edits, deletions and reactions reach the kept messages: a restart with the network down
/// shows the edited text, not the deleted message, and the reaction counts.
#[tokio::test]
async fn edits_deletions_and_reactions_are_kept() {
    let srv = server(&["ann", "bob"]).await;
    let store = store_path("changes");
    let (ann, _events, _bob, bobs) = ann_and_bob(&srv, online(&srv, &store)).await;
    let (mut incoming, mut edits, mut deletions, mut reactions) = (
        ann.messages(),
        ann.edited_messages(),
        ann.deleted_messages(),
        ann.reaction_changes(),
    );
    let typo = bobs.send_text("helo").await.unwrap();
    let gone = bobs.send_text("oops").await.unwrap();
    let liked = bobs.send_text("lunch?").await.unwrap();
    for _ in 0..3 {
        next(&mut incoming).await;
    }
    // The app lists its dialogs, as at every start: the store keeps them.
    assert_eq!(ann.dialogs(&ListDialogs::new()).await.unwrap().len(), 1);
    bobs.send_edit(typo.id, "hello", false).await.unwrap();
    bobs.send_delete(gone.id).await.unwrap();
    bobs.react(liked.id, "👍").await.unwrap();
    next(&mut edits).await;
    next(&mut deletions).await;
    next(&mut reactions).await;
    ann.destroy().await.unwrap();
    drop(ann);

    let down = down(&srv, &store);
    let (ann, _events) = Client::new(down).login(credentials("ann")).await.unwrap();
    let dialog = ann.dialogs(&ListDialogs::new()).await.unwrap().remove(0);
    let kept = dialog.history().limit(50).fetch().await.unwrap();
    let bodies: Vec<_> = kept.iter().map(|m| m.body.as_deref()).collect();
    assert_eq!(
        bodies,
        [Some("hello"), Some("lunch?")],
        "edited, and one deleted"
    );
    let summary = kept[1].reactions.clone().unwrap_or_default();
    assert_eq!(summary.total.get("👍"), Some(&1), "{summary:?}");
    assert!(summary.own.is_empty(), "bob's, not ann's");
}
