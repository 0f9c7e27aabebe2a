//! Dialogs, their members (occupants, admins, subscribers) and per-user settings.

use super::Cached;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Dialog, Store, StoreError, dialog_type, from_json, now, to_json};

const COLUMNS: &str = "id, app_id, type, name, description, photo, user_id, extensions, \
     permissions, pinned_messages_ids, created_at, updated_at, last_message, \
     last_message_date_sent, last_message_id, last_message_user_id";

fn parse_id<T: std::str::FromStr>(text: String) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn dialog_row(r: &Row<'_>) -> rusqlite::Result<Dialog> {
    let json_opt =
        |i: usize| -> rusqlite::Result<Option<serde_json::Map<String, serde_json::Value>>> {
            match r.get::<_, Option<String>>(i)? {
                Some(t) => from_json(&t),
                None => Ok(None),
            }
        };
    Ok(Dialog {
        id: parse_id(r.get(0)?)?,
        app_id: r.get(1)?,
        kind: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        photo: r.get(5)?,
        owner: UserId(r.get(6)?),
        occupants: Vec::new(),
        admins: Vec::new(),
        subscribers: Vec::new(),
        extensions: json_opt(7)?,
        permissions: json_opt(8)?,
        pinned: from_json(&r.get::<_, String>(9)?)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        last_message: r.get(12)?,
        last_message_date_sent: r.get(13)?,
        last_message_id: r
            .get::<_, Option<String>>(14)?
            .map(parse_id::<MessageId>)
            .transpose()?,
        last_message_user_id: r.get::<_, Option<u64>>(15)?.map(UserId),
    })
}

/// Fills the member lists of `d` from `dialog_members`.
fn load_members(c: &Connection, d: &mut Dialog) -> rusqlite::Result<()> {
    let mut st = c.prepare_cached(
        "SELECT user_id, role FROM dialog_members WHERE dialog_id = ?1 ORDER BY position",
    )?;
    let rows = st.query_map([d.id.to_string()], |r| {
        Ok((UserId(r.get(0)?), r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (user, role) = row?;
        match role.as_str() {
            "occupant" => d.occupants.push(user),
            "admin" => d.admins.push(user),
            _ => d.subscribers.push(user),
        }
    }
    Ok(())
}

/// The dialog `id` with its members, read on `c`.
fn read_dialog(c: &Connection, id: DialogId) -> rusqlite::Result<Option<Dialog>> {
    let d = c
        .prepare_cached(&format!("SELECT {COLUMNS} FROM dialogs WHERE id = ?1"))?
        .query_row([id.to_string()], dialog_row)
        .optional()?;
    match d {
        Some(mut d) => {
            load_members(c, &mut d)?;
            Ok(Some(d))
        }
        None => Ok(None),
    }
}

fn write_dialog(c: &Connection, d: &Dialog) -> rusqlite::Result<()> {
    let pair = (d.kind == dialog_type::PRIVATE && d.occupants.len() == 2)
        .then(|| pair_key(d.occupants[0], d.occupants[1]));
    let id = d.id.to_string();
    c.execute_cached(
        "INSERT INTO dialogs (id, app_id, type, name, description, photo, user_id, extensions,
           permissions, pinned_messages_ids, created_at, updated_at, last_message,
           last_message_date_sent, last_message_id, last_message_user_id, pair)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name,
           description = excluded.description, photo = excluded.photo,
           user_id = excluded.user_id, extensions = excluded.extensions,
           permissions = excluded.permissions,
           pinned_messages_ids = excluded.pinned_messages_ids,
           updated_at = excluded.updated_at, last_message = excluded.last_message,
           last_message_date_sent = excluded.last_message_date_sent,
           last_message_id = excluded.last_message_id,
           last_message_user_id = excluded.last_message_user_id, pair = excluded.pair",
        params![
            id,
            d.app_id,
            d.kind,
            d.name,
            d.description,
            d.photo,
            d.owner.0,
            d.extensions.as_ref().map(to_json),
            d.permissions.as_ref().map(to_json),
            to_json(&d.pinned),
            d.created_at,
            d.updated_at,
            d.last_message,
            d.last_message_date_sent,
            d.last_message_id.map(|m| m.to_string()),
            d.last_message_user_id.map(|u| u.0),
            pair,
        ],
    )?;
    c.execute_cached("DELETE FROM dialog_members WHERE dialog_id = ?1", [&id])?;
    let mut st = c.prepare_cached(
        "INSERT OR IGNORE INTO dialog_members (dialog_id, user_id, role, position)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    let roles = [
        ("occupant", &d.occupants),
        ("admin", &d.admins),
        ("subscriber", &d.subscribers),
    ];
    for (role, users) in roles {
        for (pos, u) in users.iter().enumerate() {
            st.execute(params![id, u.0, role, pos])?;
        }
    }
    Ok(())
}

impl Store {
    /// Stores `d` (new or changed), members included.
    ///
    /// # Errors
    /// [`StoreError::Taken`] when `d` is a second private dialog of the same pair.
    pub fn put_dialog(&self, d: &Dialog) -> Result<(), StoreError> {
        self.tx(|tx| {
            write_dialog(tx, d).map_err(|e| {
                if e.to_string().contains("UNIQUE") {
                    StoreError::Taken { field: "pair" }
                } else {
                    StoreError::Sqlite(e)
                }
            })
        })
    }

    /// The dialog `id`, with its members.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn dialog(&self, id: DialogId) -> Result<Option<Dialog>, StoreError> {
        self.with(|c| read_dialog(c, id))
    }

    /// Reads dialog `id`, lets `f` change it, and stores it, all in one transaction: two
    /// requests changing the same dialog (an occupant added by one, a name by the other; a
    /// message's `last_message` meanwhile) both keep their change. `f` must not call the
    /// store. Nothing is stored when `f` fails.
    ///
    /// # Errors
    /// `f`'s error, or [`StoreError::NotFound`] (converted) when there is no such dialog.
    pub fn modify_dialog<T, E: From<StoreError>>(
        &self,
        id: DialogId,
        f: impl FnOnce(&mut Dialog) -> Result<T, E>,
    ) -> Result<(Dialog, T), E> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.transaction().map_err(StoreError::from)?;
        let mut d = read_dialog(&tx, id)
            .map_err(StoreError::from)?
            .ok_or(StoreError::NotFound)?;
        let out = f(&mut d)?;
        write_dialog(&tx, &d).map_err(StoreError::from)?;
        tx.commit().map_err(StoreError::from)?;
        Ok((d, out))
    }

    /// The dialogs `user` sees in `app_id`: those they belong to (any role) and the
    /// application's broadcasts, minus those they deleted for themselves.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn dialogs_for(&self, app_id: u64, user: UserId) -> Result<Vec<Dialog>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM dialogs d WHERE app_id = ?1 AND (type = 1 OR user_id = ?2
                   OR EXISTS (SELECT 1 FROM dialog_members m WHERE m.dialog_id = d.id
                              AND m.user_id = ?2))
                 AND NOT EXISTS (SELECT 1 FROM dialog_hidden h WHERE h.dialog_id = d.id
                                 AND h.user_id = ?2)
                 ORDER BY created_at, id"
            ))?;
            let mut out: Vec<Dialog> = st
                .query_map(params![app_id, user.0], dialog_row)?
                .collect::<rusqlite::Result<_>>()?;
            for d in &mut out {
                load_members(c, d)?;
            }
            // Owning a group one has left does not make it visible.
            out.retain(|d| d.is_member(user));
            Ok(out)
        })
    }

    /// The private dialog of `a` and `b`, created (by `a`) if there is none yet.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn private_dialog(&self, app_id: u64, a: UserId, b: UserId) -> Result<Dialog, StoreError> {
        let pair = pair_key(a, b);
        // Looked up and created in one transaction: two first messages between the same pair
        // at once (chat and REST) find or make the same dialog.
        self.tx(|tx| {
            let existing: Option<String> = tx
                .query_row_cached(
                    "SELECT id FROM dialogs WHERE app_id = ?1 AND pair = ?2",
                    params![app_id, pair],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = existing.and_then(|t| t.parse::<DialogId>().ok()) {
                return read_dialog(tx, id)?.ok_or(StoreError::NotFound);
            }
            let mut d = Dialog::new(app_id, dialog_type::PRIVATE, a);
            d.occupants = vec![a, b];
            write_dialog(tx, &d)?;
            Ok(d)
        })
    }

    /// The id of the private dialog of `a` and `b` in app `app_id`, created when there is none
    /// yet ([`Store::private_dialog`]); one indexed read when it exists.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn private_dialog_id(
        &self,
        app_id: u64,
        a: UserId,
        b: UserId,
    ) -> Result<DialogId, StoreError> {
        let existing: Option<String> = self.with(|c| {
            c.query_row_cached(
                "SELECT id FROM dialogs WHERE app_id = ?1 AND pair = ?2",
                params![app_id, pair_key(a, b)],
                |r| r.get(0),
            )
            .optional()
        })?;
        match existing.and_then(|t| t.parse::<DialogId>().ok()) {
            Some(id) => Ok(id),
            None => Ok(self.private_dialog(app_id, a, b)?.id),
        }
    }

    /// Deletes dialog `id` for everyone, with its history and settings.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such dialog.
    pub fn delete_dialog(&self, id: DialogId) -> Result<(), StoreError> {
        let id = id.to_string();
        self.tx(|tx| {
            if tx.execute_cached("DELETE FROM dialogs WHERE id = ?1", [&id])? == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute_cached(
                "DELETE FROM reactions WHERE message_id IN
                   (SELECT id FROM messages WHERE dialog_id = ?1)",
                [&id],
            )?;
            tx.execute_cached("DELETE FROM messages WHERE dialog_id = ?1", [&id])?;
            for table in ["dialog_members", "dialog_hidden", "notification_settings"] {
                tx.execute_cached(&format!("DELETE FROM {table} WHERE dialog_id = ?1"), [&id])?;
            }
            Ok(())
        })
    }

    /// Hides dialog `id` from `user`'s list (deleted for themselves).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn hide_dialog(&self, id: DialogId, user: UserId) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute_cached(
                "INSERT OR IGNORE INTO dialog_hidden (dialog_id, user_id) VALUES (?1, ?2)",
                params![id.to_string(), user.0],
            )
            .map(|_| ())
        })
    }

    /// Shows dialog `id` again to everyone who hid it (a new message arrived).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn unhide_dialog(&self, id: DialogId) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute_cached(
                "DELETE FROM dialog_hidden WHERE dialog_id = ?1",
                [id.to_string()],
            )
            .map(|_| ())
        })
    }

    /// Whether `user` gets push notifications from dialog `id` (on unless turned off).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn notifications_enabled(&self, id: DialogId, user: UserId) -> Result<bool, StoreError> {
        let v: Option<bool> = self.with(|c| {
            c.query_row_cached(
                "SELECT enabled FROM notification_settings WHERE dialog_id = ?1 AND user_id = ?2",
                params![id.to_string(), user.0],
                |r| r.get(0),
            )
            .optional()
        })?;
        Ok(v.unwrap_or(true))
    }

    /// Turns `user`'s push notifications from dialog `id` on or off.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn set_notifications(
        &self,
        id: DialogId,
        user: UserId,
        enabled: bool,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute_cached(
                "INSERT INTO notification_settings (dialog_id, user_id, enabled) VALUES (?1, ?2, ?3)
                 ON CONFLICT (dialog_id, user_id) DO UPDATE SET enabled = excluded.enabled",
                params![id.to_string(), user.0, enabled],
            )
            .map(|_| ())
        })
    }

    /// Marks dialog `d` changed now and stores it.
    ///
    /// # Errors
    /// As [`Store::put_dialog`].
    pub fn touch_dialog(&self, d: &mut Dialog) -> Result<(), StoreError> {
        d.updated_at = now();
        self.put_dialog(d)
    }
}

/// The key of a private dialog's pair, the same whichever of the two asks.
fn pair_key(a: UserId, b: UserId) -> String {
    format!("{}-{}", a.0.min(b.0), a.0.max(b.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_dialog_round_trips_with_its_members() {
        let s = Store::in_memory().unwrap();
        let mut d = Dialog::new(1, dialog_type::GROUP, UserId(1));
        d.name = Some("g".into());
        d.occupants = vec![UserId(1), UserId(3), UserId(2)];
        d.admins = vec![UserId(3)];
        d.extensions = serde_json::from_str(r#"{"a":"b"}"#).unwrap();
        s.put_dialog(&d).unwrap();
        assert_eq!(s.dialog(d.id).unwrap().unwrap(), d);
        assert_eq!(s.dialogs_for(1, UserId(2)).unwrap().len(), 1);
        assert!(s.dialogs_for(1, UserId(9)).unwrap().is_empty());
        assert!(s.dialogs_for(2, UserId(2)).unwrap().is_empty());
    }

    #[test]
    fn one_private_dialog_per_pair() {
        let s = Store::in_memory().unwrap();
        let a = s.private_dialog(1, UserId(1), UserId(2)).unwrap();
        let b = s.private_dialog(1, UserId(2), UserId(1)).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(s.private_dialog_id(1, UserId(2), UserId(1)).unwrap(), a.id);
        let fresh = s.private_dialog_id(1, UserId(3), UserId(1)).unwrap();
        assert_ne!(fresh, a.id, "a new pair gets a new dialog");
        assert_eq!(s.private_dialog(1, UserId(1), UserId(3)).unwrap().id, fresh);
        let mut dup = Dialog::new(1, dialog_type::PRIVATE, UserId(2));
        dup.occupants = vec![UserId(2), UserId(1)];
        assert!(matches!(
            s.put_dialog(&dup),
            Err(StoreError::Taken { field: "pair" })
        ));
        // The failed write was rolled back: nothing of it stays, and the next ones work.
        assert!(s.dialog(dup.id).unwrap().is_none());
        let other = s.private_dialog_id(1, UserId(4), UserId(5)).unwrap();
        assert_eq!(s.dialog(other).unwrap().map(|d| d.id), Some(other));
    }

    #[test]
    fn hiding_deleting_and_notification_settings() {
        let s = Store::in_memory().unwrap();
        let d = s.private_dialog(1, UserId(1), UserId(2)).unwrap();
        s.hide_dialog(d.id, UserId(1)).unwrap();
        assert!(s.dialogs_for(1, UserId(1)).unwrap().is_empty());
        assert_eq!(s.dialogs_for(1, UserId(2)).unwrap().len(), 1);
        s.unhide_dialog(d.id).unwrap();
        assert_eq!(s.dialogs_for(1, UserId(1)).unwrap().len(), 1);
        assert!(s.notifications_enabled(d.id, UserId(1)).unwrap());
        s.set_notifications(d.id, UserId(1), false).unwrap();
        assert!(!s.notifications_enabled(d.id, UserId(1)).unwrap());
        s.delete_dialog(d.id).unwrap();
        assert!(s.dialog(d.id).unwrap().is_none());
        assert!(matches!(s.delete_dialog(d.id), Err(StoreError::NotFound)));
    }
}
