//! A chat message, as history (REST) and real time (XMPP) both describe it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::{Attachment, lenient};
use crate::ids::{DialogId, MessageId, UserId};

/// Custom key/value properties of a message; a value may be a nested object.
pub type CustomProperties = serde_json::Map<String, serde_json::Value>;

/// The reactions on a message: the caller's own and the count of each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionsSummary {
    /// Reactions the current user put.
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
    pub own: Vec<String>,
    /// Count per reaction.
    #[serde(default)]
    pub total: BTreeMap<String, u64>,
}

/// A chat message.
///
/// The XMPP-only flags (`markable`, `save_to_history`, `silent`, `delayed`, `carbon`) never
/// appear in REST JSON; custom properties stand beside the known fields there, as the API does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The message id.
    #[serde(rename = "_id")]
    pub id: MessageId,
    /// The dialog it belongs to (absent on some 1-1 real-time messages).
    #[serde(
        rename = "chat_dialog_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dialog_id: Option<DialogId>,
    /// The text.
    #[serde(rename = "message", default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// When it was sent, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_sent: Option<i64>,
    /// Who sent it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_user"
    )]
    pub sender_id: Option<UserId>,
    /// The recipient of a 1-1 message (the API writes 0 for none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_user"
    )]
    pub recipient_id: Option<UserId>,
    /// Attached files.
    #[serde(
        default,
        deserialize_with = "lenient::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachments: Vec<Attachment>,
    /// Users who got it.
    #[serde(
        default,
        deserialize_with = "lenient::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub delivered_ids: Vec<UserId>,
    /// Users who read it.
    #[serde(
        default,
        deserialize_with = "lenient::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub read_ids: Vec<UserId>,
    /// Views, in broadcast and public dialogs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub views_count: Option<u64>,
    /// Whether the current user read it (REST's 0/1 `read`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub read: Option<u64>,
    /// Reactions summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions: Option<ReactionsSummary>,
    /// When the server stored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed (edited, read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Custom properties (`extraParams` children in XMPP, extra keys in REST).
    #[serde(flatten)]
    pub custom: CustomProperties,
    /// The sender asked for delivered/read markers.
    #[serde(skip)]
    pub markable: bool,
    /// The server keeps it in history (`save_to_history=1`).
    #[serde(skip)]
    pub save_to_history: bool,
    /// No push notification for offline recipients.
    #[serde(skip)]
    pub silent: bool,
    /// Delivered late (offline storage), stamped with the original time.
    #[serde(skip)]
    pub delayed: Option<DateTime<Utc>>,
    /// A carbon copy of a message this user sent or received on another device.
    #[serde(skip)]
    pub carbon: bool,
}

fn opt_user<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UserId>, D::Error> {
    Ok(lenient::opt_u64(d)?.filter(|&n| n != 0).map(UserId))
}

impl Message {
    /// A new outgoing message with a fresh id: markable and saved to history, as chat apps expect.
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            id: MessageId::generate(),
            dialog_id: None,
            body: Some(body.into()),
            date_sent: None,
            sender_id: None,
            recipient_id: None,
            attachments: Vec::new(),
            delivered_ids: Vec::new(),
            read_ids: Vec::new(),
            views_count: None,
            read: None,
            reactions: None,
            created_at: None,
            updated_at: None,
            custom: CustomProperties::new(),
            markable: true,
            save_to_history: true,
            silent: false,
            delayed: None,
            carbon: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HISTORY_ITEM: &str = r#"{
      "_id": "5c094687e588ce59fff87425", "attachments": [],
      "chat_dialog_id": "5c093376e588ce6856f873fe", "created_at": "2018-12-06T15:55:51Z",
      "date_sent": 1544111751, "delivered_ids": [29085, 29086],
      "message": "Hello Daniel, how things are going on?", "read_ids": [29085, 29086],
      "recipient_id": 0, "sender_id": 29085, "updated_at": "2018-12-06T16:05:21Z",
      "reactions": { "own": ["👍", "👌"], "total": { "👍": 2, "👌": 1, "🚧": 5 } },
      "views_count": 0, "read": 0, "country": "USA", "meta": {"a": {"b": 1}}
    }"#;

    #[test]
    fn decodes_the_documented_history_item_and_keeps_custom_fields() {
        let m: Message = serde_json::from_str(HISTORY_ITEM).unwrap();
        assert_eq!(m.id.to_string(), "5c094687e588ce59fff87425");
        assert_eq!(m.recipient_id, None, "0 means no recipient");
        assert_eq!(m.sender_id, Some(UserId(29085)));
        assert_eq!(m.reactions.as_ref().unwrap().total["🚧"], 5);
        assert_eq!(m.custom["country"], "USA");
        assert_eq!(m.custom["meta"]["a"]["b"], 1);
        assert!(!m.custom.contains_key("read_ids"));
    }

    #[test]
    fn encodes_and_decodes_without_loss() {
        let m: Message = serde_json::from_str(HISTORY_ITEM).unwrap();
        let again: Message = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(m, again);
    }

    #[test]
    fn new_messages_are_markable_and_saved() {
        let m = Message::new("hi");
        assert!(m.markable && m.save_to_history && !m.silent);
        assert_ne!(m.id, Message::new("hi").id);
    }
}
