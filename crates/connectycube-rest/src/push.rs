//! Push notifications (`server-push_notifications.md`): a user's device subscriptions
//! (`/subscriptions`) and the events that send a push to users (`/events`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::RestError;
use crate::endpoint::{Empty, Endpoint};
use crate::route::Metadata;

/// A named value as the API nests it (`{"name": "apns"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// The name.
    pub name: String,
}

/// The device a subscription belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The device's unique id.
    pub udid: String,
    /// Its platform (`ios`, `android`, `web`).
    pub platform: Named,
}

/// One device subscribed to pushes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The subscription id.
    pub id: u64,
    /// The channel (`apns`, `apns_voip`, `gcm`, `web`).
    pub notification_channel: Named,
    /// The device.
    pub device: Device,
}

/// `{"subscription": {...}}`, as each list item comes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionItem {
    /// The subscription.
    pub subscription: Subscription,
}

/// `POST /subscriptions`: subscribes this device of the session's user.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CreateSubscription {
    /// `apns`, `apns_voip`, `gcm` or `web`.
    pub channel: String,
    /// `development` or `production`.
    pub environment: String,
    /// The APNS/FCM device token (a secret of the device: not in Debug).
    pub token: Option<String>,
    /// The app's bundle or package id.
    pub bundle_identifier: Option<String>,
    /// `ios`, `android` or `web`.
    pub platform: String,
    /// The device's unique id.
    pub udid: String,
}

impl std::fmt::Debug for CreateSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateSubscription")
            .field("channel", &self.channel)
            .field("environment", &self.environment)
            .field("platform", &self.platform)
            .field("udid", &self.udid)
            .finish_non_exhaustive()
    }
}

impl CreateSubscription {
    /// A subscription of device `udid` on `platform` through `channel` with its device
    /// `token`, in the development environment.
    pub fn new(channel: &str, platform: &str, udid: &str, token: &str) -> Self {
        Self {
            channel: channel.into(),
            environment: "development".into(),
            token: Some(token.into()),
            bundle_identifier: None,
            platform: platform.into(),
            udid: udid.into(),
        }
    }
}

impl Endpoint for CreateSubscription {
    type Response = Vec<SubscriptionItem>;
    const METADATA: Metadata = Metadata::post("CreateSubscription", "/subscriptions");
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut token = Map::new();
        token.insert("environment".into(), json!(self.environment));
        if let Some(t) = &self.token {
            token.insert("client_identification_sequence".into(), json!(t));
        }
        if let Some(b) = &self.bundle_identifier {
            token.insert("bundle_identifier".into(), json!(b));
        }
        Ok(Some(json!({
            "notification_channel": self.channel,
            "push_token": token,
            "device": { "platform": self.platform, "udid": self.udid },
        })))
    }
}

/// `GET /subscriptions`: the session user's subscriptions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListSubscriptions;

impl Endpoint for ListSubscriptions {
    type Response = Vec<SubscriptionItem>;
    const METADATA: Metadata = Metadata::get("ListSubscriptions", "/subscriptions");
}

/// `DELETE /subscriptions/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteSubscription {
    /// The subscription id.
    pub id: u64,
}

impl Endpoint for DeleteSubscription {
    type Response = Empty;
    const METADATA: Metadata = Metadata::delete("DeleteSubscription", "/subscriptions/{id}");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
}

/// Who an event is for: user ids, external ids, or tags.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recipients {
    /// These users.
    Users(Vec<u64>),
    /// The users with these external ids.
    ExternalUsers(Vec<u64>),
    /// Users with at least one of these tags.
    TagsAny(Vec<String>),
}

/// `POST /events`: sends a push to users now (`one_shot`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateEvent {
    /// Who gets it.
    pub recipients: Recipients,
    /// The payload: Base64 of the JSON message for a universal push (no `push_type`).
    pub message: String,
    /// Only this channel (`apns`, `apns_voip`, `gcm`); `None` for every device.
    pub push_type: Option<String>,
    /// `development` or `production`.
    pub environment: String,
}

impl CreateEvent {
    /// A universal push of the JSON `payload` (Base64-encoded here) to `recipients`, in the
    /// development environment.
    pub fn universal(recipients: Recipients, payload: &Value) -> Self {
        Self {
            recipients,
            message: base64(payload.to_string().as_bytes()),
            push_type: None,
            environment: "development".into(),
        }
    }
}

/// Standard Base64 with padding (what the docs' payloads use).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn joined<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl Endpoint for CreateEvent {
    type Response = Vec<EventItem>;
    const METADATA: Metadata = Metadata::post("CreateEvent", "/events");
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut event = json!({
            "notification_type": "push",
            "environment": self.environment,
            "event_type": "one_shot",
            "message": self.message,
        });
        match &self.recipients {
            Recipients::Users(ids) => event["user"] = json!({ "ids": joined(ids) }),
            Recipients::ExternalUsers(ids) => {
                event["external_user"] = json!({ "ids": joined(ids) });
            }
            Recipients::TagsAny(tags) => {
                event["user"] = json!({ "tags": { "any": tags.join(",") } })
            }
        }
        if let Some(t) = &self.push_type {
            event["push_type"] = json!(t);
        }
        Ok(Some(json!({ "event": event })))
    }
}

/// One event made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Event {
    /// The event id.
    pub id: u64,
    /// `one_shot`.
    #[serde(default)]
    pub event_type: Option<String>,
    /// The payload as sent.
    #[serde(default)]
    pub message: Option<String>,
    /// The sender.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// The environment.
    #[serde(default)]
    pub environment: Option<String>,
}

/// `{"event": {...}}`, as each answer item comes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EventItem {
    /// The event.
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_docs_example() {
        // server-push_notifications.md: the message of its payload example, encoded.
        assert_eq!(
            base64(b"{\"message\":\"Walking"),
            "eyJtZXNzYWdlIjoiV2Fsa2luZw=="
        );
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn an_event_names_its_recipients_as_the_docs_do() {
        let e =
            CreateEvent::universal(Recipients::Users(vec![271, 272]), &json!({"message": "hi"}));
        let body = e.body().unwrap().unwrap();
        assert_eq!(body["event"]["user"]["ids"], "271,272");
        assert_eq!(body["event"]["notification_type"], "push");
        assert!(body["event"].get("push_type").is_none());
        let s = CreateSubscription::new("gcm", "android", "device-1", "secret-token");
        let body = s.body().unwrap().unwrap();
        assert_eq!(
            body["push_token"]["client_identification_sequence"],
            "secret-token"
        );
        assert!(!format!("{s:?}").contains("secret-token"));
    }
}
