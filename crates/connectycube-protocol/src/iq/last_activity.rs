//! XEP-0012 last activity: how long ago a user was last active (0 while online).

use minidom::Element;
use xmpp_parsers::iq::{Iq, IqGetPayload, IqResultPayload};
use xmpp_parsers::jid::{BareJid, Jid};
use xso::{AsXml, FromXml};

use super::ns;
use crate::address::user_id_of;
use crate::ids::UserId;

/// `<query xmlns='jabber:iq:last' seconds='…'>status</query>`.
#[derive(FromXml, AsXml, Debug, Clone, Default, PartialEq, Eq)]
#[xml(namespace = ns::LAST, name = "query")]
pub struct LastQuery {
    /// Seconds since the last activity; absent in a request.
    #[xml(attribute(default))]
    pub seconds: Option<u64>,
    /// The user's last status text, if any.
    #[xml(text(codec = xso::text::EmptyAsNone))]
    pub status: Option<String>,
}

impl IqGetPayload for LastQuery {}
impl IqResultPayload for LastQuery {}

/// A user's last activity, as answered or pushed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastActivity {
    /// The IQ id: the request's id for an answer, the server's for a push.
    pub iq_id: String,
    /// Whose activity.
    pub user: UserId,
    /// The user's JID, as the answer came from it.
    pub from: Jid,
    /// Seconds since the user was last active; 0 means online now.
    pub seconds: u64,
}

/// `<iq type='get' to='{user jid}'><query xmlns='jabber:iq:last'/></iq>`.
pub fn request(id: impl Into<String>, user: BareJid) -> Element {
    super::addressed(
        Iq::from_get(id, LastQuery::default()),
        Some(Jid::from(user)),
    )
}

impl LastActivity {
    /// The answer a server sends for this value.
    pub fn to_result(&self) -> Element {
        let query = LastQuery {
            seconds: Some(self.seconds),
            status: None,
        };
        Iq::from_result(self.iq_id.clone(), Some(query))
            .with_from(self.from.clone())
            .into()
    }

    /// Reads a `result` (or pushed `set`) IQ with a `jabber:iq:last` query from a user JID.
    /// `None` when `iq` is not one; a foreign sender or missing `seconds` is an error.
    pub fn from_iq(iq: &Element) -> Option<Result<Self, crate::message::ParseError>> {
        let query = iq.get_child("query", ns::LAST)?;
        if !matches!(iq.attr("type"), Some("result" | "set")) {
            return None;
        }
        Some(Self::read(iq, query))
    }

    fn read(iq: &Element, query: &Element) -> Result<Self, crate::message::ParseError> {
        use crate::message::ParseError;
        let q = LastQuery::try_from(query.clone())?;
        let from = iq
            .attr("from")
            .ok_or(ParseError::Missing("last activity needs a from"))?;
        let from = Jid::new(from).map_err(|_| {
            ParseError::Address(crate::address::AddressError::NotAUser(from.to_owned()))
        })?;
        Ok(Self {
            iq_id: iq.attr("id").unwrap_or_default().to_owned(),
            user: user_id_of(&from)?,
            from,
            seconds: q
                .seconds
                .ok_or(ParseError::Missing("last activity needs seconds"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_answer_round_trip() {
        let jid = BareJid::new("1002-1@localhost").unwrap();
        let req = request("l1", jid.clone());
        assert_eq!(req.attr("to"), Some("1002-1@localhost"));
        assert!(req.has_child("query", ns::LAST));
        let answer = LastActivity {
            iq_id: "l1".into(),
            user: UserId(1002),
            from: Jid::from(jid),
            seconds: 42,
        };
        let el = answer.to_result();
        assert_eq!(LastActivity::from_iq(&el).unwrap().unwrap(), answer);
    }

    #[test]
    fn foreign_sender_and_missing_seconds_are_errors() {
        let foreign: Element = "<iq xmlns='jabber:client' type='result' id='a' from='bob@x'>\
            <query xmlns='jabber:iq:last' seconds='1'/></iq>"
            .parse()
            .unwrap();
        assert!(LastActivity::from_iq(&foreign).unwrap().is_err());
        let no_seconds: Element = "<iq xmlns='jabber:client' type='result' id='a' from='5-1@x'>\
            <query xmlns='jabber:iq:last'/></iq>"
            .parse()
            .unwrap();
        assert!(LastActivity::from_iq(&no_seconds).unwrap().is_err());
        let get: Element = "<iq xmlns='jabber:client' type='get' id='a' to='5-1@x'>\
            <query xmlns='jabber:iq:last'/></iq>"
            .parse()
            .unwrap();
        assert!(LastActivity::from_iq(&get).is_none());
    }
}
