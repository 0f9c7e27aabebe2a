//! `cargo xtask bench compare`: the facade at its defaults against the official JS SDK (pinned
//! in fixtures/js-peer, over wss and over xmpps), both against one release devserver at its
//! defaults, in interleaved rounds, one process per run. Prints each run as it ends, then the
//! medians and the ratios to the faster JS transport.

use std::collections::BTreeMap;
use std::process::Command;

use crate::devserver::{self, Running};

type Result<T = ()> = std::result::Result<T, String>;

/// The libraries compared, in the order each round runs them. The JS SDK connects over
/// WebSocket by default; `CUBE_TLS_ENABLE=1` (its own switch) adds direct TLS (`xmpps://`).
const LIBS: [&str; 3] = ["rust", "js-wss", "js-xmpps"];

/// Options: rounds, throughput sizes, ping-pongs, connections for the memory figure, and
/// which libraries and measures run.
struct Options {
    rounds: usize,
    sizes: Vec<usize>,
    pings: usize,
    connections: usize,
    /// Senders and messages each in the flood (`--flood 10000x20`).
    flood: (usize, usize),
    libs: Vec<String>,
    skip: Vec<String>,
}

fn options(args: &[&str]) -> Result<Options> {
    let mut o = Options {
        rounds: 3,
        sizes: vec![2_000, 20_000],
        pings: 200,
        connections: 1_000,
        flood: (10_000, 20),
        libs: LIBS.iter().map(|l| (*l).to_owned()).collect(),
        skip: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{flag} {v}: not a number"))
        };
        match *flag {
            "--rounds" => o.rounds = number(value)?,
            "--sizes" => o.sizes = value.split(',').map(number).collect::<Result<_>>()?,
            "--pings" => o.pings = number(value)?,
            "--connections" => o.connections = number(value)?,
            "--flood" => {
                let (s, p) = value
                    .split_once('x')
                    .ok_or(format!("--flood {value}: SxP"))?;
                o.flood = (number(s)?, number(p)?);
            }
            "--libs" => o.libs = value.split(',').map(str::to_owned).collect(),
            "--skip" => o.skip = value.split(',').map(str::to_owned).collect(),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

/// Hands out users no earlier run touched, so no run sees another's offline messages.
struct Users {
    next: u32,
}

impl Users {
    const FIRST: u32 = 5001;

    fn take(&mut self, n: usize) -> Vec<u32> {
        let first = self.next;
        self.next += n as u32;
        (first..self.next).collect()
    }
}

fn config(
    server: &Running,
    mode: &str,
    n: usize,
    transport: &str,
    users: &[u32],
) -> Result<String> {
    let users: Vec<String> = users
        .iter()
        .map(|id| format!(r#"{{"login": "user{id}", "password": "pass{id}"}}"#))
        .collect();
    let host = server.get("chat_host")?;
    let port = server.get("direct_tls_port")?;
    Ok(format!(
        r#"{{"mode": "{mode}", "n": {n}, "transport": "{transport}", "app_id": {app},
"auth_key": "{key}", "api_url": "{api}", "chat_host": "{host}", "chat_address": "{addr}",
"tls_port": {port}, "ca_pem_file": "{ca}", "wss_url": "{wss}", "tls_url": "xmpps://{host}:{port}",
"users": [{users}]}}"#,
        app = server.get("app_id")?,
        key = server.get("auth_key")?,
        api = server.get("api_url")?,
        addr = server.get("chat_address")?,
        ca = server.get("ca_pem_file")?,
        wss = server.get("wss_url")?,
        users = users.join(", "),
    ))
}

/// Writes `cfg` to a file and gives the `@FILE` argument that names it (a config with
/// thousands of users does not fit in one command-line argument).
fn config_file(cfg: &str, name: &str) -> Result<String> {
    let dir = devserver::target_dir().join("compare");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, cfg).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("@{}", path.display()))
}

/// Runs one measurement of `lib` and returns its JSON line.
fn run(lib: &str, server: &Running, cfg: &str) -> Result<String> {
    let cfg = &config_file(cfg, lib)?;
    let output = if lib == "rust" {
        let root = crate::workspace_root();
        let target = devserver::target_dir();
        let bin = find_bench_binary(&target.join("release/deps"))?;
        wrapped(&bin, "CC_BENCH_WRAP")
            .arg(cfg)
            .current_dir(root)
            .output()
    } else {
        let dir = crate::workspace_root().join("fixtures/js-peer");
        Command::new("node")
            .arg("bench.mjs")
            .arg(cfg)
            .current_dir(dir)
            .env("NODE_EXTRA_CA_CERTS", server.get("ca_pem_file")?)
            .env("CUBE_TLS_ENABLE", "1")
            .output()
    }
    .map_err(|e| format!("{lib}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .map(str::to_owned);
    match line {
        Some(line) if output.status.success() => Ok(line),
        _ => Err(format!(
            "{lib} failed ({}): {}{}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

/// `bin` as a command, under the profiler the environment variable `var` names, if any
/// (`CC_BENCH_WRAP="perf record -g -o FILE"` for the facade's runs, `CC_BENCH_WRAP_RECEIVER`
/// for a flood's receiver), to find where a figure goes; such a run's figures are not the
/// product's.
fn wrapped(bin: &std::path::Path, var: &str) -> Command {
    let wrap = std::env::var(var).unwrap_or_default();
    let mut words = wrap.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(bin);
            c
        }
        None => Command::new(bin),
    }
}

/// The newest `compare-*` executable cargo built for the bench.
fn find_bench_binary(deps: &std::path::Path) -> Result<std::path::PathBuf> {
    let entries = std::fs::read_dir(deps).map_err(|e| format!("{}: {e}", deps.display()))?;
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("compare-") && !name.contains('.')
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
        .ok_or_else(|| "the compare bench was not built".to_owned())
}

/// A number field of a result line (the lines are flat JSON objects).
fn field(line: &str, key: &str) -> Option<f64> {
    let start = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = line[start..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// Every figure of every run: (measure, lib) → values.
type Figures = BTreeMap<(String, String), Vec<f64>>;

fn record(figures: &mut Figures, measure: &str, lib: &str, line: &str, key: &str) {
    if let Some(v) = field(line, key) {
        let key = (measure.to_owned(), lib.to_owned());
        figures.entry(key).or_default().push(v);
    }
}

pub fn bench(args: &[&str]) -> Result {
    let o = options(args)?;
    crate::install_js_peer()?;
    crate::cargo(&[
        "bench",
        "-p",
        "connectycube",
        "--bench",
        "compare",
        "--no-run",
    ])?;
    let mut users = Users { next: Users::FIRST };
    let flood_users = if o.skip.iter().any(|s| s == "flood") {
        0
    } else {
        o.flood.0 + 1
    };
    let needed =
        o.rounds * (o.sizes.len() + 1) * LIBS.len() * 2 + 2 * o.connections + flood_users + 8;
    let ids: Vec<u32> = (Users::FIRST..Users::FIRST + needed as u32).collect();
    // The devserver at its defaults (ejabberd's max_ack_queue, 5,000), as a user runs it,
    // unless CC_BENCH_DEVSERVER_FLAGS says otherwise (to find where a figure comes from).
    let flags = std::env::var("CC_BENCH_DEVSERVER_FLAGS").unwrap_or_default();
    let flags: Vec<&str> = flags.split_whitespace().collect();
    let server = Running::start(devserver::Profile::Release, &ids, &flags)?;
    let mut figures = Figures::new();
    let libs: Vec<&str> = LIBS
        .into_iter()
        .filter(|l| o.libs.iter().any(|x| x == l))
        .collect();
    let wanted = |measure: &str| !o.skip.iter().any(|s| s == measure);
    for round in 1..=o.rounds {
        for &n in o.sizes.iter().filter(|_| wanted("throughput")) {
            for &lib in &libs {
                let cfg = config(&server, "throughput", n, transport(lib), &users.take(2))?;
                let line = run(lib, &server, &cfg)?;
                println!("round {round} {lib} throughput {n}: {line}");
                record(
                    &mut figures,
                    &format!("msg/s, {n} messages"),
                    lib,
                    &line,
                    "msg_per_s",
                );
                let measure = format!("client CPU µs/msg, {n} messages");
                record(&mut figures, &measure, lib, &line, "cpu_us_per_msg");
            }
        }
        for &lib in libs.iter().filter(|_| wanted("rtt")) {
            let cfg = config(&server, "rtt", o.pings, transport(lib), &users.take(2))?;
            let line = run(lib, &server, &cfg)?;
            println!("round {round} {lib} rtt: {line}");
            record(&mut figures, "RTT p50 ms", lib, &line, "p50_ms");
            record(&mut figures, "RTT p99 ms", lib, &line, "p99_ms");
        }
    }
    // Memory once per library (the transport does not change what a JS connection holds).
    for &lib in libs
        .iter()
        .filter(|l| **l != "js-xmpps" && wanted("memory"))
    {
        let cfg = config(
            &server,
            "memory",
            0,
            transport(lib),
            &users.take(o.connections),
        )?;
        let line = run(lib, &server, &cfg)?;
        println!("{lib} memory, {} connections: {line}", o.connections);
        record(
            &mut figures,
            "KiB RSS per connection",
            lib,
            &line,
            "rss_kib_per_conn",
        );
        record(
            &mut figures,
            "login seconds, all connections",
            lib,
            &line,
            "login_secs",
        );
    }
    if libs.contains(&"rust") && wanted("flood") {
        let line = flood(&server, &o, &mut users)?;
        record(
            &mut figures,
            "flood: receiver's peak MiB",
            "rust",
            &line,
            "peak_rss_mib",
        );
    }
    print_table(&figures);
    Ok(())
}

/// The receiver of `senders x per` messages in its own process, the senders in another; the
/// receiver's line (its peak memory).
fn flood(server: &Running, o: &Options, users: &mut Users) -> Result<String> {
    use std::io::{BufRead, BufReader};
    let (senders, per) = o.flood;
    let ids = users.take(senders + 1);
    let total = senders * per;
    let extra = format!(r#", "receiver_id": {}, "per_sender": {per}}}"#, ids[0]);
    let with = |cfg: String| format!("{}{extra}", cfg.trim_end().trim_end_matches('}'));
    let receive = with(config(server, "flood-receive", total, "xmpps", &ids[..1])?);
    let send = with(config(server, "flood-send", total, "xmpps", &ids)?);
    let bin = find_bench_binary(&devserver::target_dir().join("release/deps"))?;
    let mut receiver = wrapped(&bin, "CC_BENCH_WRAP_RECEIVER")
        .arg(config_file(&receive, "flood-receive")?)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("flood receiver: {e}"))?;
    let stdout = receiver.stdout.take().ok_or("flood receiver: no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    if !ready.contains("ready") {
        let _ = receiver.kill();
        return Err(format!("flood receiver did not log in: {ready}"));
    }
    // The senders stay online until the receiver is done (their stdin closes then): a
    // message bounced after its ack is sent again by its sender's session.
    let mut sending = Command::new(&bin)
        .arg(config_file(&send, "flood-send")?)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("flood senders: {e}"))?;
    let out = sending.stdout.take().ok_or("flood senders: no stdout")?;
    let sent = BufReader::new(out)
        .lines()
        .find_map(|l| l.ok().filter(|l| l.starts_with('{')))
        .unwrap_or_default();
    println!("flood {senders}x{per}: senders: {sent}");
    let line = lines
        .find_map(|l| l.ok().filter(|l| l.starts_with('{')))
        .unwrap_or_default();
    let _ = receiver.wait();
    drop(sending.stdin.take());
    let _ = sending.wait();
    println!("flood {senders}x{per}: receiver: {line}");
    Ok(line)
}

fn transport(lib: &str) -> &str {
    lib.strip_prefix("js-").unwrap_or("xmpps")
}

fn print_table(figures: &Figures) {
    let measures: Vec<&String> = {
        let mut m: Vec<&String> = figures.keys().map(|(m, _)| m).collect();
        m.dedup();
        m
    };
    println!("\n| measure (median of rounds) | rust | js-wss | js-xmpps | rust vs the better JS |");
    println!("|---|---|---|---|---|");
    for measure in measures {
        let get = |lib: &str| {
            figures
                .get(&(measure.clone(), lib.to_owned()))
                .and_then(|v| median(v.clone()))
        };
        let higher_is_better = measure.starts_with("msg/s");
        let js = [get("js-wss"), get("js-xmpps")].into_iter().flatten();
        let best_js = if higher_is_better {
            js.max_by(f64::total_cmp)
        } else {
            js.min_by(f64::total_cmp)
        };
        let cell = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
        let ratio = match (get("rust"), best_js) {
            (Some(r), Some(j)) if r > 0.0 && j > 0.0 => format!("{:.2}x", r / j),
            _ => "-".to_owned(),
        };
        println!(
            "| {measure} | {} | {} | {} | {ratio} |",
            cell(get("rust")),
            cell(get("js-wss")),
            cell(get("js-xmpps"))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_a_result_line() {
        let line = r#"{"mode":"rtt","n":200,"p50_ms":0.61,"p99_ms":1.5,"lib":"rust"}"#;
        assert_eq!(field(line, "p50_ms"), Some(0.61));
        assert_eq!(field(line, "p99_ms"), Some(1.5));
        assert_eq!(field(line, "n"), Some(200.0));
        assert_eq!(field(line, "missing"), None);
    }

    #[test]
    fn options_take_sizes_and_rounds() {
        let o = options(&["--rounds", "1", "--sizes", "10,20"]).unwrap();
        assert_eq!((o.rounds, o.sizes), (1, vec![10, 20]));
        assert!(options(&["--rounds"]).is_err());
    }
}
