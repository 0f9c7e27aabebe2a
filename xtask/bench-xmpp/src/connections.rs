//! `--connections N`: N users logged in with our transport at once, held open, and the
//! server's resident memory before and after (the server's pid in `CC_SERVER_PID`, read from
//! `/proc`), so the memory one connection costs the server is a measured figure.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::server::Server;

/// The first user id of the connection run (xtask seeds `FIRST_USER..FIRST_USER + N`).
pub const FIRST_USER: u32 = 3001;

/// Logins in flight at once: enough to be quick, few enough not to time out TLS handshakes
/// on a small machine.
const IN_FLIGHT: usize = 32;

/// `VmRSS` of `pid` in KiB.
fn rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status"))
}

/// Opens `n` sessions (users `FIRST_USER..`), holds them, measures, then closes them.
pub async fn run(s: &Server, n: usize) -> Result<(), String> {
    let pid: u32 = std::env::var("CC_SERVER_PID")
        .map_err(|_| "CC_SERVER_PID is not set (the server's process id)".to_owned())?
        .parse()
        .map_err(|_| "CC_SERVER_PID is not a number".to_owned())?;
    // One login first, so the baseline already has the server's per-process TLS and store
    // state warmed up, not charged to the connections.
    let (warm, _warm_in) = crate::ours::login(s, FIRST_USER + n as u32, s.tls_port).await?;
    warm.destroy().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(pid)?;
    let start = Instant::now();
    let opened: Vec<_> = futures_util::stream::iter(0..n as u32)
        .map(|i| crate::ours::login(s, FIRST_USER + i, s.tls_port))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let took = start.elapsed();
    let mut sessions = Vec::with_capacity(n);
    for o in opened {
        sessions.push(o?);
    }
    // Let the server settle (presence broadcasts, acks) before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid)?;
    let connected = sessions
        .iter()
        .filter(|(c, _)| c.state().is_connected())
        .count();
    println!(
        "\n{n} concurrent connections (our transport, direct TLS, {IN_FLIGHT} logins in flight): \
         all logged in after {took:.2?}; {connected} of {n} still connected after 2 s"
    );
    let per = (after.saturating_sub(before)) as f64 / n as f64;
    println!(
        "server RSS (pid {pid}): {before} KiB before, {after} KiB with {n} connections: \
         {per:.1} KiB per connection"
    );
    for (c, _) in sessions {
        c.destroy().await;
    }
    if connected == n {
        Ok(())
    } else {
        Err(format!("{} connections dropped", n - connected))
    }
}
