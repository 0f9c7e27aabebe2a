//! The store on a SQLite file. One connection, in WAL mode with `synchronous=NORMAL`: a
//! committed write is in the log before the call returns, so it survives the process being
//! killed (only a power cut can lose the last ones).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::model::{Dialog, Message};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::memory::{activity, sent_at};
use super::record::{flags, set_flags};
use super::schema::{MIGRATIONS, classify, migrate};
use super::{Backend, Caps, LocalStatus, QueuedSend, SendTarget, StoreError};
use crate::lock;

/// The file store.
#[derive(Debug)]
pub(crate) struct SqliteStore {
    caps: Caps,
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn json<T: serde::Serialize>(value: &T) -> String {
    // Model types serialize to JSON without fail (no maps with non-string keys).
    serde_json::to_string(value).unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Row { what, source })
}

fn owner_key(owner: UserId) -> i64 {
    // User ids are well below 2^63; a wrap would only misfile, never lose, a row.
    owner.0 as i64
}

impl SqliteStore {
    /// Opens (or makes) the store at `path` and brings its schema up to date.
    pub(crate) fn open(path: &Path, caps: Caps) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path).map_err(|e| classify(e, path))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| classify(e, path))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut conn, path, MIGRATIONS)?;
        Ok(Self {
            caps,
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    fn run<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut conn = lock(&self.conn);
        f(&mut conn).map_err(|e| match e {
            StoreError::Sqlite(e) => classify(e, &self.path),
            other => other,
        })
    }
}

fn put_message(
    tx: &rusqlite::Transaction<'_>,
    owner: i64,
    m: &Message,
    status: &LocalStatus,
    caps: Caps,
) -> Result<(), StoreError> {
    let Some(dialog) = m.dialog_id else {
        return Ok(());
    };
    let id = m.id.to_string();
    let kept: Option<(i64, Option<String>)> = tx
        .query_row(
            "SELECT status, reason FROM messages WHERE owner = ?1 AND id = ?2",
            params![owner, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((code, reason)) = kept {
        if LocalStatus::decode(code, reason).advances_to(status) {
            let (code, reason) = status.encode();
            tx.execute(
                "UPDATE messages SET status = ?3, reason = ?4 WHERE owner = ?1 AND id = ?2",
                params![owner, id, code, reason],
            )?;
        }
        return Ok(());
    }
    note_dialog(tx, owner, &dialog.to_string(), sent_at(m), caps)?;
    let (code, reason) = status.encode();
    tx.execute(
        "INSERT INTO messages (owner, id, dialog, sender, sent_at, status, reason, flags, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            owner,
            id,
            dialog.to_string(),
            m.sender_id.map(owner_key),
            sent_at(m),
            code,
            reason,
            flags(m),
            json(m)
        ],
    )?;
    Ok(())
}

/// Counts `dialog` among those holding messages; past `caps.dialogs` of them, the one whose
/// newest message is the oldest loses its messages. A peer names a message's dialog, so this
/// is what keeps ever new dialog ids from growing the file without bound.
fn note_dialog(
    tx: &rusqlite::Transaction<'_>,
    owner: i64,
    dialog: &str,
    at: i64,
    caps: Caps,
) -> Result<(), StoreError> {
    let known = tx
        .prepare_cached("SELECT 1 FROM message_dialogs WHERE owner = ?1 AND dialog = ?2")?
        .exists(params![owner, dialog])?;
    tx.execute(
        "INSERT INTO message_dialogs (owner, dialog, newest) VALUES (?1, ?2, ?3)
         ON CONFLICT (owner, dialog) DO UPDATE SET newest = max(newest, excluded.newest)",
        params![owner, dialog, at],
    )?;
    if known {
        return Ok(());
    }
    let count: i64 = tx.query_row(
        "SELECT count(*) FROM message_dialogs WHERE owner = ?1",
        [owner],
        |r| r.get(0),
    )?;
    if count <= i64::try_from(caps.dialogs).unwrap_or(i64::MAX) {
        return Ok(());
    }
    let quietest: Option<String> = tx
        .query_row(
            "SELECT dialog FROM message_dialogs WHERE owner = ?1 AND dialog != ?2
             ORDER BY newest LIMIT 1",
            params![owner, dialog],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(gone) = quietest {
        forget_messages(tx, owner, &gone)?;
    }
    Ok(())
}

/// Forgets every message of a dialog.
fn forget_messages(
    tx: &rusqlite::Transaction<'_>,
    owner: i64,
    dialog: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM messages WHERE owner = ?1 AND dialog = ?2",
        params![owner, dialog],
    )?;
    tx.execute(
        "DELETE FROM message_dialogs WHERE owner = ?1 AND dialog = ?2",
        params![owner, dialog],
    )?;
    Ok(())
}

fn evict_messages(
    tx: &rusqlite::Transaction<'_>,
    owner: i64,
    dialog: &str,
    cap: usize,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM messages WHERE owner = ?1 AND dialog = ?2 AND id IN (
             SELECT id FROM messages WHERE owner = ?1 AND dialog = ?2
             ORDER BY sent_at DESC, rowid DESC LIMIT -1 OFFSET ?3)",
        params![owner, dialog, i64::try_from(cap).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}

fn message_row(r: &Row<'_>) -> rusqlite::Result<(i64, Option<String>, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn read_message(
    (code, reason, flags, text): (i64, Option<String>, i64, String),
) -> Result<(Message, LocalStatus), StoreError> {
    let mut m: Message = parse("message", &text)?;
    set_flags(&mut m, flags);
    Ok((m, LocalStatus::decode(code, reason)))
}

fn target_of(room: bool, target: &str) -> Result<SendTarget, StoreError> {
    let bad = |e: String| StoreError::Row {
        what: "queued send's target",
        source: serde::de::Error::custom(e),
    };
    if room {
        target
            .parse()
            .map(SendTarget::Room)
            .map_err(|e| bad(format!("{e}")))
    } else {
        target
            .parse()
            .map(|u| SendTarget::User(UserId(u)))
            .map_err(|e| bad(format!("{e}")))
    }
}

/// A queue row as stored.
struct QueueRow {
    room: bool,
    target: String,
    code: i64,
    reason: Option<String>,
    flags: i64,
    json: String,
    upload: Option<String>,
}

impl QueueRow {
    fn read(self) -> Result<QueuedSend, StoreError> {
        let mut message: Message = parse("queued send", &self.json)?;
        set_flags(&mut message, self.flags);
        let upload = match &self.upload {
            Some(text) => Some(parse("queued upload", text)?),
            None => None,
        };
        Ok(QueuedSend {
            message,
            target: target_of(self.room, &self.target)?,
            status: LocalStatus::decode(self.code, self.reason),
            upload,
        })
    }
}

impl Backend for SqliteStore {
    fn user_of(&self, identity: &str) -> Result<Option<UserId>, StoreError> {
        self.run(|c| {
            let user: Option<i64> = c
                .query_row(
                    "SELECT user_id FROM identities WHERE identity = ?1",
                    [identity],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(user.map(|u| UserId(u as u64)))
        })
    }

    fn set_user_of(&self, identity: &str, user: UserId) -> Result<(), StoreError> {
        self.run(|c| {
            c.execute(
                "INSERT OR REPLACE INTO identities (identity, user_id) VALUES (?1, ?2)",
                params![identity, owner_key(user)],
            )?;
            Ok(())
        })
    }

    fn put_dialogs(&self, owner: UserId, dialogs: &[Dialog]) -> Result<(), StoreError> {
        let owner = owner_key(owner);
        self.run(|c| {
            let tx = c.transaction()?;
            for d in dialogs {
                tx.execute(
                    "INSERT OR REPLACE INTO dialogs (owner, id, activity, json) VALUES (?1, ?2, ?3, ?4)",
                    params![owner, d.id.to_string(), activity(d), json(d)],
                )?;
            }
            let cap = i64::try_from(self.caps.dialogs).unwrap_or(i64::MAX);
            let gone: Vec<String> = {
                let mut q = tx.prepare(
                    "SELECT id FROM dialogs WHERE owner = ?1 ORDER BY activity DESC LIMIT -1 OFFSET ?2",
                )?;
                q.query_map(params![owner, cap], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            for id in gone {
                tx.execute("DELETE FROM dialogs WHERE owner = ?1 AND id = ?2", params![owner, id])?;
                forget_messages(&tx, owner, &id)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn remove_dialog(&self, owner: UserId, dialog: DialogId) -> Result<(), StoreError> {
        let (owner, id) = (owner_key(owner), dialog.to_string());
        self.run(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM dialogs WHERE owner = ?1 AND id = ?2",
                params![owner, id],
            )?;
            forget_messages(&tx, owner, &id)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn dialogs(&self, owner: UserId, limit: usize) -> Result<Vec<Dialog>, StoreError> {
        self.run(|c| {
            let mut q = c.prepare_cached(
                "SELECT json FROM dialogs WHERE owner = ?1 ORDER BY activity DESC LIMIT ?2",
            )?;
            let rows: Vec<String> = q
                .query_map(
                    params![owner_key(owner), i64::try_from(limit).unwrap_or(i64::MAX)],
                    |r| r.get(0),
                )?
                .collect::<Result<_, _>>()?;
            rows.iter().map(|t| parse("dialog", t)).collect()
        })
    }

    fn put_messages(
        &self,
        owner: UserId,
        messages: &[(Message, LocalStatus)],
    ) -> Result<(), StoreError> {
        let owner = owner_key(owner);
        self.run(|c| {
            let tx = c.transaction()?;
            let mut dialogs = Vec::new();
            for (m, s) in messages {
                put_message(&tx, owner, m, s, self.caps)?;
                if let Some(d) = m.dialog_id.map(|d| d.to_string())
                    && !dialogs.contains(&d)
                {
                    dialogs.push(d);
                }
            }
            for d in dialogs {
                evict_messages(&tx, owner, &d, self.caps.messages_per_dialog)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn messages(
        &self,
        owner: UserId,
        dialog: DialogId,
        limit: usize,
    ) -> Result<Vec<(Message, LocalStatus)>, StoreError> {
        self.run(|c| {
            let mut q = c.prepare_cached(
                "SELECT status, reason, flags, json FROM messages WHERE owner = ?1 AND dialog = ?2
                 ORDER BY sent_at DESC, rowid DESC LIMIT ?3",
            )?;
            let rows: Vec<_> = q
                .query_map(
                    params![
                        owner_key(owner),
                        dialog.to_string(),
                        i64::try_from(limit).unwrap_or(i64::MAX)
                    ],
                    message_row,
                )?
                .collect::<Result<_, _>>()?;
            rows.into_iter().rev().map(read_message).collect()
        })
    }

    fn set_status(
        &self,
        owner: UserId,
        id: MessageId,
        status: &LocalStatus,
    ) -> Result<Option<Message>, StoreError> {
        let (owner, id) = (owner_key(owner), id.to_string());
        self.run(|c| {
            let tx = c.transaction()?;
            let (code, reason) = status.encode();
            if matches!(status, LocalStatus::Queued | LocalStatus::Failed(_)) {
                tx.execute(
                    "UPDATE queue SET status = ?3, reason = ?4 WHERE owner = ?1 AND id = ?2",
                    params![owner, id, code, reason],
                )?;
            }
            let kept = tx
                .query_row(
                    "SELECT status, reason, flags, json FROM messages WHERE owner = ?1 AND id = ?2",
                    params![owner, id],
                    message_row,
                )
                .optional()?;
            let Some(kept) = kept else {
                tx.commit()?;
                return Ok(None);
            };
            let (message, was) = read_message(kept)?;
            if !was.advances_to(status) {
                tx.commit()?;
                return Ok(None);
            }
            tx.execute(
                "UPDATE messages SET status = ?3, reason = ?4 WHERE owner = ?1 AND id = ?2",
                params![owner, id, code, reason],
            )?;
            tx.commit()?;
            Ok(Some(message))
        })
    }

    fn remove_message(&self, owner: UserId, id: MessageId) -> Result<(), StoreError> {
        self.run(|c| {
            c.execute(
                "DELETE FROM messages WHERE owner = ?1 AND id = ?2",
                params![owner_key(owner), id.to_string()],
            )?;
            Ok(())
        })
    }

    fn update_message(
        &self,
        owner: UserId,
        id: MessageId,
        change: &dyn Fn(&mut Message),
    ) -> Result<bool, StoreError> {
        let (owner, id) = (owner_key(owner), id.to_string());
        self.run(|c| {
            let tx = c.transaction()?;
            let kept: Option<(i64, String)> = tx
                .query_row(
                    "SELECT flags, json FROM messages WHERE owner = ?1 AND id = ?2",
                    params![owner, id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((flags, text)) = kept else {
                return Ok(false);
            };
            let mut m: Message = parse("message", &text)?;
            set_flags(&mut m, flags);
            change(&mut m);
            tx.execute(
                "UPDATE messages SET json = ?3 WHERE owner = ?1 AND id = ?2",
                params![owner, id, json(&m)],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn shown_before(&self, owner: UserId, id: MessageId) -> Result<bool, StoreError> {
        let owner = owner_key(owner);
        self.run(|c| {
            let mut q = c.prepare_cached(
                "SELECT 1 FROM messages WHERE owner = ?1 AND id = ?2 AND (sender IS NULL OR sender != ?1)",
            )?;
            Ok(q.exists(params![owner, id.to_string()])?)
        })
    }

    fn last_seen(&self, owner: UserId) -> Result<Vec<(DialogId, i64, MessageId)>, StoreError> {
        let owner = owner_key(owner);
        self.run(|c| {
            // With one max(), SQLite takes the bare `id` from the row that has the max.
            let mut q = c.prepare_cached(
                "SELECT dialog, max(sent_at), id FROM messages
                 WHERE owner = ?1 AND (sender IS NULL OR sender != ?1) GROUP BY dialog",
            )?;
            let rows: Vec<(String, i64, String)> = q
                .query_map([owner], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows
                .into_iter()
                .filter_map(|(d, t, id)| Some((d.parse().ok()?, t, id.parse().ok()?)))
                .collect())
        })
    }

    fn enqueue(&self, owner: UserId, send: &QueuedSend) -> Result<(), StoreError> {
        let owner = owner_key(owner);
        self.run(|c| {
            let tx = c.transaction()?;
            let (room, target) = match send.target {
                SendTarget::User(u) => (false, u.0.to_string()),
                SendTarget::Room(d) => (true, d.to_string()),
            };
            let (code, reason) = send.status.encode();
            tx.execute(
                "INSERT OR IGNORE INTO queue (owner, id, room, target, status, reason, flags, json, upload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    owner,
                    send.message.id.to_string(),
                    room,
                    target,
                    code,
                    reason,
                    flags(&send.message),
                    json(&send.message),
                    send.upload.as_ref().map(json)
                ],
            )?;
            put_message(&tx, owner, &send.message, &send.status, self.caps)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn queued(&self, owner: UserId) -> Result<Vec<QueuedSend>, StoreError> {
        self.run(|c| {
            let mut q = c.prepare_cached(
                "SELECT room, target, status, reason, flags, json, upload FROM queue
                 WHERE owner = ?1 ORDER BY seq",
            )?;
            let rows: Vec<QueueRow> = q
                .query_map([owner_key(owner)], |r| {
                    Ok(QueueRow {
                        room: r.get(0)?,
                        target: r.get(1)?,
                        code: r.get(2)?,
                        reason: r.get(3)?,
                        flags: r.get(4)?,
                        json: r.get(5)?,
                        upload: r.get(6)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            rows.into_iter().map(QueueRow::read).collect()
        })
    }

    fn dequeue(&self, owner: UserId, id: MessageId) -> Result<(), StoreError> {
        self.run(|c| {
            c.execute(
                "DELETE FROM queue WHERE owner = ?1 AND id = ?2",
                params![owner_key(owner), id.to_string()],
            )?;
            Ok(())
        })
    }

    fn requeue(&self, owner: UserId, send: &QueuedSend) -> Result<bool, StoreError> {
        let (owner, id) = (owner_key(owner), send.message.id.to_string());
        self.run(|c| {
            let tx = c.transaction()?;
            let (code, reason) = send.status.encode();
            let n = tx.execute(
                "UPDATE queue SET status = ?3, reason = ?4, flags = ?5, json = ?6, upload = ?7
                 WHERE owner = ?1 AND id = ?2",
                params![
                    owner,
                    id,
                    code,
                    reason,
                    flags(&send.message),
                    json(&send.message),
                    send.upload.as_ref().map(json)
                ],
            )?;
            if n > 0 {
                tx.execute(
                    "UPDATE messages SET status = ?3, reason = ?4, flags = ?5, json = ?6 WHERE owner = ?1 AND id = ?2",
                    params![owner, id, code, reason, flags(&send.message), json(&send.message)],
                )?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }
}
