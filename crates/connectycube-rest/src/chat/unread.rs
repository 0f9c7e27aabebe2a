//! Unread message counts, in total and per dialog.

use std::collections::BTreeMap;

use connectycube_protocol::ids::DialogId;
use serde::{Deserialize, Deserializer};

use crate::endpoint::Endpoint;
use crate::query::Query;
use crate::route::Metadata;

/// `GET /chat/Message/unread`: the total unread count, and per dialog for the dialogs asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnreadCount {
    dialogs: Vec<DialogId>,
}

impl UnreadCount {
    /// The total only.
    pub fn total() -> Self {
        Self::default()
    }

    /// The total and the count of each of `dialogs` (group and private dialogs only).
    pub fn for_dialogs(dialogs: impl IntoIterator<Item = DialogId>) -> Self {
        Self {
            dialogs: dialogs.into_iter().collect(),
        }
    }
}

/// The answer to [`UnreadCount`]: `{"total": 5, "<dialog id>": 3, …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnreadCounts {
    /// Unread messages over every dialog.
    pub total: u64,
    /// Unread messages per dialog id.
    ///
    /// Keys stay strings: the server echoes the ids it was asked about, and the documented
    /// example holds one that is not a valid object id (`76ok0l3e989c12a0e45432a7`).
    pub per_dialog: BTreeMap<String, u64>,
}

impl UnreadCounts {
    /// The count of one dialog, when the answer has it.
    pub fn get(&self, dialog: DialogId) -> Option<u64> {
        self.per_dialog.get(&dialog.to_string()).copied()
    }
}

impl<'de> Deserialize<'de> for UnreadCounts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = BTreeMap::<String, u64>::deserialize(d)?;
        let total = map
            .remove("total")
            .ok_or_else(|| serde::de::Error::missing_field("total"))?;
        Ok(Self {
            total,
            per_dialog: map,
        })
    }
}

impl Endpoint for UnreadCount {
    type Response = UnreadCounts;
    const METADATA: Metadata = Metadata::get("UnreadCount", "/chat/Message/unread");
    fn query(&self) -> Query {
        let mut q = Query::new();
        if !self.dialogs.is_empty() {
            q.push_list("chat_dialog_ids", &self.dialogs);
        }
        q
    }
}
