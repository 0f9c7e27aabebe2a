//! The facade's side of `cargo xtask bench compare`: the work `fixtures/js-peer/bench.mjs` does
//! with the official JS SDK, done through `Client` → `Session` → `Dialog` at default settings.
//! One run per process, so every run starts cold like the JS one; the result is one JSON line.
//!
//! ```text
//! compare '{"mode": "throughput"|"rtt"|"memory"|"flood-receive"|"flood-send", "n": N, "app_id", "auth_key", "api_url",
//!           "chat_host", "chat_address", "tls_port", "ca_pem_file", "users": [{"login", "password"}],
//!           "receiver_id", "per_sender"}'
//! ```
//!
//! A flood is two processes, so the receiver's peak memory is its own: `flood-receive` (the
//! first user) and `flood-send` (every other user, `per_sender` messages each).
//!
//! CPU is the process's own (the devserver runs in another process): the sum over its threads
//! of `/proc/self/task/*/schedstat` (nanoseconds on a CPU), read before and after the timed part.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connectycube::protocol::ids::AppId;
use connectycube::protocol::model::Message;
use connectycube::rest::chat::dialogs::CreateDialog;
use connectycube::rest::session::{Secret, SessionUser};
use connectycube::transport::config::ConnectionConfig;
use connectycube::{AppConfig, Client, IncomingMessage, Session, Updates};
use serde_json::{Value, json};
use tokio::sync::Notify;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Config {
    raw: Value,
}

impl Config {
    fn str(&self, key: &str) -> &str {
        self.raw[key]
            .as_str()
            .unwrap_or_else(|| panic!("no `{key}`"))
    }

    fn n(&self) -> usize {
        self.raw["n"].as_u64().unwrap() as usize
    }

    fn app(&self) -> Result<AppConfig> {
        let pem = std::fs::read(self.str("ca_pem_file"))?;
        let port = self.raw["tls_port"].as_u64().unwrap() as u16;
        let chat = ConnectionConfig::direct_tls(self.str("chat_host"), port)
            .with_address(self.str("chat_address"))
            .with_custom_root_ca_pem(pem);
        let app_id = AppId(self.raw["app_id"].as_u64().unwrap());
        Ok(AppConfig::new(app_id, self.str("auth_key"))
            .with_endpoints(self.str("api_url"), chat)?)
    }

    fn user(&self, i: usize) -> SessionUser {
        let u = &self.raw["users"][i];
        SessionUser::Login {
            login: u["login"].as_str().unwrap().to_owned(),
            password: Secret(u["password"].as_str().unwrap().to_owned()),
        }
    }

    fn users(&self) -> usize {
        self.raw["users"].as_array().map_or(0, Vec::len)
    }
}

/// CPU time of this process so far, summed over its live threads.
fn cpu() -> Duration {
    let mut ns = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            ns += stat
                .split_whitespace()
                .next()
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(ns)
}

/// A `/proc/self/status` figure in KiB (`VmRSS:` now, `VmHWM:` the peak so far).
fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// This process's resident memory, KiB.
fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

fn emit(result: Value) {
    let mut result = result;
    result["lib"] = json!("rust");
    println!("{result}");
}

/// Counts the chat messages `messages` brings (those a lag skipped too, from its count:
/// they reached the client); wakes `done` at `n`. Gives the count and the lagged part.
fn count_messages(
    mut messages: Updates<IncomingMessage>,
    n: usize,
    done: Arc<Notify>,
) -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (got, lagged) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counter, skipped) = (got.clone(), lagged.clone());
    tokio::spawn(async move {
        while let Some(item) = messages.next().await {
            let k = match item {
                Ok(_) => 1,
                Err(lag) => {
                    let k = lag.missed_messages as usize;
                    skipped.fetch_add(k, Ordering::Relaxed);
                    k
                }
            };
            if counter.fetch_add(k, Ordering::Relaxed) + k >= n {
                done.notify_one();
            }
        }
    });
    (got, lagged)
}

/// Two users of the bench, logged in; their all-event streams are dropped (nothing waits
/// for them).
async fn pair(cfg: &Config) -> Result<(Session, Session)> {
    let client = Client::new(cfg.app()?);
    let (a, _) = client.login(cfg.user(0)).await?;
    let (b, _) = client.login(cfg.user(1)).await?;
    Ok((a, b))
}

async fn throughput(cfg: &Config) -> Result<()> {
    let n = cfg.n();
    let (a, b) = pair(cfg).await?;
    let dialog = a.create_dialog(&CreateDialog::private(b.user())).await?;
    let done = Arc::new(Notify::new());
    let (got, lagged) = count_messages(b.messages(), n, done.clone());
    let cpu0 = cpu();
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        handles.push(
            dialog
                .send(&Message::new(format!("bench {i}")))
                .queued()
                .await?,
        );
    }
    let timed_out = tokio::time::timeout(Duration::from_secs(120), done.notified())
        .await
        .is_err();
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu().saturating_sub(cpu0);
    let got = got.load(Ordering::Relaxed);
    let lagged = lagged.load(Ordering::Relaxed);
    // Every handle settles (acked or failed); a stalled client shows as a timeout here.
    let acked = tokio::time::timeout(Duration::from_secs(60), async {
        let mut acked = 0;
        for h in handles {
            acked += usize::from(h.await.is_ok());
        }
        acked
    })
    .await?;
    emit(
        json!({"mode": "throughput", "n": n, "got": got, "lagged": lagged, "acked": acked,
        "timed_out": timed_out, "secs": secs, "msg_per_s": got as f64 / secs,
        "cpu_us_per_msg": cpu.as_secs_f64() * 1e6 / got.max(1) as f64}),
    );
    Ok(())
}

async fn rtt(cfg: &Config) -> Result<()> {
    let (a, b) = pair(cfg).await?;
    let dialog = a.create_dialog(&CreateDialog::private(b.user())).await?;
    let echo = b.dialog(dialog.id()).await?;
    let (mut a_messages, mut b_messages) = (a.messages(), b.messages());
    tokio::spawn(async move {
        while let Some(Ok(_)) = b_messages.next().await {
            let _ = echo.send(&Message::new("pong")).queued().await;
        }
    });
    let (warmup, n) = (20, cfg.n());
    let mut samples = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let t0 = Instant::now();
        let _handle = dialog
            .send(&Message::new(format!("ping {i}")))
            .queued()
            .await?;
        tokio::time::timeout(Duration::from_secs(10), a_messages.next())
            .await?
            .ok_or("the session ended")??;
        if i >= warmup {
            samples.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    samples.sort_by(f64::total_cmp);
    let pick = |q: f64| samples[((q * samples.len() as f64) as usize).min(samples.len() - 1)];
    emit(json!({"mode": "rtt", "n": samples.len(), "p50_ms": pick(0.5), "p99_ms": pick(0.99)}));
    Ok(())
}

/// Peak resident memory of this process so far, KiB.
fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// The receiving end of a flood: logs in, says it is ready, counts chat messages until `n`
/// came or none came for 30 s, and reports its peak memory (what the flood cost it).
async fn flood_receive(cfg: &Config) -> Result<()> {
    let client = Client::new(cfg.app()?);
    let (me, _) = client.login(cfg.user(0)).await?;
    let mut messages = me.messages();
    println!("{}", json!({"ready": true}));
    let (n, mut got) = (cfg.n(), 0usize);
    let mut t0 = None;
    while got < n {
        match tokio::time::timeout(Duration::from_secs(30), messages.next()).await {
            Ok(Some(item)) => {
                t0.get_or_insert_with(Instant::now);
                got += item.map_or_else(|lag| lag.missed_messages as usize, |_| 1);
            }
            Ok(None) | Err(_) => break,
        }
    }
    let secs = t0.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let stats = me.chat().delivery_stats();
    emit(
        json!({"mode": "flood-receive", "n": n, "got": got, "secs": secs,
        "peak_rss_mib": peak_rss_kib() as f64 / 1024.0,
        "duplicates_dropped": stats.duplicates_dropped, "out_of_order": stats.out_of_order,
        "state": format!("{:?}", me.chat().state())}),
    );
    Ok(())
}

/// The sending end of a flood: every user but the first logs in and sends `per_sender`
/// messages to the first (`receiver_id`), all at once.
async fn flood_send(cfg: &Config) -> Result<()> {
    let client = Client::new(cfg.app()?);
    let receiver = connectycube::protocol::ids::UserId(cfg.raw["receiver_id"].as_u64().unwrap());
    let per = cfg.raw["per_sender"].as_u64().unwrap() as usize;
    let (mut senders, mut failed) = (Vec::new(), Vec::new());
    for start in (1..cfg.users()).step_by(64) {
        let logins = (start..(start + 64).min(cfg.users())).map(|i| client.login(cfg.user(i)));
        for login in futures_util::future::join_all(logins).await {
            match login {
                Ok((session, _)) => senders.push(session),
                // Counted and shown: a flood that could not start is not a figure.
                Err(e) => failed.push(e.to_string()),
            }
        }
    }
    let t0 = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|me| {
            tokio::spawn(async move {
                let dialog = me.create_dialog(&CreateDialog::private(receiver)).await?;
                let mut handles = Vec::with_capacity(per);
                for i in 0..per {
                    handles.push(
                        dialog
                            .send(&Message::new(format!("flood {i}")))
                            .queued()
                            .await?,
                    );
                }
                let mut acked = 0usize;
                for h in handles {
                    acked += usize::from(h.await.is_ok());
                }
                Ok::<_, connectycube::Error>((acked, me))
            })
        })
        .collect();
    let mut acked = 0;
    let mut kept = Vec::new();
    for t in tasks {
        match t.await? {
            Ok((a, me)) => {
                acked += a;
                kept.push(me);
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    failed.sort();
    failed.dedup();
    emit(
        json!({"mode": "flood-send", "acked": acked, "secs": t0.elapsed().as_secs_f64(),
        "senders": kept.len(), "errors": failed}),
    );
    // Online until the receiver is done (the bench closes our stdin): a message the server
    // bounces after its ack is sent again by its sender's session, which must still be there.
    let _ =
        tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
            .await;
    drop(kept);
    Ok(())
}

async fn memory(cfg: &Config) -> Result<()> {
    let client = Client::new(cfg.app()?);
    let rss0 = rss_kib();
    let t0 = Instant::now();
    let mut sessions = Vec::with_capacity(cfg.users());
    let batch = 64;
    for start in (0..cfg.users()).step_by(batch) {
        let logins = (start..(start + batch).min(cfg.users())).map(|i| client.login(cfg.user(i)));
        for login in futures_util::future::join_all(logins).await {
            // The all-event stream is dropped: nothing waits for it.
            let (session, _) = login?;
            sessions.push(session);
        }
    }
    let login_secs = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let n = sessions.len();
    let per = (rss_kib().saturating_sub(rss0)) as f64 / n.max(1) as f64;
    emit(json!({"mode": "memory", "n": n, "login_secs": login_secs, "rss_kib_per_conn": per}));
    Ok(())
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; the config is the one argument that is not a flag.
    let arg = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let Some(arg) = arg else {
        eprintln!("usage: compare '<json config>' (run by `cargo xtask bench compare`)");
        return;
    };
    // `@FILE`: the config is in FILE (10,000 users do not fit in one argument).
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).expect("the config file"),
        None => arg,
    };
    let cfg = Config {
        raw: serde_json::from_str(&text).expect("a JSON config"),
    };
    let result = match cfg.str("mode") {
        "throughput" => throughput(&cfg).await,
        "rtt" => rtt(&cfg).await,
        "memory" => memory(&cfg).await,
        "flood-receive" => flood_receive(&cfg).await,
        "flood-send" => flood_send(&cfg).await,
        other => Err(format!("unknown mode {other}").into()),
    };
    if let Err(e) = result {
        emit(json!({"mode": cfg.str("mode"), "error": e.to_string()}));
        std::process::exit(1);
    }
}
