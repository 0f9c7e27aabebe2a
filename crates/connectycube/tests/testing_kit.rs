//! The `testing` feature as docs/TESTING.md shows it: a test server per test, the app's
//! client pointed at it, and the server's store read back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use connectycube::Client;
use connectycube::protocol::ids::UserId;
use connectycube::rest::chat::dialogs::CreateDialog;
use connectycube::rest::session::{Secret, SessionUser};
use connectycube::testing::{SeedUser, TestServer};

#[tokio::test]
async fn ann_can_write_to_bob() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let bob = SeedUser {
        id: Some(2),
        ..SeedUser::new("bob", "bob-password")
    };
    let srv = TestServer::with_users(&[SeedUser::new("ann", "ann-password"), bob]).await?;
    let client = Client::new(srv.app_config()?);
    let ann = SessionUser::Login {
        login: "ann".into(),
        password: Secret("ann-password".into()),
    };
    let (me, _events) = client.login(ann).await?;
    let dialog = me.create_dialog(&CreateDialog::private(UserId(2))).await?;
    let sent = dialog.send_text("hello").await?;
    // What the server stored, read back from its store.
    let stored = srv.store().message(sent.id)?.ok_or("not stored")?;
    assert_eq!(stored.body.as_deref(), Some("hello"));
    // Bob is offline and has no device: the alert is in the log, no device got a push.
    let alerts = srv.chat().unwrap().notifications();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].user, UserId(2));
    assert!(srv.pushes_delivered(Some(UserId(2)))?.is_empty());
    me.logout().await?;
    srv.shutdown().await;
    Ok(())
}
