//! `cargo xtask ci`: the one definition of the checks, run alike by developers, `.ci/run` and
//! the GitHub workflow.

/// One check, runnable alone as `cargo xtask ci <name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Fmt,
    Clippy,
    Doc,
    Features,
    Package,
    Test,
}

/// Every check, in the order `cargo xtask ci` runs them (cheapest first).
const ALL: [Part; 6] = [
    Part::Fmt,
    Part::Clippy,
    Part::Doc,
    Part::Features,
    Part::Package,
    Part::Test,
];

/// The feature combinations `cargo xtask ci features` checks (`cargo clippy -p CRATE ARGS --
/// -D warnings`): for
/// each library with TLS choices, none of them, each crypto provider and each root source alone,
/// and everything on at once (both providers, both root sources: features only add, so every
/// combination must build and pick deterministically).
pub const FEATURE_SETS: [(&str, &[&str]); 12] = [
    ("connectycube-transport", &["--no-default-features"]),
    (
        "connectycube-transport",
        &["--no-default-features", "--features", "ring,webpki-roots"],
    ),
    (
        "connectycube-transport",
        &[
            "--no-default-features",
            "--features",
            "aws-lc-rs,platform-verifier",
        ],
    ),
    ("connectycube-transport", &["--all-features"]),
    ("connectycube-rest", &["--no-default-features"]),
    (
        "connectycube-rest",
        &["--no-default-features", "--features", "aws-lc-rs"],
    ),
    (
        "connectycube-rest",
        &[
            "--no-default-features",
            "--features",
            "ring,platform-verifier",
        ],
    ),
    ("connectycube-rest", &["--all-features"]),
    ("connectycube", &["--no-default-features"]),
    (
        "connectycube",
        &[
            "--no-default-features",
            "--features",
            "ring,platform-verifier,websocket",
        ],
    ),
    ("connectycube", &["--features", "aws-lc-rs"]),
    ("connectycube", &["--all-features"]),
];

/// `cargo package` for every published crate (verified: each packaged crate builds alone).
/// `--allow-dirty`: the check is the packages' content, so it also runs before a commit.
const PACKAGE: [&str; 7] = [
    "package",
    "--workspace",
    "--allow-dirty",
    "--exclude",
    "xtask",
    "--exclude",
    "connectycube-fixtures",
];

impl Part {
    fn parse(word: &str) -> Result<Self, String> {
        match word {
            "fmt" => Ok(Self::Fmt),
            "clippy" => Ok(Self::Clippy),
            "doc" => Ok(Self::Doc),
            "features" => Ok(Self::Features),
            "package" => Ok(Self::Package),
            "test" => Ok(Self::Test),
            other => Err(format!(
                "unknown check `{other}` (fmt, clippy, doc, features, package or test)"
            )),
        }
    }

    /// The cargo arguments and extra environment of the check (`Test` is `cargo xtask test`,
    /// `Features` runs [`FEATURE_SETS`] one after another, `Package` checks the licences,
    /// READMEs and metadata first).
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
            Self::Package => (&PACKAGE, &[]),
            Self::Features | Self::Test => (&[], &[]),
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
            Part::Features => {
                for (krate, features) in FEATURE_SETS {
                    // clippy is `cargo check` plus lints; `-D warnings` catches code a
                    // combination leaves unused without rebuilding the dependencies.
                    let mut args = vec!["clippy", "-p", krate];
                    args.extend_from_slice(features);
                    args.extend_from_slice(&["--", "-D", "warnings"]);
                    println!("xtask ci: cargo {}", args.join(" "));
                    cargo(&args, &[])?;
                }
            }
            _ => {
                if part == Part::Package {
                    crate::package::check(&crate::workspace_root())?;
                    crate::package::clear_stale_package_sources()?;
                }
                let (args, env) = part.command();
                cargo(args, env)?;
            }
        }
    }
    Ok(())
}

/// Runs `cargo ARGS` in the workspace with `env` added.
fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    crate::cargo_with_env(args, &env)
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
        assert_eq!(
            select(&["package", "features"]),
            Ok(vec![Part::Features, Part::Package])
        );
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
        assert_eq!(
            Part::Package.command().0.join(" "),
            "package --workspace --allow-dirty --exclude xtask --exclude connectycube-fixtures"
        );
    }

    #[test]
    fn feature_sets_cover_none_each_choice_and_all_for_every_tls_crate() {
        for krate in [
            "connectycube-transport",
            "connectycube-rest",
            "connectycube",
        ] {
            let sets: Vec<String> = FEATURE_SETS
                .iter()
                .filter(|(k, _)| *k == krate)
                .map(|(_, f)| f.join(" "))
                .collect();
            assert!(
                sets.contains(&"--no-default-features".to_string()),
                "{krate}"
            );
            assert!(sets.contains(&"--all-features".to_string()), "{krate}");
            for choice in ["ring", "aws-lc-rs", "platform-verifier"] {
                assert!(sets.iter().any(|s| s.contains(choice)), "{krate}: {choice}");
            }
        }
    }
}
