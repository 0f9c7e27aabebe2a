//! What only the chat half needs: privacy lists (XEP-0016), last activity (XEP-0012) and the
//! offline storage (XEP-0160 style: messages kept for users with no available session).

use super::Cached;
use connectycube_protocol::ids::UserId;
use rusqlite::{OptionalExtension, params};

use super::{PrivacyItem, PrivacyList, Store, StoreError, from_json, now, to_json};

impl Store {
    /// The names of `user`'s privacy lists, and which one is the default.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn privacy_list_names(
        &self,
        user: UserId,
    ) -> Result<(Vec<String>, Option<String>), StoreError> {
        let rows: Vec<(String, bool)> = self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT name, is_default FROM privacy_lists WHERE user_id = ?1 ORDER BY name",
            )?;
            st.query_map([user.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })?;
        let default = rows.iter().find(|(_, d)| *d).map(|(n, _)| n.clone());
        Ok((rows.into_iter().map(|(n, _)| n).collect(), default))
    }

    /// `user`'s privacy list `name`, items by order.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails or the stored items do not parse.
    pub fn privacy_list(
        &self,
        user: UserId,
        name: &str,
    ) -> Result<Option<PrivacyList>, StoreError> {
        let items: Option<String> = self.with(|c| {
            c.query_row_cached(
                "SELECT items FROM privacy_lists WHERE user_id = ?1 AND name = ?2",
                params![user.0, name],
                |r| r.get(0),
            )
            .optional()
        })?;
        items
            .map(|t| {
                let mut items: Vec<PrivacyItem> = from_json(&t)?;
                items.sort_by_key(|i| i.order);
                Ok(PrivacyList {
                    name: name.to_owned(),
                    items,
                })
            })
            .transpose()
    }

    /// Sets `user`'s privacy list `name`; no items removes it (as XEP-0016 says).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn set_privacy_list(
        &self,
        user: UserId,
        name: &str,
        items: &[PrivacyItem],
    ) -> Result<(), StoreError> {
        self.with(|c| {
            if items.is_empty() {
                c.execute_cached(
                    "DELETE FROM privacy_lists WHERE user_id = ?1 AND name = ?2",
                    params![user.0, name],
                )?;
            } else {
                c.execute_cached(
                    "INSERT INTO privacy_lists (user_id, name, items) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user_id, name) DO UPDATE SET items = excluded.items",
                    params![user.0, name, to_json(&items)],
                )?;
            }
            Ok(())
        })
    }

    /// Makes `name` `user`'s default list, or declines the default with `None`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no list `name`.
    pub fn set_default_privacy_list(
        &self,
        user: UserId,
        name: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx(|tx| {
            if let Some(n) = name {
                let exists: Option<i64> = tx
                    .query_row_cached(
                        "SELECT 1 FROM privacy_lists WHERE user_id = ?1 AND name = ?2",
                        params![user.0, n],
                        |r| r.get(0),
                    )
                    .optional()?;
                if exists.is_none() {
                    return Err(StoreError::NotFound);
                }
            }
            tx.execute_cached(
                "UPDATE privacy_lists SET is_default = (name IS ?2) WHERE user_id = ?1",
                params![user.0, name],
            )?;
            Ok(())
        })
    }

    /// `user`'s default privacy list, if one is set.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn default_privacy_list(&self, user: UserId) -> Result<Option<PrivacyList>, StoreError> {
        match self.privacy_list_names(user)?.1 {
            Some(name) => self.privacy_list(user, &name),
            None => Ok(None),
        }
    }

    /// Records `user`'s last activity at `at` (unix seconds; the chat half sets it when the
    /// user goes offline).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn set_last_activity(&self, user: UserId, at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute_cached(
                "INSERT INTO last_activity (user_id, at) VALUES (?1, ?2)
                 ON CONFLICT (user_id) DO UPDATE SET at = excluded.at",
                params![user.0, at],
            )
            .map(|_| ())
        })
    }

    /// When `user` was last active; `None` when they never logged in to the chat.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn last_activity(&self, user: UserId) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            c.query_row_cached(
                "SELECT at FROM last_activity WHERE user_id = ?1",
                [user.0],
                |r| r.get(0),
            )
            .optional()
        })
    }
}

impl Store {
    /// Keeps `stanza` (serialized XML) for `user` until they come online; past `max` kept
    /// for them, the oldest go.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn store_offline(&self, user: UserId, stanza: &str, max: usize) -> Result<(), StoreError> {
        let keep = i64::try_from(max).unwrap_or(i64::MAX);
        self.tx(|tx| {
            tx.execute_cached(
                "INSERT INTO offline_messages (user_id, stanza, stored_at) VALUES (?1, ?2, ?3)",
                params![user.0, stanza, now()],
            )?;
            tx.execute_cached(
                "DELETE FROM offline_messages WHERE user_id = ?1 AND seq <=
                   (SELECT seq FROM offline_messages WHERE user_id = ?1
                    ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
                params![user.0, keep],
            )?;
            Ok(())
        })
    }

    /// How many stanzas are kept for `user`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn offline_count(&self, user: UserId) -> Result<usize, StoreError> {
        self.with(|c| {
            c.query_row_cached(
                "SELECT COUNT(*) FROM offline_messages WHERE user_id = ?1",
                [user.0],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| usize::try_from(n).unwrap_or(0))
    }

    /// Takes (reads and removes, at once) the stanzas kept for `user`, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn take_offline(&self, user: UserId) -> Result<Vec<String>, StoreError> {
        self.tx(|tx| {
            let stanzas: Vec<String> = tx
                .prepare_cached(
                    "SELECT stanza FROM offline_messages WHERE user_id = ?1 ORDER BY seq",
                )?
                .query_map([user.0], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            tx.execute_cached("DELETE FROM offline_messages WHERE user_id = ?1", [user.0])?;
            Ok(stanzas)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deny(jid: &str, order: u32) -> PrivacyItem {
        PrivacyItem {
            kind: Some("jid".into()),
            value: Some(jid.into()),
            allow: false,
            order,
            stanzas: vec![],
        }
    }

    #[test]
    fn privacy_lists_are_set_defaulted_and_removed() {
        let s = Store::in_memory().unwrap();
        let u = UserId(1);
        s.set_privacy_list(u, "block", &[deny("b", 2), deny("a", 1)])
            .unwrap();
        let l = s.privacy_list(u, "block").unwrap().unwrap();
        assert_eq!(l.items[0].value.as_deref(), Some("a"));
        assert!(s.default_privacy_list(u).unwrap().is_none());
        s.set_default_privacy_list(u, Some("block")).unwrap();
        assert_eq!(s.default_privacy_list(u).unwrap().unwrap().name, "block");
        assert!(matches!(
            s.set_default_privacy_list(u, Some("nope")),
            Err(StoreError::NotFound)
        ));
        s.set_default_privacy_list(u, None).unwrap();
        assert!(s.default_privacy_list(u).unwrap().is_none());
        s.set_privacy_list(u, "block", &[]).unwrap();
        assert_eq!(s.privacy_list_names(u).unwrap().0, Vec::<String>::new());
    }

    #[test]
    fn last_activity_is_none_until_set() {
        let s = Store::in_memory().unwrap();
        assert!(s.last_activity(UserId(1)).unwrap().is_none());
        s.set_last_activity(UserId(1), 42).unwrap();
        s.set_last_activity(UserId(1), 43).unwrap();
        assert_eq!(s.last_activity(UserId(1)).unwrap(), Some(43));
    }

    #[test]
    fn offline_messages_are_kept_per_user_bounded_and_taken_once() {
        let s = Store::in_memory().unwrap();
        for i in 0..3 {
            s.store_offline(UserId(1), &format!("<m{i}/>"), 2).unwrap();
        }
        s.store_offline(UserId(2), "<other/>", 2).unwrap();
        assert_eq!(
            s.offline_count(UserId(1)).unwrap(),
            2,
            "what the chat checks first"
        );
        assert_eq!(s.take_offline(UserId(1)).unwrap(), ["<m1/>", "<m2/>"]);
        assert_eq!(s.offline_count(UserId(1)).unwrap(), 0);
        assert!(s.take_offline(UserId(1)).unwrap().is_empty());
        assert_eq!(s.take_offline(UserId(2)).unwrap(), ["<other/>"]);
    }
}
