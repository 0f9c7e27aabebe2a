//! The in-memory server of the send-path benchmark: binds, enables stream management, counts
//! stanzas and answers `<r/>` with `<a h/>`.

use connectycube_transport::connector::Outgoing;
use connectycube_transport::error::StreamError;
use connectycube_transport::stanza::Stanza;
use minidom::Element;
use tokio::sync::mpsc;

const SM: &str = "urn:xmpp:sm:3";

pub async fn serve(
    mut from_client: mpsc::Receiver<Outgoing>,
    to_client: mpsc::Sender<Result<Stanza, StreamError>>,
) {
    let mut h: u32 = 0;
    while let Some(out) = from_client.recv().await {
        let el: Element = std::str::from_utf8(out.bytes()).unwrap().parse().unwrap();
        out.written();
        let answer = answer(&el, &mut h);
        if let Some(a) = answer
            && to_client.send(Ok(a.into())).await.is_err()
        {
            return;
        }
    }
}

fn answer(el: &Element, h: &mut u32) -> Option<Element> {
    let id = el.attr("id").unwrap_or_default().to_owned();
    let xml = match (el.ns().as_str(), el.name()) {
        (SM, "enable") => {
            *h = 0;
            format!("<enabled xmlns='{SM}' id='sm-1' resume='true'/>")
        }
        (SM, "r") => format!("<a xmlns='{SM}' h='{h}'/>"),
        (SM, _) => return None,
        (_, "iq") if el.has_child("bind", "urn:ietf:params:xml:ns:xmpp-bind") => format!(
            "<iq xmlns='jabber:client' type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>1001-1@localhost/bench</jid></bind></iq>"
        ),
        (_, "iq") => {
            *h = h.wrapping_add(1);
            format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")
        }
        _ => {
            *h = h.wrapping_add(1);
            return None;
        }
    };
    Some(xml.parse().unwrap())
}
