//! The reactions event the server pushes after `PUT /chat/Message/{id}/reactions`.
//!
//! The docs show `<reactions>` with no namespace of its own, so it is in `jabber:client` (the
//! stanza's namespace), unlike XEP-0444's `urn:xmpp:reactions:0`.

use xso::{AsXml, FromXml};

use super::ns;
use crate::ids::{MessageId, UserId};

/// `<reactions user_id='…' message_id='…'>` with one `<reaction>` per change.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = ns::JABBER_CLIENT, name = "reactions")]
pub struct Reactions {
    /// Who reacted.
    #[xml(attribute)]
    pub user_id: UserId,
    /// The message reacted to.
    #[xml(attribute)]
    pub message_id: MessageId,
    /// What changed, in the server's order.
    #[xml(child(n = ..))]
    pub changes: Vec<Reaction>,
}

/// `<reaction add='true' type='👍'/>` or `<reaction remove='true' type='👎'/>`.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = ns::JABBER_CLIENT, name = "reaction")]
pub struct Reaction {
    /// The reaction, usually an emoji.
    #[xml(attribute(name = "type"))]
    pub kind: String,
    /// Set when the reaction was added.
    #[xml(attribute(default))]
    pub add: Option<bool>,
    /// Set when the reaction was removed.
    #[xml(attribute(default))]
    pub remove: Option<bool>,
}

impl Reaction {
    /// An added reaction.
    pub fn added(kind: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            add: Some(true),
            remove: None,
        }
    }

    /// A removed reaction.
    pub fn removed(kind: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            add: None,
            remove: Some(true),
        }
    }

    /// Whether this change adds the reaction (`add='true'`; anything else is a removal).
    pub fn is_add(&self) -> bool {
        self.add == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;

    #[test]
    fn parses_the_documented_event() {
        let e: Element = "<reactions xmlns='jabber:client' user_id='89209' message_id='5c094687e588ce59fff87425'><reaction add='true' type='👍'/><reaction remove='true' type='👎'/></reactions>"
            .parse()
            .unwrap();
        let r = Reactions::try_from(e.clone()).unwrap();
        assert_eq!(r.user_id, UserId(89209));
        assert_eq!(
            r.changes,
            vec![Reaction::added("👍"), Reaction::removed("👎")]
        );
        assert!(r.changes[0].is_add() && !r.changes[1].is_add());
        assert_eq!(
            Reactions::try_from(Element::from(r)).unwrap().changes.len(),
            2
        );
    }

    #[test]
    fn bad_user_id_is_an_error() {
        let e: Element =
            "<reactions xmlns='jabber:client' user_id='x' message_id='5c094687e588ce59fff87425'/>"
                .parse()
                .unwrap();
        assert!(Reactions::try_from(e).is_err());
    }
}
