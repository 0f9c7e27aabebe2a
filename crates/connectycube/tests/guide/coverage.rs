//! docs/GUIDE.md is the proof table: one row per section of the Flutter messaging guide, each
//! naming its example and its test. This fails when a section is missing, a row names a test
//! that does not exist, a Rust line count in the table is not what the example holds, a row
//! takes more Rust lines than Dart ones, or an example needs more than two `use` lines of the
//! SDK or builds a chat client by hand instead of starting at `Client`.

use std::path::{Path, PathBuf};

/// Every section of the Flutter messaging guide (`shared/reference/seeds/`), in its order.
const SECTIONS: &[&str] = &[
    "Connect to chat",
    "Connection states",
    "Custom authentication providers",
    "Disconnect",
    "Reconnection",
    "Dialogs: create 1-1",
    "Create group chat",
    "Create public group chat",
    "List dialogs",
    "Update dialog",
    "Remove dialog",
    "Subscribe to public dialog",
    "Unsubscribe from public dialog",
    "Retrieve public dialog occupants",
    "Add / remove admins",
    "Update notification settings",
    "Get notification settings",
    "Chat history",
    "Send/receive chat messages",
    "Message statuses: sent",
    "Delivered / read",
    "Typing",
    "Attachments",
    "Update message via HTTP",
    "Update message via chat",
    "Mark all as read",
    "Reactions: add / remove / listen",
    "List message reactions",
    "Delete messages via HTTP",
    "Delete messages via chat",
    "Unread messages count",
    "Global search",
    "Chat alerts",
    "Active / inactive",
    "Contact list",
    "Create privacy list",
    "Activate privacy list",
    "Update privacy list",
    "Retrieve privacy list names",
    "Retrieve privacy list with name",
    "Remove privacy list",
    "Blocked user attempts to communicate",
    "Get last activity",
    "Last activity subscription",
    "System messages",
];

/// The one section with nothing to port: the guide says "(coming soon)".
const NOTHING_TO_PORT: &str = "Contact list";

/// The non-blank lines of the guide's Dart snippets, all sections together (the table's
/// Dart column).
const DART_TOTAL: usize = 387;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of the table headed `header`: cells between `|`, the separator skipped, up to the
/// first line that is not a row (GUIDE.md holds more than one table).
fn table(header: &str) -> Vec<Vec<String>> {
    let guide = std::fs::read_to_string(crate_dir().join("../../docs/GUIDE.md")).unwrap();
    guide
        .lines()
        .skip_while(|l| !l.starts_with(header))
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .filter(|l| !l.starts_with("|---"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The guide's sections, one row each.
fn rows() -> Vec<Vec<String>> {
    table("| guide section")
}

/// The code in `example` between `// guide: {section}` and the next `// end`, blank lines out.
fn region(example: &Path, section: &str) -> Option<usize> {
    let text = std::fs::read_to_string(example).ok()?;
    let start = format!("// guide: {section}");
    let mut lines = text.lines().skip_while(|l| l.trim() != start);
    lines.next()?;
    Some(
        lines
            .take_while(|l| l.trim() != "// end")
            .filter(|l| !l.trim().is_empty())
            .count(),
    )
}

/// `module::name` entries of a test cell (backquoted), each an existing test of this binary.
fn check_tests(section: &str, cell: &str) {
    let names: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
    assert!(!names.is_empty(), "{section}: no test named");
    for name in names {
        let (module, func) = name.rsplit_once("::").unwrap_or(("", name));
        let module = module.trim_start_matches("guide::");
        let file = crate_dir().join(format!("tests/guide/{module}.rs"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("{section}: no test module {}", file.display()));
        assert!(
            text.contains(&format!("async fn {func}(")) || text.contains(&format!("fn {func}(")),
            "{section}: no test `{func}` in {}",
            file.display()
        );
    }
}

#[test]
fn every_guide_section_has_a_row_an_example_and_a_test() {
    let rows = rows();
    let sections: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        sections, SECTIONS,
        "docs/GUIDE.md rows vs the guide's sections"
    );
    let (mut dart_total, mut rust_total) = (0, 0);
    for row in &rows {
        let [section, dart, rust, example, test, dart_lines, rust_lines] = &row[..] else {
            panic!("{}: expected 7 cells, got {}", row[0], row.len());
        };
        assert!(
            !dart.is_empty() && !rust.is_empty(),
            "{section}: empty call cell"
        );
        if section == NOTHING_TO_PORT {
            continue;
        }
        let file = example.trim_matches('`');
        let path = crate_dir().join(file.trim_start_matches("crates/connectycube/"));
        let counted = region(&path, section)
            .unwrap_or_else(|| panic!("{section}: no `// guide: {section}` region in {file}"));
        assert_eq!(
            rust_lines,
            &counted.to_string(),
            "{section}: Rust lines in {file}"
        );
        let dart_count: usize = dart_lines
            .parse()
            .unwrap_or_else(|_| panic!("{section}: Dart lines `{dart_lines}`"));
        // A section whose Dart has no code ("coming soon", the dashboard) has nothing to
        // be shorter than.
        assert!(
            dart_count == 0 || counted <= dart_count,
            "{section}: {counted} Rust lines for {dart_count} Dart ones"
        );
        dart_total += dart_count;
        rust_total += counted;
        check_tests(section, test);
    }
    assert_eq!(dart_total, DART_TOTAL, "the Dart column's sum");
    // 353: the Dart lines a user writes for the whole guide, as issue 19 counted them.
    assert!(
        rust_total <= dart_total.min(353),
        "{rust_total} Rust lines for {dart_total} Dart ones"
    );
}

/// Every example starts at `Client`; every example of the guide needs at most two `use`
/// lines of the SDK (the prelude, and at most one more).
#[test]
fn every_example_starts_at_client_with_at_most_two_imports() {
    let dir = crate_dir().join("examples");
    let mut guide_examples = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // the support directory
        };
        let name = path.display();
        for door in ["ChatClient::", "ChatConfig", "RestClient::new"] {
            assert!(
                !text.contains(door),
                "{name} builds a client by hand: {door}"
            );
        }
        if !text.contains("// guide: ") {
            continue;
        }
        guide_examples += 1;
        let imports = text
            .lines()
            .filter(|l| l.starts_with("use connectycube"))
            .count();
        assert!(imports <= 2, "{name}: {imports} `use connectycube…` lines");
    }
    assert_eq!(guide_examples, 9, "the guide's examples");
}

/// The second table: what the facade adds around the guide's rows, each naming its test file
/// (`rooms.rs`: `test_a`, `test_b`) under `tests/`.
#[test]
fn every_behaviour_beyond_the_guide_names_tests_that_exist() {
    let rows = table("| behaviour");
    assert!(!rows.is_empty(), "docs/GUIDE.md has no `| behaviour` table");
    for row in &rows {
        let [behaviour, rust, tests] = &row[..] else {
            panic!("{}: expected 3 cells, got {}", row[0], row.len());
        };
        assert!(!rust.is_empty(), "{behaviour}: empty call cell");
        let names: Vec<&str> = tests.split('`').skip(1).step_by(2).collect();
        let (file, funcs) = names
            .split_first()
            .unwrap_or_else(|| panic!("{behaviour}: no test file named"));
        assert!(!funcs.is_empty(), "{behaviour}: no test named");
        for example in rust
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|n| n.ends_with(".rs"))
        {
            let path = crate_dir().join("../..").join(example);
            assert!(path.exists(), "{behaviour}: no example {}", path.display());
        }
        let path = crate_dir().join("tests").join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{behaviour}: no test file {}", path.display()));
        for func in funcs {
            assert!(
                text.contains(&format!("async fn {func}("))
                    || text.contains(&format!("fn {func}(")),
                "{behaviour}: no test `{func}` in {}",
                path.display()
            );
        }
    }
}
