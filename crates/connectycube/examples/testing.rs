//! Testing an app against the embedded devserver (`docs/TESTING.md`): seeded users, a device
//! subscribed to pushes, a message to an offline user that must alert their phone, and a cut
//! connection the app must survive. Every step checks what it claims and fails loudly.
//!
//! ```text
//! cargo run -p connectycube --features testing --example testing
//! ```

use std::time::Duration;

use connectycube::Client;
use connectycube::protocol::ids::UserId;
use connectycube::rest::chat::dialogs::CreateDialog;
use connectycube::rest::push::CreateSubscription;
use connectycube::rest::session::{Secret, SessionUser};
use connectycube::testing::{PushSource, SeedUser, TestServer};
use connectycube::transport::session::ConnectionState;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn user(login: &str) -> SessionUser {
    SessionUser::Login {
        login: login.into(),
        password: Secret(format!("{login}-password")),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    // 1. A server of our own, in memory, with two users.
    let srv = TestServer::with_users(&[
        SeedUser::new("ann", "ann-password"),
        SeedUser::new("bob", "bob-password"),
    ])
    .await?;
    let client = Client::new(srv.app_config()?);

    // 2. Bob's phone subscribes to pushes, then bob goes away.
    let (bob, _) = client.login(user("bob")).await?;
    let bob_id: UserId = bob.user();
    bob.rest()
        .send(&CreateSubscription::new(
            "gcm",
            "android",
            "bob-phone",
            "fcm-token",
        ))
        .await?;
    bob.logout().await?;

    // 3. Ann writes to bob: he is offline, so his phone is alerted.
    let (ann, _events) = Client::new(srv.app_config()?).login(user("ann")).await?;
    let dialog = ann.create_dialog(&CreateDialog::private(bob_id)).await?;
    dialog.send_text("dinner at 8?").await?;
    let alert = wait_for(|| {
        srv.pushes_delivered(Some(bob_id))
            .ok()
            .and_then(|p| p.into_iter().find(|p| p.source == PushSource::ChatAlert))
    })
    .await
    .ok_or("bob's phone was not alerted")?;
    println!("bob's phone was alerted: {}", alert.payload["message"]);

    // 4. The network drops ann's connection: her session resumes, nothing is lost.
    let mut states = ann.connection_states();
    srv.chat_faults().ok_or("no chat")?.cut(ann.user());
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(s)) = states.next().await {
            seen.push(s);
            if s == ConnectionState::Ready {
                break;
            }
        }
    })
    .await?;
    if !seen.contains(&ConnectionState::Resumed) {
        return Err(format!("ann's session did not resume: {seen:?}").into());
    }
    println!("ann's connection was cut and resumed: {seen:?}");
    dialog.send_text("still here").await?;

    ann.logout().await?;
    srv.shutdown().await;
    Ok(())
}

/// Polls `f` for up to 10 s (a push is recorded as the chat routes the message).
async fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..500 {
        if let Some(v) = f() {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}
