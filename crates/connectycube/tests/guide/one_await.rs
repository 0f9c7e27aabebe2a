//! Every send resolves with one `.await` (a `Sending`): this fails when a send awaited twice
//! (the handle of a handle) comes back anywhere in the repository's Rust or Markdown, code,
//! doc comments and docs alike.

use std::path::{Path, PathBuf};

/// What a second await on a send looks like, whitespace removed (rustfmt may break the chain
/// over lines). Written in two halves so this file does not find itself.
const PATTERNS: &[&str] = &[
    concat!(".await?", ".await"),
    concat!(".await.unwrap()", ".await"),
    concat!(")?", ".await"),
    concat!(".unwrap()", ".await"),
];

/// The `.rs` and `.md` files under `dir`, build output and vendored packages left out.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !matches!(name.to_str(), Some("target" | "node_modules" | ".git")) {
                sources(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "rs" || e == "md") {
            found.push(path);
        }
    }
}

#[test]
fn no_send_is_awaited_twice_anywhere_in_the_repository() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("README.md")),
        "the repository root was not found from {}",
        root.display()
    );
    let mut found = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for pattern in PATTERNS {
            if flat.contains(pattern) {
                found.push(format!("{}: `{pattern}`", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a send awaited twice (a Sending resolves with one .await):\n{}",
        found.join("\n")
    );
}
