//! What the store learns from the chat as it happens: every message shown (live or from the
//! history), and the markers, edits and deletions that change a kept one. A marker for one of
//! our sends moves its local echo.

use connectycube_protocol::address::user_id_of;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::UserId;
use connectycube_protocol::message::reactions::Reactions;
use connectycube_protocol::model::Message;

use super::{LocalEcho, LocalStatus, Store};

/// Whether `event` is a message an earlier run (or this one) already showed: a redelivery
/// after a crash, or a history page overlapping what was shown live. A store that fails
/// says no: showing a message twice beats losing it.
pub(crate) fn shown_before(store: &Store, owner: UserId, event: &ChatEvent) -> bool {
    let ChatEvent::ChatMessage(m) = event else {
        return false;
    };
    store.shown_before(owner, m.payload.id).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not ask the store for a message");
        false
    })
}

/// Keeps what `event` says; the echo when one of our sends moved. A store that fails is
/// logged, not fatal: the event still reaches the app, and the next catch-up refetches.
pub(crate) fn record(store: &Store, owner: UserId, event: &ChatEvent) -> Option<LocalEcho> {
    let done = match event {
        ChatEvent::ChatMessage(m) => {
            // A room reflects our own message: it is on the server (maybe before its ack).
            if m.payload.sender_id == Some(owner) {
                match store.set_status(owner, m.payload.id, &LocalStatus::Sent) {
                    Ok(Some(message)) => {
                        let status = LocalStatus::Sent;
                        return Some(LocalEcho { message, status });
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not keep a message in the store"),
                }
            }
            let mut message = m.payload.clone();
            message.dialog_id = m.dialog_id();
            store.put_messages(owner, &[(message, LocalStatus::Sent)])
        }
        ChatEvent::Delivered(m) | ChatEvent::Read(m) => {
            let from = m.envelope.from.as_ref().and_then(|f| user_id_of(f).ok());
            if m.envelope.carbon.is_some() || from == Some(owner) {
                return None;
            }
            let status = if matches!(event, ChatEvent::Read(_)) {
                LocalStatus::Read
            } else {
                LocalStatus::Delivered
            };
            return match store.set_status(owner, m.payload, &status) {
                Ok(moved) => moved.map(|message| LocalEcho { message, status }),
                Err(e) => {
                    tracing::warn!(error = %e, "could not keep a marker in the store");
                    None
                }
            };
        }
        ChatEvent::Edited(m) => {
            let edit = |kept: &mut Message| kept.body = Some(m.payload.body.clone());
            store
                .update_message(owner, m.payload.message_id, &edit)
                .map(drop)
        }
        ChatEvent::Reactions(r) => {
            let change = |kept: &mut Message| react(kept, owner, &r.payload);
            store
                .update_message(owner, r.payload.message_id, &change)
                .map(drop)
        }
        ChatEvent::Deleted(m) => store.remove_message(owner, m.payload),
        _ => return None,
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, "could not keep a message in the store");
    }
    None
}

/// Applies a reactions change to a kept message's summary (counts, and ours).
fn react(kept: &mut Message, owner: UserId, change: &Reactions) {
    let summary = kept.reactions.get_or_insert_with(Default::default);
    let mine = change.user_id == owner;
    for r in &change.changes {
        if r.add == Some(true) {
            *summary.total.entry(r.kind.clone()).or_default() += 1;
            if mine && !summary.own.contains(&r.kind) {
                summary.own.push(r.kind.clone());
            }
        } else if r.remove == Some(true) {
            if let Some(n) = summary.total.get_mut(&r.kind) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    summary.total.remove(&r.kind);
                }
            }
            if mine {
                summary.own.retain(|k| k != &r.kind);
            }
        }
    }
}
