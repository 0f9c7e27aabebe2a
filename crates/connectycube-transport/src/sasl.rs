//! SASL PLAIN login (RFC 4616), the only mechanism ConnectyCube offers.

use minidom::Element;
use xmpp_parsers::sasl::{Auth, Failure, Mechanism, Success};
use xmpp_parsers::stream_features::StreamFeatures;

use crate::connector::Credentials;
use crate::error::ConnectError;

/// The `<auth mechanism='PLAIN'>` element for `credentials`.
///
/// The payload follows ConnectyCube's official example: authzid = the bare JID, authcid = the
/// JID's local part. ejabberd accepts an authzid whose local part equals the authcid.
pub fn plain_auth(credentials: &Credentials) -> Element {
    let jid = &credentials.jid;
    let authzid = jid.to_string();
    let authcid = jid.node().map(|n| n.as_str()).unwrap_or_default();
    let mut data =
        Vec::with_capacity(authzid.len() + authcid.len() + credentials.password.len() + 2);
    data.extend_from_slice(authzid.as_bytes());
    data.push(0);
    data.extend_from_slice(authcid.as_bytes());
    data.push(0);
    data.extend_from_slice(credentials.password.as_bytes());
    Element::from(Auth {
        mechanism: Mechanism::Plain,
        data,
    })
}

/// What the trace log shows instead of the `<auth>` element, which carries the password.
pub const REDACTED_AUTH: &str =
    "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>[redacted]</auth>";

/// Checks that the server offers SASL PLAIN.
///
/// # Errors
/// [`ConnectError::Negotiation`] when it does not.
pub fn require_plain(features: &StreamFeatures) -> Result<(), ConnectError> {
    if features.sasl_mechanisms.contains("PLAIN") {
        Ok(())
    } else {
        Err(ConnectError::Negotiation(format!(
            "the server does not offer SASL PLAIN (offers {:?})",
            features.sasl_mechanisms
        )))
    }
}

/// Interprets the server's answer to `<auth>`.
///
/// # Errors
/// [`ConnectError::AuthenticationFailure`] with the server's condition on `<failure/>`,
/// [`ConnectError::Negotiation`] on anything else but `<success/>`.
pub fn outcome(element: Element) -> Result<(), ConnectError> {
    let element = match Success::try_from(element) {
        Ok(_) => return Ok(()),
        Err(xso::error::FromElementError::Mismatch(el)) => el,
        Err(e) => return Err(ConnectError::Negotiation(format!("bad <success/>: {e}"))),
    };
    match Failure::try_from(element) {
        Ok(failure) => Err(ConnectError::AuthenticationFailure {
            condition: condition_name(&failure),
        }),
        Err(xso::error::FromElementError::Mismatch(el)) => Err(ConnectError::Negotiation(format!(
            "expected SASL success or failure, got <{} xmlns='{}'>",
            el.name(),
            el.ns()
        ))),
        Err(e) => Err(ConnectError::Negotiation(format!(
            "bad SASL <failure/>: {e}"
        ))),
    }
}

fn condition_name(failure: &Failure) -> String {
    // The condition's XML name, e.g. `not-authorized`, as the server sent it.
    let el = Element::from(failure.defined_condition.clone());
    el.name().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::jid::BareJid;

    fn creds() -> Credentials {
        Credentials {
            jid: BareJid::new("1001-1@localhost").unwrap(),
            password: "pass1001".into(),
        }
    }

    #[test]
    fn plain_payload_is_authzid_authcid_password() {
        let auth = Auth::try_from(plain_auth(&creds())).unwrap();
        assert_eq!(auth.mechanism, Mechanism::Plain);
        assert_eq!(auth.data, b"1001-1@localhost\x001001-1\x00pass1001");
    }

    #[test]
    fn failure_maps_to_typed_non_retryable_error() {
        let el: Element = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>bad</text></failure>"
            .parse()
            .unwrap();
        let err = outcome(el).unwrap_err();
        assert!(
            matches!(&err, ConnectError::AuthenticationFailure { condition } if condition == "not-authorized"),
            "{err:?}"
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn success_and_stray_elements() {
        let ok: Element = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
            .parse()
            .unwrap();
        assert!(outcome(ok).is_ok());
        let stray: Element = "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
            .parse()
            .unwrap();
        assert!(matches!(outcome(stray), Err(ConnectError::Negotiation(_))));
    }

    #[test]
    fn plain_must_be_offered() {
        let with: Element = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>".parse().unwrap();
        assert!(require_plain(&StreamFeatures::try_from(with).unwrap()).is_ok());
        let without: Element = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>".parse().unwrap();
        assert!(require_plain(&StreamFeatures::try_from(without).unwrap()).is_err());
    }
}
