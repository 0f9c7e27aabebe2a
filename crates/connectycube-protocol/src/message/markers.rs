//! Chat markers (XEP-0333, `urn:xmpp:chat-markers:0`): markable, received (delivered), displayed (read).

use xso::{AsXml, FromXml};

use super::ns;
use crate::ids::MessageId;

/// `<markable/>`: the sender asks the receiver to report delivery and reading.
#[derive(FromXml, AsXml, Debug, Clone, Copy, PartialEq, Eq)]
#[xml(namespace = ns::CHAT_MARKERS, name = "markable")]
pub struct Markable;

/// `<received id='…'/>`: the message `id` reached the recipient's device ("delivered").
#[derive(FromXml, AsXml, Debug, Clone, Copy, PartialEq, Eq)]
#[xml(namespace = ns::CHAT_MARKERS, name = "received")]
pub struct Received {
    /// The delivered message.
    #[xml(attribute)]
    pub id: MessageId,
}

/// `<displayed id='…'/>`: the recipient read the message `id`.
#[derive(FromXml, AsXml, Debug, Clone, Copy, PartialEq, Eq)]
#[xml(namespace = ns::CHAT_MARKERS, name = "displayed")]
pub struct Displayed {
    /// The read message.
    #[xml(attribute)]
    pub id: MessageId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;

    #[test]
    fn parses_and_builds_markers() {
        let e: Element =
            "<received xmlns='urn:xmpp:chat-markers:0' id='55e818f6e24a0998640041ed'/>"
                .parse()
                .unwrap();
        let r = Received::try_from(e.clone()).unwrap();
        assert_eq!(r.id.to_string(), "55e818f6e24a0998640041ed");
        assert_eq!(Element::from(r), e);
        assert!(Markable::try_from(e).is_err());
    }

    #[test]
    fn a_marker_for_a_bad_id_is_an_error() {
        let e: Element = "<displayed xmlns='urn:xmpp:chat-markers:0' id='origin1'/>"
            .parse()
            .unwrap();
        assert!(Displayed::try_from(e).is_err());
    }
}
