//! The store file's schema and its versioned migrations: the file says its version
//! (`PRAGMA user_version`) and whose it is (`PRAGMA application_id`), and each step is run
//! once, in order, in its own transaction.

use std::path::Path;

use rusqlite::{Connection, ErrorCode};

use super::StoreError;

/// "CCRS": a file this SDK made.
pub(crate) const APPLICATION_ID: i64 = 0x4343_5253;

/// The migrations, in order: step `n` takes the file from version `n` to `n + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: identities, dialogs, messages with their local statuses (and the dialogs they are
    // in, to bound how many), the send queue.
    "CREATE TABLE identities (identity TEXT PRIMARY KEY, user_id INTEGER NOT NULL);
     CREATE TABLE dialogs (
         owner INTEGER NOT NULL, id TEXT NOT NULL, activity INTEGER NOT NULL, json TEXT NOT NULL,
         PRIMARY KEY (owner, id));
     CREATE TABLE messages (
         owner INTEGER NOT NULL, id TEXT NOT NULL, dialog TEXT NOT NULL, sender INTEGER,
         sent_at INTEGER NOT NULL, status INTEGER NOT NULL, reason TEXT,
         flags INTEGER NOT NULL, json TEXT NOT NULL,
         PRIMARY KEY (owner, id));
     CREATE INDEX messages_by_dialog ON messages (owner, dialog, sent_at);
     CREATE TABLE message_dialogs (
         owner INTEGER NOT NULL, dialog TEXT NOT NULL, newest INTEGER NOT NULL,
         PRIMARY KEY (owner, dialog));
     CREATE INDEX message_dialogs_by_age ON message_dialogs (owner, newest);
     CREATE TABLE queue (
         seq INTEGER PRIMARY KEY AUTOINCREMENT, owner INTEGER NOT NULL, id TEXT NOT NULL,
         room INTEGER NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL, reason TEXT,
         flags INTEGER NOT NULL, json TEXT NOT NULL, upload TEXT,
         UNIQUE (owner, id));",
];

/// Brings the file at `path` to the newest version `steps` know, or says why it cannot.
pub(crate) fn migrate(
    conn: &mut Connection,
    path: &Path,
    steps: &[&str],
) -> Result<(), StoreError> {
    let corrupt = |e: rusqlite::Error| classify(e, path);
    let app: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(corrupt)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(corrupt)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(corrupt)?;
    if app != APPLICATION_ID && (app != 0 || tables > 0) {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            reason: "not a ConnectyCube store (another program's SQLite file)".into(),
        });
    }
    let supported = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    if version > supported {
        return Err(StoreError::NewerVersion {
            path: path.to_owned(),
            found: version,
            supported,
        });
    }
    let done = usize::try_from(version).map_err(|_| StoreError::Corrupt {
        path: path.to_owned(),
        reason: format!("a negative schema version {version}"),
    })?;
    for (n, step) in steps.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", n + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// A file SQLite cannot read is `Corrupt`; anything else stays a SQLite error.
pub(crate) fn classify(e: rusqlite::Error, path: &Path) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        },
        _ => StoreError::Sqlite(e),
    }
}
