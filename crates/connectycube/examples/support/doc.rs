// The hidden setup of the facade's doc examples, which include this file with
// `# include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));`: an embedded
// devserver (in memory, on 127.0.0.1) with the users `ann` and `bob`, logins, and waiting for
// an event. Items only (it is included into each example), no inner attributes; not an example
// itself (Cargo builds only `examples/*.rs` and `examples/*/main.rs`).

/// The doc examples' errors: anything, with its chain.
type DocResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A devserver with the users `ann` and `bob` (password `LOGIN-password1`) and the client for
/// its application.
async fn devserver() -> DocResult<(connectycube_devserver::DevServer, connectycube::Client)> {
    let mut config = connectycube_devserver::DevServerConfig::default();
    for login in ["ann", "bob"] {
        config.users.push(connectycube_devserver::SeedUser::new(
            login,
            &format!("{login}-password1"),
        ));
    }
    let srv = connectycube_devserver::DevServer::start(config).await?;
    let chat = srv.chat().ok_or("the devserver runs without chat")?;
    let app = connectycube::AppConfig::new(
        connectycube::protocol::ids::AppId(srv.app_id()),
        srv.auth_key(),
    )
    .with_endpoints(&srv.api_url(), chat.connection_config())?;
    Ok((srv, connectycube::Client::new(app)))
}

/// The login of a seeded user.
fn credentials(login: &str) -> connectycube::rest::session::SessionUser {
    connectycube::rest::session::SessionUser::Login {
        login: login.into(),
        password: connectycube::rest::session::Secret(format!("{login}-password1")),
    }
}

/// Logs a seeded user in (REST session and chat).
async fn login(
    client: &connectycube::Client,
    login: &str,
) -> DocResult<(connectycube::Session, connectycube::Subscription)> {
    Ok(client.login(credentials(login)).await?)
}

/// Waits up to 10 s for the first event `pick` accepts, skipping the others.
async fn wait<T>(
    events: &mut connectycube::Subscription,
    mut pick: impl FnMut(connectycube::protocol::event::ChatEvent) -> Option<T>,
) -> DocResult<T> {
    let found = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(event) = events.next().await {
            if let connectycube::Event::Chat(received) = event
                && let Some(found) = pick(received.into_event())
            {
                return Ok(found);
            }
        }
        Err::<T, Box<dyn std::error::Error + Send + Sync>>("the client stopped".into())
    });
    found.await.map_err(|_| "no such event within 10 s")?
}

/// `ann` and `bob` logged in, and the private dialog `ann` created with `bob` as each sees it.
struct Pair {
    srv: connectycube_devserver::DevServer,
    client: connectycube::Client,
    ann: connectycube::Session,
    ann_events: connectycube::Subscription,
    bob: connectycube::Session,
    bob_events: connectycube::Subscription,
    /// `ann`'s side of the dialog.
    dialog: connectycube::Dialog,
    /// `bob`'s side of it.
    bobs: connectycube::Dialog,
}

/// Two users with a private dialog between them.
async fn pair() -> DocResult<Pair> {
    let (srv, client) = devserver().await?;
    let (ann, ann_events) = login(&client, "ann").await?;
    let (bob, bob_events) = login(&client, "bob").await?;
    let create = connectycube::rest::chat::dialogs::CreateDialog::private(bob.user());
    let dialog = ann.create_dialog(&create).await?;
    let bobs = bob.dialog(dialog.id()).await?;
    Ok(Pair { srv, client, ann, ann_events, bob, bob_events, dialog, bobs })
}

/// `ann` and `bob` in a group dialog `ann` created (`bob` has joined its room).
async fn group() -> DocResult<Pair> {
    let (srv, client) = devserver().await?;
    let (ann, ann_events) = login(&client, "ann").await?;
    let (bob, mut bob_events) = login(&client, "bob").await?;
    let create = connectycube::rest::chat::dialogs::CreateDialog::group("Team", [bob.user()]);
    let dialog = ann.create_dialog(&create).await?;
    let bobs = bob.dialog(dialog.id()).await?;
    bobs.join().await?;
    let _ = &mut bob_events;
    Ok(Pair { srv, client, ann, ann_events, bob, bob_events, dialog, bobs })
}
