//! What every published crate must carry to be released: both licence files (the root's, byte
//! for byte), its own README named by its manifest, and complete crates.io and docs.rs
//! metadata. `cargo xtask ci package` checks this before `cargo package --workspace`, and a test
//! runs the same check on every `cargo test`.

use std::path::{Path, PathBuf};

/// The licence files every published crate ships, copies of the workspace root's.
pub const LICENCES: [&str; 2] = ["LICENSE-MIT", "LICENSE-APACHE"];

/// Manifest lines a published crate must have (its own or inherited from the workspace).
const REQUIRED_KEYS: [&str; 9] = [
    "description",
    "license",
    "repository",
    "homepage",
    "documentation",
    "readme",
    "keywords",
    "categories",
    "rust-version",
];

/// The workspace's members, from the root manifest's `members = [...]` list.
pub fn members(root: &Path) -> Result<Vec<PathBuf>, String> {
    let manifest = read(&root.join("Cargo.toml"))?;
    let start = manifest
        .find("members = [")
        .ok_or("the root Cargo.toml has no `members = [` list")?;
    let list = &manifest[start..];
    let end = list.find(']').ok_or("unterminated `members` list")?;
    Ok(list[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|m| root.join(m))
        .collect())
}

/// Whether the member at `dir` is published (its manifest has no `publish = false`).
pub fn is_published(dir: &Path) -> Result<bool, String> {
    let manifest = read(&dir.join("Cargo.toml"))?;
    Ok(!manifest
        .lines()
        .any(|l| l.split_whitespace().collect::<String>() == "publish=false"))
}

/// Every problem of the published crates under `root`, one line each (empty when ready).
pub fn problems(root: &Path) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for dir in members(root)? {
        if !is_published(&dir)? {
            continue;
        }
        let name = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
        for licence in LICENCES {
            let want = read(&root.join(licence))?;
            match std::fs::read_to_string(dir.join(licence)) {
                Ok(have) if have == want => {}
                Ok(_) => found.push(format!("{name}: {licence} differs from the root's")),
                Err(_) => found.push(format!("{name}: no {licence}")),
            }
        }
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
        if readme.trim().is_empty() {
            found.push(format!("{name}: no README.md"));
        }
        let manifest = read(&dir.join("Cargo.toml"))?;
        if !manifest.contains("readme = \"README.md\"") {
            found.push(format!(
                "{name}: Cargo.toml does not name README.md as its readme"
            ));
        }
        for key in REQUIRED_KEYS {
            let has = manifest.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with(&format!("{key} ")) || l.starts_with(&format!("{key}."))
            });
            if !has {
                found.push(format!("{name}: Cargo.toml lacks `{key}`"));
            }
        }
        if !manifest.contains("[package.metadata.docs.rs]") {
            found.push(format!(
                "{name}: Cargo.toml lacks [package.metadata.docs.rs]"
            ));
        }
    }
    Ok(found)
}

/// The check as a task (`cargo xtask ci package`): an error listing every problem, the
/// facade's re-export gaps included.
pub fn check(root: &Path) -> Result<(), String> {
    let mut found = problems(root)?;
    found.extend(facade_reexport_gaps(root)?);
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!("not ready to publish:\n  {}", found.join("\n  ")))
    }
}

/// The lower crates' public modules the facade's re-export module of each does not name
/// (`connectycube::protocol`, `rest`, `transport` list them one by one so rustdoc documents
/// them in place; a module added below and forgotten there would vanish from the facade).
pub fn facade_reexport_gaps(root: &Path) -> Result<Vec<String>, String> {
    let facade = read(&root.join("crates/connectycube/src/lib.rs"))?;
    let mut gaps = Vec::new();
    for (alias, krate) in [
        ("protocol", "connectycube-protocol"),
        ("rest", "connectycube-rest"),
        ("transport", "connectycube-transport"),
    ] {
        let start = facade
            .find(&format!("pub mod {alias} {{"))
            .ok_or(format!("the facade has no `pub mod {alias} {{`"))?;
        let block = &facade[start..];
        let block = &block[..block.find("\n}").unwrap_or(block.len())];
        let named = |word: &str| {
            block
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == word)
        };
        let lib = read(&root.join(format!("crates/{krate}/src/lib.rs")))?;
        for line in lib.lines() {
            let Some(rest) = line.trim().strip_prefix("pub mod ") else {
                continue;
            };
            let module = rest.trim_end_matches(';').trim();
            if !named(module) {
                gaps.push(format!("connectycube::{alias} lacks `{module}` of {krate}"));
            }
        }
    }
    Ok(gaps)
}

/// Removes cargo's unpacked copies of this workspace's crates from earlier `cargo package`
/// runs. `cargo package --workspace` verifies each crate against the others through a
/// temporary local registry whose sources cargo unpacks under `$CARGO_HOME/registry/src/-HASH`
/// and reuses while the version stays 0.1.0, so a second run verified the facade against the
/// first run's REST crate (a method added since was "not found"). Only unnamed (local)
/// registries holding a `connectycube-*` crate are touched.
pub fn clear_stale_package_sources() -> Result<(), String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let Ok(registries) = std::fs::read_dir(home.join("registry/src")) else {
        return Ok(()); // nothing unpacked yet
    };
    for registry in registries.flatten() {
        let local = registry.file_name().to_string_lossy().starts_with('-');
        let ours = std::fs::read_dir(registry.path()).is_ok_and(|mut crates| {
            crates.any(|c| {
                c.is_ok_and(|c| c.file_name().to_string_lossy().starts_with("connectycube-"))
            })
        });
        if local && ours {
            std::fs::remove_dir_all(registry.path())
                .map_err(|e| format!("cannot remove {}: {e}", registry.path().display()))?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_crate_carries_licences_readme_and_metadata() {
        let root = crate::workspace_root();
        assert_eq!(problems(&root), Ok(Vec::new()));
    }

    #[test]
    fn the_facade_reexports_every_public_module_of_the_lower_crates() {
        assert_eq!(
            facade_reexport_gaps(&crate::workspace_root()),
            Ok(Vec::new())
        );
    }

    #[test]
    fn the_publish_false_crates_are_the_tools() {
        let root = crate::workspace_root();
        let unpublished: Vec<_> = members(&root)
            .unwrap()
            .into_iter()
            .filter(|d| !is_published(d).unwrap())
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(unpublished, ["xtask", "fixtures"]);
    }

    #[test]
    fn a_crate_without_licence_or_readme_is_reported() {
        let root = std::env::temp_dir().join(format!("xtask-package-{}", std::process::id()));
        let krate = root.join("crates/demo");
        std::fs::create_dir_all(&krate).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "members = [\n  \"crates/demo\",\n]\n",
        )
        .unwrap();
        for licence in LICENCES {
            std::fs::write(root.join(licence), "text").unwrap();
        }
        std::fs::write(krate.join("LICENSE-MIT"), "other text").unwrap();
        std::fs::write(krate.join("Cargo.toml"), "[package]\nname = \"demo\"\n").unwrap();
        let found = problems(&root).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        for expected in [
            "crates/demo: LICENSE-MIT differs from the root's",
            "crates/demo: no LICENSE-APACHE",
            "crates/demo: no README.md",
            "crates/demo: Cargo.toml lacks `rust-version`",
        ] {
            assert!(
                found.iter().any(|f| f == expected),
                "{expected} in {found:?}"
            );
        }
    }
}
