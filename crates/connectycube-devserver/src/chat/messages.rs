//! 1-1 messages: privacy check, ConnectyCube's history semantics (save, markers, edit,
//! delete), delivery with carbons, offline storage with delay stamps, push notifications for
//! recipients offline or in the background, error bounces.

use super::xml::{self, Attr};
use std::sync::Arc;

use connectycube_protocol::address::user_id_of;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::message::ExtraParams;
use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::jid::Jid;

use super::backend::{Marker, NewMessage};
use super::privacy::{self, Kind};
use super::router::Deliver;
use super::session::Session;
use super::{Shared, muc};

const CLIENT: &str = "jabber:client";
const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
const CARBONS: &str = "urn:xmpp:carbons:2";
const FORWARD: &str = "urn:xmpp:forward:0";
const MARKERS: &str = "urn:xmpp:chat-markers:0";
const CHAT_STATES: &str = "http://jabber.org/protocol/chatstates";
/// The text ConnectyCube gives a sender whose recipient blocked them.
pub(crate) const BLOCKED_TEXT: &str = "You have been blocked by the privacy list";

/// A message from the session's user.
pub(crate) fn handle(s: &mut Session, mut el: Element) {
    let Some(from) = s.full_jid() else { return };
    let Some(to) = el.attr("to").and_then(|t| Jid::new(t).ok()) else {
        // Messages to the server itself carry nothing we act on.
        return;
    };
    xml::set(&mut el, "from", from);
    if s.ctx.domain.is_room(&to) {
        return muc::message(s, &to, el);
    }
    if to.domain().as_str() != s.ctx.host() {
        return s.out.push(error_reply(
            &el,
            "404",
            "cancel",
            "remote-server-not-found",
            None,
        ));
    }
    let Ok(recipient) = user_id_of(&to) else {
        return s
            .out
            .push(error_reply(&el, "404", "cancel", "item-not-found", None));
    };
    if el.attr("type") == Some("error") {
        deliver_to_user(&s.ctx, recipient, resource(&to).as_deref(), el, false);
        return;
    }
    if privacy::blocks(&s.ctx, recipient, s.user, Kind::MessageIn)
        || privacy::blocks(&s.ctx, s.user, recipient, Kind::Out)
    {
        return s.out.push(blocked_error(&el));
    }
    if let Err(condition) = history(&s.ctx, s.user, Some(recipient), None, &mut el) {
        return s
            .out
            .push(error_reply(&el, "400", "modify", condition, None));
    }
    let target = resource(&to);
    let store = !is_chat_state_only(&el);
    let copies = carbons_apply(&el);
    if copies {
        sent_carbons(s, &el);
    }
    // Recorded before the delivery, so a recipient that reads the message finds its push.
    if store && !s.ctx.router.in_foreground(recipient) {
        s.ctx.alert(recipient, s.user, &el);
    }
    if !deliver_to_user(&s.ctx, recipient, target.as_deref(), el.clone(), store) && store {
        // ejabberd's words when the recipient's offline storage is full: the sender learns
        // the message was not kept instead of its vanishing.
        s.out.push(error_reply(
            &el,
            "500",
            "wait",
            "resource-constraint",
            Some(OFFLINE_FULL),
        ));
    }
    if copies && target.is_some() {
        received_carbons(&s.ctx, recipient, target.as_deref(), &el);
    }
}

fn resource(jid: &Jid) -> Option<String> {
    jid.resource().map(|r| r.as_str().to_owned())
}

/// A presence addressed to a user (not a room).
pub(crate) fn directed_presence(s: &mut Session, mut el: Element) {
    let (Some(from), Some(to)) = (s.full_jid(), el.attr("to").and_then(|t| Jid::new(t).ok()))
    else {
        return;
    };
    let Ok(recipient) = user_id_of(&to) else {
        return;
    };
    if privacy::blocks(&s.ctx, recipient, s.user, Kind::PresenceIn) {
        return;
    }
    xml::set(&mut el, "from", from);
    deliver_to_user(&s.ctx, recipient, resource(&to).as_deref(), el, false);
}

/// ConnectyCube's history: edits, deletes and markers change stored messages; a message with
/// `save_to_history=1` is stored and gets `dialog_id` and `date_sent` added.
pub(crate) fn history(
    ctx: &Shared,
    sender: UserId,
    recipient: Option<UserId>,
    room: Option<DialogId>,
    el: &mut Element,
) -> Result<(), &'static str> {
    let id_of = |child: &Element| child.attr("id").and_then(|i| i.parse::<MessageId>().ok());
    if let Some(r) = el.get_child("replace", "urn:xmpp:message-correct:0") {
        if let (Some(id), Some(body)) = (id_of(r), el.get_child("body", CLIENT)) {
            let _ = ctx.backend.edit_message(id, sender, &body.text());
        }
        return Ok(());
    }
    if let Some(r) = el.get_child("remove", "urn:xmpp:message-delete:0") {
        if let Some(id) = id_of(r) {
            let _ = ctx.backend.delete_message(id, sender);
        }
        return Ok(());
    }
    for (name, marker) in [("received", Marker::Delivered), ("displayed", Marker::Read)] {
        if let Some(id) = el.get_child(name, MARKERS).and_then(id_of) {
            let _ = ctx.backend.mark(id, sender, marker);
            return Ok(());
        }
    }
    let Some(body) = el.get_child("body", CLIENT).map(|b| b.text()) else {
        return Ok(());
    };
    let Some(extra) = el.get_child("extraParams", CLIENT) else {
        return Ok(());
    };
    let params = ExtraParams::from_element(extra.clone()).map_err(|_| "bad-request")?;
    if params.save_to_history != Some(true) {
        return Ok(());
    }
    let dialog = match (room, recipient) {
        (Some(d), _) => d,
        (None, Some(r)) => ctx
            .backend
            .private_dialog_id(sender, r)
            .map_err(|_| "internal-server-error")?,
        (None, None) => return Ok(()),
    };
    let id = el
        .attr("id")
        .and_then(|i| i.parse::<MessageId>().ok())
        .unwrap_or_else(MessageId::generate);
    let date_sent = params
        .date_sent
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    ctx.backend
        .save_message(&NewMessage {
            id,
            dialog,
            sender,
            recipient,
            body,
            date_sent,
            attachments: params.attachments,
            custom: params.custom,
        })
        .map_err(|_| "internal-server-error")?;
    if let Some(extra) = el.get_child_mut("extraParams", CLIENT) {
        if params.dialog_id.is_none() {
            extra.append_child(text_el("dialog_id", &dialog.to_string()));
        }
        if params.date_sent.is_none() {
            extra.append_child(text_el("date_sent", &date_sent.to_string()));
        }
    }
    Ok(())
}

/// `<name xmlns='jabber:client'>text</name>`.
pub(crate) fn text_el(name: &str, text: &str) -> Element {
    Element::builder(name, CLIENT).append(text).build()
}

/// A chat state with nothing else to keep (not stored offline, as ejabberd does).
fn is_chat_state_only(el: &Element) -> bool {
    el.get_child("body", CLIENT).is_none() && el.children().any(|c| c.ns() == CHAT_STATES)
}

/// Whether carbons copy this message (XEP-0280: chat messages, not marked private).
fn carbons_apply(el: &Element) -> bool {
    matches!(el.attr("type"), Some("chat") | None)
        && !el.has_child("private", CARBONS)
        && !el.has_child("no-copy", "urn:xmpp:hints")
}

/// Whether the message is a carbon copy.
pub(crate) fn is_carbon(el: &Element) -> bool {
    el.has_child("sent", CARBONS) || el.has_child("received", CARBONS)
}

fn wrap(direction: &str, owner_bare: &str, to_full: &str, inner: &Element) -> Element {
    Element::builder("message", CLIENT)
        .a("from", owner_bare)
        .a("to", to_full)
        .a("type", inner.attr("type").unwrap_or("chat"))
        .append(
            Element::builder(direction, CARBONS)
                .append(
                    Element::builder("forwarded", FORWARD)
                        .append(inner.clone())
                        .build(),
                )
                .build(),
        )
        .build()
}

fn sent_carbons(s: &Session, el: &Element) {
    let Some(me) = s.resource.as_deref() else {
        return;
    };
    let bare = s.ctx.user_jid(s.user);
    for (res, entry) in s.ctx.router.resources(s.user) {
        if res != me && entry.carbons && entry.available {
            let copy = wrap("sent", &bare, &s.ctx.full_jid(s.user, &res), el);
            let _ = entry.tx.try_send(Deliver::Stanza(copy));
        }
    }
}

fn received_carbons(ctx: &Shared, user: UserId, target: Option<&str>, el: &Element) {
    let bare = ctx.user_jid(user);
    for (res, entry) in ctx.router.resources(user) {
        if Some(res.as_str()) != target && entry.carbons && entry.available {
            let copy = wrap("received", &bare, &ctx.full_jid(user, &res), el);
            let _ = entry.tx.try_send(Deliver::Stanza(copy));
        }
    }
}

/// Delivers to one resource (when it exists) or to every available one; with none that
/// takes it and `offline`, keeps a message in offline storage with a delay stamp. Returns
/// whether anyone (or the storage) took it.
pub(crate) fn deliver_to_user(
    ctx: &Shared,
    user: UserId,
    resource: Option<&str>,
    el: Element,
    offline: bool,
) -> bool {
    let resources = ctx.router.resources(user);
    let el = match resource.and_then(|r| resources.iter().find(|(n, _)| n == r)) {
        Some((_, e)) => match e.tx.try_send(Deliver::Stanza(el)) {
            Ok(()) => return true,
            // That session's mailbox is full or gone: the message is kept (or refused) as
            // one no session took, instead of being dropped unseen.
            Err(
                mpsc::error::TrySendError::Full(Deliver::Stanza(el))
                | mpsc::error::TrySendError::Closed(Deliver::Stanza(el)),
            ) => el,
            Err(_) => return false,
        },
        None => {
            let mut delivered = false;
            for (_, e) in resources.iter().filter(|(_, e)| e.available) {
                delivered |= e.tx.try_send(Deliver::Stanza(el.clone())).is_ok();
            }
            if delivered {
                return true;
            }
            el
        }
    };
    offline && el.name() == "message" && ctx.store_offline(user, delayed(ctx, el))
}

/// Adds `<delay xmlns='urn:xmpp:delay' from='{host}' stamp='…'>Offline Storage</delay>`.
fn delayed(ctx: &Shared, mut el: Element) -> Element {
    if !el.has_child("delay", "urn:xmpp:delay") {
        let stamp = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        el.append_child(
            Element::builder("delay", "urn:xmpp:delay")
                .a("from", ctx.host())
                .a("stamp", stamp)
                .append("Offline Storage")
                .build(),
        );
    }
    el
}

/// An error answer to `el`, back to its sender, keeping its body.
/// ejabberd's text for a message its recipient's full offline storage refused.
pub(crate) const OFFLINE_FULL: &str =
    "Your contact offline message queue is full. The message has been discarded.";

/// A copy of `el` returned to its sender as a stanza error.
pub(crate) fn error_reply(
    el: &Element,
    code: &str,
    kind: &str,
    condition: &str,
    text: Option<&str>,
) -> Element {
    let mut error = Element::builder("error", CLIENT)
        .a("code", code)
        .a("type", kind)
        .append(Element::builder(condition, STANZAS).build());
    if let Some(t) = text {
        error = error.append(Element::builder("text", STANZAS).append(t).build());
    }
    let mut reply = Element::builder(el.name(), CLIENT).a("type", "error");
    for attr in ["id"] {
        if let Some(v) = el.attr(attr) {
            reply = reply.a(attr, v);
        }
    }
    if let Some(v) = el.attr("to") {
        reply = reply.a("from", v);
    }
    if let Some(v) = el.attr("from") {
        reply = reply.a("to", v);
    }
    if let Some(body) = el.get_child("body", CLIENT) {
        reply = reply.append(body.clone());
    }
    reply.append(error.build()).build()
}

/// The error a blocked sender gets (fixtures/xmpp/error-message-blocked-by-privacy-list.xml).
pub(crate) fn blocked_error(el: &Element) -> Element {
    error_reply(
        el,
        "503",
        "cancel",
        "service-unavailable",
        Some(BLOCKED_TEXT),
    )
}

/// Sends an error for an undelivered message back to its sender (stamped `from`).
pub(crate) fn bounce(ctx: &Arc<Shared>, el: &Element, condition: &str, text: &str) {
    let Some(sender) = el.attr("from").and_then(|f| Jid::new(f).ok()) else {
        return;
    };
    let Ok(user) = user_id_of(&sender) else {
        return;
    };
    let reply = error_reply(el, "503", "cancel", condition, Some(text));
    deliver_to_user(ctx, user, resource(&sender).as_deref(), reply, false);
}
