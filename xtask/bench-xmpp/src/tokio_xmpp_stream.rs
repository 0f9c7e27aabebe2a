//! The same work done with tokio-xmpp 6's `StanzaStream`, the layer under its `Client`: one
//! owner polls and sends, so no lock sits between a reader and a writer half, and `send`
//! returns once the stanza is queued (the fastest way the library offers).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_xmpp::Stanza;
use tokio_xmpp::connect::{DirectTlsServerConnector, DnsConfig};
use tokio_xmpp::stanzastream::{Event, StanzaStage, StanzaState, StanzaStream, StreamEvent};
use tokio_xmpp::xmlstream::Timeouts;
use xmpp_parsers::carbons;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::{Id, Lang, Message};
use xmpp_parsers::presence::Presence;

use crate::server::Server;
use crate::work::{Delivery, LATENCY_PREFIX, Receipt, WAIT, run_prefix};

/// The queue depth tokio-xmpp's own `Client` gives its stanza stream.
const QUEUE_DEPTH: usize = 16;

/// A stream of user `id` through `port`, once bound and with its initial presence written
/// (and carbons enabled first when the server settings say so).
async fn login(server: &Server, id: u32, port: u16) -> Result<StanzaStream, String> {
    let jid = Jid::new(&server.jid(id)).map_err(|e| e.to_string())?;
    let dns = DnsConfig::addr(&format!("{}:{port}", server.addr));
    let mut stream = StanzaStream::new_c2s(
        DirectTlsServerConnector::from(dns),
        jid,
        server.password(id),
        Timeouts::default(),
        QUEUE_DEPTH,
    );
    tokio::time::timeout(WAIT, async {
        loop {
            match stream.next().await {
                Some(Event::Stream(StreamEvent::Reset { .. })) => return Ok(()),
                Some(_) => {}
                None => return Err(format!("tokio-xmpp stream: login {id}: stream ended")),
            }
        }
    })
    .await
    .map_err(|_| format!("tokio-xmpp stream: login {id}: not bound within {WAIT:?}"))??;
    if server.tokio_xmpp_carbons {
        // Like our session: carbons and presence go out together, the answer is not awaited.
        let enable = Iq::from_set("carbons", carbons::Enable);
        drop(stream.send(Box::new(Stanza::Iq(enable))).await);
    }
    let mut token = stream
        .send(Box::new(Stanza::Presence(Presence::available())))
        .await;
    // Ready means the presence is on the wire, as `Client::send_stanza` would wait for.
    token.wait_for(StanzaStage::Sent).await;
    Ok(stream)
}

/// Wall time of one login until bound with initial presence written, then closes.
pub async fn connect_to_ready(server: &Server, id: u32, port: u16) -> Result<Duration, String> {
    let start = Instant::now();
    let stream = login(server, id, port).await?;
    let elapsed = start.elapsed();
    stream.close().await;
    Ok(elapsed)
}

fn chat(to: &Jid, id: String, body: &str) -> Box<Stanza> {
    let mut message = Message::chat(Some(to.clone())).with_body(Lang(String::new()), body.into());
    message.id = Some(Id(id));
    Box::new(Stanza::Message(message))
}

fn message_id(event: &Event) -> Option<&str> {
    match event {
        Event::Stanza(Stanza::Message(m)) => m.id.as_ref().map(|id| id.0.as_str()),
        _ => None,
    }
}

/// Sends `n` messages from `a` to `b`, each `send` returning once queued; times until `b` has
/// all.
pub async fn throughput(server: &Server, a: u32, b: u32, n: usize) -> Result<Delivery, String> {
    let alice = login(server, a, server.tls_port).await?;
    let mut bob = login(server, b, server.tls_port).await?;
    let prefix = run_prefix();
    let to = Jid::new(&server.jid(b)).map_err(|e| e.to_string())?;
    let messages: Vec<Box<Stanza>> = (0..n)
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
    for m in messages {
        tokens.push(alice.send(m).await);
    }
    let queued = start.elapsed();
    let (receipt, bob) = receiver.await.map_err(|e| e.to_string())?;
    let received = start.elapsed();
    let cpu = crate::work::cpu_time().saturating_sub(cpu_start);
    let mut failed = 0;
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
    alice.close().await;
    bob.close().await;
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
            if let Some(id) = message_id(&event).filter(|id| id.starts_with(LATENCY_PREFIX)) {
                let reply = chat(&back_to, id.to_owned(), "echo");
                drop(bob.send(reply).await);
            }
        }
    });
    let to = Jid::new(&server.jid(b)).map_err(|e| e.to_string())?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let id = format!("{LATENCY_PREFIX}{i}");
        let message = chat(&to, id.clone(), "ping");
        let start = Instant::now();
        drop(alice.send(message).await);
        tokio::time::timeout(WAIT, async {
            while let Some(event) = alice.next().await {
                if message_id(&event) == Some(id.as_str()) {
                    return Ok(());
                }
            }
            Err("tokio-xmpp stream: stream ended".to_owned())
        })
        .await
        .map_err(|_| format!("tokio-xmpp stream: no echo of {id} within {WAIT:?}"))??;
        if i >= warmup {
            samples.push(start.elapsed());
        }
    }
    echo.abort();
    alice.close().await;
    Ok(samples)
}
