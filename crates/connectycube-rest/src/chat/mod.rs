//! The chat part of the REST API (`/chat/...`): dialogs, messages, unread counts, reactions,
//! system messages and global search, as documented in `server-chat.md`.
//!
//! Every endpoint is a plain value; build it, hand it to the client, get the typed answer.

pub mod dialogs;
pub mod filter;
pub mod messages;
pub mod notifications;
pub mod occupants;
pub mod reactions;
pub mod search;
pub mod system;
pub mod unread;

use std::fmt::Display;

use serde::{Deserialize, Deserializer};

pub use filter::{Filter, Sort};

/// A page of a list answer (`total_entries`, `skip`, `limit`, `items`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    /// How many records match, over all pages (dialog lists give it; message lists do not).
    #[serde(default)]
    pub total_entries: Option<u64>,
    /// How many records were skipped.
    #[serde(default)]
    pub skip: Option<u64>,
    /// The page size the server applied.
    #[serde(default)]
    pub limit: Option<u64>,
    /// The records of this page.
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    pub items: Vec<T>,
}

/// The answer to deleting several dialogs or messages: which ids went, which did not and why.
///
/// Ids are kept as strings: the server echoes what it was given, and the documented example
/// itself holds ids that are not valid object ids (`23thnu15e4b077ddd43e7db7`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteResult {
    /// Ids that were deleted.
    pub deleted: Vec<String>,
    /// Ids the server does not know.
    pub not_found: Vec<String>,
    /// Ids the current user may not delete.
    pub wrong_permissions: Vec<String>,
}

impl DeleteResult {
    /// Whether every id was deleted.
    pub fn all_deleted(&self) -> bool {
        self.not_found.is_empty() && self.wrong_permissions.is_empty()
    }
}

impl<'de> Deserialize<'de> for DeleteResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, Default)]
        struct Ids {
            #[serde(default, deserialize_with = "null_as_empty")]
            ids: Vec<String>,
        }
        #[derive(Deserialize, Default)]
        struct Wire {
            #[serde(rename = "SuccessfullyDeleted", default)]
            deleted: Option<Ids>,
            #[serde(rename = "NotFound", default)]
            not_found: Option<Ids>,
            #[serde(rename = "WrongPermissions", default)]
            wrong_permissions: Option<Ids>,
        }
        // Deleting one dialog answers an empty 200: nothing to report, which is not an error.
        let wire = Option::<Wire>::deserialize(d)?.unwrap_or_default();
        let ids = |i: Option<Ids>| i.map(|i| i.ids).unwrap_or_default();
        Ok(Self {
            deleted: ids(wire.deleted),
            not_found: ids(wire.not_found),
            wrong_permissions: ids(wire.wrong_permissions),
        })
    }
}

/// A list the API may send as `null`.
pub(crate) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Joins ids with commas for a path segment (`/chat/Message/{id1},{id2}`).
///
/// Object ids are hex, so nothing in them needs percent-encoding.
pub(crate) fn join_ids<I, T>(ids: I) -> String
where
    I: IntoIterator<Item = T>,
    T: Display,
{
    ids.into_iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_delete_answer_is_an_empty_result() {
        let r: DeleteResult = serde_json::from_str("null").unwrap();
        assert_eq!(r, DeleteResult::default());
        assert!(r.all_deleted());
    }

    #[test]
    fn partial_delete_answer_keeps_each_list() {
        let r: DeleteResult = serde_json::from_str(
            r#"{"SuccessfullyDeleted":{"ids":["a"]},"NotFound":{"ids":null}}"#,
        )
        .unwrap();
        assert_eq!(r.deleted, vec!["a".to_owned()]);
        assert!(r.not_found.is_empty() && r.wrong_permissions.is_empty());
    }
}
