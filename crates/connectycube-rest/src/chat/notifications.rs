//! Push notification settings of one dialog for the current user.

use connectycube_protocol::ids::DialogId;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::RestError;
use crate::endpoint::Endpoint;
use crate::route::Metadata;

/// Whether offline messages of a dialog raise push notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationSettings {
    /// On (the default) or off.
    pub enabled: bool,
}

impl<'de> Deserialize<'de> for NotificationSettings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            notifications: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            enabled: Value,
        }
        // The docs answer `0`/`1`; accept the string and boolean spellings too.
        let enabled = match Wire::deserialize(d)?.notifications.enabled {
            Value::Bool(b) => b,
            Value::Number(n) if n.as_u64() == Some(0) => false,
            Value::Number(n) if n.as_u64() == Some(1) => true,
            Value::String(s) if s == "0" => false,
            Value::String(s) if s == "1" => true,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "notifications.enabled: expected 0 or 1, got {other}"
                )));
            }
        };
        Ok(Self { enabled })
    }
}

/// `GET /chat/Dialog/{id}/notifications`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetNotifications {
    /// The dialog.
    pub id: DialogId,
}

impl Endpoint for GetNotifications {
    type Response = NotificationSettings;
    const METADATA: Metadata = Metadata::get("GetNotifications", "/chat/Dialog/{id}/notifications");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
}

/// `PUT /chat/Dialog/{id}/notifications`: turns push notifications on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateNotifications {
    /// The dialog.
    pub id: DialogId,
    /// On or off.
    pub enabled: bool,
}

impl Endpoint for UpdateNotifications {
    type Response = NotificationSettings;
    const METADATA: Metadata =
        Metadata::put("UpdateNotifications", "/chat/Dialog/{id}/notifications");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    // The docs send the flag as a string (`{"enabled":"0"}`).
    fn body(&self) -> Result<Option<Value>, RestError> {
        Ok(Some(
            json!({ "enabled": if self.enabled { "1" } else { "0" } }),
        ))
    }
}
