//! Chat history: messages, their read/delivered state, edits and deletes (reactions and pages:
//! `history.rs`).

use super::Cached;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Message, NewMessage, SavedMessage, Store, StoreError, from_json, now, to_json};

pub(super) const COLUMNS: &str = "id, dialog_id, sender_id, recipient_id, body, date_sent, created_at, \
     updated_at, attachments, custom, read_ids, delivered_ids, deleted_for, edited, markable, \
     views_count";

fn parse<T: std::str::FromStr>(text: String) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub(super) fn message_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: parse(r.get(0)?)?,
        dialog_id: parse(r.get(1)?)?,
        sender_id: UserId(r.get(2)?),
        recipient_id: r.get::<_, Option<u64>>(3)?.map(UserId),
        body: r.get(4)?,
        date_sent: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        attachments: from_json(&r.get::<_, String>(8)?)?,
        custom: from_json(&r.get::<_, String>(9)?)?,
        read_ids: from_json(&r.get::<_, String>(10)?)?,
        delivered_ids: from_json(&r.get::<_, String>(11)?)?,
        deleted_for: from_json(&r.get::<_, String>(12)?)?,
        edited: r.get(13)?,
        markable: r.get(14)?,
        views_count: r.get(15)?,
    })
}

fn write_message(c: &Connection, m: &Message) -> rusqlite::Result<()> {
    c.execute_cached(
        "INSERT INTO messages (id, dialog_id, sender_id, recipient_id, body, date_sent,
           created_at, updated_at, attachments, custom, read_ids, delivered_ids, deleted_for,
           edited, markable, views_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at,
           attachments = excluded.attachments, custom = excluded.custom,
           read_ids = excluded.read_ids, delivered_ids = excluded.delivered_ids,
           deleted_for = excluded.deleted_for, edited = excluded.edited,
           views_count = excluded.views_count",
        params![
            m.id.to_string(),
            m.dialog_id.to_string(),
            m.sender_id.0,
            m.recipient_id.map(|u| u.0),
            m.body,
            m.date_sent,
            m.created_at,
            m.updated_at,
            to_json(&m.attachments),
            to_json(&m.custom),
            to_json(&m.read_ids),
            to_json(&m.delivered_ids),
            to_json(&m.deleted_for),
            m.edited,
            m.markable,
            m.views_count,
        ],
    )?;
    Ok(())
}

/// Sets the dialog's `last_message*` fields from its newest message still there for everyone;
/// when that is another message, the dialog was updated (`updated_at`), as the cloud's is:
/// a client listing the dialogs `updated_at[gt]` a time learns which got messages since.
fn refresh_last_message(c: &Connection, dialog: &str) -> rusqlite::Result<()> {
    let last: Option<(String, Option<String>, i64, u64)> = c
        .query_row_cached(
            "SELECT id, body, date_sent, sender_id FROM messages WHERE dialog_id = ?1
             ORDER BY date_sent DESC, id DESC LIMIT 1",
            [dialog],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let (id, body, date, sender) = match last {
        Some((id, body, date, sender)) => (Some(id), body, Some(date), Some(sender)),
        None => (None, None, None, None),
    };
    c.execute_cached(
        "UPDATE dialogs SET last_message = ?2, last_message_date_sent = ?3, last_message_id = ?4,
           last_message_user_id = ?5,
           updated_at = CASE WHEN last_message_id IS ?4 THEN updated_at ELSE ?6 END
         WHERE id = ?1",
        params![dialog, body, date, id, sender, now()],
    )?;
    Ok(())
}

/// The message `id`, read on `c` (inside a transaction when the caller writes it back).
fn read_message(c: &Connection, id: MessageId) -> rusqlite::Result<Option<Message>> {
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"))?
        .query_row([id.to_string()], message_row)
        .optional()
}

/// Adds `user` to `ids` once.
fn add_once(ids: &mut Vec<UserId>, user: UserId) -> bool {
    if ids.contains(&user) {
        return false;
    }
    ids.push(user);
    true
}

impl Store {
    /// Stores a new message (over REST, or a chat message with `save_to_history`): the
    /// sender has read and received it, the dialog's `last_message*` fields follow, and a
    /// dialog hidden by a side shows again.
    ///
    /// # Errors
    /// [`StoreError::Taken`] when a message with that id is stored already.
    pub fn save_message(&self, new: &NewMessage) -> Result<SavedMessage, StoreError> {
        let t = now();
        let m = Message {
            id: new.id.unwrap_or_else(MessageId::generate),
            dialog_id: new.dialog_id,
            sender_id: new.sender_id,
            recipient_id: new.recipient_id,
            body: new.body.clone(),
            date_sent: new.date_sent.unwrap_or(t),
            created_at: t,
            updated_at: t,
            attachments: new.attachments.clone(),
            custom: new.custom.clone(),
            read_ids: vec![new.sender_id],
            delivered_ids: vec![new.sender_id],
            deleted_for: Vec::new(),
            edited: false,
            markable: new.markable,
            views_count: 0,
        };
        self.tx(|tx| {
            let exists: Option<i64> = tx
                .query_row_cached(
                    "SELECT 1 FROM messages WHERE id = ?1",
                    [m.id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Err(StoreError::Taken { field: "id" });
            }
            write_message(tx, &m)?;
            refresh_last_message(tx, &m.dialog_id.to_string())?;
            tx.execute_cached(
                "DELETE FROM dialog_hidden WHERE dialog_id = ?1",
                [m.dialog_id.to_string()],
            )?;
            Ok(())
        })?;
        Ok(SavedMessage {
            id: m.id,
            date_sent: m.date_sent,
        })
    }

    /// Stores `m` as it is (seeding, or writing back a changed message).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn put_message(&self, m: &Message) -> Result<(), StoreError> {
        self.tx(|tx| {
            write_message(tx, m)?;
            refresh_last_message(tx, &m.dialog_id.to_string())?;
            Ok(())
        })
    }

    /// The message `id`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        self.with(|c| read_message(c, id))
    }

    /// The history of `dialog` as `viewer` sees it (without what they deleted for
    /// themselves), oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn messages_in(
        &self,
        dialog: DialogId,
        viewer: Option<UserId>,
    ) -> Result<Vec<Message>, StoreError> {
        let all: Vec<Message> = self.with(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE dialog_id = ?1 ORDER BY date_sent, id"
            ))?;
            st.query_map([dialog.to_string()], message_row)?.collect()
        })?;
        Ok(all
            .into_iter()
            .filter(|m| viewer.is_none_or(|v| !m.deleted_for.contains(&v)))
            .collect())
    }

    /// Marks messages of `dialog` (those in `ids`, or all when `None`) sent by others as
    /// read by `user` (read implies delivered); answers the ids that changed.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn mark_read(
        &self,
        dialog: DialogId,
        ids: Option<&[MessageId]>,
        user: UserId,
    ) -> Result<Vec<MessageId>, StoreError> {
        self.mark(dialog, ids, user, true)
    }

    /// Marks messages of `dialog` (those in `ids`, or all when `None`) sent by others as
    /// delivered to `user`; answers the ids that changed.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn mark_delivered(
        &self,
        dialog: DialogId,
        ids: Option<&[MessageId]>,
        user: UserId,
    ) -> Result<Vec<MessageId>, StoreError> {
        self.mark(dialog, ids, user, false)
    }

    fn mark(
        &self,
        dialog: DialogId,
        ids: Option<&[MessageId]>,
        user: UserId,
        read: bool,
    ) -> Result<Vec<MessageId>, StoreError> {
        // One transaction: a 'delivered' from the chat racing a REST 'read' of the same
        // message must not write back a copy that lacks the other's mark.
        self.tx(|tx| {
            let candidates: Vec<Message> = match ids {
                // By primary key: a marker costs the same whatever the dialog's history.
                Some(ids) => {
                    let mut st = tx.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM messages WHERE id = ?1 AND dialog_id = ?2"
                    ))?;
                    let mut out = Vec::with_capacity(ids.len());
                    for id in ids {
                        if let Some(m) = st
                            .query_row(params![id.to_string(), dialog.to_string()], message_row)
                            .optional()?
                        {
                            out.push(m);
                        }
                    }
                    out
                }
                None => {
                    let mut st = tx.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM messages WHERE dialog_id = ?1 AND sender_id != ?2
                         ORDER BY date_sent, id"
                    ))?;
                    st.query_map(params![dialog.to_string(), user.0], message_row)?
                        .collect::<rusqlite::Result<_>>()?
                }
            };
            let mut update = tx.prepare_cached(
                "UPDATE messages SET read_ids = ?2, delivered_ids = ?3 WHERE id = ?1",
            )?;
            let mut changed = Vec::new();
            for mut m in candidates {
                if m.sender_id == user || m.deleted_for.contains(&user) {
                    continue;
                }
                let mut did = add_once(&mut m.delivered_ids, user);
                if read {
                    did |= add_once(&mut m.read_ids, user);
                }
                if did {
                    update.execute(params![
                        m.id.to_string(),
                        to_json(&m.read_ids),
                        to_json(&m.delivered_ids)
                    ])?;
                    changed.push(m.id);
                }
            }
            Ok(changed)
        })
    }

    /// The chat's marker: message `id` delivered to (or, with `read`, read by) `user`;
    /// `false` when there is no such message.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn mark_message(
        &self,
        id: MessageId,
        user: UserId,
        read: bool,
    ) -> Result<bool, StoreError> {
        let dialog: Option<String> = self.with(|c| {
            c.query_row_cached(
                "SELECT dialog_id FROM messages WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
        })?;
        let Some(dialog) = dialog.and_then(|d| d.parse::<DialogId>().ok()) else {
            return Ok(false);
        };
        self.mark(dialog, Some(&[id]), user, read)?;
        Ok(true)
    }

    /// The chat's correction: replaces the text of message `id` if `editor` sent it;
    /// `false` when not found or not theirs.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn edit_message_by(
        &self,
        id: MessageId,
        editor: UserId,
        body: &str,
    ) -> Result<bool, StoreError> {
        match self.message(id)? {
            Some(m) if m.sender_id == editor => {
                self.edit_message(id, body)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The chat's delete: removes message `id` for everyone if `by` sent it; `false` when
    /// not found or not theirs.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn delete_message_by(&self, id: MessageId, by: UserId) -> Result<bool, StoreError> {
        match self.message(id)? {
            Some(m) if m.sender_id == by => {
                self.delete_message(id)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// How many messages of `dialog` from others `user` has not read.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn unread_count(&self, dialog: DialogId, user: UserId) -> Result<u64, StoreError> {
        // Counted by SQLite over the dialog's index, without building the messages.
        self.with(|c| {
            c.query_row_cached(
                "SELECT COUNT(*) FROM messages WHERE dialog_id = ?1 AND sender_id != ?2
                   AND NOT EXISTS (SELECT 1 FROM json_each(read_ids) WHERE value = ?2)
                   AND NOT EXISTS (SELECT 1 FROM json_each(deleted_for) WHERE value = ?2)",
                params![dialog.to_string(), user.0],
                |r| r.get(0),
            )
        })
    }

    /// Replaces the text of message `id` (an edit); answers the changed message.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such message.
    pub fn edit_message(&self, id: MessageId, body: &str) -> Result<Message, StoreError> {
        self.tx(|tx| {
            let mut m = read_message(tx, id)?.ok_or(StoreError::NotFound)?;
            m.body = Some(body.to_owned());
            m.edited = true;
            m.updated_at = now();
            write_message(tx, &m)?;
            refresh_last_message(tx, &m.dialog_id.to_string())?;
            Ok(m)
        })
    }

    /// Deletes message `id` for everyone.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such message.
    pub fn delete_message(&self, id: MessageId) -> Result<(), StoreError> {
        self.tx(|tx| {
            let m = read_message(tx, id)?.ok_or(StoreError::NotFound)?;
            tx.execute_cached("DELETE FROM messages WHERE id = ?1", [id.to_string()])?;
            tx.execute_cached(
                "DELETE FROM reactions WHERE message_id = ?1",
                [id.to_string()],
            )?;
            refresh_last_message(tx, &m.dialog_id.to_string())?;
            Ok(())
        })
    }

    /// Deletes message `id` for `user` only.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such message.
    pub fn delete_message_for(&self, id: MessageId, user: UserId) -> Result<(), StoreError> {
        self.tx(|tx| {
            let mut m = read_message(tx, id)?.ok_or(StoreError::NotFound)?;
            if add_once(&mut m.deleted_for, user) {
                tx.execute_cached(
                    "UPDATE messages SET deleted_for = ?2 WHERE id = ?1",
                    params![id.to_string(), to_json(&m.deleted_for)],
                )?;
            }
            Ok(())
        })
    }

    /// Clears the history of `dialog` for `user`, or for everyone when `None`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn clear_history(&self, dialog: DialogId, user: Option<UserId>) -> Result<(), StoreError> {
        let d = dialog.to_string();
        self.tx(|tx| {
            match user {
                Some(u) => {
                    let ids: Vec<(String, String)> = tx
                        .prepare_cached(
                            "SELECT id, deleted_for FROM messages WHERE dialog_id = ?1
                               AND NOT EXISTS (SELECT 1 FROM json_each(deleted_for)
                                               WHERE value = ?2)",
                        )?
                        .query_map(params![d, u.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<rusqlite::Result<_>>()?;
                    for (id, deleted) in ids {
                        let mut deleted: Vec<UserId> = from_json(&deleted)?;
                        deleted.push(u);
                        tx.execute_cached(
                            "UPDATE messages SET deleted_for = ?2 WHERE id = ?1",
                            params![id, to_json(&deleted)],
                        )?;
                    }
                }
                None => {
                    tx.execute_cached(
                        "DELETE FROM reactions WHERE message_id IN
                           (SELECT id FROM messages WHERE dialog_id = ?1)",
                        [&d],
                    )?;
                    tx.execute_cached("DELETE FROM messages WHERE dialog_id = ?1", [&d])?;
                    refresh_last_message(tx, &d)?;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Dialog, dialog_type};

    fn group(s: &Store) -> Dialog {
        let mut d = Dialog::new(1, dialog_type::GROUP, UserId(1));
        d.occupants = vec![UserId(1), UserId(2), UserId(3)];
        s.put_dialog(&d).unwrap();
        d
    }

    fn say(s: &Store, d: &Dialog, from: u64, text: &str, at: i64) -> SavedMessage {
        let mut m = NewMessage::new(d.id, UserId(from));
        m.body = Some(text.into());
        m.date_sent = Some(at);
        s.save_message(&m).unwrap()
    }

    #[test]
    fn saving_updates_the_dialogs_last_message_and_unread_counts() {
        let s = Store::in_memory().unwrap();
        let d = group(&s);
        say(&s, &d, 1, "one", 100);
        let two = say(&s, &d, 1, "two", 200);
        let d2 = s.dialog(d.id).unwrap().unwrap();
        assert_eq!(d2.last_message.as_deref(), Some("two"));
        assert_eq!(d2.last_message_id, Some(two.id));
        assert_eq!(d2.last_message_date_sent, Some(200));
        assert_eq!(s.unread_count(d.id, UserId(2)).unwrap(), 2);
        assert_eq!(s.unread_count(d.id, UserId(1)).unwrap(), 0);
        assert_eq!(
            s.mark_read(d.id, Some(&[two.id]), UserId(2)).unwrap(),
            vec![two.id]
        );
        assert_eq!(s.unread_count(d.id, UserId(2)).unwrap(), 1);
        s.mark_read(d.id, None, UserId(2)).unwrap();
        assert_eq!(s.unread_count(d.id, UserId(2)).unwrap(), 0);
        let m = s.message(two.id).unwrap().unwrap();
        assert!(m.delivered_ids.contains(&UserId(2)) && m.read_ids.contains(&UserId(2)));
    }

    /// A dialog listed `updated_at[gt]` a time names those that got a message since.
    #[test]
    fn a_new_last_message_updates_the_dialog() {
        let s = Store::in_memory().unwrap();
        let mut d = group(&s);
        d.updated_at = 1;
        s.put_dialog(&d).unwrap();
        let one = say(&s, &d, 1, "one", 100);
        let updated = s.dialog(d.id).unwrap().unwrap().updated_at;
        assert!(updated > 1, "{updated}");
        s.mark_read(d.id, Some(&[one.id]), UserId(2)).unwrap();
        assert_eq!(s.dialog(d.id).unwrap().unwrap().updated_at, updated);
    }

    #[test]
    fn a_duplicate_id_is_refused() {
        let s = Store::in_memory().unwrap();
        let d = group(&s);
        let one = say(&s, &d, 1, "one", 100);
        let mut again = NewMessage::new(d.id, UserId(1));
        again.id = Some(one.id);
        assert!(matches!(
            s.save_message(&again),
            Err(StoreError::Taken { .. })
        ));
    }

    #[test]
    fn edits_and_deletes_change_the_history() {
        let s = Store::in_memory().unwrap();
        let d = group(&s);
        let one = say(&s, &d, 1, "one", 100);
        let two = say(&s, &d, 2, "two", 200);
        assert!(s.edit_message(one.id, "uno").unwrap().edited);
        s.delete_message_for(one.id, UserId(3)).unwrap();
        assert_eq!(s.messages_in(d.id, Some(UserId(3))).unwrap().len(), 1);
        assert_eq!(s.messages_in(d.id, Some(UserId(2))).unwrap().len(), 2);
        s.delete_message(two.id).unwrap();
        let d2 = s.dialog(d.id).unwrap().unwrap();
        assert_eq!(d2.last_message.as_deref(), Some("uno"));
        s.clear_history(d.id, None).unwrap();
        assert!(s.messages_in(d.id, None).unwrap().is_empty());
        assert!(s.dialog(d.id).unwrap().unwrap().last_message_id.is_none());
    }

    #[test]
    fn reactions_are_added_removed_and_grouped() {
        let s = Store::in_memory().unwrap();
        let d = group(&s);
        let one = say(&s, &d, 1, "one", 100);
        s.react(one.id, UserId(1), Some("+"), None).unwrap();
        s.react(one.id, UserId(2), Some("+"), None).unwrap();
        s.react(one.id, UserId(2), Some("-"), Some("+")).unwrap();
        let r = s.reactions(one.id).unwrap();
        assert_eq!(
            r,
            vec![
                ("+".to_owned(), vec![UserId(1)]),
                ("-".to_owned(), vec![UserId(2)])
            ]
        );
    }
}
