//! The work done with our transport (`connectycube-transport`'s `ChatConnection`).

use std::time::{Duration, Instant};

use connectycube_transport::config::ConnectionConfig;
use connectycube_transport::connector::Credentials;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{ChatConnection, Incoming, SessionSettings};
use minidom::Element;
use xmpp_parsers::jid::BareJid;

use crate::server::Server;
use crate::work::{Delivery, LATENCY_PREFIX, WAIT, run_prefix};

/// A session of user `id` through `port` (the server's, or a proxy's), logged in.
pub async fn login(
    server: &Server,
    id: u32,
    port: u16,
) -> Result<(ChatConnection, Incoming), String> {
    let config = ConnectionConfig::direct_tls(&server.domain, port)
        .with_address(&server.addr)
        .with_custom_root_ca_pem(server.ca_pem.clone());
    let connector = XmppConnector::new(config).map_err(|e| e.to_string())?;
    let credentials = Credentials {
        jid: BareJid::new(&server.jid(id)).map_err(|e| e.to_string())?,
        password: server.password(id),
    };
    let (conn, incoming) = ChatConnection::new(connector, credentials, settings());
    conn.login()
        .await
        .map_err(|e| format!("ours: login {id}: {e}"))?;
    Ok((conn, incoming))
}

/// The session settings: the defaults except the send-rate bound, which is off, since this
/// benchmark measures how fast the transport itself goes (the default 1,000 stanzas a second
/// guards a recipient on a server at its default limits, issue 11). `BENCH_MAX_SEND_RATE`,
/// `BENCH_ACK_EVERY` and `BENCH_MAX_IN_FLIGHT` set the bound, the ack pace and the in-flight
/// window, so a run can tell what each of them costs.
fn settings() -> SessionSettings {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok());
    let rate = var("BENCH_MAX_SEND_RATE").map_or(0, |r| u32::try_from(r).unwrap_or(u32::MAX));
    let mut settings = SessionSettings::default().with_max_send_rate(rate);
    if let Some(every) = var("BENCH_ACK_EVERY") {
        let every = u32::try_from(every).unwrap_or(u32::MAX);
        let delay = settings.ack_delay;
        settings = settings.with_ack_pace(every, delay);
    }
    if let Some(n) = var("BENCH_MAX_IN_FLIGHT") {
        settings = settings.with_max_in_flight(n);
    }
    settings
}

/// Wall time of one login until `login()` returns (bound, stream management enabled,
/// carbons and initial presence sent), then logs out.
pub async fn connect_to_ready(server: &Server, id: u32, port: u16) -> Result<Duration, String> {
    let start = Instant::now();
    let (conn, _incoming) = login(server, id, port).await?;
    let elapsed = start.elapsed();
    conn.destroy().await;
    Ok(elapsed)
}

/// A chat message with `id` and `body`, built before the clock starts.
fn chat(to: &str, id: &str, body: &str) -> Result<Element, String> {
    format!(
        "<message xmlns='jabber:client' type='chat' to='{to}' id='{id}'><body>{body}</body></message>"
    )
    .parse()
    .map_err(|e| format!("building a message: {e}"))
}

/// Sends `n` messages from `a` to `b` as fast as `send` takes them; times until `b` has all.
pub async fn throughput(server: &Server, a: u32, b: u32, n: usize) -> Result<Delivery, String> {
    let (alice, mut a_in) = login(server, a, server.tls_port).await?;
    // The sender reads its inbound as an app does: a server that bounces messages (a receiver
    // closed for falling behind) must not fill the sender's bounded inbound and stall it.
    let bounces = tokio::spawn(async move {
        let mut n = 0usize;
        while let Some(el) = a_in.recv().await {
            n += usize::from(el.name() == "message" && el.attr("type") == Some("error"));
        }
        n
    });
    let (bob, mut b_in) = login(server, b, server.tls_port).await?;
    let prefix = run_prefix();
    let to = server.jid(b);
    let messages = (0..n)
        .map(|i| chat(&to, &format!("{prefix}{i}"), &format!("message {i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let expected = prefix.clone();
    let receiver = tokio::spawn(async move {
        let mut delivery = crate::work::Receipt::new(n);
        while !delivery.complete() {
            match tokio::time::timeout(WAIT, b_in.recv()).await {
                Ok(Some(el)) => {
                    if el.name() == "message" {
                        delivery.see(el.attr("id"), &expected);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        delivery
    });
    let cpu_start = crate::work::cpu_time();
    let start = Instant::now();
    let handles: Vec<_> = messages.into_iter().map(|m| alice.send(m)).collect();
    let queued = start.elapsed();
    let receipt = receiver.await.map_err(|e| e.to_string())?;
    let received = start.elapsed();
    let cpu = crate::work::cpu_time().saturating_sub(cpu_start);
    let mut failed = 0;
    for h in handles {
        failed += usize::from(h.await.is_err());
    }
    let acked = start.elapsed();
    alice.destroy().await;
    bob.destroy().await;
    let bounced = bounces.await.unwrap_or(0);
    if bounced > 0 {
        eprintln!("ours: {bounced} messages bounced back to the sender");
    }
    Ok(Delivery {
        queued,
        received,
        acked: Some(acked),
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
    let (alice, mut a_in) = login(server, a, server.tls_port).await?;
    let (bob, mut b_in) = login(server, b, server.tls_port).await?;
    let back_to = server.jid(a);
    let echo_conn = bob.clone();
    let echo = tokio::spawn(async move {
        while let Some(el) = b_in.recv().await {
            let Some(id) = el.attr("id").filter(|id| id.starts_with(LATENCY_PREFIX)) else {
                continue;
            };
            if let Ok(reply) = chat(&back_to, id, "echo") {
                // The echo's own server ack does not matter here.
                drop(echo_conn.send(reply));
            }
        }
    });
    let to = server.jid(b);
    let mut samples = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let id = format!("{LATENCY_PREFIX}{i}");
        let message = chat(&to, &id, "ping")?;
        let start = Instant::now();
        drop(alice.send(message));
        tokio::time::timeout(WAIT, async {
            while let Some(el) = a_in.recv().await {
                if el.name() == "message" && el.attr("id") == Some(id.as_str()) {
                    return Ok(());
                }
            }
            Err("ours: session ended".to_owned())
        })
        .await
        .map_err(|_| format!("ours: no echo of {id} within {WAIT:?}"))??;
        if i >= warmup {
            samples.push(start.elapsed());
        }
    }
    echo.abort();
    alice.destroy().await;
    bob.destroy().await;
    Ok(samples)
}
