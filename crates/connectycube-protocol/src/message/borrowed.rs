//! The everyday message stanzas read straight from the parsed, borrowed [`Element`].
//!
//! xso's derived `TryFrom<Element>` replays a tree as XML events and rebuilds every payload it
//! keeps, which cost more than parsing the bytes (docs/PERFORMANCE.md). Chat and group chat
//! messages (body, `extraParams`, attachments, `markable`, delay), markers and typing arrive many
//! times a second, so [`decompose`] reads those shapes here by attribute and child lookups.
//!
//! The xso types stay the schema: whenever this reader meets anything outside the plain shape (an
//! unexpected attribute, child or text, a repeated element, a value that does not parse, a
//! carbon, an edit) it gives up with `None` and the caller takes the xso path, which then gives
//! the precise result or error. A `Some` is therefore always what [`super::parts::decompose`]
//! returns for the same stanza; tests check this on every fixture and on generated messages.

use minidom::Element;
use xmpp_parsers::chatstates::ChatState;
use xmpp_parsers::date::DateTime as XmppDateTime;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use super::envelope::{Delayed, Envelope};
use super::extra_params::{self, ExtraParams, KnownTexts};
use super::markers::{Displayed, Received};
use super::ns;
use super::parts::Parts;
use crate::model::Attachment;

/// The XML namespace of `xml:lang`, which xso discards on `<message>`.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Envelope and parts of a plain (not carbon) `<message>`, or `None` to use the xso path.
pub(crate) fn decompose(m: &Element) -> Option<(Envelope, Parts)> {
    if !m.is("message", ns::JABBER_CLIENT) || !whitespace_only(m) {
        return None;
    }
    let (mut from, mut to, mut id, mut kind) = (None, None, None, MessageType::Normal);
    attrs(m, |name, value| {
        match name {
            "from" => from = Some(value),
            "to" => to = Some(value),
            "id" => id = Some(value),
            "type" => kind = message_type(value)?,
            "xml:lang" => {}
            _ => return None,
        }
        Some(())
    })?;
    let mut env = Envelope::new(kind, jid(to)?);
    env.from = jid(from)?;
    env.id = id.map(str::to_owned);
    let mut parts = Parts::default();
    for c in m.children() {
        read_child(c, &mut env, &mut parts)?;
    }
    env.dialog_id = parts.extra.as_ref().and_then(|e| e.dialog_id);
    Some((env, parts))
}

fn message_type(value: &str) -> Option<MessageType> {
    match value {
        "normal" => Some(MessageType::Normal),
        "chat" => Some(MessageType::Chat),
        "groupchat" => Some(MessageType::Groupchat),
        // Errors and headlines are rare; the xso path reads them.
        _ => None,
    }
}

/// Visits `e`'s attributes by name (`xml:lang` as `"xml:lang"`), in one pass over the map
/// rather than a lookup per known name; gives up on other namespaced ones or when `f` does.
fn attrs<'a>(e: &'a Element, mut f: impl FnMut(&str, &'a str) -> Option<()>) -> Option<()> {
    for ((namespace, name), value) in e.attrs().iter() {
        let name: &str = name;
        if namespace.is_none() {
            f(name, value)?;
        } else if namespace.as_str() == XML_NS && name == "lang" {
            f("xml:lang", value)?;
        } else {
            return None;
        }
    }
    Some(())
}

/// Files one payload of the message into `env`/`parts`; `None` for anything unusual.
fn read_child(c: &Element, env: &mut Envelope, parts: &mut Parts) -> Option<()> {
    let name = c.name();
    if c.has_ns(ns::JABBER_CLIENT) {
        match name {
            "body" => set_once(&mut parts.body, body(c)?),
            "extraParams" => set_once(&mut parts.extra, extra(c)?),
            // subject, thread, error, reactions, nested stanzas: the xso path.
            _ => None,
        }
    } else if c.has_ns(ns::CHAT_MARKERS) {
        match name {
            "markable" if empty(c) && !parts.markable => {
                parts.markable = true;
                Some(())
            }
            "received" => set_once(&mut parts.received, Received { id: marker_id(c)? }),
            "displayed" => set_once(&mut parts.displayed, Displayed { id: marker_id(c)? }),
            _ => None,
        }
    } else if c.has_ns(ns::CHATSTATES) {
        set_once(&mut parts.chat_state, chat_state(c)?)
    } else if c.has_ns(ns::DELAY) {
        if name != "delay" || env.delayed.is_some() {
            return None;
        }
        env.delayed = Some(delay(c)?);
        Some(())
    } else if [ns::CARBONS, ns::MESSAGE_CORRECT, ns::MESSAGE_DELETE]
        .iter()
        .any(|n| c.has_ns(*n))
    {
        None
    } else {
        // A payload no event carries (hints, self-destroy...): skipped, as the xso path does.
        Some(())
    }
}

/// Stores `value` in an empty slot; a second occurrence goes to the xso path.
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

fn jid(s: Option<&str>) -> Option<Option<Jid>> {
    match s {
        None => Some(None),
        Some(s) => Jid::new(s).ok().map(Some),
    }
}

/// Whether `e`'s own text is XML white space only (xso rejects other text where none belongs).
fn whitespace_only(e: &Element) -> bool {
    e.texts().all(xso::is_xml_whitespace)
}

/// Whether `e` has no child elements and no text but white space.
fn no_content(e: &Element) -> bool {
    e.children().next().is_none() && whitespace_only(e)
}

/// Whether `e` is empty: no content and no attributes.
fn empty(e: &Element) -> bool {
    no_content(e) && e.attrs().is_empty()
}

/// A `<body>`'s text; one body with at most `xml:lang` reads the same whatever its language.
fn body(b: &Element) -> Option<String> {
    if b.children().next().is_some() {
        return None;
    }
    attrs(b, |name, _| (name == "xml:lang").then_some(()))?;
    Some(b.text())
}

fn marker_id(c: &Element) -> Option<crate::ids::MessageId> {
    if !no_content(c) {
        return None;
    }
    let mut id = None;
    attrs(c, |name, value| (name == "id").then(|| id = Some(value)))?;
    id?.trim().parse().ok()
}

fn chat_state(c: &Element) -> Option<ChatState> {
    if !empty(c) {
        return None;
    }
    Some(match c.name() {
        "active" => ChatState::Active,
        "composing" => ChatState::Composing,
        "gone" => ChatState::Gone,
        "inactive" => ChatState::Inactive,
        "paused" => ChatState::Paused,
        _ => return None,
    })
}

/// XEP-0203 `<delay from='…' stamp='…'>reason</delay>`; the reason text is not kept.
fn delay(c: &Element) -> Option<Delayed> {
    if c.children().next().is_some() {
        return None;
    }
    let (mut from, mut stamp) = (None, None);
    attrs(c, |name, value| {
        match name {
            "from" => from = Some(value),
            "stamp" => stamp = Some(value),
            _ => return None,
        }
        Some(())
    })?;
    let stamp: XmppDateTime = stamp?.parse().ok()?;
    Some(Delayed {
        stamp: stamp.0.to_utc(),
        from: jid(from)?,
    })
}

/// `<extraParams>` through the same conversion as the xso path ([`extra_params::assemble`]).
fn extra(e: &Element) -> Option<ExtraParams> {
    if !e.attrs().is_empty() || !whitespace_only(e) {
        return None;
    }
    let mut known = KnownTexts::default();
    let mut module = None;
    let mut attachments = Vec::new();
    let mut custom = Vec::new();
    for c in e.children() {
        if !c.has_ns(ns::JABBER_CLIENT) {
            custom.push(c);
            continue;
        }
        let slot = match c.name() {
            "save_to_history" => &mut known.save_to_history,
            "date_sent" => &mut known.date_sent,
            "dialog_id" => &mut known.dialog_id,
            "silent" => &mut known.silent,
            "moduleIdentifier" => {
                set_once(&mut module, leaf_text(c)?)?;
                continue;
            }
            "attachment" => {
                attachments.push(attachment(c)?);
                continue;
            }
            _ => {
                custom.push(c);
                continue;
            }
        };
        set_once(slot, leaf_text_ref(c)?)?;
    }
    Some(extra_params::assemble(known, module, attachments, custom))
}

/// The text of a known `extraParams` child, which must be a plain leaf.
fn leaf_text(c: &Element) -> Option<String> {
    (c.children().next().is_none() && c.attrs().is_empty()).then(|| c.text())
}

/// As [`leaf_text`], borrowed when the leaf holds a single text node (the usual case).
fn leaf_text_ref(c: &Element) -> Option<&str> {
    if c.children().next().is_some() || !c.attrs().is_empty() {
        return None;
    }
    let mut texts = c.texts();
    match (texts.next(), texts.next()) {
        (None, _) => Some(""),
        (Some(t), None) => Some(t),
        // Split text (entities next to CDATA...): rare, the xso path joins it.
        (Some(_), Some(_)) => None,
    }
}

/// An `<attachment/>`, with the attributes [`super::attachment::AttachmentElement`] declares.
fn attachment(c: &Element) -> Option<Attachment> {
    if !no_content(c) {
        return None;
    }
    let mut a = Attachment::new(c.attr("type").unwrap_or_default());
    attrs(c, |name, value| {
        let text = || Some(value.to_owned());
        let number = |field| super::attachment::number(field, Some(value));
        match name {
            "type" => {}
            "id" => a.id = text(),
            "uid" => a.uid = text(),
            "url" => a.url = text(),
            "name" => a.name = text(),
            "size" => a.size = number("size"),
            "content-type" => a.content_type = text(),
            "width" => a.width = number("width"),
            "height" => a.height = number("height"),
            "duration" => a.duration = number("duration"),
            "data" => a.data = text(),
            _ => return None,
        }
        Some(())
    })?;
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use connectycube_fixtures::{xmpp, xmpp_all};

    /// Reads `xml` both ways; a fast read must equal the xso read. Whether it was fast.
    fn agree(xml: &str) -> bool {
        let el: Element = xml.parse().unwrap();
        let fast = decompose(&el);
        let schema = super::super::parts::decompose(el);
        match fast {
            None => false,
            Some(fast) => {
                let schema = schema.unwrap_or_else(|e| panic!("xso failed ({e}) on\n{xml}"));
                assert_eq!(fast, schema, "{xml}");
                true
            }
        }
    }

    #[test]
    fn every_fixture_reads_as_the_schema_reads_it() {
        for f in xmpp_all() {
            agree(&f.xml);
        }
    }

    #[test]
    fn everyday_fixtures_take_the_borrowed_path() {
        for name in [
            "message-attachments",
            "message-chat-delayed-offline",
            "message-chat-markable-custom-properties",
            "message-chat-outbound",
            "message-groupchat-from-occupant",
            "message-groupchat-outbound",
            "message-groupchat-silent",
            "message-self-destroy",
            "marker-delivered",
            "marker-read",
            "typing-composing",
            "typing-composing-groupchat-from-occupant",
            "typing-paused",
        ] {
            assert!(agree(&xmpp(name)), "{name} fell back to xso");
        }
    }

    const ID: &str = "id='5c094687e588ce59fff87425'";

    fn message(attrs: &str, inner: &str) -> String {
        format!("<message xmlns='jabber:client' {ID} type='chat' {attrs}>{inner}</message>")
    }

    #[test]
    fn odd_but_valid_shapes_read_the_same() {
        for inner in [
            "<body xml:lang='en'>hi</body>",
            "<body/>",
            "\n  <body>a &amp; b<![CDATA[<c>]]></body>\n",
            "<extraParams><silent/><save_to_history> 1 </save_to_history></extraParams>",
            "<extraParams><date_sent xmlns='urn:other'>x</date_sent></extraParams>",
            "<extraParams><date_sent>12<![CDATA[3]]></date_sent></extraParams>",
            "<extraParams><meta a='1'><x>1</x><x>2</x>t</meta><moduleIdentifier>M</moduleIdentifier></extraParams>",
            "<extraParams><attachment xmlns='urn:other' type='x'/></extraParams>",
            "<extraParams><attachment type=''/></extraParams>",
            // Odd values: kept raw or left out, the same on both paths.
            "<extraParams><date_sent>yesterday</date_sent></extraParams>",
            "<extraParams><dialog_id>nope</dialog_id></extraParams>",
            "<extraParams><dialog_id>chat_1001_1002</dialog_id><date_sent>12 May</date_sent></extraParams>",
            "<extraParams><attachment type='image' width='wide' size='-1'/></extraParams>",
            "<extraParams><attachment type='sticker'/></extraParams>",
            "<extraParams><attachment/></extraParams>",
            "<body>x</body><x xmlns='jabber:x:oob'><url>u</url></x>",
            "<body>x</body><delay xmlns='urn:xmpp:delay' stamp='2018-12-06T15:55:51.123+02:00'/>",
            "<active xmlns='http://jabber.org/protocol/chatstates'/><body>x</body>",
        ] {
            assert!(agree(&message("", inner)), "{inner}");
        }
        for attrs in [
            "xml:lang='en'",
            "from='1-2@h/r' to='105_5c093376e588ce6856f873fe@muc.h'",
        ] {
            assert!(agree(&message(attrs, "<body>x</body>")), "{attrs}");
        }
        let normal = format!("<message xmlns='jabber:client' {ID}><body>x</body></message>");
        assert!(agree(&normal));
    }

    #[test]
    fn unusual_shapes_fall_back_to_xso() {
        for inner in [
            "<body>a</body><body xml:lang='de'>b</body>",
            "<body a='1'>x</body>",
            "<body>x<b/></body>",
            "text<body>x</body>",
            "<subject>s</subject><body>x</body>",
            "<thread>t</thread><body>x</body>",
            "<extraParams/><extraParams/>",
            "<extraParams><date_sent>1</date_sent><date_sent>2</date_sent></extraParams>",
            "<extraParams><date_sent a='1'>1</date_sent></extraParams>",
            "<extraParams><attachment type='image' colour='red'/></extraParams>",
            "<extraParams><attachment type='image'><x/></attachment></extraParams>",
            "<extraParams>text</extraParams>",
            "<markable xmlns='urn:xmpp:chat-markers:0'><x/></markable>",
            "<received xmlns='urn:xmpp:chat-markers:0' id='origin1'/>",
            "<composing xmlns='http://jabber.org/protocol/chatstates'/><paused xmlns='http://jabber.org/protocol/chatstates'/>",
            "<delay xmlns='urn:xmpp:delay'/>",
            "<replace xmlns='urn:xmpp:message-correct:0' id='5c094687e588ce59fff87425'/>",
            "<sent xmlns='urn:xmpp:carbons:2'/>",
        ] {
            assert!(!agree(&message("", inner)), "{inner}");
        }
        for attrs in ["from='not a jid@'", "type='headline'", "foo='bar'"] {
            assert!(!agree(&message(attrs, "<body>x</body>")), "{attrs}");
        }
    }
}
