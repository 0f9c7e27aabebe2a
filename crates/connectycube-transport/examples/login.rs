//! Logs in and prints the server's post-login stream features.
//!
//! Against the local test server (after `cargo xtask ejabberd up` and sourcing its env.sh):
//! `RUST_LOG=connectycube_transport=trace cargo run -p connectycube-transport --example login -- 1001 pass1001`
//! Without `CC_XMPP_*` in the environment it connects to ConnectyCube's `chat.connectycube.com:5223`
//! with `CC_APP_ID` as the application id.

use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::{Connector, Credentials};
use connectycube_transport::connectors::XmppConnector;
use xmpp_parsers::jid::BareJid;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut args = std::env::args().skip(1);
    let (Some(user_id), Some(password)) = (args.next(), args.next()) else {
        return Err("usage: login <user id> <password or session token>".into());
    };
    let (config, app_id) = match std::env::var("CC_XMPP_DOMAIN") {
        Ok(domain) => {
            let port = std::env::var("CC_XMPP_TLS_PORT")?.parse()?;
            let mut config = ConnectionConfig::direct_tls(domain, port);
            if let Ok(addr) = std::env::var("CC_XMPP_ADDR") {
                config = config.with_address(addr);
            }
            if let Ok(ca) = std::env::var("CC_XMPP_CA_PEM") {
                config = config.with_custom_root_ca_pem(std::fs::read(ca)?);
            }
            (config, std::env::var("CC_XMPP_APP_ID")?)
        }
        Err(_) => (
            ConnectionConfig::connectycube(),
            std::env::var("CC_APP_ID")?,
        ),
    };
    let credentials = Credentials {
        jid: BareJid::new(&format!("{user_id}-{app_id}@{}", config.domain))?,
        password,
    };
    let connector = XmppConnector::new(config)?;
    let started = std::time::Instant::now();
    let stream = connector.connect(&credentials).await?;
    println!(
        "logged in as {} in {:?}",
        credentials.jid,
        started.elapsed()
    );
    println!("features: {:#?}", stream.features);
    Ok(())
}
