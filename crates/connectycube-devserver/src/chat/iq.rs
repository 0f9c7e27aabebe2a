//! IQs the server answers: bind, session, ping, carbons, privacy, last activity and its
//! status_streaming subscription, the mobile (Tigase) active/inactive IQ, disco on rooms.

use super::xml::{self, Attr};
use connectycube_protocol::address::{dialog_id_of, user_id_of};
use connectycube_protocol::ids::UserId;
use connectycube_protocol::iq::ns as cc;
use minidom::Element;
use xmpp_parsers::jid::Jid;

use super::router::Deliver;
use super::session::Session;
use super::{Shared, messages, privacy};

const CLIENT: &str = "jabber:client";
const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
const BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
const CARBONS: &str = "urn:xmpp:carbons:2";
const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";

/// `<iq type='result'>` answering `el`, with an optional payload.
pub(crate) fn result_iq(el: &Element, payload: Option<Element>) -> Element {
    let mut b = Element::builder("iq", CLIENT)
        .a("type", "result")
        .a("id", el.attr("id").unwrap_or_default());
    if let Some(to) = el.attr("to") {
        b = b.a("from", to);
    }
    if let Some(from) = el.attr("from") {
        b = b.a("to", from);
    }
    if let Some(p) = payload {
        b = b.append(p);
    }
    b.build()
}

/// `<iq type='error'>` answering `el` with a stanza error condition.
pub(crate) fn error_iq(el: &Element, kind: &str, condition: &str) -> Element {
    let mut reply = result_iq(el, el.children().next().cloned());
    xml::set(&mut reply, "type", "error");
    reply.append_child(
        Element::builder("error", CLIENT)
            .a("type", kind)
            .append(Element::builder(condition, STANZAS).build())
            .build(),
    );
    reply
}

/// An IQ from the session's user.
pub(crate) fn handle(s: &mut Session, mut el: Element) {
    if let Some(me) = s.full_jid() {
        xml::set(&mut el, "from", me);
    }
    let kind = el.attr("type").unwrap_or_default().to_owned();
    let to = el.attr("to").and_then(|t| Jid::new(t).ok());
    if matches!(kind.as_str(), "result" | "error") {
        return route(s, to, el);
    }
    let Some(payload) = el.children().next().cloned() else {
        return s.out.push(error_iq(&el, "modify", "bad-request"));
    };
    if s.resource.is_none() {
        return pre_bind(s, &el, &payload);
    }
    match (payload.ns().as_str(), payload.name()) {
        (BIND, "bind") => s.out.push(error_iq(&el, "cancel", "not-allowed")),
        (SESSION, "session") => s.out.push(result_iq(&el, None)),
        (cc::PING, "ping") => s.out.push(result_iq(&el, None)),
        (CARBONS, name @ ("enable" | "disable")) => {
            let on = name == "enable";
            if let Some((user, res)) = s.key() {
                s.ctx.router.update(user, &res, |e| e.carbons = on);
            }
            s.out.push(result_iq(&el, None));
        }
        (cc::PRIVACY, "query") => privacy::iq(s, &el, &payload),
        (cc::LAST, "query") => last(s, &el, to),
        (cc::STATUS_STREAMING, "subscribe") => subscribe(s, &el, &payload),
        (cc::TIGASE_MOBILE, "mobile") => {
            s.set_inactive(payload.attr("enable") == Some("true"));
            s.out.push(result_iq(&el, None));
        }
        (DISCO_ITEMS, "query") => disco_items(s, &el, to),
        (DISCO_INFO, "query") => disco_info(s, &el),
        _ => match to {
            Some(j) if j.resource().is_some() && user_id_of(&j).is_ok() => route(s, Some(j), el),
            _ => s.out.push(error_iq(&el, "cancel", "service-unavailable")),
        },
    }
}

/// Before bind only bind (and the legacy session IQ) make sense.
fn pre_bind(s: &mut Session, el: &Element, payload: &Element) {
    if payload.is("bind", BIND) && el.attr("type") == Some("set") {
        let wanted = payload.get_child("resource", BIND).map(|r| r.text());
        let resource = s.bind(wanted);
        let jid = s.ctx.full_jid(s.user, &resource);
        let bind = Element::builder("bind", BIND)
            .append(Element::builder("jid", BIND).append(jid.as_str()).build())
            .build();
        let mut reply = result_iq(el, Some(bind));
        xml::set(&mut reply, "to", jid);
        return s.out.push(reply);
    }
    s.out.push(error_iq(el, "auth", "not-authorized"));
}

/// IQs between users (answers to their pings, say) go to the full JID named.
fn route(s: &mut Session, to: Option<Jid>, el: Element) {
    let Some(to) = to else { return };
    let Ok(user) = user_id_of(&to) else { return };
    let res = to.resource().map(|r| r.as_str().to_owned());
    if !messages::deliver_to_user(&s.ctx, user, res.as_deref(), el.clone(), false)
        && matches!(el.attr("type"), Some("get" | "set"))
    {
        s.out.push(error_iq(&el, "cancel", "service-unavailable"));
    }
}

fn last_query(seconds: u64) -> Element {
    Element::builder("query", cc::LAST)
        .a("seconds", seconds.to_string())
        .build()
}

/// Seconds since `user` was last active: 0 online, `None` never logged in.
fn seconds_since(ctx: &Shared, user: UserId) -> Option<u64> {
    if ctx.router.is_online(user) {
        return Some(0);
    }
    since_logout(ctx, user)
}

/// Seconds since `user`'s last logout as stored, `None` when none is.
fn since_logout(ctx: &Shared, user: UserId) -> Option<u64> {
    let at = ctx.backend.last_activity(user).ok()??;
    let now = chrono::Utc::now().timestamp();
    Some(u64::try_from(now.saturating_sub(at)).unwrap_or(0))
}

fn last(s: &mut Session, el: &Element, to: Option<Jid>) {
    let Some(to) = to else {
        // To the server: its uptime, which a devserver does not track.
        return s.out.push(result_iq(el, Some(last_query(0))));
    };
    let Ok(user) = user_id_of(&to) else {
        return s.out.push(result_iq(el, Some(last_query(0))));
    };
    match seconds_since(&s.ctx, user) {
        Some(n) => s.out.push(result_iq(el, Some(last_query(n)))),
        // fixtures/xmpp/iq-last-activity-error-never-logged-in.xml
        None => s.out.push(error_iq(el, "auth", "forbidden")),
    }
}

fn subscribe(s: &mut Session, el: &Element, payload: &Element) {
    let target = payload
        .attr("user_jid")
        .and_then(|j| Jid::new(j).ok())
        .and_then(|j| user_id_of(&j).ok());
    let (Some(target), Some(key)) = (target, s.key()) else {
        return s.out.push(error_iq(el, "modify", "bad-request"));
    };
    let on = matches!(payload.attr("enable"), Some("true" | "1"));
    s.ctx.router.watch(target, key, on);
    s.out.push(result_iq(el, None));
}

/// Pushes `user`'s activity to its status_streaming subscribers: `seconds='0'` when the user
/// comes online; when it goes offline, the seconds since its last logout as stored (at least
/// 1, so 0 still means online).
pub(crate) fn notify_watchers(ctx: &Shared, user: UserId, online: bool) {
    let seconds = if online {
        0
    } else {
        since_logout(ctx, user).unwrap_or(0).max(1)
    };
    for (w, res) in ctx.router.watchers(user) {
        let Some(entry) = ctx.router.entry(w, &res) else {
            continue;
        };
        let push = Element::builder("iq", CLIENT)
            .a("type", "result")
            .a("id", super::session::stream_id())
            .a("from", ctx.user_jid(user))
            .a("to", ctx.full_jid(w, &res))
            .append(last_query(seconds))
            .build();
        let _ = entry.tx.try_send(Deliver::Stanza(push));
    }
}

/// disco#items on a room: the occupants online now (`{room}/{user_id}`, named by user id).
fn disco_items(s: &mut Session, el: &Element, to: Option<Jid>) {
    let room = to.as_ref().and_then(|j| dialog_id_of(j).ok());
    let mut query = Element::builder("query", DISCO_ITEMS);
    if let (Some(room), Some(to)) = (room, to) {
        let bare = to.to_bare().to_string();
        for (_, _, nick) in s.ctx.router.occupants(room) {
            query = query.append(
                Element::builder("item", DISCO_ITEMS)
                    .a("jid", format!("{bare}/{nick}"))
                    .a("name", nick.as_str())
                    .build(),
            );
        }
    }
    s.out.push(result_iq(el, Some(query.build())));
}

fn disco_info(s: &mut Session, el: &Element) {
    let mut query = Element::builder("query", DISCO_INFO).append(
        Element::builder("identity", DISCO_INFO)
            .a("category", "server")
            .a("type", "im")
            .a("name", "ConnectyCube devserver")
            .build(),
    );
    for var in [
        CARBONS,
        cc::PING,
        cc::LAST,
        cc::PRIVACY,
        "urn:xmpp:sm:3",
        "http://jabber.org/protocol/muc",
        "urn:xmpp:csi:0",
    ] {
        query = query.append(
            Element::builder("feature", DISCO_INFO)
                .a("var", var)
                .build(),
        );
    }
    s.out.push(result_iq(el, Some(query.build())));
}
