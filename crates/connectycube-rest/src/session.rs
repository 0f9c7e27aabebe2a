//! Sessions: create one (with a user's login or email and password, as a guest, or with a
//! provider's token), read it, destroy it. The token it returns authorises every other request
//! and is also the chat password for provider logins.

use std::fmt;

use chrono::{DateTime, Utc};
use connectycube_protocol::ids::{AppId, UserId};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use crate::RestError;
use crate::endpoint::{Empty, Endpoint};
use crate::route::{AuthKind, Metadata};

/// A session token: sent as `CB-Token`, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// The token, for the `CB-Token` header or the chat password.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for SessionToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

impl Serialize for SessionToken {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A secret the caller supplies (password, auth key, provider token): redacted in Debug.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Who the session is for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionUser {
    /// An application session, with no user.
    None,
    /// A user by login and password.
    Login {
        /// The login.
        login: String,
        /// The password.
        password: Secret,
    },
    /// A user by email and password.
    Email {
        /// The email.
        email: String,
        /// The password.
        password: Secret,
    },
    /// A temporary guest user (deleted after a day).
    Guest {
        /// The guest's name.
        full_name: Option<String>,
    },
    /// A Facebook access token.
    Facebook {
        /// The access token.
        token: Secret,
    },
    /// A Twitter access token and secret.
    Twitter {
        /// The access token.
        token: Secret,
        /// The access token secret.
        secret: Secret,
    },
    /// A Firebase phone-auth ID token.
    FirebasePhone {
        /// The Firebase project.
        project_id: String,
        /// The user's ID token.
        access_token: Secret,
    },
    /// A Firebase email-auth ID token.
    FirebaseEmail {
        /// The Firebase project.
        project_id: String,
        /// The user's ID token.
        access_token: Secret,
    },
}

impl SessionUser {
    /// The body fields that name this user, as `POST /session` and `POST /login` take them.
    pub(crate) fn fields(&self) -> Vec<(&'static str, Value)> {
        match self {
            Self::None => vec![],
            Self::Login { login, password } => {
                vec![("user", json!({"login": login, "password": password.0}))]
            }
            Self::Email { email, password } => {
                vec![("user", json!({"email": email, "password": password.0}))]
            }
            Self::Guest { full_name } => {
                let mut user = json!({"guest": "1"});
                if let Some(name) = full_name {
                    user["full_name"] = json!(name);
                }
                vec![("user", user)]
            }
            Self::Facebook { token } => {
                vec![
                    ("provider", json!("facebook")),
                    ("keys", json!({"token": token.0})),
                ]
            }
            Self::Twitter { token, secret } => vec![
                ("provider", json!("twitter")),
                ("keys", json!({"token": token.0, "secret": secret.0})),
            ],
            Self::FirebasePhone {
                project_id,
                access_token,
            } => vec![
                ("provider", json!("firebase_phone")),
                (
                    "firebase_phone",
                    json!({"project_id": project_id, "access_token": access_token.0}),
                ),
            ],
            Self::FirebaseEmail {
                project_id,
                access_token,
            } => vec![
                ("provider", json!("firebase_email")),
                (
                    "firebase_email",
                    json!({"project_id": project_id, "access_token": access_token.0}),
                ),
            ],
        }
    }
}

/// `POST /session`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSession {
    /// The application.
    pub application_id: AppId,
    /// The application's auth key.
    pub auth_key: Secret,
    /// Unix seconds when the request is made.
    pub timestamp: i64,
    /// Who the session is for.
    pub user: SessionUser,
}

impl CreateSession {
    /// A session for `user`, stamped now.
    ///
    /// ```
    /// use connectycube_protocol::ids::AppId;
    /// use connectycube_rest::endpoint::Endpoint;
    /// use connectycube_rest::session::{CreateSession, Secret, SessionUser};
    ///
    /// let user = SessionUser::Login { login: "john".into(), password: Secret("11111111".into()) };
    /// let create = CreateSession::new(AppId(1), "auth key", user);
    /// assert_eq!(create.path(), "/session");
    /// let body = create.body()?.ok_or("a body")?;
    /// assert_eq!(body["application_id"], "1");
    /// assert_eq!(body["user"]["login"], "john");
    /// assert!(!format!("{create:?}").contains("11111111"), "the password is never printed");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(application_id: AppId, auth_key: impl Into<String>, user: SessionUser) -> Self {
        Self {
            application_id,
            auth_key: Secret(auth_key.into()),
            timestamp: Utc::now().timestamp(),
            user,
        }
    }
}

/// The API's answer to session requests: `{"session": {...}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SessionResponse {
    /// The session.
    pub session: Session,
}

/// A REST session.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Session {
    /// The session id.
    #[serde(default)]
    pub id: Option<u64>,
    /// The user, when the session has one.
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// The application.
    pub application_id: AppId,
    /// The token.
    pub token: SessionToken,
    /// The timestamp the session was created with.
    #[serde(default)]
    pub ts: Option<i64>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last used.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The user, as the API describes it (fields kept as sent).
    #[serde(default)]
    pub user: Option<serde_json::Map<String, Value>>,
}

impl Session {
    /// The session's user as a [`crate::users::User`], when the answer carries one.
    ///
    /// # Errors
    /// [`crate::RestError::Decode`] when the user is not the documented shape.
    pub fn user_record(&self) -> Result<Option<crate::users::User>, crate::RestError> {
        let Some(user) = &self.user else {
            return Ok(None);
        };
        serde_json::from_value(Value::Object(user.clone()))
            .map(Some)
            .map_err(|e| crate::RestError::Decode {
                source: e,
                excerpt: crate::error::excerpt(Value::Object(user.clone()).to_string().as_bytes()),
            })
    }
}

impl Endpoint for CreateSession {
    type Response = SessionResponse;

    const METADATA: Metadata = Metadata::post("CreateSession", "/session").auth(AuthKind::None);
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut body = json!({
            "application_id": self.application_id.to_string(),
            "auth_key": self.auth_key.0,
            "timestamp": self.timestamp.to_string(),
        });
        let fields = self.user.fields();
        for (k, v) in fields {
            body[k] = v;
        }
        Ok(Some(body))
    }
}

/// `GET /session`: the current session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetSession;

impl Endpoint for GetSession {
    type Response = SessionResponse;

    const METADATA: Metadata = Metadata::get("GetSession", "/session");
}

/// `DELETE /session`: ends the current session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DestroySession;

impl Endpoint for DestroySession {
    type Response = Empty;

    const METADATA: Metadata = Metadata::delete("DestroySession", "/session");
}

impl crate::RestClient {
    /// Creates a session and uses its token for every later request.
    ///
    /// # Errors
    /// As [`crate::RestClient::send`].
    pub async fn create_session(
        &self,
        request: &CreateSession,
    ) -> Result<Session, crate::RestError> {
        let session = self.send(request).await?.session;
        self.set_token(Some(session.token.expose().to_owned()));
        Ok(session)
    }

    /// Renews an expired session by creating a new one with `request` (restamped each time).
    pub fn renew_sessions_with(self, request: CreateSession) -> Self {
        let client = self.clone();
        let renewer: crate::client::SessionRenewer = std::sync::Arc::new(move || {
            let client = client.clone();
            let mut request = request.clone();
            request.timestamp = Utc::now().timestamp();
            Box::pin(async move {
                let session = client.send(&request).await?.session;
                Ok(session.token.expose().to_owned())
            })
        });
        self.with_session_renewer(renewer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let req = CreateSession::new(
            AppId(1),
            "29WfrNWdvkhmX6V",
            SessionUser::Login {
                login: "john".into(),
                password: Secret("11111111".into()),
            },
        );
        let shown = format!("{req:?}");
        assert!(
            !shown.contains("29WfrNWdvkhmX6V") && !shown.contains("11111111"),
            "{shown}"
        );
        let token: SessionToken = serde_json::from_str("\"abc123\"").unwrap();
        assert_eq!(format!("{token:?}"), "SessionToken(<redacted>)");
        assert_eq!(token.expose(), "abc123");
    }

    #[test]
    fn provider_logins_take_the_documented_shapes() {
        let twitter = CreateSession {
            application_id: AppId(1),
            auth_key: Secret("k".into()),
            timestamp: 1,
            user: SessionUser::Twitter {
                token: Secret("t".into()),
                secret: Secret("s".into()),
            },
        };
        let body = twitter.body().unwrap().unwrap();
        assert_eq!(body["provider"], "twitter");
        assert_eq!(body["keys"], json!({"token": "t", "secret": "s"}));
        let firebase = CreateSession {
            user: SessionUser::FirebasePhone {
                project_id: "p".into(),
                access_token: Secret("a".into()),
            },
            ..twitter
        };
        let body = firebase.body().unwrap().unwrap();
        assert_eq!(
            body["firebase_phone"],
            json!({"project_id": "p", "access_token": "a"})
        );
        assert!(body.get("user").is_none());
    }
}
