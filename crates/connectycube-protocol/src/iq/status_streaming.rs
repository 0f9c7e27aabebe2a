//! ConnectyCube's last-activity subscription: after subscribing to a user, the server pushes
//! `jabber:iq:last` results whenever that user's activity changes.

use minidom::Element;
use xmpp_parsers::iq::{Iq, IqSetPayload};
use xmpp_parsers::jid::BareJid;
use xso::{AsXml, FromXml};

use super::ns;

/// `<subscribe xmlns='https://connectycube.com/protocol/status_streaming' user_jid='…' enable='…'/>`.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = ns::STATUS_STREAMING, name = "subscribe")]
pub struct Subscribe {
    /// The user whose activity to follow.
    #[xml(attribute)]
    pub user_jid: BareJid,
    /// `true` subscribes, `false` unsubscribes.
    #[xml(attribute)]
    pub enable: bool,
}

impl IqSetPayload for Subscribe {}

impl Subscribe {
    /// The `<iq type='set'>` carrying this subscription change.
    pub fn request(self, id: impl Into<String>) -> Element {
        Iq::from_set(id, self).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_the_subscription() {
        let sub = Subscribe {
            user_jid: BareJid::new("1002-1@localhost").unwrap(),
            enable: true,
        };
        let iq = sub.clone().request("s1");
        assert_eq!(iq.attr("type"), Some("set"));
        let child = iq
            .get_child("subscribe", ns::STATUS_STREAMING)
            .unwrap()
            .clone();
        assert_eq!(child.attr("enable"), Some("true"));
        assert_eq!(Subscribe::try_from(child).unwrap(), sub);
    }
}
