//! MUC rooms for group and public dialogs: `{app_id}_{dialog_id}@muc.{host}`, occupants
//! `{room}/{user_id}`. Join is allowed for the dialog's occupants (anyone for a public dialog);
//! the joiner gets the others' presence, then its own with status 110, then the dialog's recent
//! history with delay stamps (unless its `<history maxstanzas='0'/>` declines it, as the SDKs
//! do); messages go to everyone joined with ConnectyCube's history semantics; removal from the
//! occupants kicks (301).

use super::xml::{self, Attr};
use connectycube_protocol::address::dialog_id_of;
use connectycube_protocol::ids::{DialogId, UserId};
use minidom::Element;
use xmpp_parsers::jid::Jid;

use super::Shared;
use super::messages::{self, error_reply};
use super::privacy::{self, Kind};
use super::pushes;
use super::router::Deliver;
use super::session::Session;

const CLIENT: &str = "jabber:client";
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
const MUC: &str = "http://jabber.org/protocol/muc";

/// Messages a room replays to a joining occupant at most, and when the join does not say:
/// ejabberd's `history_size` default, the server behind chat.connectycube.com.
const HISTORY_SIZE: usize = 20;

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
    let affiliation = dialog.affiliation(s.user);
    let others = s.ctx.router.join(room, key.clone(), nick.clone());
    for (u, res, n) in &others {
        s.out.push(pres(
            format!("{bare}/{n}"),
            me.clone(),
            false,
            x(dialog.affiliation(*u), "participant", &[]),
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
    let mut own = pres(
        format!("{bare}/{nick}"),
        me.clone(),
        false,
        x(affiliation, "participant", &["110"]),
    );
    // The self-presence echoes the join's id (XEP-0045 7.2.3): clients match their join by it.
    if let Some(id) = el.attr("id") {
        xml::set(&mut own, "id", id.to_owned());
    }
    s.out.push(own);
    let wanted = HistoryRequest::of(&el, chrono::Utc::now().timestamp());
    replay_history(s, room, &bare, &me, wanted);
}

/// What a join's `<x xmlns='…muc'><history/></x>` asks to be replayed (XEP-0045 7.2.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HistoryRequest {
    /// At most this many messages (capped at [`HISTORY_SIZE`]).
    pub max: usize,
    /// Only messages sent at or after this Unix time.
    pub since: Option<i64>,
}

impl HistoryRequest {
    /// Reads `maxstanzas`, `seconds` and `since` of the join presence `el` (now is `now`).
    pub(crate) fn of(el: &Element, now: i64) -> Self {
        let history = el
            .get_child("x", MUC)
            .and_then(|x| x.get_child("history", MUC));
        let number = |name: &str| {
            history
                .and_then(|h| h.attr(name))
                .and_then(|v| v.parse::<i64>().ok())
        };
        let max =
            number("maxstanzas").map_or(HISTORY_SIZE, |n| n.clamp(0, HISTORY_SIZE as i64) as usize);
        let by_seconds = number("seconds").map(|n| now - n.max(0));
        let by_date = history
            .and_then(|h| h.attr("since"))
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
            .map(|d| d.timestamp());
        Self {
            max,
            since: by_seconds.max(by_date),
        }
    }
}

/// Sends the joiner the dialog's last messages, each from `{room}/{sender}` with a delay stamp
/// of when it was sent (what a room's history is: ConnectyCube keeps it as the dialog's).
fn replay_history(s: &mut Session, room: DialogId, bare: &str, me: &str, wanted: HistoryRequest) {
    if wanted.max == 0 {
        return;
    }
    let Ok(recent) = s.ctx.backend.recent_messages(room, s.user, wanted.max) else {
        return;
    };
    for stored in recent {
        let m = &stored.message;
        if wanted.since.is_some_and(|t| m.date_sent < t) {
            continue;
        }
        let from = format!("{bare}/{}", m.sender);
        let Some(mut el) = pushes::stored_stanza(m, "groupchat", from, me.to_owned()) else {
            continue;
        };
        let stamp = chrono::DateTime::from_timestamp(m.date_sent, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        el.append_child(
            Element::builder("delay", "urn:xmpp:delay")
                .a("from", bare)
                .a("stamp", stamp)
                .build(),
        );
        s.out.push(el);
    }
}

/// Leaves a room: the others see the occupant go, the leaver gets its own unavailable (110).
pub(crate) fn leave(ctx: &Shared, room: DialogId, key: &(UserId, String)) {
    let Some((nick, rest)) = ctx.router.leave(room, key) else {
        return;
    };
    let from = format!("{}/{nick}", room_jid(ctx, room));
    let affiliation = match ctx.backend.dialog(room) {
        Ok(Some(d)) => d.affiliation(key.0),
        _ => "member",
    };
    for (u, res, _) in rest {
        let to = ctx.full_jid(u, &res);
        send(
            ctx,
            u,
            &res,
            pres(from.clone(), to, true, x(affiliation, "none", &[])),
        );
    }
    let me = ctx.full_jid(key.0, &key.1);
    send(
        ctx,
        key.0,
        &key.1,
        pres(from, me, true, x(affiliation, "none", &["110"])),
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
    // Occupants offline or in the background get a push alert, as for a 1-1 message.
    if el.has_child("body", CLIENT)
        && let Ok(Some(d)) = s.ctx.backend.dialog(room)
    {
        for u in d.occupants.iter().filter(|u| **u != s.user) {
            if !s.ctx.router.in_foreground(*u) {
                s.ctx.alert(*u, s.user, &el);
            }
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
