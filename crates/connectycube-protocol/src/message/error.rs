//! Message errors: `type='error'` with `<error>`, e.g. when a privacy list blocks the recipient.
//!
//! Read leniently: servers still send the legacy `code` attribute, sometimes without `type`,
//! and the text may be a `<text>` child or (very old servers) the element's own text. That is why
//! xmpp-parsers' strict `StanzaError` (type and condition required) is not used.

use minidom::Element;
use xso::{AsXml, FromXml};

use super::{BuildError, check_text, ns};

/// What went wrong with a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageError {
    /// The legacy numeric `code` (e.g. 503), if given.
    pub code: Option<u16>,
    /// The `type` (`cancel`, `modify`, `auth`, `wait`, …), if given.
    pub kind: Option<String>,
    /// The defined condition's element name (e.g. `service-unavailable`), if given.
    pub condition: Option<String>,
    /// The human-readable text, if given.
    pub text: Option<String>,
}

impl MessageError {
    /// Reads an `<error>` element; never fails, as an error report must reach the caller.
    pub fn from_element(e: &Element) -> Self {
        let condition = e
            .children()
            .find(|c| c.ns() == ns::XMPP_STANZAS && c.name() != "text")
            .map(|c| c.name().to_owned());
        let text = e
            .children()
            .find(|c| c.name() == "text")
            .map(Element::text)
            .or_else(|| Some(e.text()).filter(|t| !t.trim().is_empty()));
        Self {
            code: e.attr("code").and_then(|c| c.trim().parse().ok()),
            kind: e.attr("type").map(str::to_owned),
            condition,
            text,
        }
    }

    /// Whether the error says a privacy list refused the stanza. Neither server gives it a
    /// condition of its own, so the text decides: ConnectyCube says "You have been blocked by
    /// the privacy list" (`service-unavailable`), ejabberd "Your active privacy list has
    /// denied the routing of this stanza" (`not-acceptable`).
    pub fn is_privacy_block(&self) -> bool {
        self.text.as_deref().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("privacy") || t.contains("blocked")
        })
    }

    /// The `<error>` element, in RFC 6120 form plus the legacy `code`.
    ///
    /// # Errors
    /// [`BuildError`] when the condition is not an XML name or the text cannot be carried.
    pub fn to_element(&self) -> Result<Element, BuildError> {
        let mut children = Vec::with_capacity(2);
        if let Some(c) = &self.condition {
            if <&xso::exports::rxml::NcNameStr>::try_from(c.as_str()).is_err() {
                return Err(BuildError::PropertyName(c.chars().take(64).collect()));
            }
            children.push(Element::bare(c.as_str(), ns::XMPP_STANZAS));
        }
        if let Some(t) = &self.text {
            check_text("error text", t)?;
            children.push(
                Element::builder("text", ns::XMPP_STANZAS)
                    .append(t.as_str())
                    .build(),
            );
        }
        Ok(Element::from(ErrorElement {
            code: self.code,
            kind: self.kind.clone(),
            children,
        }))
    }
}

/// The written form of `<error>`; reading is by hand, to accept the legacy shapes.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = ns::JABBER_CLIENT, name = "error")]
struct ErrorElement {
    #[xml(attribute(default))]
    code: Option<u16>,
    #[xml(attribute(name = "type", default))]
    kind: Option<String>,
    #[xml(element(n = ..))]
    children: Vec<Element>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_modern_and_legacy_errors() {
        let e: Element = "<error xmlns='jabber:client' code='503' type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>blocked</text></error>"
            .parse()
            .unwrap();
        let m = MessageError::from_element(&e);
        assert_eq!(m.code, Some(503));
        assert_eq!(m.condition.as_deref(), Some("service-unavailable"));
        assert_eq!(m.text.as_deref(), Some("blocked"));
        assert_eq!(MessageError::from_element(&m.to_element().unwrap()), m);

        let legacy: Element = "<error xmlns='jabber:client' code='403'>Forbidden</error>"
            .parse()
            .unwrap();
        let m = MessageError::from_element(&legacy);
        assert_eq!((m.code, m.kind.as_deref()), (Some(403), None));
        assert_eq!(m.text.as_deref(), Some("Forbidden"));
    }

    #[test]
    fn privacy_blocks_are_told_by_their_text() {
        let with = |condition: &str, text: Option<&str>| MessageError {
            condition: Some(condition.into()),
            text: text.map(str::to_owned),
            ..MessageError::default()
        };
        let connectycube = with(
            "service-unavailable",
            Some("You have been blocked by the privacy list"),
        );
        let ejabberd = with(
            "not-acceptable",
            Some("Your active privacy list has denied the routing of this stanza"),
        );
        assert!(connectycube.is_privacy_block() && ejabberd.is_privacy_block());
        assert!(!with("service-unavailable", None).is_privacy_block());
        assert!(!with("item-not-found", Some("No such user")).is_privacy_block());
    }
}
