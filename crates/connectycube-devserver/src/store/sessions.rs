//! REST sessions: a token per session, valid for a time-to-live after its last use.

use super::Cached;
use connectycube_protocol::ids::UserId;
use rusqlite::{OptionalExtension, Row, params};

use super::{Session, Store, StoreError, now, random_hex};

fn session_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        token: r.get(0)?,
        id: r.get(1)?,
        app_id: r.get(2)?,
        user_id: r.get::<_, Option<u64>>(3)?.map(UserId),
        ts: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        expires_at: r.get(7)?,
    })
}

const COLUMNS: &str = "token, id, app_id, user_id, ts, created_at, updated_at, expires_at";

impl Store {
    /// A new session of `app_id` (with `user` once logged in), valid `ttl_secs` from now.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn create_session(
        &self,
        app_id: u64,
        user: Option<UserId>,
        ts: i64,
        ttl_secs: i64,
    ) -> Result<Session, StoreError> {
        let t = now();
        let token = random_hex(20);
        self.with(|c| {
            let id: u64 =
                c.query_row_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM sessions", [], |r| {
                    r.get(0)
                })?;
            c.execute_cached(
                "INSERT INTO sessions (token, id, app_id, user_id, ts, created_at, updated_at,
                   expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
                params![token, id, app_id, user.map(|u| u.0), ts, t, t + ttl_secs],
            )?;
            Ok(())
        })?;
        self.session_any(&token)?.ok_or(StoreError::NotFound)
    }

    /// The live session with `token`; `None` when there is none or it expired (an expired
    /// one is removed).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let Some(s) = self.session_any(token)? else {
            return Ok(None);
        };
        if s.expires_at <= now() {
            self.delete_session(token)?;
            return Ok(None);
        }
        Ok(Some(s))
    }

    fn session_any(&self, token: &str) -> Result<Option<Session>, StoreError> {
        self.with(|c| {
            c.query_row_cached(
                &format!("SELECT {COLUMNS} FROM sessions WHERE token = ?1"),
                [token],
                session_row,
            )
            .optional()
        })
    }

    /// Extends the session `ttl_secs` from now (every request does, as on the cloud).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn prolong_session(&self, token: &str, ttl_secs: i64) -> Result<(), StoreError> {
        let t = now();
        self.with(|c| {
            c.execute_cached(
                "UPDATE sessions SET updated_at = ?2, expires_at = ?3 WHERE token = ?1",
                params![token, t, t + ttl_secs],
            )
            .map(|_| ())
        })
    }

    /// Sets (login) or clears (logout) the session's user.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such session.
    pub fn set_session_user(&self, token: &str, user: Option<UserId>) -> Result<(), StoreError> {
        let n = self.with(|c| {
            c.execute_cached(
                "UPDATE sessions SET user_id = ?2, updated_at = ?3 WHERE token = ?1",
                params![token, user.map(|u| u.0), now()],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Ends the session with `token`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn delete_session(&self, token: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute_cached("DELETE FROM sessions WHERE token = ?1", [token])
                .map(|_| ())
        })
    }

    /// The chat's SASL PLAIN check: user `user` belongs to application `app_id` (the JID's
    /// `{user}-{app}` local part) and `secret` is their password, or the token of a live REST
    /// session of theirs (how provider logins reach the chat).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn check_chat_credentials(
        &self,
        app_id: u64,
        user: UserId,
        secret: &str,
    ) -> Result<bool, StoreError> {
        if self.user(user)?.is_none_or(|u| u.app_id != app_id) {
            return Ok(false);
        }
        if self.password_matches(user, secret)? {
            return Ok(true);
        }
        Ok(self
            .session(secret)?
            .is_some_and(|s| s.user_id == Some(user) && s.app_id == app_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewUser;

    #[test]
    fn a_session_expires_after_its_ttl_and_is_prolonged_by_use() {
        let s = Store::in_memory().unwrap();
        let live = s.create_session(1, None, 0, 3600).unwrap();
        assert!(s.session(&live.token).unwrap().is_some());
        let dead = s.create_session(1, None, 0, 0).unwrap();
        assert!(s.session(&dead.token).unwrap().is_none());
        let revived = s.create_session(1, None, 0, 0).unwrap();
        s.prolong_session(&revived.token, 60).unwrap();
        assert!(s.session(&revived.token).unwrap().is_some());
    }

    #[test]
    fn chat_credentials_take_the_password_or_a_live_token_of_that_user() {
        let s = Store::in_memory().unwrap();
        let new = NewUser {
            login: Some("ann".into()),
            password: Some("password1".into()),
            ..NewUser::default()
        };
        let ann = s.create_user(1, &new).unwrap();
        let bob = s
            .create_user(
                1,
                &NewUser {
                    login: Some("bob".into()),
                    ..NewUser::default()
                },
            )
            .unwrap();
        assert!(s.check_chat_credentials(1, ann.id, "password1").unwrap());
        assert!(!s.check_chat_credentials(1, ann.id, "nope").unwrap());
        let t = s.create_session(1, Some(ann.id), 0, 3600).unwrap();
        assert!(s.check_chat_credentials(1, ann.id, &t.token).unwrap());
        assert!(!s.check_chat_credentials(1, bob.id, &t.token).unwrap());
        let expired = s.create_session(1, Some(ann.id), 0, 0).unwrap();
        assert!(!s.check_chat_credentials(1, ann.id, &expired.token).unwrap());
        assert!(!s.check_chat_credentials(2, ann.id, "password1").unwrap());
    }
}
