//! `cargo xtask ci`: the one definition of the checks, run alike by developers, `.ci/run` and
//! the GitHub workflow.

use std::process::Command;

/// One check, runnable alone as `cargo xtask ci <name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Fmt,
    Clippy,
    Doc,
    Test,
}

/// Every check, in the order `cargo xtask ci` runs them (cheapest first).
const ALL: [Part; 4] = [Part::Fmt, Part::Clippy, Part::Doc, Part::Test];

impl Part {
    fn parse(word: &str) -> Result<Self, String> {
        match word {
            "fmt" => Ok(Self::Fmt),
            "clippy" => Ok(Self::Clippy),
            "doc" => Ok(Self::Doc),
            "test" => Ok(Self::Test),
            other => Err(format!(
                "unknown check `{other}` (fmt, clippy, doc or test)"
            )),
        }
    }

    /// The cargo arguments and extra environment of the check (`Test` is `cargo xtask test`).
    fn command(
        self,
    ) -> (
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    ) {
        match self {
            Self::Fmt => (&["fmt", "--all", "--", "--check"], &[]),
            Self::Clippy => (
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--all-features",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            ),
            Self::Doc => (
                &["doc", "--workspace", "--no-deps"],
                &[("RUSTDOCFLAGS", "-D warnings")],
            ),
            Self::Test => (&[], &[]),
        }
    }
}

/// The checks named by `words` (all of them when none is named), in the canonical order.
fn select(words: &[&str]) -> Result<Vec<Part>, String> {
    if words.is_empty() {
        return Ok(ALL.to_vec());
    }
    let named = words
        .iter()
        .map(|w| Part::parse(w))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ALL.into_iter().filter(|p| named.contains(p)).collect())
}

/// Runs the checks named by `words`; stops at the first that fails.
pub fn run(words: &[&str]) -> Result<(), String> {
    for part in select(words)? {
        println!("xtask ci: {part:?}");
        match part {
            Part::Test => crate::run_tests(&[])?,
            _ => {
                let (args, env) = part.command();
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                let status = Command::new(cargo)
                    .current_dir(crate::workspace_root())
                    .args(args)
                    .envs(env.iter().copied())
                    .status()
                    .map_err(|e| format!("cannot run cargo: {e}"))?;
                if !status.success() {
                    return Err(format!("`cargo {}` failed ({status})", args.join(" ")));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_part_named_means_all_in_order() {
        assert_eq!(select(&[]), Ok(ALL.to_vec()));
    }

    #[test]
    fn parts_run_alone_and_in_canonical_order() {
        assert_eq!(select(&["doc"]), Ok(vec![Part::Doc]));
        assert_eq!(select(&["test", "fmt"]), Ok(vec![Part::Fmt, Part::Test]));
        assert!(select(&["lint"]).is_err());
    }

    #[test]
    fn the_checks_are_the_documented_commands() {
        assert_eq!(Part::Fmt.command().0, ["fmt", "--all", "--", "--check"]);
        assert_eq!(
            Part::Clippy.command().0.join(" "),
            "clippy --workspace --all-targets --all-features -- -D warnings"
        );
        assert_eq!(
            Part::Doc.command(),
            (
                &["doc", "--workspace", "--no-deps"][..],
                &[("RUSTDOCFLAGS", "-D warnings")][..]
            )
        );
    }
}
