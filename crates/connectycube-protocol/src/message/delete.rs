//! Message deletion (`urn:xmpp:message-delete:0`, a ConnectyCube extension): `<remove id='…'/>`.

use xso::{AsXml, FromXml};

use super::ns;
use crate::ids::MessageId;

/// `<remove xmlns='urn:xmpp:message-delete:0' id='…'/>`: the sender deleted message `id`.
#[derive(FromXml, AsXml, Debug, Clone, Copy, PartialEq, Eq)]
#[xml(namespace = ns::MESSAGE_DELETE, name = "remove")]
pub struct Remove {
    /// The deleted message.
    #[xml(attribute)]
    pub id: MessageId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;

    #[test]
    fn parses_and_builds() {
        let e: Element =
            "<remove xmlns='urn:xmpp:message-delete:0' id='52e6a9c8a18f3a3ea6001f18'/>"
                .parse()
                .unwrap();
        let r = Remove::try_from(e.clone()).unwrap();
        assert_eq!(Element::from(r), e);
    }
}
