//! XEP-0199 ping: the client's keepalive and the server's liveness checks.

use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::ping::Ping;

use super::addressed;

/// `<iq type='get' to='{host}'><ping xmlns='urn:xmpp:ping'/></iq>`.
pub fn request(id: impl Into<String>, to: Option<Jid>) -> Element {
    addressed(Iq::from_get(id, Ping), to)
}

/// Whether `el` is a ping request (which must be answered with an empty result).
pub fn is_request(el: &Element) -> bool {
    el.is("iq", "jabber:client")
        && el.attr("type") == Some("get")
        && el.has_child("ping", super::ns::PING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_recognises_a_ping() {
        let to = Jid::new("localhost").unwrap();
        let el = request("p1", Some(to));
        assert!(is_request(&el));
        assert_eq!(el.attr("to"), Some("localhost"));
        let pong: Element = "<iq xmlns='jabber:client' type='result' id='p1'/>"
            .parse()
            .unwrap();
        assert!(!is_request(&pong));
    }
}
