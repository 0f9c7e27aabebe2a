//! Everything the devserver keeps, in SQLite: in memory by default, or a file so that it all
//! survives a restart. The schema lives in numbered migrations (`migrations/NNNN_*.sql`),
//! applied in order and recorded in `schema_version`.
//!
//! What the chat half calls: [`Store::check_chat_credentials`] (SASL PLAIN), [`Store::dialog`],
//! [`Store::private_dialog`], [`Store::save_message`] (history and the dialog's
//! `last_message*`), [`Store::message`], [`Store::mark_message`] (markers, unread counts),
//! [`Store::edit_message_by`], [`Store::delete_message_by`], [`Store::privacy_list_names`],
//! [`Store::privacy_list`], [`Store::set_privacy_list`], [`Store::set_default_privacy_list`],
//! [`Store::default_privacy_list`], [`Store::last_activity`], [`Store::set_last_activity`].
//!
//! Methods are plain, synchronous Rust: the connection sits behind a mutex that is only held
//! inside a method, never across an `.await` (callers are async tasks of one process).

mod blobs;
mod chat;
mod chat_backend;
mod dialogs;
mod history;
mod messages;
mod model;
mod pushes;
mod records;
mod sessions;
mod users;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Params, Row};

pub use chat_backend::StoreBackend;
pub use history::{PageQuery, Reactions};
pub use model::*;
pub use pushes::{NewSubscription, PushDelivery, PushSource, PushSubscription};
pub use records::CustomRecord;

/// The migrations, in order: (version, SQL).
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_indexes.sql")),
    (3, include_str!("migrations/0003_offline.sql")),
    (4, include_str!("migrations/0004_push.sql")),
    (5, include_str!("migrations/0005_custom_objects.sql")),
    (6, include_str!("migrations/0006_session_ids.sql")),
];

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed to apply.
    #[error("migration {version} failed")]
    Migration {
        /// The migration's number.
        version: u32,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored JSON column does not parse (a database written by something else).
    #[error("stored JSON is malformed")]
    Json(#[from] serde_json::Error),
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// A unique field is taken (`field` names it).
    #[error("{field} has already been taken")]
    Taken {
        /// The field.
        field: &'static str,
    },
    /// A thread panicked while holding the connection.
    #[error("the store's lock is poisoned")]
    Poisoned,
}

/// Statements through the connection's cache: the chat path runs the same few statements for
/// every message, and preparing each anew took a quarter of the server's CPU in a burst.
pub(crate) trait Cached {
    /// [`Connection::execute`], prepared once.
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// [`Connection::query_row`], prepared once.
    fn query_row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Distinct statements kept prepared: every statement the server runs fits, so none is
/// evicted and prepared again (rusqlite keeps 16 by default).
const STATEMENT_CACHE: usize = 256;

/// The store: cheap to clone, clones share one connection.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// A fresh store in memory (gone when the last clone is dropped).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite cannot start or a migration fails.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    /// The store in the file at `path`, created if missing, migrated to the current schema.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or a migration fails.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        // WAL keeps readers and the writer apart; a dev server has one process anyway.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::from_connection(conn)
    }

    fn from_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The schema version the store is at.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.with(|c| {
            c.query_row_cached(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
        })
    }

    /// Runs `f` on the connection, holding the lock only for that call.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(f(&conn)?)
    }

    /// Runs `f` in one transaction, so a failed request leaves nothing half-written.
    ///
    /// `BEGIN`, `COMMIT` and `ROLLBACK` go through the statement cache: rusqlite's
    /// `transaction()` parses them anew every time, 5 % of the server's CPU in a burst.
    fn tx<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        conn.execute_cached("BEGIN", [])?;
        let done = f(&conn).and_then(|out| {
            conn.execute_cached("COMMIT", [])?;
            Ok(out)
        });
        if done.is_err() && !conn.is_autocommit() {
            // Nothing of a failed request stays, and the connection is usable again.
            let _ = conn.execute_cached("ROLLBACK", []);
        }
        done
    }
}

/// Applies every migration newer than the stored version, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    let current: u32 = conn.query_row_cached(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let apply = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_cached(
                "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
                (version, now()),
            )?;
            tx.commit()
        };
        apply(conn).map_err(|source| StoreError::Migration { version, source })?;
    }
    Ok(())
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A JSON column as a value of `T`.
fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// `T` as a JSON column.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Our own types always serialize; "null" is the safe fallback for the impossible case.
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Random bytes as lowercase hex (tokens, upload keys, blob uids).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to a fresh object id's bytes (time + process random).
        let id = connectycube_protocol::ids::ObjectId::generate().bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = id[i % id.len()] ^ (i as u8);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_store_is_at_the_latest_schema() {
        let store = Store::in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
    }

    #[test]
    fn reopening_a_file_keeps_data_and_does_not_migrate_twice() {
        let dir = std::env::temp_dir().join(format!("cc-devserver-{}", random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite");
        {
            let store = Store::open(&path).unwrap();
            store.put_app(7, "key").unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
        assert!(store.check_app(7, "key").unwrap());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn random_hex_has_the_asked_length_and_differs() {
        let a = random_hex(20);
        assert_eq!(a.len(), 40);
        assert_ne!(a, random_hex(20));
    }
}
