//! Logging a user into an existing application session (`POST /login`), which upgrades its
//! token to a user session, and out again (`DELETE /login`).
//!
//! `server-auth.mdx` no longer describes these; the Custom Identity Provider guide does
//! (`POST /login` with `login` and `password`, under the app session's `CB-Token`), and the
//! client SDKs call it "upgrade session token (user login)".

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use crate::endpoint::{Empty, Endpoint};
use crate::error::RestError;
use crate::route::Metadata;
use crate::session::SessionUser;
use crate::users::{User, UserResponse};

/// `POST /login`: logs a user into the current application session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    user: SessionUser,
}

impl Login {
    /// Logs in with a login or email and password, or a provider's token.
    ///
    /// # Errors
    /// [`RestError::InvalidRequest`] for [`SessionUser::None`] and [`SessionUser::Guest`]:
    /// neither names a user to log in.
    pub fn new(user: SessionUser) -> Result<Self, RestError> {
        match user {
            SessionUser::None | SessionUser::Guest { .. } => Err(RestError::InvalidRequest(
                "POST /login needs credentials: a login, an email or a provider token".into(),
            )),
            user => Ok(Self { user }),
        }
    }
}

impl Endpoint for Login {
    type Response = LoggedIn;
    const METADATA: Metadata = Metadata::post("Login", "/login");
    // Unlike `POST /session`, login and password sit at the top level, not under `user`.
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut body = Map::new();
        for (key, value) in self.user.fields() {
            match (key, value) {
                ("user", Value::Object(fields)) => body.extend(fields),
                (key, value) => {
                    body.insert(key.into(), value);
                }
            }
        }
        Ok(Some(json!(body)))
    }
}

/// The user now logged in. The answer is the user, bare or wrapped as `{"user": {...}}`
/// (examples of both shapes circulate); either is read.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedIn {
    /// The user.
    pub user: User,
}

impl<'de> Deserialize<'de> for LoggedIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let wrapped = value.get("user").is_some_and(Value::is_object);
        if wrapped {
            let r: UserResponse =
                serde_json::from_value(value).map_err(serde::de::Error::custom)?;
            return Ok(Self { user: r.user });
        }
        let user = serde_json::from_value(value).map_err(serde::de::Error::custom)?;
        Ok(Self { user })
    }
}

/// `DELETE /login`: logs the user out, leaving the application session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Logout;

impl Endpoint for Logout {
    type Response = Empty;
    const METADATA: Metadata = Metadata::delete("Logout", "/login");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Secret;

    #[test]
    fn credentials_sit_at_the_top_level_and_a_guest_is_refused() {
        let email = Login::new(SessionUser::Email {
            email: "e@x".into(),
            password: Secret("pw".into()),
        })
        .unwrap();
        assert_eq!(
            email.body().unwrap(),
            Some(json!({"email": "e@x", "password": "pw"}))
        );
        let facebook = Login::new(SessionUser::Facebook {
            token: Secret("t".into()),
        })
        .unwrap();
        assert_eq!(
            facebook.body().unwrap(),
            Some(json!({"provider": "facebook", "keys": {"token": "t"}}))
        );
        assert!(!format!("{email:?}").contains("pw"));
        assert!(Login::new(SessionUser::Guest { full_name: None }).is_err());
        assert!(Login::new(SessionUser::None).is_err());
    }

    #[test]
    fn the_answer_is_read_bare_or_wrapped() {
        let bare: LoggedIn = serde_json::from_str(r#"{"id": 5, "login": "a"}"#).unwrap();
        let wrapped: LoggedIn =
            serde_json::from_str(r#"{"user": {"id": 5, "login": "a"}}"#).unwrap();
        assert_eq!(bare, wrapped);
        assert!(serde_json::from_str::<LoggedIn>(r#"{"user": 5}"#).is_err());
    }
}
