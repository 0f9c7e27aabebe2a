//! Message correction (XEP-0308): the new text in `<body>` and `<replace id='…' last='…'/>`.
//!
//! xmpp-parsers' own `Replace` has no `last` attribute, which ConnectyCube sends (whether this edit
//! changed the dialog's last message), so the element is declared here.

use xso::{AsXml, FromXml};

use super::ns;
use crate::ids::MessageId;

/// `<replace xmlns='urn:xmpp:message-correct:0' id='…' last='true|false'/>`.
#[derive(FromXml, AsXml, Debug, Clone, Copy, PartialEq, Eq)]
#[xml(namespace = ns::MESSAGE_CORRECT, name = "replace")]
pub struct Replace {
    /// The message being edited.
    #[xml(attribute)]
    pub id: MessageId,
    /// Whether the edited message is the last of its dialog; absent on plain XEP-0308 clients.
    #[xml(attribute(default))]
    pub last: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;

    #[test]
    fn last_is_optional_and_kept() {
        let e: Element = "<replace xmlns='urn:xmpp:message-correct:0' id='52e6a9c8a18f3a3ea6001f18' last='true'/>"
            .parse()
            .unwrap();
        let r = Replace::try_from(e.clone()).unwrap();
        assert_eq!(r.last, Some(true));
        assert_eq!(Element::from(r), e);
        let e: Element =
            "<replace xmlns='urn:xmpp:message-correct:0' id='52e6a9c8a18f3a3ea6001f18'/>"
                .parse()
                .unwrap();
        assert_eq!(Replace::try_from(e).unwrap().last, None);
    }
}
