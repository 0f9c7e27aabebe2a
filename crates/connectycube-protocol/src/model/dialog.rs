//! A chat dialog: 1-1, group, public or broadcast.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lenient;
use crate::ids::{DialogId, MessageId, UserId};

/// The kind of a dialog, as the server numbers them. Unknown numbers are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "u8", into = "u8")]
#[non_exhaustive]
pub enum DialogType {
    /// 1: every user of the app receives it; created in the admin panel only.
    Broadcast,
    /// 2: a group of listed occupants.
    Group,
    /// 3: a 1-1 chat.
    Private,
    /// 4: an open group anyone in the app can join.
    Public,
    /// A number this SDK does not know yet.
    Unknown(u8),
}

impl From<u8> for DialogType {
    fn from(n: u8) -> Self {
        match n {
            1 => Self::Broadcast,
            2 => Self::Group,
            3 => Self::Private,
            4 => Self::Public,
            n => Self::Unknown(n),
        }
    }
}

impl From<DialogType> for u8 {
    fn from(t: DialogType) -> Self {
        match t {
            DialogType::Broadcast => 1,
            DialogType::Group => 2,
            DialogType::Private => 3,
            DialogType::Public => 4,
            DialogType::Unknown(n) => n,
        }
    }
}

impl DialogType {
    /// Whether messages go through a MUC room (every type but private).
    pub fn uses_room(self) -> bool {
        !matches!(self, Self::Private)
    }
}

/// The status of the last message, as seen by its sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LastMessageStatus {
    /// Reached the server.
    Sent,
    /// Reached the recipient.
    Delivered,
    /// Read by the recipient.
    Read,
    /// Any other value, kept as sent.
    #[serde(untagged)]
    Other(String),
}

/// Dialog permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogPermissions {
    /// Non-members may read the last 20 messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_preview: Option<bool>,
}

/// A chat dialog, with every field of the server's dialog model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dialog {
    /// The dialog id.
    #[serde(rename = "_id")]
    pub id: DialogId,
    /// The kind of dialog.
    #[serde(rename = "type")]
    pub kind: DialogType,
    /// The owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The name (group, public, broadcast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An image: a storage file, or a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// The MUC room to join (not for private dialogs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmpp_room_jid: Option<String>,
    /// Members of private and group dialogs.
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
    pub occupants_ids: Vec<UserId>,
    /// Members of a public dialog.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub occupants_count: Option<u64>,
    /// Admins.
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
    pub admins_ids: Vec<UserId>,
    /// Pinned messages.
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
    pub pinned_messages_ids: Vec<MessageId>,
    /// Text of the last message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<String>,
    /// Id of the last message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<MessageId>,
    /// Sender of the last message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_user_id: Option<UserId>,
    /// When the last message was sent, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_date_sent: Option<i64>,
    /// Status of the last message, when the current user sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_status: Option<LastMessageStatus>,
    /// Unread messages for the current user.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub unread_messages_count: Option<u64>,
    /// Custom fields (`extensions`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Map<String, serde_json::Value>>,
    /// Permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<DialogPermissions>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Fields this SDK does not know yet, kept so nothing the server sends is lost.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: &str = r#"{
        "_id": "5c094c0ce588ce6856f87422", "admins_ids": [29085],
        "created_at": "2018-12-06T16:19:24Z", "description": "Cute chat",
        "last_message": "nope?", "last_message_date_sent": 1544452627,
        "last_message_id": "5c0e7a13e588ce6b6f3ebf80", "last_message_user_id": 29086,
        "last_message_status": "sent", "name": "hello kitty",
        "occupants_ids": [29085, 29086, 29087], "photo": null,
        "pinned_messages_ids": ["5c0e7a13e588ce6b6f3ebf80"], "type": 2,
        "updated_at": "2018-12-10T14:37:07Z", "user_id": 29085, "unread_messages_count": 1,
        "xmpp_room_jid": "105_5c094c0ce588ce6856f87422@muc.chatstage.connectycube.com",
        "extensions": null, "permissions": null, "new_server_field": 1
    }"#;

    #[test]
    fn decodes_the_documented_dialog() {
        let d: Dialog = serde_json::from_str(LISTED).unwrap();
        assert_eq!(d.kind, DialogType::Group);
        assert_eq!(d.occupants_ids.len(), 3);
        assert_eq!(d.last_message_status, Some(LastMessageStatus::Sent));
        assert_eq!(d.other["new_server_field"], 1);
        let again: Dialog = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(d, again);
    }

    #[test]
    fn unknown_dialog_types_are_kept() {
        assert_eq!(DialogType::from(9), DialogType::Unknown(9));
        assert_eq!(u8::from(DialogType::from(9)), 9);
        for n in 1..=4 {
            assert_eq!(u8::from(DialogType::from(n)), n);
        }
        assert!(!DialogType::Private.uses_room());
    }

    #[test]
    fn unknown_status_is_kept() {
        let s: LastMessageStatus = serde_json::from_str("\"pending\"").unwrap();
        assert_eq!(s, LastMessageStatus::Other("pending".into()));
    }
}
