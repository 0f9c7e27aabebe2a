//! Two users log in, exchange a message with its statuses, and log out.
//!
//! Against the local test server: `cargo xtask quickstart` (starts ejabberd, runs this, stops
//! it). Against ConnectyCube: set `CC_XMPP_DOMAIN=chat.connectycube.com`, `CC_XMPP_APP_ID`,
//! `CC_USER_A`/`CC_PASSWORD_A` and `CC_USER_B`/`CC_PASSWORD_B`, and leave the local-server
//! variables unset.

use std::time::{Duration, Instant};

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::{AppId, UserId};
use connectycube::protocol::message::chat_state::TypingState;
use connectycube::protocol::model::Message;
use connectycube::transport::config::ConnectionConfig;
use connectycube::transport::session::SessionSettings;
use connectycube::{ChatClient, ChatConfig, ChatEvents, DeliverySettings};

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
    let (alice, mut alice_events) = client("A", 1001)?;
    let (bob, mut bob_events) = client("B", 1002)?;
    let started = Instant::now();
    tokio::try_join!(alice.login(), bob.login())?;
    println!(
        "both logged in ({:?}): {:?}",
        started.elapsed(),
        alice.state()
    );

    alice.typing(bob.user(), TypingState::Composing)?.await?;
    let mut message = Message::new("Hello from Rust 🦀");
    message.custom.insert("country".into(), "USA".into());
    let sent = Instant::now();
    alice.send_private(bob.user(), &message)?.await?;
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
    bob.mark_read(alice.user(), received.dialog_id, received.id)?
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
