//! A private ejabberd for the tests: own config, spool, logs and cookie under
//! `target/ejabberd/`, listening on 127.0.0.1 only, never the system service's instance.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where the instance listens: ConnectyCube's 5222/5223/5291 shifted by the same offset,
/// 15222/15223/15291 unless `CC_EJABBERD_PORT_BASE` moves them, so several worktrees can each
/// run their own instance side by side.
#[derive(Clone, Copy)]
struct Ports {
    starttls: u16,
    tls: u16,
    ws: u16,
    /// Erlang distribution port, bound to 127.0.0.1 (no epmd).
    dist: u16,
}

/// The STARTTLS port when `CC_EJABBERD_PORT_BASE` is not set.
const DEFAULT_PORT_BASE: u16 = 15222;

/// The ports from `CC_EJABBERD_PORT_BASE` (the STARTTLS port; the others follow it).
fn ports() -> Result<Ports> {
    let base = match std::env::var("CC_EJABBERD_PORT_BASE") {
        Ok(v) => v
            .parse::<u16>()
            .ok()
            .filter(|b| (1024..=65000).contains(b))
            .ok_or_else(|| format!("CC_EJABBERD_PORT_BASE={v:?} is not a port in 1024..=65000"))?,
        Err(_) => DEFAULT_PORT_BASE,
    };
    Ok(Ports {
        starttls: base,
        tls: base + 1,
        ws: base + 69,
        dist: base + 377,
    })
}

/// The Erlang node name: the default instance keeps its historic name; another port base gets
/// its own, so stopping one instance never ends another.
fn node(ports: Ports) -> String {
    if ports.starttls == DEFAULT_PORT_BASE {
        "ccsdktest@localhost".to_owned()
    } else {
        format!("ccsdktest{}@localhost", ports.starttls)
    }
}
const APP_ID: u32 = 1;
/// Test users `{id}-1@localhost`, password `pass{id}` (1021-1024: the facade's pacing tests, whose
/// senders are sent markers after they log out, which ejabberd keeps as offline messages).
pub const USERS: std::ops::RangeInclusive<u32> = 1001..=1024;

type Result<T = ()> = std::result::Result<T, String>;

/// The instance folder, inside the workspace's target dir so git never sees it.
fn dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        crate::workspace_root().join(target)
    };
    target.join("ejabberd")
}

fn ctl(dir: &Path) -> PathBuf {
    dir.join("ctl.sh")
}

/// Runs `ctl.sh args`, returning stdout, or an error with what it printed.
fn run_ctl(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(ctl(dir))
        .args(args)
        .output()
        .map_err(|e| format!("ejabberdctl {args:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "ejabberdctl {args:?} failed ({}): {stdout}{stderr}",
            out.status
        ))
    }
}

fn sh(cmd: &mut Command) -> Result {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("{cmd:?} failed: {status}"))
}

/// The environment the tests read (see crates/connectycube-transport/tests/support).
pub fn env() -> Result<Vec<(String, String)>> {
    let d = dir();
    let p = ports()?;
    Ok([
        ("CC_XMPP_DOMAIN", "localhost".to_owned()),
        ("CC_XMPP_ADDR", "127.0.0.1".to_owned()),
        ("CC_XMPP_TLS_PORT", p.tls.to_string()),
        ("CC_XMPP_STARTTLS_PORT", p.starttls.to_string()),
        ("CC_XMPP_WS_URL", format!("wss://localhost:{}/ws", p.ws)),
        ("CC_XMPP_CA_PEM", d.join("ca.pem").display().to_string()),
        ("CC_XMPP_APP_ID", APP_ID.to_string()),
        ("CC_EJABBERDCTL", ctl(&d).display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect())
}

fn running(dir: &Path) -> bool {
    ctl(dir).exists() && run_ctl(dir, &["status"]).is_ok()
}

/// The file `up` writes when it started the instance itself: the proof `down` needs.
fn marker(dir: &Path) -> PathBuf {
    dir.join("started-by-xtask")
}

/// Whether something accepts connections on any of the instance's ports.
fn port_in_use(p: Ports) -> bool {
    [p.starttls, p.tls, p.ws]
        .into_iter()
        .any(|port| TcpStream::connect(("127.0.0.1", port)).is_ok())
}

/// What xtask sees of the server at this worktree's ports before it acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Observed {
    /// This worktree's instance (`target/ejabberd/`) answers `status`.
    pub ours_running: bool,
    /// `up` started that instance (its marker file is there).
    pub started_by_xtask: bool,
    /// Something listens on one of the ports.
    pub port_in_use: bool,
}

/// What to do when a server is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StartPlan {
    /// Nothing runs there: start our instance; whoever asked for it stops it.
    Start,
    /// Our instance already runs: use it, and leave it running afterwards.
    Reuse,
    /// A server xtask does not know holds the ports: touch nothing.
    Refuse,
}

/// What to do when asked to stop the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopPlan {
    /// `up` started our instance: stop it.
    Stop,
    /// Nothing of ours runs, and nothing else holds the ports.
    NothingRunning,
    /// Something runs that xtask did not start: leave it running.
    Refuse,
}

/// The ownership rule (README, "The test server"): xtask stops only what it started.
pub(crate) fn plan_start(o: Observed) -> StartPlan {
    if o.ours_running {
        StartPlan::Reuse
    } else if o.port_in_use {
        StartPlan::Refuse
    } else {
        StartPlan::Start
    }
}

/// The ownership rule applied to `down`.
pub(crate) fn plan_stop(o: Observed) -> StopPlan {
    match (o.ours_running, o.started_by_xtask, o.port_in_use) {
        (true, true, _) => StopPlan::Stop,
        (true, false, _) | (false, _, true) => StopPlan::Refuse,
        (false, _, false) => StopPlan::NothingRunning,
    }
}

fn observe(d: &Path) -> Result<Observed> {
    Ok(Observed {
        ours_running: running(d),
        started_by_xtask: marker(d).exists(),
        port_in_use: port_in_use(ports()?),
    })
}

/// Whether a server had to be started (`true`: the caller owns it and stops it with
/// [`down`]) or an instance already running was reused (`false`: leave it running).
pub fn up() -> Result<bool> {
    let d = dir();
    let started = match plan_start(observe(&d)?) {
        StartPlan::Reuse => {
            println!("ejabberd already running in {}: reusing it", d.display());
            false
        }
        StartPlan::Refuse => {
            return Err(format!(
                "a server xtask did not start holds the ports of CC_EJABBERD_PORT_BASE={}; \
                 stop it or choose another CC_EJABBERD_PORT_BASE",
                ports()?.starttls
            ));
        }
        StartPlan::Start => {
            start(&d)?;
            true
        }
    };
    let script: String = env()?
        .iter()
        .map(|(k, v)| format!("export {k}='{v}'\n"))
        .collect();
    fs::write(d.join("env.sh"), &script).map_err(|e| e.to_string())?;
    print!("{script}");
    Ok(started)
}

/// Starts a fresh instance and registers the test users; stops it again if that fails.
fn start(d: &Path) -> Result {
    prepare(d)?;
    println!("starting ejabberd in {}", d.display());
    // Written first: from here on the instance is ours to stop, even half started.
    fs::write(marker(d), node(ports()?)).map_err(|e| e.to_string())?;
    let started = run_ctl(d, &["start"])
        .map(|_| ())
        .and_then(|()| wait_started(d))
        .and_then(|()| register_users(d));
    if started.is_err() {
        let _ = stop(d);
    }
    started
}

/// Stops the instance `up` started here; refuses to stop anything else.
pub fn down() -> Result {
    let d = dir();
    match plan_stop(observe(&d)?) {
        StopPlan::NothingRunning => {
            let _ = fs::remove_file(marker(&d));
            println!("ejabberd not running");
            Ok(())
        }
        StopPlan::Refuse => Err(format!(
            "the server at CC_EJABBERD_PORT_BASE={} was not started by `cargo xtask ejabberd up` \
             here: leaving it running",
            ports()?.starttls
        )),
        StopPlan::Stop => stop(&d),
    }
}

/// Stops our instance (the caller checked that xtask started it).
fn stop(d: &Path) -> Result {
    let _ = run_ctl(d, &["stop"]);
    let _ = run_ctl(d, &["stopped"]);
    if running(d) {
        // A node that did not stop in time is ended by its own name, which is unique to this
        // port base (see `node`).
        let _ = Command::new("pkill")
            .args(["-f", &format!("sname {}( |$)", node(ports()?))])
            .status();
    }
    let _ = fs::remove_file(marker(d));
    println!("ejabberd stopped");
    Ok(())
}

/// Prints whether the instance runs.
pub fn status() -> Result {
    let d = dir();
    match run_ctl(&d, &["status"]) {
        Ok(out) => {
            print!("{out}");
            Ok(())
        }
        Err(e) => Err(format!("not running: {e}")),
    }
}

/// Registers `{id}-1@localhost` with password `pass{id}`.
pub fn register(id: u32) -> Result {
    let d = dir();
    let user = format!("{id}-{APP_ID}");
    let pass = format!("pass{id}");
    match run_ctl(&d, &["register", &user, "localhost", &pass]) {
        Err(e) if e.contains("already registered") => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Installs ejabberd (Debian) when it is missing, so the commands work on a fresh machine.
fn ensure_installed() -> Result {
    if Path::new("/usr/sbin/ejabberdctl").exists() {
        return Ok(());
    }
    println!("ejabberd is not installed: running scripts/install-test-deps.sh");
    let script = crate::workspace_root().join("scripts/install-test-deps.sh");
    sh(Command::new("bash").arg(script))
}

/// The start of `ctl.sh`: closes every descriptor above stderr it inherited. The server it
/// starts outlives the command, and would otherwise keep them open: run under
/// `flock LOCK cargo xtask ...`, the detached Erlang node held the build lock until it stopped.
const CLOSE_INHERITED_FDS: &str =
    "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done 2>/dev/null\n";

fn prepare(d: &Path) -> Result {
    ensure_installed()?;
    let _ = fs::remove_dir_all(d);
    fs::create_dir_all(d.join("spool")).map_err(|e| e.to_string())?;
    fs::create_dir_all(d.join("logs")).map_err(|e| e.to_string())?;
    let ports = ports()?;
    let template = include_str!("../ejabberd/ejabberd.yml");
    let config = template
        .replace("@DIR@", &d.display().to_string())
        .replace("@STARTTLS_PORT@", &ports.starttls.to_string())
        .replace("@TLS_PORT@", &ports.tls.to_string())
        .replace("@WS_PORT@", &ports.ws.to_string());
    let write = |name: &str, text: &str| fs::write(d.join(name), text).map_err(|e| e.to_string());
    write("ejabberd.yml", &config)?;
    // Debian's ejabberdctl reads its system settings after the command line: a private
    // --ctl-config keeps node name and distribution on loopback.
    write(
        "ejabberdctl.cfg",
        &format!(
            "ERLANG_NODE={}\nINET_DIST_INTERFACE=127.0.0.1\nERL_DIST_PORT={}\n",
            node(ports),
            ports.dist
        ),
    )?;
    let p = d.display();
    write(
        "ctl.sh",
        &format!(
            "#!/bin/bash\n{CLOSE_INHERITED_FDS}HOME={p} exec /usr/sbin/ejabberdctl --config \
             {p}/ejabberd.yml --ctl-config {p}/ejabberdctl.cfg --spool {p}/spool --logs {p}/logs \
             \"$@\"\n"
        ),
    )?;
    sh(Command::new("chmod").args(["+x"]).arg(ctl(d)))?;
    write(".erlang.cookie", &cookie())?;
    sh(Command::new("chmod")
        .arg("400")
        .arg(d.join(".erlang.cookie")))?;
    make_certificate(d)?;
    // ejabberdctl run as root switches to the ejabberd user, which must own the instance.
    if is_root() {
        sh(Command::new("chown")
            .args(["-R", "ejabberd:ejabberd"])
            .arg(d))?;
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn cookie() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("CCSDK{nanos:X}{}", std::process::id())
}

/// A self-signed certificate for localhost and 127.0.0.1. It must be CA:FALSE: webpki refuses
/// a CA certificate used as the server's own (CaUsedAsEndEntity).
fn make_certificate(d: &Path) -> Result {
    sh(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7", "-subj",
        ])
        .args([
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("ca.pem"))
        .stderr(std::process::Stdio::null()))?;
    let cert = fs::read_to_string(d.join("ca.pem")).map_err(|e| e.to_string())?;
    let key = fs::read_to_string(d.join("key.pem")).map_err(|e| e.to_string())?;
    fs::write(d.join("server.pem"), cert + &key).map_err(|e| e.to_string())
}

fn wait_started(d: &Path) -> Result {
    let deadline = Instant::now() + Duration::from_secs(60);
    let p = ports()?;
    for port in [p.starttls, p.tls, p.ws] {
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = fs::read_to_string(d.join("logs/error.log")).unwrap_or_default();
            if log.contains("[critical]") || Instant::now() > deadline {
                return Err(format!("ejabberd did not open port {port}\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(())
}

/// Registers the test users and puts everyone in one shared roster group: ejabberd answers
/// `jabber:iq:last` only between users who share a subscription.
fn register_users(d: &Path) -> Result {
    let workers: Vec<_> = USERS
        .collect::<Vec<_>>()
        .chunks(5)
        .map(|ids| {
            let ids = ids.to_vec();
            std::thread::spawn(move || ids.into_iter().try_for_each(register))
        })
        .collect();
    for w in workers {
        w.join()
            .map_err(|_| "registration thread panicked".to_owned())??;
    }
    run_ctl(
        d,
        &[
            "srg_create",
            "everyone",
            "localhost",
            "everyone",
            "Everyone",
            "everyone",
        ],
    )?;
    run_ctl(
        d,
        &[
            "srg_user_add",
            "@all@",
            "localhost",
            "everyone",
            "localhost",
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(ours_running: bool, started_by_xtask: bool, port_in_use: bool) -> Observed {
        Observed {
            ours_running,
            started_by_xtask,
            port_in_use,
        }
    }

    #[test]
    fn a_running_instance_is_reused_not_restarted() {
        // Our own instance answers status (and, being up, holds its ports).
        assert_eq!(plan_start(seen(true, true, true)), StartPlan::Reuse);
        assert_eq!(plan_start(seen(true, false, true)), StartPlan::Reuse);
    }

    #[test]
    fn a_foreign_server_on_the_ports_is_refused() {
        assert_eq!(plan_start(seen(false, false, true)), StartPlan::Refuse);
        // A stale marker from a crashed run proves nothing about who holds the ports now.
        assert_eq!(plan_start(seen(false, true, true)), StartPlan::Refuse);
    }

    #[test]
    fn free_ports_mean_start() {
        assert_eq!(plan_start(seen(false, false, false)), StartPlan::Start);
        assert_eq!(plan_start(seen(false, true, false)), StartPlan::Start);
    }

    #[test]
    fn down_stops_only_what_up_started() {
        assert_eq!(plan_stop(seen(true, true, true)), StopPlan::Stop);
        assert_eq!(plan_stop(seen(true, false, true)), StopPlan::Refuse);
        assert_eq!(plan_stop(seen(false, false, true)), StopPlan::Refuse);
        assert_eq!(plan_stop(seen(false, true, true)), StopPlan::Refuse);
        assert_eq!(
            plan_stop(seen(false, false, false)),
            StopPlan::NothingRunning
        );
        assert_eq!(
            plan_stop(seen(false, true, false)),
            StopPlan::NothingRunning
        );
    }
}
