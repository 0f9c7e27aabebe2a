//! `cargo xtask bench xmpp`: our transport against tokio-xmpp 6 (its `Client`, and the
//! `StanzaStream` under it) on the local ejabberd, all over direct TLS to the same port. Per client: connect-to-Ready time, login round trips
//! (through a proxy that delays every server-to-client chunk), one-way throughput of 1-1 chat
//! messages between two users, and round-trip latency of a message echoed back. The server is
//! whichever the environment names (ejabberd or the devserver, see `cargo xtask bench xmpp`);
//! `--connections N` instead holds N sessions open and reports the server's memory per
//! connection.

mod connections;
mod ours;
mod proxy;
mod server;
mod stats;
mod tokio_xmpp_client;
mod tokio_xmpp_stream;
mod work;

use std::process::ExitCode;
use std::time::Duration;

use server::Server;
use stats::{Samples, ms};
use work::Delivery;

/// What to run, from the command line.
#[derive(Debug, Clone)]
struct Options {
    logins: usize,
    proxy_logins: usize,
    proxy_delay: Duration,
    messages: usize,
    warmup: usize,
    round_trips: usize,
    repeats: usize,
    tokio_xmpp_carbons: bool,
    clients: Vec<Lib>,
    /// When non-zero, only the concurrent-connections run (see `connections`).
    connections: usize,
}

const USAGE: &str = "usage: bench-xmpp [--logins N] [--proxy-logins N] [--proxy-delay-ms N]
                  [--messages N] [--repeats N] [--warmup N] [--round-trips N]
                  [--only ours|tokio-xmpp-client|tokio-xmpp-stream]
                  [--tokio-xmpp-without-carbons] [--connections N]
--connections N: only hold N sessions of users 3001.. open at once and report the server's
RSS before/after (its pid in CC_SERVER_PID);
defaults: 50 logins, 5 proxied logins with 100 ms delay, 3 throughput runs of 20000
messages per client (interleaved; the median is reported), 2000 measured round trips in 3
interleaved blocks (200 warm-up each), all clients; tokio-xmpp enables carbons after login
like our session does, unless told otherwise";

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Self {
            logins: 50,
            proxy_logins: 5,
            proxy_delay: Duration::from_millis(100),
            messages: 20_000,
            warmup: 200,
            round_trips: 2_000,
            repeats: 3,
            tokio_xmpp_carbons: true,
            clients: vec![Lib::Ours, Lib::TokioXmppClient, Lib::TokioXmppStream],
            connections: 0,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            let number = |v: &String| v.parse::<usize>().map_err(|_| format!("{flag} {v:?}"));
            match flag.as_str() {
                "--logins" => o.logins = number(value()?)?,
                "--proxy-logins" => o.proxy_logins = number(value()?)?,
                "--proxy-delay-ms" => {
                    o.proxy_delay = Duration::from_millis(number(value()?)? as u64);
                }
                "--messages" => o.messages = number(value()?)?,
                "--warmup" => o.warmup = number(value()?)?,
                "--round-trips" => o.round_trips = number(value()?)?,
                "--repeats" => o.repeats = number(value()?)?.max(1),
                "--tokio-xmpp-without-carbons" => o.tokio_xmpp_carbons = false,
                "--connections" => o.connections = number(value()?)?,
                "--only" => {
                    o.clients = match value()?.as_str() {
                        "ours" => vec![Lib::Ours],
                        "tokio-xmpp-client" => vec![Lib::TokioXmppClient],
                        "tokio-xmpp-stream" => vec![Lib::TokioXmppStream],
                        other => return Err(format!("--only {other:?}\n{USAGE}")),
                    }
                }
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        Ok(o)
    }
}

/// The clients measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lib {
    Ours,
    TokioXmppClient,
    TokioXmppStream,
}

impl Lib {
    fn name(self) -> &'static str {
        match self {
            Self::Ours => "connectycube-transport",
            Self::TokioXmppClient => "tokio-xmpp 6.0.0 Client",
            Self::TokioXmppStream => "tokio-xmpp 6.0.0 StanzaStream",
        }
    }

    /// Users per client, so one client's leftovers never reach another's run:
    /// (sender, receiver, the one that logs in and out).
    fn users(self) -> (u32, u32, u32) {
        match self {
            Self::Ours => (2001, 2002, 2007),
            Self::TokioXmppClient => (2003, 2004, 2008),
            Self::TokioXmppStream => (2005, 2006, 2009),
        }
    }

    async fn connect_to_ready(self, s: &Server, port: u16) -> Result<Duration, String> {
        let id = self.users().2;
        match self {
            Self::Ours => ours::connect_to_ready(s, id, port).await,
            Self::TokioXmppClient => tokio_xmpp_client::connect_to_ready(s, id, port).await,
            Self::TokioXmppStream => tokio_xmpp_stream::connect_to_ready(s, id, port).await,
        }
    }

    async fn throughput(self, s: &Server, n: usize) -> Result<Delivery, String> {
        let (a, b, _) = self.users();
        match self {
            Self::Ours => ours::throughput(s, a, b, n).await,
            Self::TokioXmppClient => tokio_xmpp_client::throughput(s, a, b, n).await,
            Self::TokioXmppStream => tokio_xmpp_stream::throughput(s, a, b, n).await,
        }
    }

    async fn latency(self, s: &Server, warmup: usize, n: usize) -> Result<Vec<Duration>, String> {
        let (a, b, _) = self.users();
        match self {
            Self::Ours => ours::latency(s, a, b, warmup, n).await,
            Self::TokioXmppClient => tokio_xmpp_client::latency(s, a, b, warmup, n).await,
            Self::TokioXmppStream => tokio_xmpp_stream::latency(s, a, b, warmup, n).await,
        }
    }
}

/// Everything measured for one client; a phase that failed keeps its error.
#[derive(Debug)]
struct Report {
    connect: Result<Samples, String>,
    proxied: Result<Samples, String>,
    /// Every throughput run, sorted by rate.
    delivery: Result<Vec<Delivery>, String>,
    latency: Result<Samples, String>,
}

impl Default for Report {
    fn default() -> Self {
        Self {
            connect: Err("not run".into()),
            proxied: Err("not run".into()),
            delivery: Err("not run".into()),
            latency: Err("not run".into()),
        }
    }
}

/// `rounds` logins per client through `port`, alternating between the clients so a burst of
/// load from elsewhere hits all of them; a client stops at its first failure.
async fn logins(
    s: &Server,
    libs: &[Lib],
    rounds: usize,
    port: u16,
) -> Vec<Result<Samples, String>> {
    let mut times: Vec<Result<Vec<Duration>, String>> = vec![Ok(Vec::new()); libs.len()];
    // Round 0 warms up (the server's first login of a user, the process's first TLS
    // handshake) and is not counted, so whoever comes first does not pay for everyone.
    for round in 0..=rounds {
        for (lib, t) in libs.iter().zip(times.iter_mut()) {
            if let Ok(samples) = t {
                match lib.connect_to_ready(s, port).await {
                    Ok(d) if round > 0 => samples.push(d),
                    Ok(_) => {}
                    Err(e) => *t = Err(e),
                }
            }
        }
    }
    times.into_iter().map(|t| t.map(Samples::new)).collect()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-xmpp: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), String> {
    let o = Options::parse(args)?;
    let s = Server {
        tokio_xmpp_carbons: o.tokio_xmpp_carbons,
        ..Server::from_env()?
    };
    println!("load average at start: {}", load());
    if o.connections > 0 {
        let ran = connections::run(&s, o.connections).await;
        println!("load average at end: {}", load());
        return ran;
    }
    println!("tokio-xmpp enables carbons: {}", o.tokio_xmpp_carbons);
    let mut reports: Vec<(Lib, Report)> =
        o.clients.iter().map(|&c| (c, Report::default())).collect();
    let connect = logins(&s, &o.clients, o.logins, s.tls_port).await;
    let proxy = proxy::delaying_proxy(s.tls_addr()?, o.proxy_delay)
        .await
        .map_err(|e| format!("proxy: {e}"))?;
    let proxied = logins(&s, &o.clients, o.proxy_logins, proxy).await;
    for (((lib, report), c), p) in reports.iter_mut().zip(connect).zip(proxied) {
        report.connect = c;
        report.proxied = p;
        eprintln!("{}: logins done (load {})", lib.name(), load());
    }
    // Throughput runs interleave between the clients too; the server bounds them, and other
    // work on the machine moves single runs by tens of percent.
    for (_, report) in reports.iter_mut() {
        report.delivery = Ok(Vec::new());
    }
    for run in 0..o.repeats {
        for (lib, report) in reports.iter_mut() {
            if let Ok(runs) = &mut report.delivery {
                match lib.throughput(&s, o.messages).await {
                    Ok(d) => runs.push(d),
                    Err(e) => report.delivery = Err(e),
                }
            }
            eprintln!(
                "{}: throughput run {} done (load {})",
                lib.name(),
                run + 1,
                load()
            );
        }
    }
    for (_, report) in reports.iter_mut() {
        if let Ok(runs) = &mut report.delivery {
            runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        }
    }
    // Round trips too come in interleaved blocks, each after its own warm-up.
    let mut latency: Vec<Result<Vec<Duration>, String>> = vec![Ok(Vec::new()); reports.len()];
    let block = o.round_trips.div_ceil(o.repeats);
    for run in 0..o.repeats {
        let n = block.min(o.round_trips - block * run);
        for ((lib, _), l) in reports.iter().zip(latency.iter_mut()) {
            if let Ok(samples) = l {
                match lib.latency(&s, o.warmup, n).await {
                    Ok(more) => samples.extend(more),
                    Err(e) => *l = Err(e),
                }
            }
            eprintln!(
                "{}: round trips block {} done (load {})",
                lib.name(),
                run + 1,
                load()
            );
        }
    }
    for ((_, report), l) in reports.iter_mut().zip(latency) {
        report.latency = l.map(Samples::new);
    }
    print_table(&o, &reports);
    println!("load average at end: {}", load());
    Ok(())
}

fn print_table(o: &Options, reports: &[(Lib, Report)]) {
    let delay = o.proxy_delay;
    println!(
        "\n{} logins; login round trips = median login time through a proxy delaying \
         server-to-client data by {} ms ({} logins) / {} ms; throughput: median of {} runs of {} \
         messages; {} round trips in {} blocks, each after {} warm-up\n",
        o.logins,
        delay.as_millis(),
        o.proxy_logins,
        delay.as_millis(),
        o.repeats,
        o.messages,
        o.round_trips,
        o.repeats,
        o.warmup
    );
    println!(
        "| client | connect-to-Ready p50 | p99 | login round trips | throughput (msg/s) | \
         all received | all acked | client CPU per 1,000 msgs | RTT p50 | RTT p99 | RTT max |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (lib, r) in reports {
        let connect = r.connect.as_ref().ok();
        let rtts = r
            .proxied
            .as_ref()
            .ok()
            .map(|p| p.p50().as_secs_f64() / delay.as_secs_f64());
        let d = r
            .delivery
            .as_ref()
            .ok()
            .and_then(|runs| runs.get(runs.len() / 2));
        let l = r.latency.as_ref().ok();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            lib.name(),
            connect.map_or("-".into(), |c| ms(c.p50())),
            connect.map_or("-".into(), |c| ms(c.p99())),
            rtts.map_or("-".into(), |r| format!("{r:.2}")),
            d.map_or("-".into(), |d| format!("{:.0}", d.rate())),
            d.map_or("-".into(), |d| ms(d.received)),
            d.and_then(|d| d.acked).map_or("-".into(), ms),
            d.map_or("-".into(), |d| ms(
                d.cpu * 1000 / d.receipt.distinct.max(1) as u32
            )),
            l.map_or("-".into(), |l| ms(l.p50())),
            l.map_or("-".into(), |l| ms(l.p99())),
            l.map_or("-".into(), |l| ms(l.max())),
        );
    }
    println!();
    for (lib, r) in reports {
        let failures = [
            ("logins", r.connect.as_ref().err()),
            ("proxied logins", r.proxied.as_ref().err()),
            ("throughput", r.delivery.as_ref().err()),
            ("round trips", r.latency.as_ref().err()),
        ];
        for (phase, e) in failures {
            if let Some(e) = e {
                println!("{}: {phase} FAILED: {e}", lib.name());
            }
        }
        if let Ok(runs) = &r.delivery {
            let rates: Vec<String> = runs.iter().map(|d| format!("{:.0}", d.rate())).collect();
            println!(
                "{}: throughput runs (msg/s, sorted): {}",
                lib.name(),
                rates.join(", ")
            );
        }
        for d in r.delivery.iter().flatten() {
            println!(
                "{}: {} of {} received ({} out of order, {} duplicates, {} from earlier runs), {} failed sends, \
                 handed over in {}; {} latency samples",
                lib.name(),
                d.receipt.distinct,
                o.messages,
                d.receipt.out_of_order,
                d.receipt.duplicates,
                d.receipt.strays,
                d.failed_sends,
                ms(d.queued),
                r.latency.as_ref().map_or(0, Samples::len),
            );
        }
    }
}
