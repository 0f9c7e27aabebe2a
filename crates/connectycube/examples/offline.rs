//! Offline-first: a store file keeps the dialogs, the history and the send queue. A restart
//! with the network down opens on what the app had, a message typed offline shows at once
//! (its local echo) and goes out once the network is back, with its id.
//!
//! `cargo run -p connectycube --example offline` (embedded devserver, no setup).

mod support;

use connectycube::prelude::*;
use connectycube::transport::config::ConnectionConfig;
use connectycube::{LocalStatus, StoreConfig};
use support::{Result, app_config, credentials, devserver, login, next};

#[tokio::main]
async fn main() -> Result<()> {
    let (srv, client) = devserver(&["alice", "bob"]).await?;
    let dir = std::env::temp_dir().join(format!("cc-offline-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = StoreConfig::sqlite(dir.join("chat.sqlite3"));
    let online = app_config(&srv)?.with_store(store.clone());
    let (bob, _) = login(&client, "bob").await?;

    // The app's first run: what it sees is kept.
    let (alice, _) = Client::new(online.clone())
        .login(credentials("alice"))
        .await?;
    let dialog = alice
        .create_dialog(&CreateDialog::private(bob.user()))
        .await?;
    let mut echoes = alice.local_echoes();
    dialog.send_text("see you tomorrow").await?;
    let mut status = next(&mut echoes).await?.status; // Queued, at once
    while status != LocalStatus::Delivered {
        status = next(&mut echoes).await?.status; // Sent (the server's ack), then Delivered
    }
    println!("alice: 'see you tomorrow' is {status:?}");
    alice.destroy().await?; // the app closes

    // The next run, with the network down: it opens on the store.
    // (Nothing listens on port 9: every request fails as with no network.)
    let nowhere = ConnectionConfig::direct_tls("127.0.0.1", 9);
    let down = AppConfig::new(online.app_id, srv.auth_key())
        .with_endpoints("http://127.0.0.1:9", nowhere)?
        .with_store(store);
    let (alice, _) = Client::new(down).login(credentials("alice")).await?;
    let dialogs = alice.dialogs(&ListDialogs::new()).await?;
    let kept = dialogs.first().ok_or("the store keeps the dialog")?;
    let history = kept.history().limit(50).fetch().await?;
    let last = history.last().and_then(|m| m.body.as_deref());
    println!(
        "alice, offline: {} dialog(s), last message {last:?}",
        dialogs.len()
    );
    let mut echoes = alice.local_echoes();
    let typed = Message::new("typed on the train");
    tokio::spawn(kept.send(&typed).queued());
    println!(
        "alice, offline: '{}' is {:?}",
        typed.body.as_deref().unwrap_or(""),
        next(&mut echoes).await?.status
    );
    alice.destroy().await?;

    // Back online: what waited goes out first.
    let mut bobs_messages = bob.messages();
    let (alice, _) = Client::new(online).login(credentials("alice")).await?;
    let got = next(&mut bobs_messages).await?;
    println!(
        "bob: {:?} (the id alice's echo showed: {})",
        got.body(),
        got.message.id == typed.id
    );
    alice.logout().await?;
    std::fs::remove_dir_all(&dir)?;
    srv.shutdown().await;
    Ok(())
}
