//! Sends written straight to text by the protocol crate (`connectycube_protocol::fast`): the
//! hot stanzas (chat and group chat messages, markers, typing) go to the unacked books as the
//! bytes the tree path would have serialized, without building the tree.

use bytes::Bytes;
use connectycube_protocol::ChatEvent;
use connectycube_protocol::fast::write_event;
use connectycube_protocol::message::{BuildError, ChatKind};
use connectycube_protocol::model::Message;
use xmpp_parsers::jid::Jid;

use super::sm::Unacked;

/// Room for a typical message's text: one allocation for most.
const USUAL_LENGTH: usize = 1024;

/// `message` written as `message.to_stanza(to, kind)` would serialize.
pub(crate) fn message(message: &Message, to: &Jid, kind: ChatKind) -> Result<Unacked, BuildError> {
    let mut xml = String::with_capacity(USUAL_LENGTH);
    message.write_stanza(to, kind, &mut xml)?;
    Ok(entry(xml, Some(message.id.to_string())))
}

/// The stanza of a hot `event` written as `event.to_element()` would serialize; `None` for
/// any other event (the caller builds its tree).
pub(crate) fn event(event: &ChatEvent) -> Result<Option<Unacked>, BuildError> {
    let mut xml = String::with_capacity(USUAL_LENGTH);
    if !write_event(event, &mut xml)? {
        return Ok(None);
    }
    let id = event.envelope().and_then(|e| e.id.clone());
    Ok(Some(entry(xml, id)))
}

/// Every hot stanza is a `<message>`: it goes again after a fresh session and its id
/// correlates a bounce, as `Unacked::serialize` finds for the tree.
fn entry(xml: String, id: Option<String>) -> Unacked {
    Unacked {
        bytes: Bytes::from(xml),
        is_message: true,
        id: id.map(String::into_boxed_str),
        tracker: None,
        permit: None,
        retries: 0,
    }
}

#[cfg(test)]
mod tests {
    use connectycube_fixtures::xmpp_all;
    use connectycube_protocol::classify_xml;
    use connectycube_protocol::model::Attachment;
    use minidom::Element;

    use super::*;

    /// The written entry against the tree's: the same element once parsed, the same books.
    fn same(written: &Unacked, tree: &Element) {
        let tree_entry = Unacked::serialize(tree).unwrap();
        let parse = |b: &Bytes| -> Element { std::str::from_utf8(b).unwrap().parse().unwrap() };
        assert_eq!(parse(&written.bytes), parse(&tree_entry.bytes));
        assert_eq!(written.is_message, tree_entry.is_message);
        assert_eq!(written.id, tree_entry.id);
    }

    #[test]
    fn a_message_is_written_as_the_tree_serializes() {
        let mut m = Message::new("a < b & \"c\"\r\n👍");
        m.attachments.push(Attachment::new("image").with_id("1"));
        m.custom
            .insert("k".into(), serde_json::json!({"n": [1, "x"]}));
        let to: Jid = "105_5c093376e588ce6856f873fe@muc.h".parse().unwrap();
        for kind in [ChatKind::Chat, ChatKind::Groupchat] {
            let written = message(&m, &to, kind).unwrap();
            same(&written, &m.to_stanza(to.clone(), kind).unwrap());
        }
    }

    #[test]
    fn hot_fixture_events_are_written_as_the_tree_serializes() {
        let mut written = 0;
        for f in xmpp_all() {
            let Ok(e) = classify_xml(&f.xml) else {
                continue;
            };
            if let Some(entry) = event(&e).unwrap() {
                same(&entry, &e.to_element().unwrap());
                written += 1;
            }
        }
        assert!(written >= 10, "only {written}");
    }
}
