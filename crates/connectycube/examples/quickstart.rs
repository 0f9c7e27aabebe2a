//! The SDK's main job, through its one door (`Client` → `Session` → `Dialog`): two users log
//! in (REST session and chat), a group dialog is created, messages go back and forth with
//! their typing, delivered and read statuses, a reaction is added, the history is read back,
//! and both log out.
//!
//! `cargo run -p connectycube --example quickstart` runs it against an embedded devserver (a
//! local ConnectyCube on 127.0.0.1, in memory): nothing to install, no account.
//!
//! With credentials in the environment it runs the chat half against a real chat server
//! instead, logging in to the chat alone: ConnectyCube (`CC_XMPP_DOMAIN=chat.connectycube.com`,
//! `CC_XMPP_APP_ID`, `CC_USER_A`/`CC_PASSWORD_A`, `CC_USER_B`/`CC_PASSWORD_B`) or the test
//! ejabberd (`cargo xtask quickstart`).

use std::time::{Duration, Instant};

use connectycube::prelude::*;
use connectycube::transport::config::ConnectionConfig;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The chat server named by the environment (`CC_XMPP_*`).
fn chat_server() -> Result<AppConfig> {
    let domain = env("CC_XMPP_DOMAIN").unwrap_or_else(|| "chat.connectycube.com".into());
    let connection = match (env("CC_XMPP_TLS_PORT"), env("CC_XMPP_CA_PEM")) {
        (Some(port), Some(ca)) => ConnectionConfig::direct_tls(domain, port.parse()?)
            .with_address(env("CC_XMPP_ADDR").unwrap_or_else(|| "127.0.0.1".into()))
            .with_custom_root_ca_pem(std::fs::read(ca)?),
        _ => ConnectionConfig::direct_tls(domain, 5223),
    };
    let app_id = AppId(env("CC_XMPP_APP_ID").map_or(Ok(1), |v| v.parse())?);
    let mut config = AppConfig::new(app_id, env("CC_AUTH_KEY").unwrap_or_default());
    config.chat = connection;
    Ok(config)
}

/// User `suffix` (`CC_USER_A`, `CC_PASSWORD_A`) logged in to the chat alone.
async fn login_chat(client: &Client, suffix: &str, default_id: u64) -> Result<Session> {
    let id = env(&format!("CC_USER_{suffix}")).map_or(Ok(default_id), |v| v.parse())?;
    let password = env(&format!("CC_PASSWORD_{suffix}")).unwrap_or_else(|| format!("pass{id}"));
    let (session, _all_events) = client.login_chat(UserId(id), Secret(password)).await?;
    Ok(session)
}

/// The next value of a typed stream, within 10 s.
async fn next<T>(stream: &mut Updates<T>) -> Result<T> {
    let next = tokio::time::timeout(Duration::from_secs(10), stream.next()).await;
    Ok(next
        .map_err(|_| "nothing within 10 s")?
        .ok_or("the session ended")??)
}

#[tokio::main]
async fn main() -> Result<()> {
    if env("CC_USER_A").is_some() || env("CC_XMPP_TLS_PORT").is_some() {
        let client = Client::new(chat_server()?);
        let alice = login_chat(&client, "A", 1001).await?;
        let bob = login_chat(&client, "B", 1002).await?;
        return chat(&alice, &bob).await;
    }
    local::run().await
}

/// Two users chat 1-1: typing, a message, delivered, read, last activity, logout.
async fn chat(alice: &Session, bob: &Session) -> Result<()> {
    let (mut bob_typing, mut bob_messages) = (bob.typing_started(), bob.messages());
    let (mut delivered, mut read) = (alice.delivered_statuses(), alice.read_statuses());
    println!(
        "alice and bob chat 1-1 as users {} and {}",
        alice.user(),
        bob.user()
    );

    let to_bob = alice.chat();
    let peer = Peer::User(bob.user(), None);
    to_bob.send_typing(peer, TypingState::Composing).await?;
    let typing = next(&mut bob_typing).await?;
    println!("bob: {:?} is typing", typing.user_id());
    let mut message = Message::new("Hello from Rust 🦀");
    message.custom.insert("country".into(), "USA".into());
    let sent = Instant::now();
    to_bob.send_private(bob.user(), &message).await?;
    println!(
        "alice: message {} acked by the server in {:?}",
        message.id,
        sent.elapsed()
    );

    let received = next(&mut bob_messages).await?;
    println!(
        "bob: got {:?} (custom {:?})",
        received.body().unwrap_or(""),
        received.message.custom
    );
    let status = next(&mut delivered).await?;
    println!(
        "alice: {} delivered (bob's client acknowledged it itself)",
        status.message_id()
    );
    let from_alice = Peer::User(alice.user(), received.dialog_id());
    bob.chat()
        .send_read(from_alice, received.message_id())
        .await?;
    let status = next(&mut read).await?;
    println!(
        "alice: {} read, round trip {:?}",
        status.message_id(),
        sent.elapsed()
    );

    let seconds = alice.chat().last_activity(bob.user()).await?;
    println!("alice: bob was last active {seconds} s ago");
    tokio::try_join!(alice.logout(), bob.logout())?;
    Ok(())
}

/// The whole job against an embedded devserver.
mod local {
    use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};

    use super::*;

    /// A seeded user logged in: REST session and chat.
    async fn login(client: &Client, name: &str) -> Result<Session> {
        let who = SessionUser::Login {
            login: name.into(),
            password: Secret(format!("{name}-password1")),
        };
        let (session, _all_events) = client.login(who).await?;
        Ok(session)
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
        let chat_server = srv.chat().ok_or("the devserver runs without chat")?;
        let app = AppConfig::new(AppId(srv.app_id()), srv.auth_key())
            .with_endpoints(&srv.api_url(), chat_server.connection_config())?;
        let client = Client::new(app);
        let alice = login(&client, "alice").await?;
        let bob = login(&client, "bob").await?;

        let group = alice
            .create_dialog(&CreateDialog::group("Rustaceans", [bob.user()]))
            .await?;
        println!("alice: group dialog {} created", group.id());
        let bobs = bob.dialog(group.id()).await?;
        group_message(&group, &bobs).await?;

        history(&group).await?;
        let result = chat(&alice, &bob).await;
        srv.shutdown().await;
        result
    }

    /// Both are in the room; alice's message there reaches bob, who reacts to it.
    async fn group_message(alice: &Dialog, bob: &Dialog) -> Result<()> {
        let mut bob_messages = bob.session().messages();
        bob.join().await?;
        let sent = alice.send_text("Hello, group!").await?;
        let got = next(&mut bob_messages).await?;
        println!("bob: in the group, {:?}", got.body().unwrap_or(""));
        bob.react(sent.id, "👍").await?;
        println!("bob: reacted 👍");
        Ok(())
    }

    /// The group's history as the server keeps it, with the reactions.
    async fn history(group: &Dialog) -> std::result::Result<(), Error> {
        for m in group.history().limit(100).fetch().await? {
            let reactions = m.reactions.as_ref().map(|r| &r.total);
            println!(
                "history: {:?} from {:?}, reactions {reactions:?}",
                m.body, m.sender_id
            );
        }
        Ok(())
    }
}
