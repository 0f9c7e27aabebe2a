//! Users (`server-users.md`): sign up, find (by id, filters, login, email, full name, tags,
//! provider or external id), update, delete and password reset.
//!
//! The deprecated lookups (`/users/by_login` and friends) are here because the docs still list
//! them and older apps rely on them; [`lookup::ListUsers`] (`/users/v2`) replaces most of them
//! (and [`v1::ListUsersV1`], the old list).

pub mod account;
pub mod lookup;
pub mod v1;

use chrono::{DateTime, Utc};
use connectycube_protocol::ids::UserId;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub use account::{DeleteUser, ResetPassword, SignUp, UpdateUser, UserFields};
pub use lookup::{FindUser, ListUsers, SearchUsers, UserField, UserKey};
pub use v1::ListUsersV1;

/// A user as the API describes it. Every documented field is typed; anything else the server
/// adds is kept in `other`, so nothing it sends is lost.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct User {
    /// The user id.
    pub id: UserId,
    /// The user's object id (guest users carry one).
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Login (login or email identifies the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// Email (login or email identifies the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Web site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Id in an external system (deprecated in favour of `external_id`).
    #[serde(default, deserialize_with = "lenient_u64")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_user_id: Option<u64>,
    /// Id in an external system.
    #[serde(default, deserialize_with = "lenient_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Facebook id.
    #[serde(default, deserialize_with = "lenient_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facebook_id: Option<String>,
    /// Twitter id.
    #[serde(default, deserialize_with = "lenient_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twitter_id: Option<String>,
    /// The app's own data for the user, exactly as sent (the docs show strings, often JSON
    /// text; any JSON is kept as is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    /// Tags, comma-separated as the API sends them (see [`User::tags`]).
    #[serde(default, deserialize_with = "tag_text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_tags: Option<String>,
    /// Avatar: a storage file UID or a link.
    #[serde(default, deserialize_with = "lenient_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Storage file id of the avatar (deprecated in favour of `avatar`).
    #[serde(default, deserialize_with = "lenient_u64")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<u64>,
    /// Minutes of UTC offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<i32>,
    /// Whether this is a temporary guest user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_guest: Option<bool>,
    /// When the user signed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When the user last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// When the user last made a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_request_at: Option<DateTime<Utc>>,
    /// Fields the docs do not list, kept as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl User {
    /// The tags, split at commas.
    pub fn tags(&self) -> Vec<&str> {
        self.user_tags
            .as_deref()
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `custom_data` as text, when it is a string.
    pub fn custom_data_text(&self) -> Option<&str> {
        self.custom_data.as_ref().and_then(Value::as_str)
    }
}

/// The API's answer about one user: `{"user": {...}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserResponse {
    /// The user.
    pub user: User,
}

/// A page of the numbered list of users (items arrive wrapped as `{"user": {...}}`).
pub type UserPage = crate::page::NumberedPage<User>;

/// A number the server may send as a number or as digits in a string; "" is none.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("{n} is not an id"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an id"))),
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not an id"))),
    }
}

/// Text the server may send as a string or as a number.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not text"))),
    }
}

/// Tags as comma-separated text, or a list of tags (joined with commas).
fn tag_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tags {
        Text(String),
        List(Vec<String>),
    }
    Ok(Option::<Tags>::deserialize(d)?.map(|t| match t {
        Tags::Text(s) => s,
        Tags::List(l) => l.join(","),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_but_harmless_shapes_decode() {
        let u: User = serde_json::from_str(
            r#"{"id":1,"external_user_id":"52691165","facebook_id":95610574,
                "user_tags":["vip","accountant"],"blob_id":"","custom_data":{"a":1},"new":2}"#,
        )
        .unwrap();
        assert_eq!(u.external_user_id, Some(52691165));
        assert_eq!(u.facebook_id.as_deref(), Some("95610574"));
        assert_eq!(u.tags(), ["vip", "accountant"]);
        assert_eq!(u.blob_id, None);
        assert_eq!(u.custom_data_text(), None);
        assert_eq!(u.other["new"], 2);
        assert!(serde_json::from_str::<User>(r#"{"id":1,"blob_id":"x"}"#).is_err());
    }
}
