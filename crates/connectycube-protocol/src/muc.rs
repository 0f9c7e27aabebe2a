//! Group and public dialogs in real time: joining and leaving their MUC rooms, who is in them,
//! and the presences the room sends (joined, left, kicked).

use minidom::Element;
use xmpp_parsers::disco::{DiscoItemsQuery, DiscoItemsResult};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::muc::Muc;
use xmpp_parsers::muc::muc::History;
use xmpp_parsers::muc::user::{Affiliation, Item as MucItem, MucUser, Role, Status};
use xmpp_parsers::presence::{Presence, Type as PresenceType};

use crate::address::{ChatDomain, dialog_id_of, occupant_user_id};
use crate::ids::{DialogId, UserId};
use crate::message::ParseError;
use crate::message::error::MessageError;

/// XEP-0045 `muc#user` namespace, where rooms put status codes.
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";

/// A user in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupant {
    /// The dialog whose room it is.
    pub dialog: DialogId,
    /// The room's JID.
    pub room: BareJid,
    /// The user (the occupant's nick is the user id).
    pub user: UserId,
    /// This presence is about the current user (status 110).
    pub is_self: bool,
}

/// What a room presence says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomPresence {
    /// An occupant is in the room (for `is_self`: our join succeeded).
    Joined(Occupant),
    /// An occupant left.
    Left(Occupant),
    /// An occupant was removed by an admin.
    Kicked(Occupant),
}

/// `<presence to='{room}/{user_id}'><x xmlns='…muc'><history maxstanzas='0'/></x></presence>`:
/// join without replaying history (history comes from REST).
///
/// # Errors
/// [`crate::address::AddressError`] when the host makes no valid JID.
pub fn join(domain: &ChatDomain, dialog: DialogId, user: UserId) -> Result<Element, ParseError> {
    let to = domain.occupant_jid(dialog, user)?;
    let muc = Muc::new().with_history(History::new().with_maxstanzas(0));
    Ok(Presence::new(PresenceType::None)
        .with_to(Jid::from(to))
        .with_payloads(vec![muc.into()])
        .into())
}

/// The dialog and error of a room's error presence (`<presence type='error'>` from the room
/// or one of its occupant JIDs): the answer to a join the room refused, e.g.
/// `registration-required` for a user who is not an occupant. `None` for any other stanza.
pub fn join_refusal(el: &Element) -> Option<(DialogId, MessageError)> {
    if el.name() != "presence" || el.attr("type") != Some("error") {
        return None;
    }
    let dialog = dialog_id_of(&Jid::new(el.attr("from")?).ok()?).ok()?;
    let error = el
        .children()
        .find(|c| c.name() == "error")
        .map(MessageError::from_element)
        .unwrap_or_default();
    Some((dialog, error))
}

/// `<presence type='unavailable' to='{room}/{user_id}'/>`.
///
/// # Errors
/// [`crate::address::AddressError`] when the host makes no valid JID.
pub fn leave(domain: &ChatDomain, dialog: DialogId, user: UserId) -> Result<Element, ParseError> {
    let to = domain.occupant_jid(dialog, user)?;
    Ok(Presence::new(PresenceType::Unavailable)
        .with_to(Jid::from(to))
        .into())
}

/// A disco#items query on the room: its items are the occupants online now.
pub fn online_occupants_request(id: impl Into<String>, room: BareJid) -> Element {
    let query = DiscoItemsQuery {
        node: None,
        rsm: None,
    };
    Iq::from_get(id, query).with_to(Jid::from(room)).into()
}

/// The user ids in a disco#items answer (items `{room}/{user_id}`; others skipped).
///
/// # Errors
/// [`ParseError`] when `query` is not a disco#items result.
pub fn online_occupants(query: Element) -> Result<Vec<UserId>, ParseError> {
    let result = DiscoItemsResult::try_from(query)?;
    Ok(result
        .items
        .iter()
        .filter_map(|item| {
            item.name
                .as_deref()
                .and_then(|n| n.parse().ok())
                .or_else(|| occupant_user_id(&item.jid).ok())
        })
        .collect())
}

/// Reads a presence from a room occupant; `None` when `el` is not one (a presence from the
/// room's bare JID is about no occupant).
pub fn classify(el: &Element) -> Option<Result<RoomPresence, ParseError>> {
    let from = Jid::new(el.attr("from")?).ok()?;
    let dialog = dialog_id_of(&from).ok()?;
    from.resource()?;
    let x = el.get_child("x", MUC_USER);
    let codes: Vec<&str> = x
        .into_iter()
        .flat_map(|x| x.children())
        .filter(|c| c.is("status", MUC_USER))
        .filter_map(|c| c.attr("code"))
        .collect();
    let user = match occupant_user_id(&from) {
        Ok(user) => user,
        Err(e) => return Some(Err(e.into())),
    };
    let occupant = Occupant {
        dialog,
        room: from.to_bare(),
        user,
        is_self: codes.contains(&"110"),
    };
    Some(Ok(match el.attr("type") {
        None => RoomPresence::Joined(occupant),
        // ConnectyCube sends 301 when an admin removes a user (WIRE.md); XEP-0045 says 307 for
        // a kick and 301 for a ban: both mean the user was put out.
        Some("unavailable") if codes.iter().any(|c| matches!(*c, "301" | "307")) => {
            RoomPresence::Kicked(occupant)
        }
        Some("unavailable") => RoomPresence::Left(occupant),
        Some(_) => return None,
    }))
}

impl RoomPresence {
    /// The presence a room sends for this event.
    pub fn to_element(&self) -> Element {
        let (o, kind, extra) = match self {
            Self::Joined(o) => (o, PresenceType::None, None),
            Self::Left(o) => (o, PresenceType::Unavailable, None),
            Self::Kicked(o) => (o, PresenceType::Unavailable, Some(Status::Banned)),
        };
        // A user id is always a valid resource, so the room JID always takes it.
        let from = o
            .room
            .with_resource_str(&o.user.to_string())
            .map_or_else(|_| Jid::from(o.room.clone()), Jid::from);
        let role = if kind == PresenceType::None {
            Role::Participant
        } else {
            Role::None
        };
        let statuses = extra
            .into_iter()
            .chain(o.is_self.then_some(Status::SelfPresence));
        let x = MucUser::new()
            .with_items(vec![MucItem::new(Affiliation::Member, role)])
            .with_statuses(statuses.collect());
        Presence::new(kind)
            .with_from(from)
            .with_payloads(vec![x.into()])
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AppId;

    fn domain() -> ChatDomain {
        ChatDomain::new("localhost", AppId(1))
    }

    fn dialog() -> DialogId {
        "5c094c0ce588ce6856f87422".parse().unwrap()
    }

    #[test]
    fn join_asks_for_no_history() {
        let el = join(&domain(), dialog(), UserId(7)).unwrap();
        assert_eq!(
            el.attr("to"),
            Some("1_5c094c0ce588ce6856f87422@muc.localhost/7")
        );
        let x = el.get_child("x", "http://jabber.org/protocol/muc").unwrap();
        assert_eq!(x.children().next().unwrap().attr("maxstanzas"), Some("0"));
        let bye = leave(&domain(), dialog(), UserId(7)).unwrap();
        assert_eq!(bye.attr("type"), Some("unavailable"));
    }

    #[test]
    fn room_presences_round_trip() {
        let room = domain().room_jid(dialog()).unwrap();
        let o = Occupant {
            dialog: dialog(),
            room,
            user: UserId(7),
            is_self: true,
        };
        let other = Occupant {
            is_self: false,
            ..o.clone()
        };
        for p in [
            RoomPresence::Joined(o.clone()),
            RoomPresence::Left(other),
            RoomPresence::Kicked(o),
        ] {
            let el = p.to_element();
            assert_eq!(classify(&el).unwrap().unwrap(), p);
        }
    }

    #[test]
    fn non_room_presence_is_none_and_bad_nick_is_an_error() {
        let plain: Element = "<presence xmlns='jabber:client' from='5-1@localhost/r'/>"
            .parse()
            .unwrap();
        assert!(classify(&plain).is_none());
        let bad: Element = "<presence xmlns='jabber:client' \
            from='1_5c094c0ce588ce6856f87422@muc.localhost/bob'/>"
            .parse()
            .unwrap();
        assert!(classify(&bad).unwrap().is_err());
    }

    #[test]
    fn online_occupants_come_from_disco_items() {
        let el: Element = "<query xmlns='http://jabber.org/protocol/disco#items'>\
            <item jid='1_5c094c0ce588ce6856f87422@muc.localhost/7'/>\
            <item jid='1_5c094c0ce588ce6856f87422@muc.localhost/9' name='9'/></query>"
            .parse()
            .unwrap();
        assert_eq!(online_occupants(el).unwrap(), vec![UserId(7), UserId(9)]);
        let req = online_occupants_request("d1", domain().room_jid(dialog()).unwrap());
        assert_eq!(req.attr("type"), Some("get"));
    }

    #[test]
    fn a_rooms_error_presence_is_a_refused_join() {
        let refused: Element = "<presence xmlns='jabber:client' type='error' \
            from='1_5c094c0ce588ce6856f87422@muc.localhost/7'><error type='auth'>\
            <registration-required xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>\
            </presence>"
            .parse()
            .unwrap();
        let (d, error) = join_refusal(&refused).unwrap();
        assert_eq!(d, dialog());
        assert_eq!(error.condition.as_deref(), Some("registration-required"));
        let joined = RoomPresence::Joined(Occupant {
            dialog: dialog(),
            room: domain().room_jid(dialog()).unwrap(),
            user: UserId(7),
            is_self: true,
        });
        assert!(join_refusal(&joined.to_element()).is_none());
        let user: Element = "<presence xmlns='jabber:client' type='error' from='5-1@localhost/r'/>"
            .parse()
            .unwrap();
        assert!(join_refusal(&user).is_none(), "not from a room");
    }
}
