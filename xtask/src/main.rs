//! `cargo xtask <command>`: the project's own tasks, one definition of "the checks" for
//! developers and CI alike.

mod ejabberd;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test [ARGS]                     start the test ejabberd, run `cargo test --workspace ARGS`,
                                  stop ejabberd (always)
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
    ejabberd::down()?;
    if let Err(e) = ejabberd::up() {
        let _ = ejabberd::down();
        return Err(e);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["test", "--workspace"])
        .args(extra)
        .envs(ejabberd::env())
        .status();
    let stopped = ejabberd::down();
    match status {
        Ok(s) if s.success() => stopped,
        Ok(s) => Err(format!("tests failed ({s})")),
        Err(e) => Err(format!("could not run cargo: {e}")),
    }
}
