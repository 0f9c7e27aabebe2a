//! Arbitrary messages round-trip through the stanza codec and the classifier: unicode and emoji,
//! XML special characters, nested custom properties, many attachments.
//!
//! What the wire cannot carry is left out of the generators, on purpose: characters XML 1.0
//! forbids (the builder rejects them), `\r` (XML parsers turn it into `\n`), custom values
//! other than text and non-empty objects (every leaf is text on the wire), and `date_sent` in
//! the millisecond range (read back as seconds).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns; a failure is a test failure

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::classify::{classify_message, classify_message_by_schema};
use connectycube_protocol::fast::{read_message, write_event};
use connectycube_protocol::ids::{AppId, DialogId, MessageId, ObjectId, UserId};
use connectycube_protocol::message::ChatKind;
use connectycube_protocol::model::{Attachment, CustomProperties, Message};
use connectycube_protocol::{ChatEvent, classify_xml};
use proptest::prelude::*;
use serde_json::Value;
use xmpp_parsers::jid::Jid;

/// Text XML can carry, biased towards what breaks naive escaping.
fn text() -> impl Strategy<Value = String> {
    let special = prop_oneof![
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("&".to_owned()),
        Just("'".to_owned()),
        Just("\"".to_owned()),
        Just("]]>".to_owned()),
        Just("&amp;".to_owned()),
        Just("👍🏽".to_owned()),
        Just("\u{1F469}\u{200D}\u{1F4BB}".to_owned()),
        Just(" \t\n".to_owned()),
        "[\u{20}-\u{7E}]{0,8}",
        "[\u{A0}-\u{D7FF}\u{E000}-\u{FFFD}\u{10000}-\u{10FFFF}]{0,4}",
    ];
    prop::collection::vec(special, 0..6).prop_map(|parts| parts.concat())
}

const KNOWN: &[&str] = &[
    "save_to_history",
    "date_sent",
    "dialog_id",
    "silent",
    "moduleIdentifier",
    "attachment",
];

fn key() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_.-]{0,12}".prop_filter("known extraParams child", |k| {
        !KNOWN.contains(&k.as_str()) && !k.to_ascii_lowercase().starts_with("xml")
    })
}

fn value() -> impl Strategy<Value = Value> {
    text()
        .prop_map(Value::String)
        .prop_recursive(3, 24, 4, |inner| {
            prop::collection::btree_map(key(), inner, 1..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        })
}

fn object_id() -> impl Strategy<Value = ObjectId> {
    (any::<u32>(), any::<[u8; 5]>(), 0u32..0x00FF_FFFF)
        .prop_map(|(s, r, c)| ObjectId::from_parts(s, r, c))
}

fn attachment() -> impl Strategy<Value = Attachment> {
    (
        text(),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::option::of(text()),
    )
        .prop_map(|(kind, id, url, name, size, width, data)| {
            let mut a = Attachment::new(kind);
            a.id = id;
            a.url = url;
            a.name = name;
            a.size = size;
            a.width = width;
            a.data = data;
            a
        })
}

prop_compose! {
    fn message()(
        id in object_id(),
        dialog in object_id(),
        body in prop::option::of(text()),
        date_sent in prop::option::of(-99_999_999_999i64..99_999_999_999),
        attachments in prop::collection::vec(attachment(), 0..12),
        custom in prop::collection::btree_map(key(), value(), 0..6),
        markable in any::<bool>(),
        save_to_history in any::<bool>(),
        silent in any::<bool>(),
        group in any::<bool>(),
        peer in 1u64..u64::MAX,
    ) -> (Message, bool) {
        let mut m = Message::new(String::new());
        m.id = MessageId(id);
        m.body = body;
        m.date_sent = date_sent;
        m.attachments = attachments;
        m.custom = custom.into_iter().collect::<CustomProperties>();
        m.markable = markable;
        m.save_to_history = save_to_history;
        m.silent = silent;
        if group {
            m.dialog_id = Some(DialogId(dialog));
        } else {
            m.recipient_id = Some(UserId(peer));
        }
        (m, group)
    }
}

fn address(m: &Message, group: bool) -> (Jid, ChatKind) {
    let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
    match (group, m.dialog_id, m.recipient_id) {
        (true, Some(d), _) => (domain.room_jid(d).unwrap().into(), ChatKind::Groupchat),
        (_, _, Some(u)) => (domain.user_jid(u).unwrap().into(), ChatKind::Chat),
        _ => unreachable!("the generator sets one of them"),
    }
}

fn stanza(m: &Message, group: bool) -> String {
    let (to, kind) = address(m, group);
    String::from(&m.to_stanza(to, kind).unwrap())
}

/// The same stanza from the direct writer.
fn written(m: &Message, group: bool) -> String {
    let (to, kind) = address(m, group);
    let mut out = String::new();
    m.write_stanza(&to, kind, &mut out).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn messages_round_trip_through_xml_text((m, group) in message()) {
        let xml = stanza(&m, group);
        let el: minidom::Element = xml.parse().unwrap();
        let back = Message::from_stanza(el).unwrap();
        prop_assert_eq!(&back, &m, "{}", xml);
    }

    #[test]
    fn the_borrowed_reader_agrees_with_the_schema((m, group) in message()) {
        let el: minidom::Element = stanza(&m, group).parse().unwrap();
        let fast = classify_message(el.clone()).map_err(|e| e.to_string());
        let schema = classify_message_by_schema(el).map_err(|e| e.to_string());
        prop_assert_eq!(fast, schema);
    }

    #[test]
    fn messages_classify_as_chat_messages((m, group) in message()) {
        let xml = stanza(&m, group);
        match classify_xml(&xml).unwrap() {
            ChatEvent::ChatMessage(inbound) => {
                prop_assert_eq!(&inbound.payload, &m);
                let again = String::from(&ChatEvent::ChatMessage(inbound.clone()).to_element().unwrap());
                match classify_xml(&again).unwrap() {
                    ChatEvent::ChatMessage(second) => prop_assert_eq!(second, inbound),
                    other => prop_assert!(false, "{:?}", other),
                }
            }
            other => prop_assert!(false, "{:?}\n{}", other, xml),
        }
    }

    #[test]
    fn the_direct_writer_writes_what_the_tree_writes((m, group) in message()) {
        let tree: minidom::Element = stanza(&m, group).parse().unwrap();
        let text = written(&m, group);
        let direct: minidom::Element = text.parse().unwrap();
        prop_assert_eq!(&direct, &tree, "{}", text);
        // The event writer, on the event read back, too.
        let event = classify_xml(&text).unwrap();
        let mut again = String::new();
        prop_assert!(write_event(&event, &mut again).unwrap());
        let tree_again: minidom::Element = String::from(&event.to_element().unwrap()).parse().unwrap();
        prop_assert_eq!(again.parse::<minidom::Element>().unwrap(), tree_again);
    }

    #[test]
    fn the_event_reader_reads_what_the_tree_reads((m, group) in message()) {
        for xml in [stanza(&m, group), written(&m, group)] {
            let fast = read_message(xml.as_bytes());
            prop_assert!(fast.is_some(), "not read fast:\n{}", xml);
            prop_assert_eq!(fast.unwrap(), classify_xml(&xml).unwrap(), "{}", xml);
        }
    }
}
