//! The push notifications the cloud would send (APNS/FCM) for chat messages: ConnectyCube
//! fires one when a message's recipient is offline, or connected but marked inactive (the
//! app in the background: `markInactive`, the mobile IQ or CSI `<inactive/>`), unless the
//! message is silent (`extraParams/silent=1`) or the recipient turned the dialog's
//! notifications off. The devserver sends none; it records each, so a test can see what a
//! phone would have been told ([`crate::chat::ChatHandle::notifications`]), and the backend
//! records one delivery per subscribed device (the devserver's `GET /_devserver/pushes`).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::message::ExtraParams;
use minidom::Element;

const CLIENT: &str = "jabber:client";

/// Notifications kept at most; the oldest go first.
pub const MAX_NOTIFICATIONS: usize = 10_000;

/// One push notification the cloud would have sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// Who it is for.
    pub user: UserId,
    /// Who sent the message.
    pub sender: UserId,
    /// The message, when it had a readable id.
    pub message: Option<MessageId>,
    /// The message's text (the notification's alert).
    pub body: String,
}

/// The log of notifications, shared by the sessions and the handle.
#[derive(Debug, Default)]
pub(crate) struct Notifications {
    log: Mutex<VecDeque<Notification>>,
}

impl Notifications {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Notification>> {
        super::lock(&self.log)
    }

    /// Records `n`.
    pub fn record(&self, n: Notification) {
        let mut log = self.lock();
        if log.len() >= MAX_NOTIFICATIONS {
            log.pop_front();
        }
        log.push_back(n);
    }

    /// Every notification so far, oldest first.
    pub fn snapshot(&self) -> Vec<Notification> {
        self.lock().iter().cloned().collect()
    }
}

/// The notification to `user` that `el` makes, when it is a message that gets one (a text
/// that is not an edit and not silent).
pub(crate) fn alert_of(user: UserId, sender: UserId, el: &Element) -> Option<Notification> {
    let body = el.get_child("body", CLIENT).map(Element::text)?;
    if el.has_child("replace", "urn:xmpp:message-correct:0") || silent(el) {
        return None;
    }
    Some(Notification {
        user,
        sender,
        message: el.attr("id").and_then(|i| i.parse().ok()),
        body,
    })
}

/// The dialog a message names in `extraParams/dialog_id`.
pub(crate) fn dialog_of(el: &Element) -> Option<DialogId> {
    el.get_child("extraParams", CLIENT)?
        .get_child("dialog_id", CLIENT)?
        .text()
        .trim()
        .parse()
        .ok()
}

/// `extraParams/silent` is `1`: the sender asked for no push.
fn silent(el: &Element) -> bool {
    el.get_child("extraParams", CLIENT)
        .and_then(|x| ExtraParams::from_element(x.clone()).ok())
        .and_then(|p| p.silent)
        .unwrap_or(false)
}
