//! XEP-0016 privacy lists, in ConnectyCube's shape: blocking a user takes two items, one for
//! the user JID and one for `muc.{host}/{user_id}` (the user inside any room), at consecutive
//! orders. A one-way block lists the stanza kinds it stops (`message`, `presence-in`,
//! `presence-out`, `iq`); a mutual block lists none, which stops everything.

use minidom::Element;
use xmpp_parsers::iq::{Iq, IqGetPayload, IqResultPayload, IqSetPayload};
use xso::{AsXml, FromXml};

use super::ns;
use crate::address::{ChatDomain, user_id_of};
use crate::ids::UserId;
use crate::message::ParseError;

/// `<query xmlns='jabber:iq:privacy'>`: requests and answers alike.
#[derive(FromXml, AsXml, Debug, Clone, Default, PartialEq, Eq)]
#[xml(namespace = ns::PRIVACY, name = "query")]
pub struct PrivacyQuery {
    /// The active list (`<active name/>`; no name declines it).
    #[xml(child(default))]
    pub active: Option<ActiveList>,
    /// The default list (`<default name/>`; no name declines it).
    #[xml(child(default))]
    pub default: Option<DefaultList>,
    /// Lists: names only when listing, one list with items when getting or setting.
    #[xml(child(n = ..))]
    pub lists: Vec<List>,
}

impl PrivacyQuery {
    /// The `<query/>` of the server's answer to a privacy request; a bare `result` (what a
    /// set gets) carries none and reads as an empty query.
    ///
    /// # Errors
    /// [`ParseError`] when the query is not a XEP-0016 query.
    pub fn of_answer(answer: &Element) -> Result<Self, ParseError> {
        match answer.get_child("query", ns::PRIVACY) {
            Some(query) => Ok(Self::try_from(query.clone())?),
            None => Ok(Self::default()),
        }
    }
}

impl IqGetPayload for PrivacyQuery {}
impl IqSetPayload for PrivacyQuery {}
impl IqResultPayload for PrivacyQuery {}

/// `<active name='…'/>`.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = ns::PRIVACY, name = "active")]
pub struct ActiveList {
    /// The list's name; `None` declines the active list.
    #[xml(attribute(default))]
    pub name: Option<String>,
}

/// `<default name='…'/>`.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = ns::PRIVACY, name = "default")]
pub struct DefaultList {
    /// The list's name; `None` declines the default list.
    #[xml(attribute(default))]
    pub name: Option<String>,
}

/// `<list name='…'>` with its items.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = ns::PRIVACY, name = "list")]
pub struct List {
    /// The list's name.
    #[xml(attribute)]
    pub name: String,
    /// Its rules, in any order (`order` decides).
    #[xml(child(n = ..))]
    pub items: Vec<Item>,
}

/// One XEP-0016 rule.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = ns::PRIVACY, name = "item")]
pub struct Item {
    /// `jid`, `group` or `subscription`; ConnectyCube uses `jid`.
    #[xml(attribute(name = "type", default))]
    pub kind: Option<String>,
    /// The JID the rule matches.
    #[xml(attribute(default))]
    pub value: Option<String>,
    /// `allow` or `deny`.
    #[xml(attribute)]
    pub action: String,
    /// Where the rule stands; lower first.
    #[xml(attribute)]
    pub order: u32,
    /// Stops messages.
    #[xml(flag)]
    pub message: bool,
    /// Stops inbound presence.
    #[xml(flag(name = "presence-in"))]
    pub presence_in: bool,
    /// Stops outbound presence.
    #[xml(flag(name = "presence-out"))]
    pub presence_out: bool,
    /// Stops IQs.
    #[xml(flag)]
    pub iq: bool,
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivacyAction {
    /// Let the user's stanzas through.
    Allow,
    /// Block the user.
    Deny,
}

/// One user in a privacy list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyRule {
    /// The user.
    pub user: UserId,
    /// Allow or deny.
    pub action: PrivacyAction,
    /// Both ways (everything) or one way (their messages, presence and IQs to us).
    pub mutual: bool,
}

/// A named privacy list of ConnectyCube users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyList {
    /// The list's name.
    pub name: String,
    /// Its users, in order.
    pub rules: Vec<PrivacyRule>,
}

/// A privacy list the server cannot take, or items that are not ConnectyCube's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrivacyError {
    /// The server refuses a list with no items: remove it instead.
    #[error("privacy list `{0}` has no rules; a list must have at least one")]
    Empty(String),
    /// An item's action is neither allow nor deny.
    #[error("privacy item action `{0}` is neither allow nor deny")]
    Action(String),
    /// The JIDs could not be built for the chat host.
    #[error(transparent)]
    Address(#[from] crate::address::AddressError),
}

impl PrivacyList {
    /// The XEP-0016 list: two items per user, at consecutive orders.
    ///
    /// # Errors
    /// [`PrivacyError::Empty`] for a list with no rules (the server refuses it).
    pub fn to_list(&self, domain: &ChatDomain) -> Result<List, PrivacyError> {
        if self.rules.is_empty() {
            return Err(PrivacyError::Empty(self.name.clone()));
        }
        let mut items = Vec::with_capacity(self.rules.len() * 2);
        for (i, rule) in self.rules.iter().enumerate() {
            let order = (i as u32) * 2 + 1;
            let user = domain.user_jid(rule.user)?.to_string();
            let in_rooms = format!("{}/{}", domain.muc_host(), rule.user);
            items.push(rule.item(user, order));
            items.push(rule.item(in_rooms, order + 1));
        }
        Ok(List {
            name: self.name.clone(),
            items,
        })
    }

    /// Reads a list back: one rule per user, from its user-JID item (room items are implied).
    ///
    /// # Errors
    /// [`PrivacyError::Action`] for an action other than allow/deny.
    pub fn from_list(list: &List) -> Result<Self, PrivacyError> {
        let mut items: Vec<&Item> = list.items.iter().collect();
        items.sort_by_key(|i| i.order);
        let mut rules = Vec::new();
        for item in items {
            let Some(user) = item.value.as_deref().and_then(user_of_item) else {
                continue;
            };
            let action = match item.action.as_str() {
                "allow" => PrivacyAction::Allow,
                "deny" => PrivacyAction::Deny,
                other => return Err(PrivacyError::Action(other.to_owned())),
            };
            let mutual = !(item.message || item.presence_in || item.presence_out || item.iq);
            rules.push(PrivacyRule {
                user,
                action,
                mutual,
            });
        }
        Ok(Self {
            name: list.name.clone(),
            rules,
        })
    }
}

/// The user of a user-JID item; room items (`muc.host/{id}`) and other JIDs give `None`.
fn user_of_item(value: &str) -> Option<UserId> {
    let jid = xmpp_parsers::jid::Jid::new(value).ok()?;
    user_id_of(&jid).ok()
}

impl PrivacyRule {
    fn item(&self, value: String, order: u32) -> Item {
        let one_way = !self.mutual;
        Item {
            kind: Some("jid".into()),
            value: Some(value),
            action: match self.action {
                PrivacyAction::Allow => "allow".into(),
                PrivacyAction::Deny => "deny".into(),
            },
            order,
            message: one_way,
            presence_in: one_way,
            presence_out: one_way,
            iq: one_way,
        }
    }
}

/// The names of a user's lists, and which are active and default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivacyListNames {
    /// The active list, if any.
    pub active: Option<String>,
    /// The default list, if any.
    pub default: Option<String>,
    /// Every list's name.
    pub names: Vec<String>,
}

impl From<&PrivacyQuery> for PrivacyListNames {
    fn from(q: &PrivacyQuery) -> Self {
        Self {
            active: q.active.as_ref().and_then(|a| a.name.clone()),
            default: q.default.as_ref().and_then(|d| d.name.clone()),
            names: q.lists.iter().map(|l| l.name.clone()).collect(),
        }
    }
}

/// Requests a client sends about its privacy lists.
pub mod request {
    use super::*;

    fn get(id: &str, query: PrivacyQuery) -> Element {
        Iq::from_get(id, query).into()
    }

    fn set(id: &str, query: PrivacyQuery) -> Element {
        Iq::from_set(id, query).into()
    }

    /// Every list's name (an empty query).
    pub fn names(id: &str) -> Element {
        get(id, PrivacyQuery::default())
    }

    /// One list with its items.
    pub fn list(id: &str, name: &str) -> Element {
        let lists = vec![List {
            name: name.to_owned(),
            items: Vec::new(),
        }];
        get(
            id,
            PrivacyQuery {
                lists,
                ..Default::default()
            },
        )
    }

    /// Creates or replaces a list.
    ///
    /// # Errors
    /// [`PrivacyError::Empty`] for a list with no rules.
    pub fn set_list(
        id: &str,
        list: &PrivacyList,
        domain: &ChatDomain,
    ) -> Result<Element, PrivacyError> {
        let lists = vec![list.to_list(domain)?];
        Ok(set(
            id,
            PrivacyQuery {
                lists,
                ..Default::default()
            },
        ))
    }

    /// Removes a list (set with no items).
    pub fn remove_list(id: &str, name: &str) -> Element {
        let lists = vec![List {
            name: name.to_owned(),
            items: Vec::new(),
        }];
        set(
            id,
            PrivacyQuery {
                lists,
                ..Default::default()
            },
        )
    }

    /// Sets the default list, or declines it with `None`.
    pub fn set_default(id: &str, name: Option<&str>) -> Element {
        let default = Some(DefaultList {
            name: name.map(str::to_owned),
        });
        set(
            id,
            PrivacyQuery {
                default,
                ..Default::default()
            },
        )
    }

    /// Sets the active list, or declines it with `None`.
    pub fn set_active(id: &str, name: Option<&str>) -> Element {
        let active = Some(ActiveList {
            name: name.map(str::to_owned),
        });
        set(
            id,
            PrivacyQuery {
                active,
                ..Default::default()
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AppId;

    fn domain() -> ChatDomain {
        ChatDomain::new("localhost", AppId(1))
    }

    fn seed_list() -> PrivacyList {
        let rule = |user, action, mutual| PrivacyRule {
            user: UserId(user),
            action,
            mutual,
        };
        PrivacyList {
            name: "custom".into(),
            rules: vec![
                rule(34, PrivacyAction::Deny, false),
                rule(48, PrivacyAction::Deny, true),
                rule(18, PrivacyAction::Allow, true),
            ],
        }
    }

    #[test]
    fn each_user_takes_two_consecutive_items() {
        let list = seed_list().to_list(&domain()).unwrap();
        assert_eq!(list.items.len(), 6);
        let first = &list.items[0];
        assert_eq!(first.value.as_deref(), Some("34-1@localhost"));
        assert_eq!((first.order, first.message, first.iq), (1, true, true));
        assert_eq!(list.items[1].value.as_deref(), Some("muc.localhost/34"));
        assert_eq!(list.items[1].order, 2);
        let mutual = &list.items[2];
        assert!(!mutual.message && !mutual.presence_in && !mutual.presence_out && !mutual.iq);
    }

    #[test]
    fn lists_round_trip_through_xml() {
        let el = request::set_list("p1", &seed_list(), &domain()).unwrap();
        let query =
            PrivacyQuery::try_from(el.get_child("query", ns::PRIVACY).unwrap().clone()).unwrap();
        assert_eq!(
            PrivacyList::from_list(&query.lists[0]).unwrap(),
            seed_list()
        );
    }

    #[test]
    fn empty_lists_and_bad_actions_are_errors() {
        let empty = PrivacyList {
            name: "x".into(),
            rules: vec![],
        };
        assert_eq!(
            empty.to_list(&domain()),
            Err(PrivacyError::Empty("x".into()))
        );
        let mut list = seed_list().to_list(&domain()).unwrap();
        list.items[0].action = "maybe".into();
        assert!(matches!(
            PrivacyList::from_list(&list),
            Err(PrivacyError::Action(_))
        ));
    }

    #[test]
    fn default_and_decline_shapes() {
        let set = request::set_default("d", Some("custom"));
        let q = set.get_child("query", ns::PRIVACY).unwrap();
        assert_eq!(
            q.get_child("default", ns::PRIVACY).unwrap().attr("name"),
            Some("custom")
        );
        let decline = request::set_default("d", None);
        let q = decline.get_child("query", ns::PRIVACY).unwrap();
        assert_eq!(
            q.get_child("default", ns::PRIVACY).unwrap().attr("name"),
            None
        );
    }

    #[test]
    fn answers_are_read_by_their_query_and_a_bare_result_is_empty() {
        let names: Element = "<iq xmlns='jabber:client' type='result' id='n'>\
            <query xmlns='jabber:iq:privacy'><default name='blocked'/>\
            <list name='blocked'/><list name='work'/></query></iq>"
            .parse()
            .unwrap();
        let names = PrivacyListNames::from(&PrivacyQuery::of_answer(&names).unwrap());
        assert_eq!(names.default.as_deref(), Some("blocked"));
        assert_eq!(names.names, ["blocked", "work"]);
        let bare: Element = "<iq xmlns='jabber:client' type='result' id='s'/>"
            .parse()
            .unwrap();
        assert_eq!(
            PrivacyQuery::of_answer(&bare).unwrap(),
            PrivacyQuery::default()
        );
        let bad: Element = "<iq xmlns='jabber:client' type='result' id='b'>\
            <query xmlns='jabber:iq:privacy'><list/></query></iq>"
            .parse()
            .unwrap();
        assert!(
            PrivacyQuery::of_answer(&bad).is_err(),
            "a list needs a name"
        );
    }
}
