//! What the REST side asks the chat side to tell connected users ([`crate::push::Push`]),
//! turned into the stanzas the cloud sends.

use super::xml::Attr;
use std::sync::Arc;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::message::ExtraParams;
use connectycube_protocol::model::DialogType;
use minidom::Element;
use tokio::sync::watch;

use super::backend::NewMessage;
use super::messages::{deliver_to_user, text_el};
use super::router::Deliver;
use super::{Shared, muc};
use crate::push::{Push, PushReceiver};

const CLIENT: &str = "jabber:client";

/// Serves pushes until the channel closes or the server stops.
pub(crate) async fn run(
    ctx: Arc<Shared>,
    mut pushes: PushReceiver,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            p = pushes.recv() => match p {
                Some(p) => handle(&ctx, p),
                None => return,
            },
            _ = stop.changed() => return,
        }
    }
}

/// One push.
pub(crate) fn handle(ctx: &Shared, push: Push) {
    match push {
        Push::SystemMessage {
            from,
            to,
            id,
            params,
        } => {
            let mut extra = Element::builder("extraParams", CLIENT).append(text_el(
                "moduleIdentifier",
                connectycube_protocol::message::extra_params::SYSTEM_NOTIFICATIONS,
            ));
            for (k, v) in &params {
                if let Some(el) = value_el(k, v) {
                    extra = extra.append(el);
                }
            }
            let el = Element::builder("message", CLIENT)
                .a("id", id.to_string())
                .a("type", "headline")
                .a("from", ctx.user_jid(from))
                .a("to", ctx.user_jid(to))
                .append(extra.build())
                .build();
            deliver_to_user(ctx, to, None, el, true);
        }
        Push::Reactions {
            dialog,
            message,
            user,
            add,
            remove,
            recipients,
        } => {
            let mut reactions = Element::builder("reactions", CLIENT)
                .a("user_id", user.to_string())
                .a("message_id", message.to_string());
            if let Some(a) = add {
                reactions = reactions.append(
                    Element::builder("reaction", CLIENT)
                        .a("add", "true")
                        .a("type", a)
                        .build(),
                );
            }
            if let Some(r) = remove {
                reactions = reactions.append(
                    Element::builder("reaction", CLIENT)
                        .a("remove", "true")
                        .a("type", r)
                        .build(),
                );
            }
            let reactions = reactions.build();
            for r in recipients {
                let el = Element::builder("message", CLIENT)
                    .a("id", MessageId::generate().to_string())
                    .a("type", "chat")
                    .a("from", ctx.user_jid(user))
                    .a("to", ctx.user_jid(r))
                    .append(
                        Element::builder("extraParams", CLIENT)
                            .append(text_el("dialog_id", &dialog.to_string()))
                            .build(),
                    )
                    .append(reactions.clone())
                    .build();
                deliver_to_user(ctx, r, None, el, true);
            }
        }
        Push::OccupantsRemoved { dialog, users } => muc::kick(ctx, dialog, &users),
        Push::MessageCreated {
            message,
            sender,
            recipients,
            ..
        } => created(ctx, message, sender, &recipients),
        Push::MessageEdited {
            dialog,
            message,
            sender,
            body,
            recipients,
        } => edited(ctx, dialog, message, sender, &body, &recipients),
        Push::MessageDeleted {
            dialog,
            message,
            sender,
            recipients,
        } => deleted(ctx, dialog, message, sender, &recipients),
    }
}

/// A custom parameter as an element (objects nest, arrays repeat, scalars are text).
fn value_el(name: &str, v: &serde_json::Value) -> Option<Element> {
    // Names that are not XML names cannot be sent; the REST side validates them anyway.
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.".contains(c))
    {
        return None;
    }
    let b = Element::builder(name, CLIENT);
    Some(match v {
        serde_json::Value::String(s) => b.append(s.as_str()).build(),
        serde_json::Value::Object(map) => {
            let mut b = b;
            for (k, v) in map {
                if let Some(c) = value_el(k, v) {
                    b = b.append(c);
                }
            }
            b.build()
        }
        serde_json::Value::Null => b.build(),
        other => b.append(other.to_string()).build(),
    })
}

/// A stored message as the cloud delivers it: the body and `<extraParams>` with
/// `save_to_history`, `date_sent`, `dialog_id`, the attachments and custom properties.
pub(crate) fn stored_stanza(
    m: &NewMessage,
    kind: &str,
    from: String,
    to: String,
) -> Option<Element> {
    let extra = ExtraParams {
        save_to_history: Some(true),
        date_sent: Some(m.date_sent),
        dialog_id: Some(m.dialog),
        attachments: m.attachments.clone(),
        custom: m.custom.clone(),
        ..ExtraParams::default()
    };
    let extra = extra.to_element().ok()?;
    Some(
        Element::builder("message", CLIENT)
            .a("id", m.id.to_string())
            .a("type", kind)
            .a("from", from)
            .a("to", to)
            .append(text_el("body", &m.body))
            .append(extra)
            .build(),
    )
}

/// `{room}/{user}`: how a dialog's occupant appears in its room.
fn room_occupant(ctx: &Shared, dialog: DialogId, user: UserId) -> String {
    format!(
        "{}_{dialog}@{}/{user}",
        ctx.config.app_id,
        ctx.domain.muc_host()
    )
}

/// Delivers `make(kind, from, to)` as `sender` would have sent it over chat: 1-1 to each
/// of `to` in a private dialog (kept offline for those not connected), else to those of `to`
/// joined to the dialog's room.
fn as_if_sent(
    ctx: &Shared,
    dialog: DialogId,
    sender: UserId,
    to: &[UserId],
    make: impl Fn(&str, String, String) -> Option<Element>,
) {
    let Ok(Some(info)) = ctx.backend.dialog(dialog) else {
        return;
    };
    if info.kind == DialogType::Private {
        for r in to {
            if let Some(el) = make("chat", ctx.user_jid(sender), ctx.user_jid(*r)) {
                deliver_to_user(ctx, *r, None, el, true);
            }
        }
        return;
    }
    let from = room_occupant(ctx, dialog, sender);
    for (u, res, _) in ctx.router.occupants(dialog) {
        if !to.contains(&u) {
            continue;
        }
        if let (Some(e), Some(el)) = (
            ctx.router.entry(u, &res),
            make("groupchat", from.clone(), ctx.full_jid(u, &res)),
        ) {
            let _ = e.tx.try_send(Deliver::Stanza(el));
        }
    }
}

/// A message created over REST with `send_to_chat=1`: delivered as if sent over chat.
fn created(ctx: &Shared, id: MessageId, sender: UserId, to: &[UserId]) {
    let Ok(Some(stored)) = ctx.backend.message(id) else {
        return;
    };
    let m = &stored.message;
    as_if_sent(ctx, m.dialog, sender, to, |kind, from, to| {
        stored_stanza(m, kind, from, to)
    });
}

/// A message edited over REST (`PUT /chat/Message/{id}` with `message`): the occupants get
/// the chat's correction, `<body>new</body><replace id='{orig}' last='true'/>`, from its
/// sender, as if the sender had edited it over chat.
fn edited(
    ctx: &Shared,
    dialog: DialogId,
    id: MessageId,
    sender: UserId,
    body: &str,
    to: &[UserId],
) {
    as_if_sent(ctx, dialog, sender, to, |kind, from, to| {
        let replace = Element::builder("replace", "urn:xmpp:message-correct:0")
            .a("id", id.to_string())
            .a("last", "true")
            .build();
        Some(notice(kind, from, to, dialog, Some(body), replace))
    });
}

/// A message deleted for everyone over REST (`DELETE /chat/Message/{id}?force=1`): the
/// occupants get the chat's delete, `<remove xmlns='urn:xmpp:message-delete:0' id='{orig}'/>`.
fn deleted(ctx: &Shared, dialog: DialogId, id: MessageId, sender: UserId, to: &[UserId]) {
    as_if_sent(ctx, dialog, sender, to, |kind, from, to| {
        let remove = Element::builder("remove", "urn:xmpp:message-delete:0")
            .a("id", id.to_string())
            .build();
        Some(notice(kind, from, to, dialog, None, remove))
    });
}

/// An edit or delete stanza: a fresh id, the dialog in `<extraParams>`, `child` saying what.
fn notice(
    kind: &str,
    from: String,
    to: String,
    dialog: DialogId,
    body: Option<&str>,
    child: Element,
) -> Element {
    let mut b = Element::builder("message", CLIENT)
        .a("id", MessageId::generate().to_string())
        .a("type", kind)
        .a("from", from)
        .a("to", to);
    if let Some(body) = body {
        b = b.append(text_el("body", body));
    }
    b.append(
        Element::builder("extraParams", CLIENT)
            .append(text_el("dialog_id", &dialog.to_string()))
            .build(),
    )
    .append(child)
    .build()
}
