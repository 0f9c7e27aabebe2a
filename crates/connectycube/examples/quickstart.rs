//! The SDK's main job: two users log in (REST session, then chat with its token), a group
//! dialog is created over REST, messages go back and forth with their typing, delivered and
//! read statuses, a reaction is added, the history is read back over REST, and both log out.
//!
//! `cargo run -p connectycube --example quickstart` runs it against an embedded devserver (a
//! local ConnectyCube on 127.0.0.1, in memory): nothing to install, no account.
//!
//! With credentials in the environment it runs the chat half against a real server instead:
//! ConnectyCube (`CC_XMPP_DOMAIN=chat.connectycube.com`, `CC_XMPP_APP_ID`,
//! `CC_USER_A`/`CC_PASSWORD_A`, `CC_USER_B`/`CC_PASSWORD_B`) or the test ejabberd
//! (`cargo xtask quickstart`).

use std::time::{Duration, Instant};

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::{AppId, UserId};
use connectycube::protocol::message::chat_state::TypingState;
use connectycube::protocol::model::Message;
use connectycube::transport::config::ConnectionConfig;
use connectycube::transport::session::SessionSettings;
use connectycube::{ChatClient, ChatConfig, ChatEvents, DeliverySettings, Peer};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn connection() -> Result<ConnectionConfig> {
    let domain = env("CC_XMPP_DOMAIN").unwrap_or_else(|| "chat.connectycube.com".into());
    Ok(match (env("CC_XMPP_TLS_PORT"), env("CC_XMPP_CA_PEM")) {
        (Some(port), Some(ca)) => ConnectionConfig::direct_tls(domain, port.parse()?)
            .with_address(env("CC_XMPP_ADDR").unwrap_or_else(|| "127.0.0.1".into()))
            .with_custom_root_ca_pem(std::fs::read(ca)?),
        _ => ConnectionConfig::direct_tls(domain, 5223),
    })
}

fn user(suffix: &str, default_id: u64) -> Result<(UserId, String)> {
    let id = env(&format!("CC_USER_{suffix}")).map_or(Ok(default_id), |v| v.parse())?;
    let password = env(&format!("CC_PASSWORD_{suffix}")).unwrap_or_else(|| format!("pass{id}"));
    Ok((UserId(id), password))
}

fn client(suffix: &str, default_id: u64) -> Result<(ChatClient, ChatEvents)> {
    let (user, password) = user(suffix, default_id)?;
    let app_id = AppId(env("CC_XMPP_APP_ID").map_or(Ok(1), |v| v.parse())?);
    let settings = SessionSettings::default();
    let config = ChatConfig {
        connection: connection()?,
        app_id,
        user,
        password,
        settings,
        delivery: DeliverySettings::default(),
    };
    Ok(ChatClient::new(config)?)
}

/// Waits for the first event `pick` accepts.
async fn wait<T>(
    events: &mut ChatEvents,
    mut pick: impl FnMut(ChatEvent) -> Option<T>,
) -> Result<T> {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.next().await {
            if let Some(found) = pick(event?.into_event()) {
                return Ok(found);
            }
        }
        Err::<T, Box<dyn std::error::Error>>("the client stopped".into())
    });
    found.await.map_err(|_| "no such event within 10 s")?
}

#[tokio::main]
async fn main() -> Result<()> {
    if env("CC_USER_A").is_some() || env("CC_XMPP_TLS_PORT").is_some() {
        let (alice, alice_events) = client("A", 1001)?;
        let (bob, bob_events) = client("B", 1002)?;
        return chat(alice, alice_events, bob, bob_events).await;
    }
    local::run().await
}

/// Two users chat 1-1: typing, a message, delivered, read, last activity, logout.
async fn chat(
    alice: ChatClient,
    mut alice_events: ChatEvents,
    bob: ChatClient,
    mut bob_events: ChatEvents,
) -> Result<()> {
    let started = Instant::now();
    tokio::try_join!(alice.login(), bob.login())?;
    println!(
        "both logged in ({:?}): {:?}",
        started.elapsed(),
        alice.state()
    );

    alice
        .send_typing(Peer::User(bob.user(), None), TypingState::Composing)
        .await?;
    let mut message = Message::new("Hello from Rust 🦀");
    message.custom.insert("country".into(), "USA".into());
    let sent = Instant::now();
    alice.send_private(bob.user(), &message).await?;
    println!(
        "alice: message {} sent (acked by the server in {:?})",
        message.id,
        sent.elapsed()
    );

    let received = wait(&mut bob_events, |e| match e {
        ChatEvent::Typing(t) => {
            println!("bob: alice is {:?}", t.payload);
            None
        }
        ChatEvent::ChatMessage(m) => Some(m.payload),
        _ => None,
    })
    .await?;
    println!(
        "bob: got {:?} (custom {:?})",
        received.body.as_deref().unwrap_or(""),
        received.custom
    );

    wait(&mut alice_events, |e| {
        matches!(e, ChatEvent::Delivered(_)).then_some(())
    })
    .await?;
    println!("alice: delivered (bob's client acknowledged it automatically)");
    bob.send_read(Peer::User(alice.user(), received.dialog_id), received.id)
        .await?;
    wait(&mut alice_events, |e| {
        matches!(e, ChatEvent::Read(_)).then_some(())
    })
    .await?;
    println!("alice: read, round trip {:?}", sent.elapsed());

    let seconds = alice.last_activity(bob.user()).await?;
    println!("alice: bob was last active {seconds} s ago");
    tokio::join!(alice.logout(), bob.logout());
    println!("logged out: {:?}", alice.state());
    Ok(())
}

/// The whole job against an embedded devserver.
mod local {
    use connectycube::protocol::ids::{AppId, DialogId};
    use connectycube::rest::chat::dialogs::CreateDialog;
    use connectycube::rest::chat::messages::ListMessages;
    use connectycube::rest::chat::reactions::UpdateReactions;
    use connectycube::rest::session::{CreateSession, Secret, SessionUser};
    use connectycube::rest::{RestClient, RestConfig};
    use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};

    use super::*;

    /// A user's REST client (logged in) and chat client (its session token as the password).
    async fn login(srv: &DevServer, name: &str) -> Result<(RestClient, ChatClient, ChatEvents)> {
        let mut config = RestConfig::new().with_api_url(&srv.api_url())?;
        config.allow_plain_http = true; // the devserver is on loopback
        let rest = RestClient::new(config)?;
        let who = SessionUser::Login {
            login: name.into(),
            password: Secret(format!("{name}-password1")),
        };
        let session = rest
            .create_session(&CreateSession::new(
                AppId(srv.app_id()),
                srv.auth_key(),
                who,
            ))
            .await?;
        let chat = srv.chat().ok_or("the devserver runs without chat")?;
        let connection = chat.connection_config();
        let (client, events) = ChatClient::new(ChatConfig {
            connection,
            app_id: AppId(srv.app_id()),
            user: session.user_id.ok_or("a user session has a user")?,
            password: session.token.expose().to_owned(),
            settings: SessionSettings::default(),
            delivery: DeliverySettings::default(),
        })?;
        Ok((rest, client, events))
    }

    pub async fn run() -> Result<()> {
        let mut config = DevServerConfig::default();
        config.users.push(SeedUser::new("alice", "alice-password1"));
        config.users.push(SeedUser::new("bob", "bob-password1"));
        let srv = DevServer::start(config).await?;
        println!(
            "local ConnectyCube at {} (app {})",
            srv.api_url(),
            srv.app_id()
        );
        let (alice_rest, alice, alice_events) = login(&srv, "alice").await?;
        let (bob_rest, bob, mut bob_events) = login(&srv, "bob").await?;

        let dialog = alice_rest
            .send(&CreateDialog::group("Rustaceans", [bob.user()]))
            .await?;
        println!("alice: group dialog {} created over REST", dialog.id);
        tokio::try_join!(alice.login(), bob.login())?;
        group_message(&alice, &bob, &mut bob_events, dialog.id).await?;
        let latest = bob_rest.send(&ListMessages::new(dialog.id)).await?;
        let first = latest.items.first().ok_or("the history is empty")?;
        bob_rest.send(&UpdateReactions::add(first.id, "👍")).await?;
        println!(
            "bob: reacted 👍 to {:?} over REST",
            first.body.as_deref().unwrap_or("")
        );

        let result = super::chat(alice, alice_events, bob, bob_events).await;
        let history = alice_rest.send(&ListMessages::new(dialog.id)).await?;
        for m in &history.items {
            let reactions = m.reactions.as_ref().map(|r| &r.total);
            println!(
                "history: {:?} from {:?}, reactions {reactions:?}",
                m.body, m.sender_id
            );
        }
        srv.shutdown().await;
        result
    }

    /// Both join the room; alice's message there reaches bob and is saved to the history.
    async fn group_message(
        alice: &ChatClient,
        bob: &ChatClient,
        bob_events: &mut ChatEvents,
        dialog: DialogId,
    ) -> Result<()> {
        bob.join(dialog).await?; // resolves on the room's presence for bob
        alice.join(dialog).await?;
        alice
            .send_to_dialog(dialog, &Message::new("Hello, group!"))
            .await?;
        let got = wait(bob_events, |e| match e {
            ChatEvent::ChatMessage(m) => Some(m.payload),
            _ => None,
        })
        .await?;
        println!("bob: in the group, {:?}", got.body.as_deref().unwrap_or(""));
        Ok(())
    }
}
