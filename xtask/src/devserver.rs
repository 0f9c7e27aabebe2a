//! The devserver as a second test server: the binary started on ephemeral 127.0.0.1 ports
//! with the transport tests' users seeded, its coordinates handed to the tests in the same
//! `CC_XMPP_*` variables the ejabberd run sets, and stopped after the run.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ejabberd::USERS;

type Result<T = ()> = std::result::Result<T, String>;

/// The application the test users belong to (the JIDs are `{id}-1@localhost`, as on ejabberd).
const APP_ID: u32 = 1;

/// How long the binary may take to bind its ports and write its coordinates, and more per
/// seeded user (a benchmark seeds thousands).
const READY_WITHIN: Duration = Duration::from_secs(30);
const READY_PER_USER: Duration = Duration::from_millis(10);

/// Which build of the binary to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `target/debug` (the tests).
    Debug,
    /// `target/release` (the benchmark).
    Release,
}

/// A devserver process this xtask started; killed when dropped, so it never outlives the run.
pub struct Running {
    child: Child,
    info: HashMap<String, String>,
}

pub(crate) fn target_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    if target.is_absolute() {
        target
    } else {
        crate::workspace_root().join(target)
    }
}

/// The seed file: the transport tests' users with fixed ids, password `pass{id}`, and
/// `extra` more (the benchmark's).
fn seed_json(extra: &[u32]) -> String {
    let users: Vec<String> = USERS
        .chain(extra.iter().copied())
        .map(|id| format!(r#"{{"id": {id}, "login": "user{id}", "password": "pass{id}"}}"#))
        .collect();
    format!(
        r#"{{"app": {{"id": {APP_ID}, "auth_key": "devserver-test-key"}}, "users": [{}]}}"#,
        users.join(", ")
    )
}

/// Parses the binary's `--ready-file` (`key=value` lines).
fn parse_ready(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Builds the binary (the tests' cargo would not: it is not a dependency of theirs).
fn build(profile: Profile) -> Result {
    let mut args = vec!["build", "-q", "-p", "connectycube-devserver", "--bin"];
    args.push("connectycube-devserver");
    if profile == Profile::Release {
        args.push("--release");
    }
    crate::cargo(&args)
}

impl Running {
    /// Builds and starts the binary with the test users (and `extra_users`) seeded and
    /// `flags` added; waits until it listens.
    pub fn start(profile: Profile, extra_users: &[u32], flags: &[&str]) -> Result<Self> {
        build(profile)?;
        let target = target_dir();
        let dir = target.join("devserver-test");
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let seed = dir.join("seed.json");
        fs::write(&seed, seed_json(extra_users)).map_err(|e| e.to_string())?;
        let ready = dir.join("ready.txt");
        let _ = fs::remove_file(&ready);
        let log = dir.join("devserver.log");
        let log_file = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
        let profile_dir = match profile {
            Profile::Debug => "debug",
            Profile::Release => "release",
        };
        let bin = target.join(profile_dir).join("connectycube-devserver");
        let child = Command::new(&bin)
            .arg("--seed")
            .arg(&seed)
            .arg("--ready-file")
            .arg(&ready)
            .args(flags)
            // Warnings only: a debug log of every stanza would slow the tests and the bench.
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut running = Self {
            child,
            info: HashMap::new(),
        };
        let within = READY_WITHIN + READY_PER_USER * extra_users.len() as u32;
        running.info = running.wait_ready(&ready, &log, within)?;
        println!(
            "devserver running (pid {}): REST {}, direct TLS {}, log {}",
            running.child.id(),
            running.get("api_url")?,
            running.get("direct_tls_port")?,
            log.display()
        );
        Ok(running)
    }

    fn wait_ready(
        &mut self,
        ready: &Path,
        log: &Path,
        within: Duration,
    ) -> Result<HashMap<String, String>> {
        let started = Instant::now();
        loop {
            if let Ok(text) = fs::read_to_string(ready) {
                return Ok(parse_ready(&text));
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the devserver exited ({status}) before listening; see {}",
                    log.display()
                ));
            }
            if started.elapsed() > within {
                return Err(format!(
                    "the devserver did not listen within {within:?}; see {}",
                    log.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A value of the ready file (`chat_host`, `direct_tls_port`, ...).
    pub fn get(&self, key: &str) -> Result<&str> {
        self.info
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("the devserver's ready file has no `{key}`"))
    }

    /// The process id (the benchmark reads its memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The environment the transport tests read (see
    /// crates/connectycube-transport/tests/support), with `CC_XMPP_SERVER=devserver` and the
    /// REST coordinates the tests use where ejabberd needed ejabberdctl.
    pub fn env(&self) -> Result<Vec<(String, String)>> {
        let pairs = [
            ("CC_XMPP_SERVER", "devserver".to_owned()),
            ("CC_XMPP_DOMAIN", self.get("chat_host")?.to_owned()),
            ("CC_XMPP_ADDR", self.get("chat_address")?.to_owned()),
            ("CC_XMPP_TLS_PORT", self.get("direct_tls_port")?.to_owned()),
            (
                "CC_XMPP_STARTTLS_PORT",
                self.get("starttls_port")?.to_owned(),
            ),
            ("CC_XMPP_WS_URL", self.get("wss_url")?.to_owned()),
            ("CC_XMPP_CA_PEM", self.get("ca_pem_file")?.to_owned()),
            ("CC_XMPP_APP_ID", self.get("app_id")?.to_owned()),
            ("CC_DEVSERVER_API_URL", self.get("api_url")?.to_owned()),
            ("CC_DEVSERVER_AUTH_KEY", self.get("auth_key")?.to_owned()),
        ];
        Ok(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Its store is in memory: nothing is lost by ending it at once.
        let _ = self.child.kill();
        let _ = self.child.wait();
        println!("devserver stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_names_every_test_user_with_its_password() {
        let seed = seed_json(&[2001]);
        assert!(seed.contains(r#"{"id": 1001, "login": "user1001", "password": "pass1001"}"#));
        assert!(seed.contains(r#""id": 1024"#));
        assert!(seed.contains(r#""id": 2001"#));
        assert!(!seed.contains(r#""id": 1025"#));
    }

    #[test]
    fn the_ready_file_is_key_value_lines() {
        let info = parse_ready("api_url=http://127.0.0.1:5\nws_url=ws://x/?a=b\n");
        assert_eq!(info["api_url"], "http://127.0.0.1:5");
        assert_eq!(info["ws_url"], "ws://x/?a=b");
        assert_eq!(info.len(), 2);
    }
}
