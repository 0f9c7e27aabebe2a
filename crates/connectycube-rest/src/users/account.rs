//! A user's own account: sign up, update, delete, reset the password.

use connectycube_protocol::ids::UserId;
use serde_json::{Map, Value, json};

use super::UserResponse;
use crate::RestError;
use crate::endpoint::{Auth, Empty, Endpoint};
use crate::query::Query;
use crate::route::{AuthKind, Metadata};
use crate::session::Secret;

/// The writable fields of a user (`user[...]` of sign up and update). Unset fields are not
/// sent, so an update changes only what was set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFields {
    fields: Map<String, Value>,
    password: Option<Secret>,
    old_password: Option<Secret>,
}

impl UserFields {
    /// No field set.
    pub fn new() -> Self {
        Self::default()
    }

    fn set(mut self, key: &str, value: Value) -> Self {
        self.fields.insert(key.into(), value);
        self
    }

    /// Login (login or email is required to sign up).
    pub fn login(self, login: impl Into<String>) -> Self {
        self.set("login", json!(login.into()))
    }

    /// Email (login or email is required to sign up).
    pub fn email(self, email: impl Into<String>) -> Self {
        self.set("email", json!(email.into()))
    }

    /// Password; changing it in an update also needs [`UserFields::old_password`].
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Secret(password.into()));
        self
    }

    /// The current password, required by an update that sets a new one.
    pub fn old_password(mut self, password: impl Into<String>) -> Self {
        self.old_password = Some(Secret(password.into()));
        self
    }

    /// Display name.
    pub fn full_name(self, name: impl Into<String>) -> Self {
        self.set("full_name", json!(name.into()))
    }

    /// Phone number.
    pub fn phone(self, phone: impl Into<String>) -> Self {
        self.set("phone", json!(phone.into()))
    }

    /// Web site.
    pub fn website(self, website: impl Into<String>) -> Self {
        self.set("website", json!(website.into()))
    }

    /// Id in an external system.
    pub fn external_id(self, id: impl Into<String>) -> Self {
        self.set("external_id", json!(id.into()))
    }

    /// Id in an external system (deprecated in favour of `external_id`).
    pub fn external_user_id(self, id: u64) -> Self {
        self.set("external_user_id", json!(id))
    }

    /// Facebook id.
    pub fn facebook_id(self, id: impl Into<String>) -> Self {
        self.set("facebook_id", json!(id.into()))
    }

    /// Twitter id.
    pub fn twitter_id(self, id: impl Into<String>) -> Self {
        self.set("twitter_id", json!(id.into()))
    }

    /// The app's own data for the user (often JSON text).
    pub fn custom_data(self, data: impl Into<String>) -> Self {
        self.set("custom_data", json!(data.into()))
    }

    /// Minutes of UTC offset.
    pub fn timezone(self, minutes: i32) -> Self {
        self.set("timezone", json!(minutes))
    }

    /// Tags, sent comma-joined as `tag_list`.
    pub fn tags<I, S>(self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = tags.into_iter().map(|t| t.as_ref().to_owned()).collect();
        self.set("tag_list", json!(joined.join(",")))
    }

    /// Avatar: a storage file UID or a link.
    pub fn avatar(self, avatar: impl Into<String>) -> Self {
        self.set("avatar", json!(avatar.into()))
    }

    /// Storage file id of the avatar (deprecated in favour of `avatar`).
    pub fn blob_id(self, id: u64) -> Self {
        self.set("blob_id", json!(id))
    }

    /// The `{"user": {...}}` body.
    fn body(&self) -> Value {
        let mut user = self.fields.clone();
        if let Some(p) = &self.password {
            user.insert("password".into(), json!(p.0));
        }
        if let Some(p) = &self.old_password {
            user.insert("old_password".into(), json!(p.0));
        }
        json!({ "user": user })
    }
}

/// `POST /users`: registers a user, authorised by the app's auth key (`CB-AuthKey`) or, with
/// [`SignUp::in_session`], by the current application session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUp {
    fields: UserFields,
    auth_key: Option<Secret>,
}

impl SignUp {
    /// Signs up `fields` (at least login or email, and a password) with the app's auth key.
    pub fn new(auth_key: impl Into<String>, fields: UserFields) -> Self {
        Self {
            fields,
            auth_key: Some(Secret(auth_key.into())),
        }
    }

    /// Signs up `fields` within the current application session (`CB-Token`).
    pub fn in_session(fields: UserFields) -> Self {
        Self {
            fields,
            auth_key: None,
        }
    }
}

impl Endpoint for SignUp {
    type Response = UserResponse;
    const METADATA: Metadata = Metadata::post("SignUp", "/users").auth(AuthKind::AuthKey);
    fn auth(&self) -> Auth {
        match &self.auth_key {
            Some(key) => Auth::AuthKey(key.clone()),
            None => Auth::Session,
        }
    }
    fn body(&self) -> Result<Option<Value>, RestError> {
        Ok(Some(self.fields.body()))
    }
}

/// `PUT /users/{id}`: changes the set fields of the current user; answers the updated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateUser {
    /// The user (the current one: users change only themselves).
    pub id: UserId,
    /// What changes.
    pub fields: UserFields,
}

impl Endpoint for UpdateUser {
    type Response = UserResponse;
    const METADATA: Metadata = Metadata::put("UpdateUser", "/users/{id}");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    fn body(&self) -> Result<Option<Value>, RestError> {
        Ok(Some(self.fields.body()))
    }
}

/// `DELETE /users/{id}` or `DELETE /users/external/{id}`: deletes the current user's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteUser {
    /// By user id.
    Id(UserId),
    /// By external user id.
    External(u64),
}

/// The route by external id (`DeleteUser::METADATA` is by id).
impl DeleteUser {
    /// `DELETE /users/external/{id}`.
    pub const EXTERNAL: Metadata = Metadata::delete("DeleteUser::External", "/users/external/{id}");
}

impl Endpoint for DeleteUser {
    type Response = Empty;
    const METADATA: Metadata = Metadata::delete("DeleteUser", "/users/{id}");
    fn metadata(&self) -> Metadata {
        match self {
            Self::Id(_) => Self::METADATA,
            Self::External(_) => Self::EXTERNAL,
        }
    }
    fn path_params(&self) -> Vec<String> {
        match self {
            Self::Id(id) => vec![id.to_string()],
            Self::External(id) => vec![id.to_string()],
        }
    }
}

/// `GET /users/password/reset?email=…`: mails the user a reset link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPassword {
    /// The email of the user's profile.
    pub email: String,
}

impl Endpoint for ResetPassword {
    type Response = Empty;
    const METADATA: Metadata = Metadata::get("ResetPassword", "/users/password/reset");
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push("email", &self.email);
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_auth_key_stay_out_of_debug() {
        let e = SignUp::new(
            "29WfrNWdvkhmX6V",
            UserFields::new()
                .login("l")
                .password("petU4or!")
                .old_password("old-secret"),
        );
        let shown = format!("{e:?} {:?}", e.auth());
        for secret in ["29WfrNWdvkhmX6V", "petU4or!", "old-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let body = e.body().unwrap().unwrap();
        assert_eq!(body["user"]["password"], "petU4or!");
        assert_eq!(body["user"]["old_password"], "old-secret");
    }

    #[test]
    fn tags_join_and_in_session_sign_up_uses_the_token() {
        let e = SignUp::in_session(UserFields::new().email("e@x").tags(["vip", "a b"]));
        assert_eq!(e.auth(), Auth::Session);
        assert_eq!(
            e.body().unwrap(),
            Some(json!({"user": {"email": "e@x", "tag_list": "vip,a b"}}))
        );
    }
}
