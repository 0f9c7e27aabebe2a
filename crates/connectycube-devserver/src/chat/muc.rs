//! MUC rooms for group and public dialogs: `{app_id}_{dialog_id}@muc.{host}`, occupants
//! `{room}/{user_id}`. Join is allowed for the dialog's occupants (anyone for a public dialog);
//! the joiner gets the others' presence, then its own with status 110; messages go to everyone
//! joined with ConnectyCube's history semantics; removal from the occupants kicks (301).

use super::xml::{self, Attr};
use connectycube_protocol::address::dialog_id_of;
use connectycube_protocol::ids::{DialogId, UserId};
use minidom::Element;
use xmpp_parsers::jid::Jid;

use super::Shared;
use super::messages::{self, error_reply};
use super::privacy::{self, Kind};
use super::router::Deliver;
use super::session::Session;

const CLIENT: &str = "jabber:client";
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";

fn room_jid(ctx: &Shared, room: DialogId) -> String {
    format!("{}_{room}@{}", ctx.config.app_id, ctx.domain.muc_host())
}

fn x(affiliation: &str, role: &str, codes: &[&str]) -> Element {
    let mut x = Element::builder("x", MUC_USER).append(
        Element::builder("item", MUC_USER)
            .a("affiliation", affiliation)
            .a("role", role)
            .build(),
    );
    for c in codes {
        x = x.append(Element::builder("status", MUC_USER).a("code", *c).build());
    }
    x.build()
}

fn pres(from: String, to: String, unavailable: bool, x: Element) -> Element {
    let mut b = Element::builder("presence", CLIENT)
        .a("from", from)
        .a("to", to);
    if unavailable {
        b = b.a("type", "unavailable");
    }
    b.append(x).build()
}

fn send(ctx: &Shared, user: UserId, res: &str, el: Element) {
    if let Some(e) = ctx.router.entry(user, res) {
        let _ = e.tx.try_send(Deliver::Stanza(el));
    }
}

/// A presence to a room: join, or leave with `type='unavailable'`.
pub(crate) fn presence(s: &mut Session, to: &Jid, el: Element) {
    let (Ok(room), Some(key)) = (dialog_id_of(to), s.key()) else {
        return s
            .out
            .push(error_reply(&el, "404", "cancel", "item-not-found", None));
    };
    if el.attr("type") == Some("unavailable") {
        return leave(&s.ctx, room, &key);
    }
    if el.attr("type").is_some() {
        return;
    }
    let mut el = el;
    if let Some(me) = s.full_jid() {
        xml::set(&mut el, "from", me);
    }
    let dialog = match s.ctx.backend.dialog(room) {
        Ok(Some(d)) => d,
        _ => {
            return s
                .out
                .push(error_reply(&el, "404", "cancel", "item-not-found", None));
        }
    };
    if !dialog.may_join(s.user) {
        return s.out.push(error_reply(
            &el,
            "407",
            "auth",
            "registration-required",
            None,
        ));
    }
    let nick = to
        .resource()
        .map(|r| r.as_str().to_owned())
        .unwrap_or_else(|| s.user.to_string());
    let bare = room_jid(&s.ctx, room);
    let me = s.ctx.full_jid(key.0, &key.1);
    let affiliation = if dialog.owner == s.user {
        "owner"
    } else {
        "member"
    };
    let others = s.ctx.router.join(room, key.clone(), nick.clone());
    for (u, res, n) in &others {
        s.out.push(pres(
            format!("{bare}/{n}"),
            me.clone(),
            false,
            x("member", "participant", &[]),
        ));
        let theirs = s.ctx.full_jid(*u, res);
        send(
            &s.ctx,
            *u,
            res,
            pres(
                format!("{bare}/{nick}"),
                theirs,
                false,
                x(affiliation, "participant", &[]),
            ),
        );
    }
    s.out.push(pres(
        format!("{bare}/{nick}"),
        me,
        false,
        x(affiliation, "participant", &["110"]),
    ));
}

/// Leaves a room: the others see the occupant go, the leaver gets its own unavailable (110).
pub(crate) fn leave(ctx: &Shared, room: DialogId, key: &(UserId, String)) {
    let Some((nick, rest)) = ctx.router.leave(room, key) else {
        return;
    };
    let from = format!("{}/{nick}", room_jid(ctx, room));
    for (u, res, _) in rest {
        let to = ctx.full_jid(u, &res);
        send(
            ctx,
            u,
            &res,
            pres(from.clone(), to, true, x("member", "none", &[])),
        );
    }
    let me = ctx.full_jid(key.0, &key.1);
    send(
        ctx,
        key.0,
        &key.1,
        pres(from, me, true, x("member", "none", &["110"])),
    );
}

/// A message to a room: only occupants who joined may send; everyone joined gets it from
/// `{room}/{nick}` (the sender too, as MUC reflects).
pub(crate) fn message(s: &mut Session, to: &Jid, mut el: Element) {
    let (Ok(room), Some(key)) = (dialog_id_of(to), s.key()) else {
        return s
            .out
            .push(error_reply(&el, "404", "cancel", "item-not-found", None));
    };
    let occupants = s.ctx.router.occupants(room);
    let Some((_, _, nick)) = occupants.iter().find(|(u, r, _)| (*u, r.clone()) == key) else {
        return s
            .out
            .push(error_reply(&el, "406", "modify", "not-acceptable", None));
    };
    if el.attr("type") != Some("groupchat") {
        return s
            .out
            .push(error_reply(&el, "400", "modify", "bad-request", None));
    }
    if let Err(condition) = messages::history(&s.ctx, s.user, None, Some(room), &mut el) {
        return s
            .out
            .push(error_reply(&el, "400", "modify", condition, None));
    }
    if !has_dialog_id(&el) && el.has_child("body", CLIENT) {
        add_dialog_id(&mut el, room);
    }
    xml::set(
        &mut el,
        "from",
        format!("{}/{nick}", room_jid(&s.ctx, room)),
    );
    for (u, res, _) in occupants {
        if u != s.user && privacy::blocks(&s.ctx, u, s.user, Kind::MessageIn) {
            continue;
        }
        let mut copy = el.clone();
        xml::set(&mut copy, "to", s.ctx.full_jid(u, &res));
        if (u, res.clone()) == key {
            s.out.push(copy);
        } else {
            send(&s.ctx, u, &res, copy);
        }
    }
}

fn has_dialog_id(el: &Element) -> bool {
    el.get_child("extraParams", CLIENT)
        .is_some_and(|x| x.has_child("dialog_id", CLIENT))
}

/// Adds `<extraParams><dialog_id/></extraParams>` (inbound group messages carry it).
pub(crate) fn add_dialog_id(el: &mut Element, room: DialogId) {
    let id = messages::text_el("dialog_id", &room.to_string());
    match el.get_child_mut("extraParams", CLIENT) {
        Some(x) => {
            x.append_child(id);
        }
        None => {
            el.append_child(Element::builder("extraParams", CLIENT).append(id).build());
        }
    }
}

/// Kicks `users` out of the room (they were removed from the dialog's occupants): they get
/// unavailable with 301 and 110, the others see 301.
pub(crate) fn kick(ctx: &Shared, room: DialogId, users: &[UserId]) {
    let from_room = room_jid(ctx, room);
    for (u, res, nick) in ctx.router.occupants(room) {
        if !users.contains(&u) {
            continue;
        }
        let key = (u, res.clone());
        let Some((_, rest)) = ctx.router.leave(room, &key) else {
            continue;
        };
        let from = format!("{from_room}/{nick}");
        for (o, ores, _) in rest {
            let to = ctx.full_jid(o, &ores);
            send(
                ctx,
                o,
                &ores,
                pres(from.clone(), to, true, x("none", "none", &["301"])),
            );
        }
        let me = ctx.full_jid(u, &res);
        send(
            ctx,
            u,
            &res,
            pres(from, me, true, x("none", "none", &["301", "110"])),
        );
    }
}
