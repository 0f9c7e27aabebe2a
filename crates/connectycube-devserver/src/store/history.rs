//! Pages of a dialog's history and reactions (given, listed, and those of a whole page in one
//! query), read in SQL over the `(dialog_id, date_sent, id)` index: a page costs the same
//! whatever the dialog's size.

use super::Cached;
use std::collections::HashMap;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use rusqlite::params;

use super::messages::{COLUMNS, message_row};
use super::{Message, Store, StoreError, to_json};

/// Which slice of a dialog's history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery {
    /// Only messages sent at or after this Unix time.
    pub from: Option<i64>,
    /// Only messages sent at or before this Unix time.
    pub to: Option<i64>,
    /// Newest first (`sort_desc=date_sent`); oldest first otherwise.
    pub newest_first: bool,
    /// How many to skip.
    pub skip: usize,
    /// The page size.
    pub limit: usize,
}

impl Default for PageQuery {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            newest_first: false,
            skip: 0,
            limit: 100,
        }
    }
}

/// A message's reactions: each reaction with its users, in the order first given.
pub type Reactions = Vec<(String, Vec<UserId>)>;

impl Store {
    /// Adds and/or removes `user`'s reactions to message `id`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn react(
        &self,
        id: MessageId,
        user: UserId,
        add: Option<&str>,
        remove: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx(|tx| {
            if let Some(r) = remove {
                tx.execute_cached(
                    "DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND reaction = ?3",
                    params![id.to_string(), user.0, r],
                )?;
            }
            if let Some(r) = add {
                let pos: i64 = tx.query_row_cached(
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM reactions",
                    [],
                    |r| r.get(0),
                )?;
                tx.execute_cached(
                    "INSERT OR IGNORE INTO reactions (message_id, user_id, reaction, position)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id.to_string(), user.0, r, pos],
                )?;
            }
            Ok(())
        })
    }

    /// The reactions to message `id`: each reaction with its users, in the order first given.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn reactions(&self, id: MessageId) -> Result<Vec<(String, Vec<UserId>)>, StoreError> {
        let rows: Vec<(String, u64)> = self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT reaction, user_id FROM reactions WHERE message_id = ?1 ORDER BY position",
            )?;
            st.query_map([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })?;
        let mut out: Vec<(String, Vec<UserId>)> = Vec::new();
        for (reaction, user) in rows {
            match out.iter_mut().find(|(r, _)| *r == reaction) {
                Some((_, users)) => users.push(UserId(user)),
                None => out.push((reaction, vec![UserId(user)])),
            }
        }
        Ok(out)
    }

    /// A page of `dialog`'s history as `viewer` sees it (without what they deleted for
    /// themselves), in date order (ties by id, the order ids are made in).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn messages_page(
        &self,
        dialog: DialogId,
        viewer: Option<UserId>,
        q: &PageQuery,
    ) -> Result<Vec<Message>, StoreError> {
        let order = if q.newest_first {
            "date_sent DESC, id DESC"
        } else {
            "date_sent, id"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE dialog_id = ?1
               AND (?2 IS NULL OR date_sent >= ?2) AND (?3 IS NULL OR date_sent <= ?3)
               AND (?4 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(deleted_for)
                                              WHERE value = ?4))
             ORDER BY {order} LIMIT ?5 OFFSET ?6"
        );
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        let skip = i64::try_from(q.skip).unwrap_or(i64::MAX);
        self.with(|c| {
            c.prepare_cached(&sql)?
                .query_map(
                    params![
                        dialog.to_string(),
                        q.from,
                        q.to,
                        viewer.map(|v| v.0),
                        limit,
                        skip
                    ],
                    message_row,
                )?
                .collect()
        })
    }

    /// The reactions of each of `ids` (one query for a whole page); a message without any
    /// is absent from the map.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn reactions_of(
        &self,
        ids: &[MessageId],
    ) -> Result<HashMap<MessageId, Reactions>, StoreError> {
        let wanted: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows: Vec<(String, String, u64)> = self.with(|c| {
            c.prepare_cached(
                "SELECT message_id, reaction, user_id FROM reactions
                 WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY position",
            )?
            .query_map([to_json(&wanted)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect()
        })?;
        let mut out: HashMap<MessageId, Reactions> = HashMap::new();
        for (message, reaction, user) in rows {
            let Ok(message) = message.parse::<MessageId>() else {
                continue;
            };
            let list = out.entry(message).or_default();
            match list.iter_mut().find(|(r, _)| *r == reaction) {
                Some((_, users)) => users.push(UserId(user)),
                None => list.push((reaction, vec![UserId(user)])),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Dialog, NewMessage, dialog_type};

    fn dialog_with(s: &Store, n: i64) -> (Dialog, Vec<MessageId>) {
        let mut d = Dialog::new(1, dialog_type::GROUP, UserId(1));
        d.occupants = vec![UserId(1), UserId(2)];
        s.put_dialog(&d).unwrap();
        let ids = (0..n)
            .map(|i| {
                let mut m = NewMessage::new(d.id, UserId(1 + (i as u64 % 2)));
                m.body = Some(format!("m{i}"));
                m.date_sent = Some(1_000 + i);
                s.save_message(&m).unwrap().id
            })
            .collect();
        (d, ids)
    }

    #[test]
    fn pages_follow_the_order_bounds_and_the_viewers_deletes() {
        let s = Store::in_memory().unwrap();
        let (d, ids) = dialog_with(&s, 10);
        let page = |q: PageQuery, viewer| -> Vec<MessageId> {
            s.messages_page(d.id, viewer, &q)
                .unwrap()
                .iter()
                .map(|m| m.id)
                .collect()
        };
        let first = PageQuery {
            limit: 3,
            ..PageQuery::default()
        };
        assert_eq!(page(first, None), ids[..3]);
        let newest = PageQuery {
            newest_first: true,
            skip: 1,
            limit: 2,
            ..PageQuery::default()
        };
        assert_eq!(page(newest, None), [ids[8], ids[7]]);
        let window = PageQuery {
            from: Some(1_002),
            to: Some(1_004),
            ..PageQuery::default()
        };
        assert_eq!(page(window, None), ids[2..5]);
        s.delete_message_for(ids[0], UserId(2)).unwrap();
        assert_eq!(page(first, Some(UserId(2))), ids[1..4]);
        assert_eq!(page(first, Some(UserId(1))), ids[..3]);
    }

    #[test]
    fn a_pages_reactions_come_in_one_map() {
        let s = Store::in_memory().unwrap();
        let (_, ids) = dialog_with(&s, 3);
        s.react(ids[0], UserId(2), Some("👍"), None).unwrap();
        s.react(ids[0], UserId(1), Some("👍"), None).unwrap();
        s.react(ids[2], UserId(1), Some("🔥"), None).unwrap();
        let all = s.reactions_of(&ids).unwrap();
        assert_eq!(
            all[&ids[0]],
            vec![("👍".to_owned(), vec![UserId(2), UserId(1)])]
        );
        assert!(!all.contains_key(&ids[1]));
        assert_eq!(all[&ids[2]], s.reactions(ids[2]).unwrap());
    }
}
