//! What the REST side asks the chat side to tell connected users ([`crate::push::Push`]),
//! turned into the stanzas the cloud sends.

use super::xml::Attr;
use std::sync::Arc;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::message::ExtraParams;
use connectycube_protocol::model::DialogType;
use minidom::Element;
use tokio::sync::watch;

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
            dialog,
            message,
            sender,
            recipients,
        } => created(ctx, dialog, message, sender, &recipients),
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

/// A message created over REST with `send_to_chat=1`: delivered as if sent over chat.
fn created(ctx: &Shared, dialog: DialogId, id: MessageId, sender: UserId, to: &[UserId]) {
    let (Ok(Some(stored)), Ok(Some(info))) = (ctx.backend.message(id), ctx.backend.dialog(dialog))
    else {
        return;
    };
    let m = &stored.message;
    let extra = ExtraParams {
        save_to_history: Some(true),
        date_sent: Some(m.date_sent),
        dialog_id: Some(dialog),
        attachments: m.attachments.clone(),
        custom: m.custom.clone(),
        ..ExtraParams::default()
    };
    let Ok(extra) = extra.to_element() else {
        return;
    };
    let base = |kind: &str, from: String, to: String| {
        Element::builder("message", CLIENT)
            .a("id", id.to_string())
            .a("type", kind)
            .a("from", from)
            .a("to", to)
            .append(text_el("body", &m.body))
            .append(extra.clone())
            .build()
    };
    if info.kind == DialogType::Private {
        for r in to {
            let el = base("chat", ctx.user_jid(sender), ctx.user_jid(*r));
            deliver_to_user(ctx, *r, None, el, true);
        }
        return;
    }
    let from = format!(
        "{}_{dialog}@{}/{sender}",
        ctx.config.app_id,
        ctx.domain.muc_host()
    );
    for (u, res, _) in ctx.router.occupants(dialog) {
        if !to.contains(&u) {
            continue;
        }
        if let Some(e) = ctx.router.entry(u, &res) {
            let el = base("groupchat", from.clone(), ctx.full_jid(u, &res));
            let _ = e.tx.try_send(Deliver::Stanza(el));
        }
    }
}
