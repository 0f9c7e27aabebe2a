//! Applications and users.

use super::Cached;
use connectycube_protocol::ids::UserId;
use rusqlite::{OptionalExtension, Row, params};

use super::{App, NewUser, Store, StoreError, User, now};

const USER_COLUMNS: &str = "id, app_id, login, email, full_name, phone, website, external_user_id, \
     facebook_id, twitter_id, blob_id, custom_data, avatar, user_tags, timezone, is_guest, \
     created_at, updated_at, last_request_at";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(r.get(0)?),
        app_id: r.get(1)?,
        login: r.get(2)?,
        email: r.get(3)?,
        full_name: r.get(4)?,
        phone: r.get(5)?,
        website: r.get(6)?,
        external_user_id: r.get(7)?,
        facebook_id: r.get(8)?,
        twitter_id: r.get(9)?,
        blob_id: r.get(10)?,
        custom_data: r.get(11)?,
        avatar: r.get(12)?,
        user_tags: r.get(13)?,
        timezone: r.get(14)?,
        is_guest: r.get(15)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
        last_request_at: r.get(18)?,
    })
}

/// Which unique field a constraint failure is about.
fn taken(e: rusqlite::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("UNIQUE") {
        if text.contains("email") {
            return StoreError::Taken { field: "email" };
        }
        if text.contains("login") {
            return StoreError::Taken { field: "login" };
        }
        return StoreError::Taken { field: "id" };
    }
    StoreError::Sqlite(e)
}

/// Inserts `new` into `app_id` at time `t`; answers its id.
fn insert_user(
    c: &rusqlite::Connection,
    app_id: u64,
    new: &NewUser,
    t: i64,
) -> rusqlite::Result<u64> {
    let mut st = c.prepare_cached(
        "INSERT INTO users (id, app_id, login, email, password, full_name, phone,
           website, external_user_id, facebook_id, twitter_id, blob_id, custom_data,
           avatar, user_tags, timezone, is_guest, created_at, updated_at,
           last_request_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
           ?16, ?17, ?18, ?18, ?19)
         RETURNING id",
    )?;
    let id = st.query_row(
        params![
            new.id.map(|u| u.0),
            app_id,
            new.login,
            new.email,
            new.password,
            new.full_name,
            new.phone,
            new.website,
            new.external_user_id,
            new.facebook_id,
            new.twitter_id,
            new.blob_id,
            new.custom_data,
            new.avatar,
            new.user_tags,
            new.timezone,
            new.is_guest,
            t,
            new.last_request_at,
        ],
        |r| r.get(0),
    )?;
    Ok(id)
}

impl Store {
    /// Adds (or replaces) an application.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn put_app(&self, id: u64, auth_key: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute_cached(
                "INSERT INTO apps (id, auth_key) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET auth_key = excluded.auth_key",
                params![id, auth_key],
            )
            .map(|_| ())
        })
    }

    /// The application `id`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn app(&self, id: u64) -> Result<Option<App>, StoreError> {
        self.with(|c| {
            c.query_row_cached("SELECT id, auth_key FROM apps WHERE id = ?1", [id], |r| {
                Ok(App {
                    id: r.get(0)?,
                    auth_key: r.get(1)?,
                })
            })
            .optional()
        })
    }

    /// The application whose auth key is `auth_key`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn app_by_key(&self, auth_key: &str) -> Result<Option<App>, StoreError> {
        self.with(|c| {
            c.query_row_cached(
                "SELECT id, auth_key FROM apps WHERE auth_key = ?1",
                [auth_key],
                |r| {
                    Ok(App {
                        id: r.get(0)?,
                        auth_key: r.get(1)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Whether application `id` exists and has `auth_key`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn check_app(&self, id: u64, auth_key: &str) -> Result<bool, StoreError> {
        Ok(self.app(id)?.is_some_and(|a| a.auth_key == auth_key))
    }

    /// Creates a user in `app_id` (with `new.id` when given).
    ///
    /// # Errors
    /// [`StoreError::Taken`] when the login, email or id is taken.
    pub fn create_user(&self, app_id: u64, new: &NewUser) -> Result<User, StoreError> {
        let id = self
            .with(|c| insert_user(c, app_id, new, now()))
            .map_err(|e| match e {
                StoreError::Sqlite(e) => taken(e),
                other => other,
            })?;
        self.user(UserId(id))?.ok_or(StoreError::NotFound)
    }

    /// Creates each of `users` in `app_id` whose login (and id, when given) is not taken yet,
    /// all in one transaction (10,000 users in well under a second); answers how many were
    /// created.
    ///
    /// # Errors
    /// [`StoreError::Taken`] when an email is taken; nothing is created then.
    pub fn seed_users(&self, app_id: u64, users: &[NewUser]) -> Result<usize, StoreError> {
        let t = now();
        self.tx(|tx| {
            let mut exists = tx.prepare_cached(
                "SELECT 1 FROM users WHERE (app_id = ?1 AND login = ?2) OR id = ?3",
            )?;
            let mut created = 0;
            for u in users {
                let known = exists
                    .query_row(params![app_id, u.login, u.id.map(|i| i.0)], |_| Ok(()))
                    .optional()?
                    .is_some();
                if !known {
                    insert_user(tx, app_id, u, t).map_err(taken)?;
                    created += 1;
                }
            }
            Ok(created)
        })
    }

    /// The user `id`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.with(|c| {
            c.query_row_cached(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                [id.0],
                user_row,
            )
            .optional()
        })
    }

    /// Every user of `app_id`, by id.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn users(&self, app_id: u64) -> Result<Vec<User>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE app_id = ?1 ORDER BY id"
            ))?;
            st.query_map([app_id], user_row)?.collect()
        })
    }

    /// The user of `app_id` whose login or email is `login`, if `password` is theirs.
    /// `Ok(Err(()))` when the user exists but the password is wrong.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn check_password(
        &self,
        app_id: u64,
        login: &str,
        password: &str,
    ) -> Result<Option<Result<User, ()>>, StoreError> {
        let found: Option<(u64, Option<String>)> = self.with(|c| {
            c.query_row_cached(
                "SELECT id, password FROM users WHERE app_id = ?1 AND (login = ?2 OR email = ?2)
                 AND is_guest = 0",
                params![app_id, login],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        let Some((id, stored)) = found else {
            return Ok(None);
        };
        if stored.as_deref() != Some(password) {
            return Ok(Some(Err(())));
        }
        Ok(self.user(UserId(id))?.map(Ok))
    }

    /// Whether `password` is user `id`'s password.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn password_matches(&self, id: UserId, password: &str) -> Result<bool, StoreError> {
        let stored: Option<Option<String>> = self.with(|c| {
            c.query_row_cached("SELECT password FROM users WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .optional()
        })?;
        Ok(stored.flatten().is_some_and(|p| p == password))
    }

    /// Changes the fields of user `id` that `patch` sets; answers the updated user.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], or [`StoreError::Taken`] for a taken login or email.
    pub fn update_user(&self, id: UserId, patch: &NewUser) -> Result<User, StoreError> {
        let t = now();
        let n = self
            .with(|c| {
                c.execute_cached(
                    "UPDATE users SET
                       login = COALESCE(?2, login), email = COALESCE(?3, email),
                       password = COALESCE(?4, password), full_name = COALESCE(?5, full_name),
                       phone = COALESCE(?6, phone), website = COALESCE(?7, website),
                       external_user_id = COALESCE(?8, external_user_id),
                       facebook_id = COALESCE(?9, facebook_id),
                       twitter_id = COALESCE(?10, twitter_id), blob_id = COALESCE(?11, blob_id),
                       custom_data = COALESCE(?12, custom_data), avatar = COALESCE(?13, avatar),
                       user_tags = COALESCE(?14, user_tags), timezone = COALESCE(?15, timezone),
                       updated_at = ?16
                     WHERE id = ?1",
                    params![
                        id.0,
                        patch.login,
                        patch.email,
                        patch.password,
                        patch.full_name,
                        patch.phone,
                        patch.website,
                        patch.external_user_id,
                        patch.facebook_id,
                        patch.twitter_id,
                        patch.blob_id,
                        patch.custom_data,
                        patch.avatar,
                        patch.user_tags,
                        patch.timezone,
                        t,
                    ],
                )
            })
            .map_err(|e| match e {
                StoreError::Sqlite(e) => taken(e),
                other => other,
            })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.user(id)?.ok_or(StoreError::NotFound)
    }

    /// Records that user `id` made a request now.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn touch_user(&self, id: UserId) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute_cached(
                "UPDATE users SET last_request_at = ?2 WHERE id = ?1",
                params![id.0, now()],
            )
            .map(|_| ())
        })
    }

    /// Deletes user `id` with their sessions, memberships and settings (their messages stay
    /// in the dialogs' history, as on the cloud).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such user.
    pub fn delete_user(&self, id: UserId) -> Result<(), StoreError> {
        self.tx(|tx| {
            let n = tx.execute_cached("DELETE FROM users WHERE id = ?1", [id.0])?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            for table in [
                "sessions",
                "dialog_members",
                "dialog_hidden",
                "notification_settings",
                "privacy_lists",
                "last_activity",
            ] {
                tx.execute_cached(&format!("DELETE FROM {table} WHERE user_id = ?1"), [id.0])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(login: &str) -> NewUser {
        NewUser {
            login: Some(login.into()),
            password: Some("password1".into()),
            ..NewUser::default()
        }
    }

    #[test]
    fn users_are_created_found_and_checked() {
        let s = Store::in_memory().unwrap();
        let u = s.create_user(1, &new("ann")).unwrap();
        assert_eq!(s.user(u.id).unwrap().unwrap().login.as_deref(), Some("ann"));
        assert!(matches!(
            s.check_password(1, "ann", "password1").unwrap(),
            Some(Ok(_))
        ));
        assert!(matches!(
            s.check_password(1, "ann", "wrong").unwrap(),
            Some(Err(()))
        ));
        assert!(s.check_password(1, "bob", "x").unwrap().is_none());
        assert!(s.check_password(2, "ann", "password1").unwrap().is_none());
    }

    #[test]
    fn a_taken_login_is_refused_and_an_update_keeps_unset_fields() {
        let s = Store::in_memory().unwrap();
        let u = s.create_user(1, &new("ann")).unwrap();
        assert!(matches!(
            s.create_user(1, &new("ann")),
            Err(StoreError::Taken { field: "login" })
        ));
        let patch = NewUser {
            full_name: Some("Ann A".into()),
            ..NewUser::default()
        };
        let u2 = s.update_user(u.id, &patch).unwrap();
        assert_eq!(u2.full_name.as_deref(), Some("Ann A"));
        assert_eq!(u2.login.as_deref(), Some("ann"));
    }

    #[test]
    fn deleting_a_user_ends_their_sessions() {
        let s = Store::in_memory().unwrap();
        let u = s.create_user(1, &new("ann")).unwrap();
        let sess = s.create_session(1, Some(u.id), 0, 3600).unwrap();
        s.delete_user(u.id).unwrap();
        assert!(s.session(&sess.token).unwrap().is_none());
        assert!(matches!(s.delete_user(u.id), Err(StoreError::NotFound)));
    }
}
