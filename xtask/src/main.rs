//! `cargo xtask <command>`: the project's own tasks, one definition of "the checks" for
//! developers and CI alike.

mod ci;
mod compare;
mod devserver;
mod ejabberd;
mod package;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  quickstart                      run the quickstart example against an embedded devserver
                                  (REST session, group dialog, messages with their statuses,
                                  a reaction, the history; nothing to install)
  quickstart ejabberd             the quickstart's chat half against the test ejabberd
  ci [fmt|clippy|doc|features|package|test]...
                                  the checks CI runs, in this order (all six when none is
                                  named): `cargo fmt --all -- --check`; `cargo clippy
                                  --workspace --all-targets --all-features -- -D warnings`;
                                  `cargo doc --workspace --no-deps` with RUSTDOCFLAGS=-D warnings;
                                  `cargo clippy -D warnings` of each TLS feature combination (none, each
                                  provider and root source, all); the published crates' licence
                                  files, READMEs and metadata, then `cargo package --workspace`
                                  (each package built alone); `cargo xtask test` (unit,
                                  integration and doc tests)
  test [ARGS]                     run `cargo test --workspace --all-features ARGS` against the
                                  test ejabberd (started for the run and stopped after it, or
                                  an instance already running here reused and left running);
                                  without ARGS, then the transport's integration tests again
                                  against the devserver (see `test devserver`) and the quickstart
  test devserver [ARGS]           only the transport's integration tests (`--test '*'` ARGS)
                                  against the devserver binary, started for the run on ephemeral
                                  127.0.0.1 ports with the test users seeded, stopped after it
  replay http                     replay every fixtures/http exchange through the REST client
                                  against a loopback server (no ejabberd needed)
  bench xmpp [--server S] [ARGS]  the XMPP benchmark (xtask/bench-xmpp: our transport against
                                  tokio-xmpp 6, release build, ARGS passed on) against the test
                                  ejabberd, then the devserver (release) with 1,000 concurrent
                                  connections and its memory per connection; S = ejabberd,
                                  devserver or both (default); each server stopped after
  bench compare [--rounds R] [--sizes N,M] [--pings P] [--connections C]
                [--flood SxP] [--libs rust,js-wss,js-xmpps]
                [--skip throughput,rtt,memory,flood]
                                  the facade at its defaults against the official JS SDK
                                  (wss and xmpps) on one release devserver at its defaults,
                                  interleaved rounds of one process per run: throughput at
                                  each size (2,000 and 20,000), client CPU per message, RTT
                                  p50/p99 over P ping-pongs (200), memory per connection with
                                  C idle connections (1,000), and the receiver's peak memory
                                  under a flood from S senders of P messages each (10000x20,
                                  each side its own process); medians and ratios at the end
  burst [--only NAME]... [ARGS]   the burst proofs against the test ejabberd at its
                                  default limits (20,000 messages each; long, so ignored by
                                  `cargo test`), one file after another, going on past a
                                  failing one and listing the failures at the end: the
                                  transport's (`transport`), the facade's (`burst`: a receiver
                                  auto-marking 'delivered', and with a second resource
                                  online), the same with 5 random cuts on each side
                                  (`burst_cuts`), and the official JS SDK as the receiver
                                  (`js_burst`); `--only` picks files; ARGS go to the test
                                  binaries (CC_BURST_COUNT, CC_BURST_SEND_RATE and
                                  CC_BURST_SEED are read from the environment)
  ejabberd up|down|status         the private ejabberd the transport tests use (127.0.0.1 only);
                                  `down` stops only an instance `up` started in this worktree
  ejabberd register <id>          add user `{id}-1@localhost` with password `pass{id}`
  help                            this text

environment:
  CC_EJABBERD_PORT_BASE           the ejabberd's STARTTLS port (default 15222); the others
                                  follow it (+1 direct TLS, +69 WebSocket, +377 Erlang), so
                                  several worktrees can each run an instance
  CC_BENCH_DEVSERVER_FLAGS        the devserver's flags in `bench xmpp` (default
                                  `--max-ack-queue 100000`, the test ejabberd's limit)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        [] | ["help"] | ["--help"] => {
            println!("{USAGE}");
            Ok(())
        }
        ["ci", parts @ ..] => ci::run(parts),
        ["test", "devserver", rest @ ..] => transport_tests_on_devserver(rest),
        ["test", rest @ ..] => run_tests(rest),
        ["bench", "xmpp", rest @ ..] => bench_xmpp(rest),
        ["bench", "compare", rest @ ..] => compare::bench(rest),
        ["burst", rest @ ..] => burst(rest),
        ["quickstart"] => cargo(&QUICKSTART),
        ["quickstart", "ejabberd"] => with_ejabberd(&QUICKSTART),
        ["replay", "http"] => cargo(&[
            "test",
            "-p",
            "connectycube-rest",
            "--test",
            "replay",
            "--",
            "--nocapture",
        ]),
        ["ejabberd", "up"] => ejabberd::up().map(|_| ()),
        ["ejabberd", "down"] => ejabberd::down(),
        ["ejabberd", "status"] => ejabberd::status(),
        ["ejabberd", "register", id] => id
            .parse()
            .map_err(|_| format!("`{id}` is not a user id"))
            .and_then(ejabberd::register),
        _ => Err(format!("unknown command `{}`\n\n{USAGE}", words.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs the workspace's tests against the test ejabberd (see [`with_ejabberd_then`]).
pub(crate) fn run_tests(extra: &[&str]) -> Result<(), String> {
    install_js_peer()?;
    let mut args = vec!["test", "--workspace", "--all-features"];
    args.extend_from_slice(extra);
    // The peer is installed above and the server started below: a test that would skip
    // without them (as on a fresh clone's `cargo test`) must fail instead.
    with_ejabberd_then(&args, &required_env(), || Ok(()))?;
    if extra.is_empty() {
        transport_tests_on_devserver(&[])?;
        // The README's quickstart command is part of "every test": it must keep working.
        cargo(&QUICKSTART)?;
        // So is every guide example (docs/GUIDE.md names them), each against its own devserver.
        for example in GUIDE_EXAMPLES {
            cargo(&["run", "-q", "-p", "connectycube", "--example", example])?;
        }
    }
    Ok(())
}

/// The transport's integration tests a second time, against the devserver binary, so they
/// hold against both servers; the server is stopped whatever happens.
fn transport_tests_on_devserver(extra: &[&str]) -> Result<(), String> {
    install_js_peer()?;
    let server = devserver::Running::start(devserver::Profile::Debug, &[], &[])?;
    let mut args = vec![
        "test",
        "-p",
        "connectycube-transport",
        "--all-features",
        "--test",
        "*",
    ];
    args.extend_from_slice(extra);
    let mut env = server.env()?;
    env.extend(required_env());
    cargo_with_env(&args, &env)
}

/// What `cargo xtask test` tells the tests: the servers and the JS SDK peer are there, so a
/// test must fail rather than skip for want of them (`fixtures/src/needs.rs` reads these).
fn required_env() -> Vec<(String, String)> {
    ["CC_SERVERS_REQUIRED", "CC_JS_PEER_REQUIRED"]
        .into_iter()
        .map(|name| (name.to_owned(), "1".to_owned()))
        .collect()
}

/// The README's quickstart: the example against an embedded devserver.
const QUICKSTART: [&str; 6] = ["run", "-q", "-p", "connectycube", "--example", "quickstart"];

/// One example per area of the messaging guide (`crates/connectycube/examples/`), and one
/// for what the facade adds beyond it (offline-first).
const GUIDE_EXAMPLES: [&str; 10] = [
    "connect_and_states",
    "dialogs",
    "messaging",
    "attachments",
    "edit_delete",
    "reactions",
    "privacy_lists",
    "last_activity",
    "system_messages",
    "offline",
];

/// Installs the pinned official JS SDK the interoperability tests run as a peer
/// (`fixtures/js-peer`, `npm ci`: exactly the versions of its lock file), once.
pub(crate) fn install_js_peer() -> Result<(), String> {
    let dir = workspace_root().join("fixtures/js-peer");
    if dir.join("node_modules/connectycube/package.json").is_file() {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("npm (needed for the JS SDK peer; install nodejs and npm): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm ci in {} failed: {status}", dir.display()))
    }
}

/// The burst test files, in the order `burst` runs them: a name for `--only`, the
/// crate and the test file, and the test binary's extra arguments.
const BURSTS: [(&str, &str, &str, &[&str]); 4] = [
    ("transport", "connectycube-transport", "burst", &[]),
    // The facade's cases share their users, so they run one at a time.
    ("burst", "connectycube", "burst", &["--test-threads=1"]),
    (
        "burst_cuts",
        "connectycube",
        "burst_cuts",
        &["--test-threads=1"],
    ),
    (
        "js_burst",
        "connectycube",
        "js_burst",
        &["--test-threads=1"],
    ),
];

/// Splits `burst`'s arguments into the files chosen by `--only NAME` (all when none is) and
/// the rest, for the test binaries.
fn burst_args<'a>(extra: &[&'a str]) -> Result<(Vec<&'a str>, Vec<&'a str>), String> {
    let (mut only, mut rest) = (Vec::new(), Vec::new());
    let mut it = extra.iter();
    while let Some(a) = it.next() {
        if *a == "--only" {
            let name = *it.next().ok_or("--only needs a name")?;
            if !BURSTS.iter().any(|b| b.0 == name) {
                let names: Vec<&str> = BURSTS.iter().map(|b| b.0).collect();
                return Err(format!("--only {name:?}: one of {names:?}"));
            }
            only.push(name);
        } else {
            rest.push(*a);
        }
    }
    Ok((only, rest))
}

/// The burst tests (ignored by the default run), one file after another against one
/// test ejabberd (started for the run and stopped after it, or reused): a failing file does
/// not stop the others; the failures are listed at the end.
fn burst(extra: &[&str]) -> Result<(), String> {
    let (only, rest) = burst_args(extra)?;
    let chosen: Vec<_> = BURSTS
        .iter()
        .filter(|b| only.is_empty() || only.contains(&b.0))
        .collect();
    if chosen.iter().any(|b| b.0 == "js_burst") {
        install_js_peer()?;
    }
    let started = ejabberd::up()?;
    let env = ejabberd::env();
    let mut failed = Vec::new();
    for (name, krate, file, more) in chosen {
        println!("== burst: {name} ({krate} --test {file})");
        let mut args = vec!["test", "-p", krate, "--test", file, "--", "--ignored"];
        args.push("--nocapture");
        args.extend_from_slice(more);
        args.extend_from_slice(&rest);
        let ran = env.clone().and_then(|env| cargo_with_env(&args, &env));
        if let Err(e) = ran {
            eprintln!("xtask: burst {name}: {e}");
            failed.push(*name);
        }
    }
    let stopped = if started { ejabberd::down() } else { Ok(()) };
    if !failed.is_empty() {
        return Err(format!("burst files failed: {}", failed.join(", ")));
    }
    stopped
}

/// Users the XMPP benchmark logs in as (registered on top of the test users).
const BENCH_USERS: std::ops::RangeInclusive<u32> = 2001..=2009;

/// Sessions the devserver's concurrent-connections run holds open (users 3001..=4000, and
/// 4001 for its warm-up login; see xtask/bench-xmpp/src/connections.rs).
const BENCH_CONNECTIONS: u32 = 1_000;

/// Which servers `bench xmpp` measures (`--server ejabberd|devserver|both`, both by default:
/// the issue asks for both in the same run).
fn bench_servers(extra: &[&str]) -> Result<(bool, bool, Vec<String>), String> {
    let mut rest = Vec::new();
    let mut which = "both".to_owned();
    let mut it = extra.iter();
    while let Some(a) = it.next() {
        if *a == "--server" {
            which = it.next().ok_or("--server needs a value")?.to_string();
        } else {
            rest.push((*a).to_owned());
        }
    }
    match which.as_str() {
        "both" => Ok((true, true, rest)),
        "ejabberd" => Ok((true, false, rest)),
        "devserver" => Ok((false, true, rest)),
        other => Err(format!("--server {other:?}: ejabberd, devserver or both")),
    }
}

/// Runs the XMPP benchmark crate (its own workspace, so tokio-xmpp never enters ours) in
/// release mode against a fresh ejabberd, then against the devserver (release build) with
/// its concurrent-connections run; each server is stopped whatever happens.
fn bench_xmpp(extra: &[&str]) -> Result<(), String> {
    let (ejabberd_too, devserver_too, rest) = bench_servers(extra)?;
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let manifest = workspace_root().join("xtask/bench-xmpp/Cargo.toml");
    let manifest = manifest.display().to_string();
    let mut args = vec!["run", "--release", "--manifest-path", &manifest, "--"];
    args.extend_from_slice(&rest);
    if ejabberd_too {
        println!("== bench xmpp: ejabberd");
        // tokio-xmpp trusts the platform's roots (rustls-native-certs), which honours this.
        let ca = ejabberd::env()?
            .into_iter()
            .find(|(k, _)| k == "CC_XMPP_CA_PEM")
            .map(|(_, v)| v)
            .ok_or("no CC_XMPP_CA_PEM in the ejabberd environment")?;
        let extra_env = [("SSL_CERT_FILE".to_owned(), ca)];
        with_ejabberd_then(&args, &extra_env, || {
            BENCH_USERS.clone().try_for_each(ejabberd::register)
        })?;
    }
    if devserver_too {
        println!("== bench xmpp: devserver");
        bench_devserver(&args)?;
    }
    Ok(())
}

/// The benchmark against a release devserver, then its concurrent connections.
fn bench_devserver(args: &[&str]) -> Result<(), String> {
    let first = 3001;
    let users: Vec<u32> = BENCH_USERS
        .chain(first..=first + BENCH_CONNECTIONS)
        .collect();
    // By default the same ack queue limit as the test ejabberd's (xtask/ejabberd/ejabberd.yml),
    // so both servers run the benchmark under the same rule.
    let flags: Vec<String> = std::env::var("CC_BENCH_DEVSERVER_FLAGS")
        .unwrap_or_else(|_| "--max-ack-queue 100000".into())
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = devserver::Running::start(devserver::Profile::Release, &users, &flags)?;
    let mut env = server.env()?;
    let ca = env
        .iter()
        .find(|(k, _)| k == "CC_XMPP_CA_PEM")
        .map(|(_, v)| v.clone())
        .ok_or("no CC_XMPP_CA_PEM in the devserver environment")?;
    env.push(("SSL_CERT_FILE".to_owned(), ca));
    env.push(("CC_SERVER_PID".to_owned(), server.pid().to_string()));
    cargo_with_env(args, &env)?;
    let connections = BENCH_CONNECTIONS.to_string();
    let mut held: Vec<&str> = args.iter().take(5).copied().collect();
    held.extend(["--connections", &connections]);
    cargo_with_env(&held, &env)
}

/// Runs `cargo ARGS` against the test ejabberd (see [`with_ejabberd_then`]).
fn with_ejabberd(args: &[&str]) -> Result<(), String> {
    with_ejabberd_then(args, &[], || Ok(()))
}

/// Makes sure the test ejabberd runs, runs `prepare`, then `cargo ARGS` with the server's
/// environment plus `extra_env`. An instance this call started is stopped whatever happens;
/// one that was already running is reused and left running (xtask stops only what it started).
fn with_ejabberd_then(
    args: &[&str],
    extra_env: &[(String, String)],
    prepare: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    let started = ejabberd::up()?;
    let stop_ours = || if started { ejabberd::down() } else { Ok(()) };
    let ran = prepare().and_then(|()| ejabberd::env()).and_then(|env| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace_root())
            .args(args)
            .envs(env)
            .envs(extra_env.iter().cloned())
            .status();
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("`cargo {}` failed ({s})", args.join(" "))),
            Err(e) => Err(format!("could not run cargo: {e}")),
        }
    });
    let stopped = stop_ours();
    ran.and(stopped)
}

/// Runs `cargo ARGS` in the workspace, with no server around it.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_with_env(args, &[])
}

/// Runs `cargo ARGS` in the workspace with `env` added.
pub(crate) fn cargo_with_env(args: &[&str], env: &[(String, String)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(args)
        .envs(env.iter().cloned())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_only_picks_files_and_passes_the_rest_on() {
        let (only, rest) =
            burst_args(&["--only", "js_burst", "--exact", "--only", "burst"]).unwrap_or_default();
        assert_eq!(only, ["js_burst", "burst"]);
        assert_eq!(rest, ["--exact"]);
        assert!(burst_args(&["--only", "nope"]).is_err());
        assert!(burst_args(&["--only"]).is_err());
    }
}
