//! Push notifications: users' device subscriptions, the events they create, and the pushes
//! delivered to subscribed devices (from events and from chat alerts). Nothing leaves the
//! machine: a delivery is a row a test reads back.

use super::Cached;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use rusqlite::{Row, params};
use serde_json::Value;

use super::{Store, StoreError, now};

/// A device subscription to create: the REST client's declaration of the request.
pub use connectycube_rest::push::CreateSubscription as NewSubscription;

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    /// Its id.
    pub id: u64,
    /// Its owner.
    pub user: UserId,
    /// What was subscribed.
    pub fields: NewSubscription,
}

/// What made a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushSource {
    /// `POST /events` (this event id).
    Event(u64),
    /// A chat message to a recipient offline or in the background.
    ChatAlert,
}

/// One push the cloud would have delivered to a subscribed device.
#[derive(Debug, Clone, PartialEq)]
pub struct PushDelivery {
    /// Its id (in delivery order).
    pub id: u64,
    /// Who it is for.
    pub user: UserId,
    /// The subscription (device) it went to.
    pub subscription: u64,
    /// That subscription's channel.
    pub channel: String,
    /// What made it.
    pub source: PushSource,
    /// Who sent the message or created the event.
    pub sender: Option<UserId>,
    /// The chat message, for an alert.
    pub message: Option<MessageId>,
    /// The message's dialog, for an alert.
    pub dialog: Option<DialogId>,
    /// The payload: a chat alert's `{"message": …, "dialog_id": …}`, or an event's message
    /// (decoded from Base64 to JSON when it is that, else as sent).
    pub payload: Value,
    /// When (Unix seconds).
    pub created_at: i64,
}

fn subscription_row(r: &Row<'_>) -> rusqlite::Result<PushSubscription> {
    Ok(PushSubscription {
        id: r.get(0)?,
        user: UserId(r.get(1)?),
        fields: NewSubscription {
            channel: r.get(2)?,
            environment: r.get(3)?,
            token: r.get(4)?,
            bundle_identifier: r.get(5)?,
            platform: r.get(6)?,
            udid: r.get(7)?,
        },
    })
}

fn delivery_row(r: &Row<'_>) -> rusqlite::Result<PushDelivery> {
    let source: String = r.get(4)?;
    let event: Option<u64> = r.get(5)?;
    let payload: String = r.get(9)?;
    Ok(PushDelivery {
        id: r.get(0)?,
        user: UserId(r.get(1)?),
        subscription: r.get(2)?,
        channel: r.get(3)?,
        source: match (source.as_str(), event) {
            ("event", Some(id)) => PushSource::Event(id),
            _ => PushSource::ChatAlert,
        },
        sender: r.get::<_, Option<u64>>(6)?.map(UserId),
        message: r.get::<_, Option<String>>(7)?.and_then(|m| m.parse().ok()),
        dialog: r.get::<_, Option<String>>(8)?.and_then(|d| d.parse().ok()),
        payload: serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
        created_at: r.get(10)?,
    })
}

const SUBSCRIPTION_COLUMNS: &str =
    "id, user_id, channel, environment, token, bundle_identifier, platform, udid";
const DELIVERY_COLUMNS: &str = "id, user_id, subscription_id, channel, source, event_id, \
     sender_id, message_id, dialog_id, payload, created_at";

impl Store {
    /// Subscribes a device of `user`; a device subscribed on the same channel before is
    /// replaced (one subscription per device and channel, as on the cloud).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn subscribe_device(
        &self,
        app_id: u64,
        user: UserId,
        new: &NewSubscription,
    ) -> Result<PushSubscription, StoreError> {
        let id: u64 = self.tx(|tx| {
            tx.execute_cached(
                "DELETE FROM push_subscriptions WHERE user_id = ?1 AND udid = ?2 AND channel = ?3",
                params![user.0, new.udid, new.channel],
            )?;
            Ok(tx.query_row_cached(
                "INSERT INTO push_subscriptions (app_id, user_id, channel, environment, token,
                   bundle_identifier, platform, udid, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                params![
                    app_id,
                    user.0,
                    new.channel,
                    new.environment,
                    new.token,
                    new.bundle_identifier,
                    new.platform,
                    new.udid,
                    now()
                ],
                |r| r.get(0),
            )?)
        })?;
        Ok(PushSubscription {
            id,
            user,
            fields: new.clone(),
        })
    }

    /// `user`'s subscriptions, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn subscriptions_of(&self, user: UserId) -> Result<Vec<PushSubscription>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id = ?1
                 ORDER BY id"
            ))?
            .query_map([user.0], subscription_row)?
            .collect()
        })
    }

    /// Deletes subscription `id` of `user`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when `user` has no such subscription.
    pub fn unsubscribe_device(&self, user: UserId, id: u64) -> Result<(), StoreError> {
        let n = self.with(|c| {
            c.execute_cached(
                "DELETE FROM push_subscriptions WHERE id = ?1 AND user_id = ?2",
                params![id, user.0],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Records an event by `sender` and a delivery of it to each subscription of each of
    /// `users` on `push_type` (every channel when `None`) in `environment`; answers the event
    /// id and how many deliveries were made.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn create_push_event(
        &self,
        app_id: u64,
        sender: UserId,
        message: &str,
        push_type: Option<&str>,
        environment: &str,
        users: &[UserId],
    ) -> Result<(u64, usize), StoreError> {
        let payload = decoded_payload(message);
        self.tx(|tx| {
            let t = now();
            let event: u64 = tx.query_row_cached(
                "INSERT INTO push_events (app_id, user_id, message, push_type, environment,
                   created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![app_id, sender.0, message, push_type, environment, t],
                |r| r.get(0),
            )?;
            let mut delivered = 0;
            let mut subs = tx.prepare_cached(
                "SELECT id, channel FROM push_subscriptions WHERE user_id = ?1
                   AND environment = ?2 AND (?3 IS NULL OR channel = ?3)",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO push_deliveries (user_id, subscription_id, channel, source,
                   event_id, sender_id, payload, created_at)
                 VALUES (?1, ?2, ?3, 'event', ?4, ?5, ?6, ?7)",
            )?;
            for u in users {
                let rows: Vec<(u64, String)> = subs
                    .query_map(params![u.0, environment, push_type], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                for (sub, channel) in rows {
                    insert.execute(params![u.0, sub, channel, event, sender.0, payload, t])?;
                    delivered += 1;
                }
            }
            Ok((event, delivered))
        })
    }

    /// Records a chat alert to `user` on each of their subscribed devices and answers how many
    /// devices it went to, or `None` when they turned notifications of `dialog` off.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn record_chat_alert(
        &self,
        user: UserId,
        sender: UserId,
        dialog: Option<DialogId>,
        message: Option<MessageId>,
        body: &str,
    ) -> Result<Option<usize>, StoreError> {
        if let Some(d) = dialog
            && !self.notifications_enabled(d, user)?
        {
            return Ok(None);
        }
        let payload = serde_json::json!({
            "message": body,
            "dialog_id": dialog.map(|d| d.to_string()),
            "message_id": message.map(|m| m.to_string()),
            "sender_id": sender.0,
        })
        .to_string();
        self.tx(|tx| {
            let subs: Vec<(u64, String)> = tx
                .prepare_cached("SELECT id, channel FROM push_subscriptions WHERE user_id = ?1")?
                .query_map([user.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (sub, channel) in &subs {
                tx.execute_cached(
                    "INSERT INTO push_deliveries (user_id, subscription_id, channel, source,
                       sender_id, message_id, dialog_id, payload, created_at)
                     VALUES (?1, ?2, ?3, 'chat', ?4, ?5, ?6, ?7, ?8)",
                    params![
                        user.0,
                        sub,
                        channel,
                        sender.0,
                        message.map(|m| m.to_string()),
                        dialog.map(|d| d.to_string()),
                        payload,
                        now()
                    ],
                )?;
            }
            Ok(Some(subs.len()))
        })
    }

    /// The pushes delivered to `user`'s devices (every user's when `None`), oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn push_deliveries(&self, user: Option<UserId>) -> Result<Vec<PushDelivery>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM push_deliveries
                 WHERE ?1 IS NULL OR user_id = ?1 ORDER BY id"
            ))?
            .query_map([user.map(|u| u.0)], delivery_row)?
            .collect()
        })
    }
}

/// An event's message as stored: JSON text when it is Base64 of JSON, else the message as a
/// JSON string.
fn decoded_payload(message: &str) -> String {
    let text = message.strip_prefix("payload=").unwrap_or(message);
    decode_base64(text)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .unwrap_or_else(|| Value::String(message.to_owned()))
        .to_string()
}

/// Standard Base64 (padding optional); `None` for anything else.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text.trim().trim_end_matches('=').bytes().collect();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let [_, a, b, c] = n.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..chunk.len() - 1]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(channel: &str, udid: &str) -> NewSubscription {
        NewSubscription {
            channel: channel.into(),
            environment: "development".into(),
            token: Some("device-token".into()),
            platform: "android".into(),
            udid: udid.into(),
            ..NewSubscription::default()
        }
    }

    #[test]
    fn the_docs_payload_decodes_and_garbage_stays_text() {
        let b64 = "eyJtZXNzYWdlIjoiV2Fsa2luZyBpbiBhIGZsb3dlcnMgZ2FyZGVuIn0=";
        let v: Value = serde_json::from_str(&decoded_payload(b64)).unwrap();
        assert_eq!(v["message"], "Walking in a flowers garden");
        let v: Value = serde_json::from_str(&decoded_payload("not base64!")).unwrap();
        assert_eq!(v, "not base64!");
    }

    #[test]
    fn events_reach_each_matching_device_and_a_resubscribed_device_once() {
        let s = Store::in_memory().unwrap();
        let (ann, bob) = (UserId(1), UserId(2));
        s.subscribe_device(1, bob, &sub("gcm", "phone")).unwrap();
        s.subscribe_device(1, bob, &sub("gcm", "phone")).unwrap();
        s.subscribe_device(1, bob, &sub("apns", "tablet")).unwrap();
        assert_eq!(s.subscriptions_of(bob).unwrap().len(), 2);
        let (event, n) = s
            .create_push_event(1, ann, "aGk=", Some("gcm"), "development", &[bob])
            .unwrap();
        assert_eq!(n, 1);
        let all = s.push_deliveries(Some(bob)).unwrap();
        assert_eq!(all[0].source, PushSource::Event(event));
        assert_eq!(all[0].payload, Value::String("aGk=".into()));
        let (_, n) = s
            .create_push_event(1, ann, "aGk=", None, "production", &[bob])
            .unwrap();
        assert_eq!(n, 0, "no device in production");
        let id = s.subscriptions_of(bob).unwrap()[0].id;
        s.unsubscribe_device(bob, id).unwrap();
        assert!(matches!(
            s.unsubscribe_device(ann, id),
            Err(StoreError::NotFound)
        ));
    }
}
