//! What every message stanza carries besides its payload: id, addresses, type, the dialog it
//! belongs to, and whether it came as a carbon copy or from offline storage.

use chrono::{DateTime, Utc};
use minidom::Element;
use xmpp_parsers::date::DateTime as XmppDateTime;
use xmpp_parsers::delay::Delay;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::{Id, Lang, Message as XmppMessage, MessageType};

use super::carbons;
use super::tree::{leaf, set_attr};
use crate::address::{occupant_user_id, room_of, user_id_of};
use crate::ids::{DialogId, UserId};

/// Which copy a carbon is (XEP-0280).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarbonDirection {
    /// `<sent/>`: this user sent it from another device.
    Sent,
    /// `<received/>`: another device of this user received it.
    Received,
}

/// A carbon copy's wrapper: its direction and the outer stanza's addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct Carbon {
    /// Sent or received.
    pub direction: CarbonDirection,
    /// The wrapper's `from` (the user's bare JID).
    pub from: Option<Jid>,
    /// The wrapper's `to` (this device's full JID).
    pub to: Option<Jid>,
}

/// XEP-0203 delayed delivery: the message waited in offline storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Delayed {
    /// When it was first sent.
    pub stamp: DateTime<Utc>,
    /// Who delayed it (usually the server).
    pub from: Option<Jid>,
}

/// The addressing of a message stanza, after any carbon wrapper was taken off.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The stanza `id` (for chat messages, the message id).
    pub id: Option<String>,
    /// `from`: a user JID, or an occupant JID in group chats; absent on what clients send.
    pub from: Option<Jid>,
    /// `to`: a user JID or a room JID.
    pub to: Option<Jid>,
    /// `type`.
    pub kind: MessageType,
    /// `extraParams/dialog_id`, as on the wire (see [`Envelope::dialog`] for the room fallback).
    pub dialog_id: Option<DialogId>,
    /// Set when the stanza came wrapped as a carbon copy.
    pub carbon: Option<Carbon>,
    /// Set when the stanza carried a delay stamp.
    pub delayed: Option<Delayed>,
}

impl Envelope {
    /// An envelope for a new stanza of `kind` to `to`.
    pub fn new(kind: MessageType, to: Option<Jid>) -> Self {
        Self {
            id: None,
            from: None,
            to,
            kind,
            dialog_id: None,
            carbon: None,
            delayed: None,
        }
    }

    /// The dialog: `dialog_id` if given, else the room of a group message.
    pub fn dialog(&self) -> Option<DialogId> {
        if self.dialog_id.is_some() {
            return self.dialog_id;
        }
        [&self.from, &self.to]
            .into_iter()
            .flatten()
            .find_map(room_of)
    }

    /// Whether the sender is a room occupant (`room/{user_id}`).
    fn sent_in_room(&self) -> bool {
        self.from.as_ref().and_then(room_of).is_some()
    }

    /// The sender's user id: the occupant resource in a room, else the user JID's local part.
    /// `None` when there is no `from` or it is not a ConnectyCube address.
    pub fn sender(&self) -> Option<UserId> {
        let from = self.from.as_ref()?;
        if self.sent_in_room() {
            occupant_user_id(from).ok()
        } else {
            user_id_of(from).ok()
        }
    }

    /// Takes the envelope off a parsed stanza, leaving body and payloads in it.
    pub(crate) fn take(m: &mut XmppMessage) -> Self {
        Self {
            id: m.id.take().map(|Id(s)| s),
            from: m.from.take(),
            to: m.to.take(),
            kind: m.type_.clone(),
            dialog_id: None,
            carbon: None,
            delayed: None,
        }
    }

    /// The stanza with this envelope around `body` and `payloads`, wrapped again if a carbon.
    ///
    /// Built directly as a tree (see [`super::tree`]); carbons, which only a server writes,
    /// go through xmpp-parsers' types.
    pub(crate) fn build(&self, body: Option<String>, mut payloads: Vec<Element>) -> Element {
        if self.carbon.is_some() {
            return self.build_by_schema(body, payloads);
        }
        self.push_delay(&mut payloads);
        let mut m = Element::bare("message", super::ns::JABBER_CLIENT);
        set_attr(&mut m, "from", self.from.as_ref().map(Jid::as_str));
        set_attr(&mut m, "to", self.to.as_ref().map(Jid::as_str));
        set_attr(&mut m, "id", self.id.as_deref());
        set_attr(&mut m, "type", self.kind.clone());
        if let Some(b) = body {
            m.append_child(leaf("body", super::ns::JABBER_CLIENT, b));
        }
        for p in payloads {
            m.append_child(p);
        }
        m
    }

    fn push_delay(&self, payloads: &mut Vec<Element>) {
        if let Some(d) = &self.delayed {
            payloads.push(Element::from(Delay {
                from: d.from.clone(),
                stamp: XmppDateTime(d.stamp.fixed_offset()),
                data: None,
            }));
        }
    }

    /// [`Self::build`] through xmpp-parsers' `Message`: used for carbons, and the reference the
    /// direct build is tested against.
    pub(crate) fn build_by_schema(
        &self,
        body: Option<String>,
        mut payloads: Vec<Element>,
    ) -> Element {
        let mut m = XmppMessage::new_with_type(self.kind.clone(), self.to.clone());
        m.from = self.from.clone();
        m.id = self.id.clone().map(Id);
        if let Some(b) = body {
            m.bodies.insert(Lang::new(), b);
        }
        self.push_delay(&mut payloads);
        m.payloads = payloads;
        match &self.carbon {
            None => Element::from(m),
            Some(c) => carbons::wrap(c, m),
        }
    }
}

/// The first body, preferring the one without a language tag.
pub(crate) fn take_body(m: &mut XmppMessage) -> Option<String> {
    m.bodies
        .remove(&Lang::new())
        .or_else(|| m.bodies.pop_first().map(|(_, b)| b))
}

#[cfg(test)]
mod tests {
    use super::super::markers::Markable;
    use super::super::parts::decompose;
    use connectycube_fixtures::xmpp_all;
    use minidom::Element;

    #[test]
    fn direct_build_equals_the_xso_build_on_every_fixture() {
        let markable = Element::from(Markable);
        assert_eq!(
            markable,
            Element::bare("markable", super::super::ns::CHAT_MARKERS)
        );
        let mut built = 0;
        for f in xmpp_all() {
            let el: Element = f.xml.parse().unwrap();
            if el.name() != "message" {
                continue;
            }
            let Ok((env, parts)) = decompose(el) else {
                continue;
            };
            let mut payloads = vec![markable.clone()];
            if let Some(extra) = &parts.extra {
                payloads.push(extra.to_element().unwrap());
            }
            for body in [parts.body.clone(), None, Some(String::new())] {
                let direct = env.build(body.clone(), payloads.clone());
                let schema = env.build_by_schema(body, payloads.clone());
                assert_eq!(direct, schema, "{}", f.name);
                assert_eq!(String::from(&direct), String::from(&schema), "{}", f.name);
            }
            built += 1;
        }
        assert!(built > 10, "only {built} message fixtures");
    }
}
