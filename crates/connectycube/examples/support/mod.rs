//! What every example (and the guide's tests, which include this file) needs: an embedded
//! devserver with users, the `AppConfig` for it in one line, a login, and waiting for an event.
//! Not an example itself (Cargo only builds `examples/*.rs` and `examples/*/main.rs`).
#![allow(dead_code)] // each example uses a part

use std::time::Duration;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::AppId;
use connectycube::rest::session::{Secret, SessionUser};
use connectycube::{AppConfig, Client, Dialog, Event, Session, Subscription, Updates};
use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};

/// Errors of the examples: anything, shown with its chain.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The application's configuration for a local devserver: its REST URL and chat server.
pub fn app_config(srv: &DevServer) -> Result<AppConfig> {
    let chat = srv.chat().ok_or("the devserver runs without chat")?;
    Ok(AppConfig::new(AppId(srv.app_id()), srv.auth_key())
        .with_endpoints(&srv.api_url(), chat.connection_config())?)
}

/// The password every seeded user has.
pub fn password(login: &str) -> String {
    format!("{login}-password1")
}

/// A devserver (in memory, on loopback) with a user per login, and the client for its app.
pub async fn devserver(logins: &[&str]) -> Result<(DevServer, Client)> {
    let mut config = DevServerConfig::default();
    for login in logins {
        config.users.push(SeedUser::new(login, &password(login)));
    }
    let srv = DevServer::start(config).await?;
    let client = Client::new(app_config(&srv)?);
    Ok((srv, client))
}

/// The login of a seeded user.
pub fn credentials(login: &str) -> SessionUser {
    SessionUser::Login {
        login: login.into(),
        password: Secret(password(login)),
    }
}

/// Logs a seeded user in (REST session and chat).
pub async fn login(client: &Client, login: &str) -> Result<(Session, Subscription)> {
    Ok(client.login(credentials(login)).await?)
}

/// Waits up to 10 s for the first event `pick` accepts, skipping the others.
pub async fn wait<T>(
    events: &mut Subscription,
    mut pick: impl FnMut(ChatEvent) -> Option<T>,
) -> Result<T> {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.next().await {
            if let Event::Chat(received) = event
                && let Some(found) = pick(received.into_event())
            {
                return Ok(found);
            }
        }
        Err::<T, Box<dyn std::error::Error + Send + Sync>>("the client stopped".into())
    });
    found.await.map_err(|_| "no such event within 10 s")?
}

/// The next value of a typed stream, within 10 s (an error for a gap it reports).
pub async fn next<T>(stream: &mut Updates<T>) -> Result<T> {
    let got = tokio::time::timeout(Duration::from_secs(10), stream.next()).await;
    Ok(got
        .map_err(|_| "nothing within 10 s")?
        .ok_or("the session ended")??)
}

/// Joins `dialog`'s room and waits for the room's own presence (the user is in).
pub async fn join(dialog: &Dialog, events: &mut Subscription) -> Result<()> {
    dialog.join().await?;
    let (me, id) = (dialog.session().user(), dialog.id());
    wait(events, |e| match e {
        ChatEvent::OccupantJoined(o) if o.dialog == id && (o.is_self || o.user == me) => Some(()),
        _ => None,
    })
    .await
}
