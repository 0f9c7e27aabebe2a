//! The same work done with tokio-xmpp 6's `Client` (its high-level API: a `Stream` of events
//! plus `send_stanza`, which returns once the stanza is written out).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_xmpp::connect::DnsConfig;
use tokio_xmpp::stanzastream::{StanzaStage, StanzaState};
use tokio_xmpp::xmlstream::Timeouts;
use tokio_xmpp::{Client, Event, Stanza};
use xmpp_parsers::carbons;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::{Id, Lang, Message};
use xmpp_parsers::presence::Presence;

use crate::server::Server;
use crate::work::{Delivery, LATENCY_PREFIX, Receipt, WAIT, run_prefix};

/// A client of user `id` through `port`, once it is online and has sent its initial presence
/// (without presence, ejabberd would not route chat messages to it), and with carbons enabled
/// when the server settings say so.
async fn login(server: &Server, id: u32, port: u16) -> Result<Client, String> {
    let jid = Jid::new(&server.jid(id)).map_err(|e| e.to_string())?;
    let dns = DnsConfig::addr(&format!("{}:{port}", server.addr));
    let mut client =
        Client::new_direct_tls_with_config(jid, server.password(id), dns, Timeouts::default());
    tokio::time::timeout(WAIT, async {
        loop {
            match client.next().await {
                Some(Event::Online { .. }) => return Ok(()),
                // tokio-xmpp would retry forever, also on bad credentials: stop at the first.
                Some(Event::Disconnected(e)) => return Err(format!("tokio-xmpp: login {id}: {e}")),
                Some(Event::Stanza(_)) => {}
                None => return Err(format!("tokio-xmpp: login {id}: client ended")),
            }
        }
    })
    .await
    .map_err(|_| format!("tokio-xmpp: login {id}: not online within {WAIT:?}"))??;
    if server.tokio_xmpp_carbons {
        // Like our session: carbons and presence go out together, the answer is not awaited.
        let enable = Iq::from_set("carbons", carbons::Enable);
        client
            .send_stanza(Stanza::Iq(enable))
            .await
            .map_err(|e| format!("tokio-xmpp: carbons: {e}"))?;
    }
    client
        .send_stanza(Stanza::Presence(Presence::available()))
        .await
        .map_err(|e| format!("tokio-xmpp: presence: {e}"))?;
    Ok(client)
}

/// Wall time of one login until online with initial presence written, then closes.
pub async fn connect_to_ready(server: &Server, id: u32, port: u16) -> Result<Duration, String> {
    let start = Instant::now();
    let client = login(server, id, port).await?;
    let elapsed = start.elapsed();
    client.send_end().await.map_err(|e| e.to_string())?;
    Ok(elapsed)
}

fn chat(to: &Jid, id: String, body: &str) -> Stanza {
    let mut message = Message::chat(Some(to.clone())).with_body(Lang(String::new()), body.into());
    message.id = Some(Id(id));
    Stanza::Message(message)
}

fn message_id(event: &Event) -> Option<&str> {
    match event {
        Event::Stanza(Stanza::Message(m)) => m.id.as_ref().map(|id| id.0.as_str()),
        _ => None,
    }
}

/// Sends `n` messages from `a` to `b` one `send_stanza` after the other; times until `b` has all.
pub async fn throughput(server: &Server, a: u32, b: u32, n: usize) -> Result<Delivery, String> {
    let mut alice = login(server, a, server.tls_port).await?;
    let mut bob = login(server, b, server.tls_port).await?;
    let prefix = run_prefix();
    let to = Jid::new(&server.jid(b)).map_err(|e| e.to_string())?;
    let messages: Vec<Stanza> = (0..n)
        .map(|i| chat(&to, format!("{prefix}{i}"), &format!("message {i}")))
        .collect();
    let expected = prefix.clone();
    let receiver = tokio::spawn(async move {
        let mut receipt = Receipt::new(n);
        while !receipt.complete() {
            match tokio::time::timeout(WAIT, bob.next()).await {
                Ok(Some(event)) => {
                    receipt.see(message_id(&event), &expected);
                }
                Ok(None) | Err(_) => break,
            }
        }
        (receipt, bob)
    });
    let cpu_start = crate::work::cpu_time();
    let start = Instant::now();
    let mut tokens = Vec::with_capacity(n);
    let mut failed = 0;
    for m in messages {
        match alice.send_stanza(m).await {
            Ok(token) => tokens.push(token),
            Err(_) => failed += 1,
        }
    }
    let queued = start.elapsed();
    let (receipt, bob) = receiver.await.map_err(|e| e.to_string())?;
    let received = start.elapsed();
    let cpu = crate::work::cpu_time().saturating_sub(cpu_start);
    let acked = tokio::time::timeout(WAIT, async {
        for mut t in tokens {
            if !matches!(
                t.wait_for(StanzaStage::Acked).await,
                Some(StanzaState::Acked { .. })
            ) {
                failed += 1;
            }
        }
    })
    .await
    .ok()
    .map(|()| start.elapsed());
    alice.send_end().await.map_err(|e| e.to_string())?;
    bob.send_end().await.map_err(|e| e.to_string())?;
    Ok(Delivery {
        queued,
        received,
        acked,
        failed_sends: failed,
        receipt,
        cpu,
    })
}

/// `warmup + n` sequential round trips: `a` sends, `b` echoes at once, `a` waits for the echo.
pub async fn latency(
    server: &Server,
    a: u32,
    b: u32,
    warmup: usize,
    n: usize,
) -> Result<Vec<Duration>, String> {
    let mut alice = login(server, a, server.tls_port).await?;
    let mut bob = login(server, b, server.tls_port).await?;
    let back_to = Jid::new(&server.jid(a)).map_err(|e| e.to_string())?;
    let echo = tokio::spawn(async move {
        while let Some(event) = bob.next().await {
            let Some(id) = message_id(&event).filter(|id| id.starts_with(LATENCY_PREFIX)) else {
                continue;
            };
            let reply = chat(&back_to, id.to_owned(), "echo");
            if bob.send_stanza(reply).await.is_err() {
                break;
            }
        }
    });
    let to = Jid::new(&server.jid(b)).map_err(|e| e.to_string())?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let id = format!("{LATENCY_PREFIX}{i}");
        let message = chat(&to, id.clone(), "ping");
        let start = Instant::now();
        alice
            .send_stanza(message)
            .await
            .map_err(|e| format!("tokio-xmpp: send: {e}"))?;
        tokio::time::timeout(WAIT, async {
            while let Some(event) = alice.next().await {
                if message_id(&event) == Some(id.as_str()) {
                    return Ok(());
                }
            }
            Err("tokio-xmpp: client ended".to_owned())
        })
        .await
        .map_err(|_| format!("tokio-xmpp: no echo of {id} within {WAIT:?}"))??;
        if i >= warmup {
            samples.push(start.elapsed());
        }
    }
    echo.abort();
    alice.send_end().await.map_err(|e| e.to_string())?;
    Ok(samples)
}
