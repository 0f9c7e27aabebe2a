//! `cargo xtask <command>`: the project's own tasks, one definition of "the checks" for
//! developers and CI alike.

mod ejabberd;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  quickstart                      start the test ejabberd, run the quickstart example (two
                                  users exchange a message and its statuses), stop ejabberd
  test [ARGS]                     start the test ejabberd, run `cargo test --workspace
                                  --all-features ARGS`,
                                  stop ejabberd (always)
  replay http                     replay every fixtures/http exchange through the REST client
                                  against a loopback server (no ejabberd needed)
  ejabberd up|down|status         the private ejabberd the transport tests use (127.0.0.1 only)
  ejabberd register <id>          add user `{id}-1@localhost` with password `pass{id}`
  help                            this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        [] | ["help"] | ["--help"] => {
            println!("{USAGE}");
            Ok(())
        }
        ["test", rest @ ..] => run_tests(rest),
        ["quickstart"] => with_ejabberd(&["run", "-p", "connectycube", "--example", "quickstart"]),
        ["replay", "http"] => cargo(&[
            "test",
            "-p",
            "connectycube-rest",
            "--test",
            "replay",
            "--",
            "--nocapture",
        ]),
        ["ejabberd", "up"] => ejabberd::up(),
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

/// Runs the workspace's tests against a fresh ejabberd, which is stopped whatever happens.
fn run_tests(extra: &[&str]) -> Result<(), String> {
    let mut args = vec!["test", "--workspace", "--all-features"];
    args.extend_from_slice(extra);
    with_ejabberd(&args)
}

/// Runs `cargo ARGS` against a fresh ejabberd, which is stopped whatever happens.
fn with_ejabberd(args: &[&str]) -> Result<(), String> {
    ejabberd::down()?;
    if let Err(e) = ejabberd::up() {
        let _ = ejabberd::down();
        return Err(e);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(args)
        .envs(ejabberd::env())
        .status();
    let stopped = ejabberd::down();
    match status {
        Ok(s) if s.success() => stopped,
        Ok(s) => Err(format!("`cargo {}` failed ({s})", args.join(" "))),
        Err(e) => Err(format!("could not run cargo: {e}")),
    }
}

/// Runs `cargo ARGS` in the workspace, with no server around it.
fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}
