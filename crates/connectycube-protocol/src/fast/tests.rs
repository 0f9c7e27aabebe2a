//! The event reader and the direct writer against the tree path: the same event for the same
//! bytes wherever the reader answers, the same XML for the same value.

use connectycube_fixtures::{xmpp, xmpp_all};
use minidom::Element;
use proptest::prelude::*;

use super::*;
use crate::classify_xml;

/// Reads `xml` both ways; a fast read must equal the tree's. Whether the fast one answered.
fn agree(xml: &str) -> bool {
    let fast = read_message(xml.as_bytes());
    let tree = classify_xml(xml);
    match fast {
        None => false,
        Some(fast) => {
            let tree = tree.unwrap_or_else(|e| panic!("the tree failed ({e}) on\n{xml}"));
            assert_eq!(fast, tree, "{xml}");
            true
        }
    }
}

#[test]
fn every_fixture_reads_as_the_tree_reads_it() {
    for f in xmpp_all() {
        agree(&f.xml);
    }
}

#[test]
fn hot_fixtures_take_the_event_path() {
    for name in [
        "message-attachments",
        "message-attachment-odd-values",
        "message-chat-delayed-offline",
        "message-chat-markable-custom-properties",
        "message-chat-odd-dialog-id-from-js-sdk",
        "message-chat-outbound",
        "message-groupchat-from-occupant",
        "message-groupchat-from-room-bare-jid",
        "message-groupchat-outbound",
        "message-groupchat-silent",
        "message-self-destroy",
        "marker-delivered",
        "marker-read",
        "typing-composing",
        "typing-composing-groupchat-from-occupant",
        "typing-paused",
    ] {
        assert!(agree(&xmpp(name)), "{name} fell back to the tree");
    }
}

#[test]
fn everything_else_goes_to_the_tree() {
    for name in [
        "carbon-received-chat-message",
        "message-chat-odd-dates",
        "carbon-sent-read-marker",
        "delete-message",
        "edit-message",
        "error-message-blocked-by-privacy-list",
        "reactions-event",
        "system-message",
        "unknown-message-groupchat-subject",
        "unknown-message-headline-not-system",
        "ping-from-server",
        "muc-occupant-joined",
    ] {
        assert!(read_message(xmpp(name).as_bytes()).is_none(), "{name}");
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
        "\n  <body>a &amp; b<![CDATA[<c>]]>&#x1F44D;</body>\n",
        "<extraParams><silent/><save_to_history> 1 </save_to_history></extraParams>",
        "<extraParams><date_sent xmlns='urn:other'>x</date_sent></extraParams>",
        "<extraParams><date_sent>12<![CDATA[3]]></date_sent></extraParams>",
        "<extraParams><meta a='1'><x>1</x><x>2</x>t</meta><moduleIdentifier>M</moduleIdentifier></extraParams>",
        "<extraParams><a><b><c><d>deep</d></c></b></a><a>again</a></extraParams>",
        "<extraParams><attachment xmlns='urn:other' type='x'/></extraParams>",
        "<extraParams><attachment type=''/><attachment/></extraParams>",
        "<extraParams><date_sent>yesterday</date_sent><dialog_id>nope</dialog_id></extraParams>",
        "<extraParams><attachment type='image' width='wide' size='-1' data='&lt;&#10;'/></extraParams>",
        "<body>x</body><x xmlns='jabber:x:oob'><url>u<y/></url></x>",
        "<body>x</body><delay xmlns='urn:xmpp:delay' stamp='2018-12-06T15:55:51.123+02:00'>why</delay>",
        "<active xmlns='http://jabber.org/protocol/chatstates'/><body>x</body>",
        "<composing xmlns='http://jabber.org/protocol/chatstates'/><body>x</body>",
        "<received xmlns='urn:xmpp:chat-markers:0' id=' 5c094687e588ce59fff87425 '/><body>x</body>",
        "<p:body xmlns:p='jabber:client'>prefixed</p:body>",
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
fn unusual_shapes_go_to_the_tree() {
    for inner in [
        "",
        "<active xmlns='http://jabber.org/protocol/chatstates'/>",
        "<markable xmlns='urn:xmpp:chat-markers:0'/>",
        "<body>a</body><body xml:lang='de'>b</body>",
        "<body a='1'>x</body>",
        "<body>x<b/></body>",
        "text<body>x</body>",
        "<subject>s</subject><body>x</body>",
        "<extraParams/><extraParams/>",
        "<extraParams a='1'/>",
        "<extraParams><date_sent>1</date_sent><date_sent>2</date_sent></extraParams>",
        "<extraParams><date_sent a='1'>1</date_sent></extraParams>",
        "<extraParams><attachment type='image' colour='red'/></extraParams>",
        "<extraParams><attachment type='image'><x/></attachment></extraParams>",
        "<extraParams>text</extraParams>",
        "<markable xmlns='urn:xmpp:chat-markers:0'><x/></markable><body>x</body>",
        "<received xmlns='urn:xmpp:chat-markers:0' id='origin1'/>",
        "<composing xmlns='http://jabber.org/protocol/chatstates'/><paused xmlns='http://jabber.org/protocol/chatstates'/>",
        "<delay xmlns='urn:xmpp:delay'/><body>x</body>",
        "<replace xmlns='urn:xmpp:message-correct:0' id='5c094687e588ce59fff87425'/>",
        "<sent xmlns='urn:xmpp:carbons:2'/>",
    ] {
        assert!(!agree(&message("", inner)), "{inner}");
    }
    for attrs in ["from='not a jid@'", "type='headline'", "foo='bar'"] {
        assert!(!agree(&message(attrs, "<body>x</body>")), "{attrs}");
    }
    let error =
        format!("<message xmlns='jabber:client' {ID} type='error'><body>x</body></message>");
    assert!(!agree(&error));
    let no_id = "<message xmlns='jabber:client' type='chat'><body>x</body></message>";
    assert!(
        !agree(no_id),
        "a chat message without an id is the tree's error"
    );
    assert!(read_message(b"<message xmlns='jabber:client'><body>x</body></message><x/>").is_none());
    assert!(read_message(b"<message xmlns='jabber:client'><body>x</body>").is_none());
}

#[test]
fn nesting_past_the_limit_goes_to_the_tree() {
    let depth = MAX_FAST_DEPTH + 1;
    let inner = format!(
        "<body>x</body><extraParams>{}{}</extraParams>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    assert!(!agree(&message("", &inner)));
    let ok = MAX_FAST_DEPTH - 1;
    let inner = format!(
        "<body>x</body><extraParams>{}{}</extraParams>",
        "<a>".repeat(ok),
        "</a>".repeat(ok)
    );
    assert!(agree(&message("", &inner)));
}

/// The writer's text and the tree's serialized text, parsed: the same element.
fn same_xml(direct: &str, tree: &Element) {
    let direct: Element = direct
        .parse()
        .unwrap_or_else(|e| panic!("{e}: unreadable\n{direct}"));
    let tree: Element = String::from(tree).parse().unwrap();
    assert_eq!(direct, tree);
}

#[test]
fn the_writer_writes_every_hot_fixture_as_the_tree_does() {
    let mut written = 0;
    for f in xmpp_all() {
        let Ok(event) = classify_xml(&f.xml) else {
            continue;
        };
        let mut out = String::new();
        if write_event(&event, &mut out).unwrap() {
            same_xml(&out, &event.to_element().unwrap());
            written += 1;
        } else {
            assert!(out.is_empty());
        }
    }
    assert!(written >= 10, "only {written} fixtures written");
}

// Text XML carries, biased to what breaks escaping: markup, references, quotes, line ends,
// CDATA ends, astral characters.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("&lt;".to_owned()),
        Just("&amp;amp;".to_owned()),
        Just("&quot;&apos;".to_owned()),
        Just("&#x1F44D;&#233;".to_owned()),
        Just("<![CDATA[<&]]>]]>".to_owned()),
        Just(" \t\r\n".to_owned()),
        Just("👩‍💻".to_owned()),
        Just("5c094687e588ce59fff87425".to_owned()),
        Just("1544111751".to_owned()),
        "[a-zA-Z0-9 ._-]{0,6}",
        "[\u{A0}-\u{D7FF}\u{E000}-\u{FFFD}]{0,3}",
    ]
}

fn content() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..4).prop_map(|p| p.concat())
}

/// An attribute value: the pieces without CDATA (not allowed there), quoted with `'`.
fn attr_value() -> impl Strategy<Value = String> {
    content().prop_map(|s| {
        s.replace("<![CDATA[<&]]>]]>", "&lt;&amp;")
            .replace('\'', "&apos;")
    })
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z][a-z0-9_]{0,5}",
        1 => prop::sample::select(vec![
            "date_sent",
            "dialog_id",
            "save_to_history",
            "silent",
            "moduleIdentifier",
            "attachment",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A child of `extraParams`: known, attachment or custom, nested up to three levels.
fn extra_child() -> impl Strategy<Value = String> {
    let leaf =
        (name(), content(), prop::option::weighted(0.1, attr_value())).prop_map(|(n, t, a)| {
            let attr = a.map(|v| format!(" size='{v}'")).unwrap_or_default();
            format!("<{n}{attr}>{t}</{n}>")
        });
    let attachment = prop::collection::vec(
        (
            prop::sample::select(vec!["type", "id", "url", "name", "size", "width", "data"]),
            attr_value(),
        ),
        0..4,
    )
    .prop_map(|attrs| {
        let mut seen = std::collections::BTreeMap::new();
        for (k, v) in attrs {
            seen.insert(k, v);
        }
        let attrs: String = seen.iter().map(|(k, v)| format!(" {k}='{v}'")).collect();
        format!("<attachment{attrs}/>")
    });
    prop_oneof![leaf, attachment].prop_recursive(3, 16, 3, |inner| {
        (name(), prop::collection::vec(inner, 1..3))
            .prop_map(|(n, kids)| format!("<{n}>{}</{n}>", kids.concat()))
    })
}

fn body() -> impl Strategy<Value = String> {
    (prop::option::of(Just(" xml:lang='en'")), content())
        .prop_map(|(l, t)| format!("<body{}>{t}</body>", l.unwrap_or_default()))
}

fn extra() -> impl Strategy<Value = String> {
    prop::collection::vec(extra_child(), 0..5)
        .prop_map(|c| format!("<extraParams>{}</extraParams>", c.concat()))
}

/// Any payload, the hot ones and others, repeated or not.
fn payload() -> impl Strategy<Value = String> {
    prop_oneof![
        body(),
        extra(),
        Just("<markable xmlns='urn:xmpp:chat-markers:0'/>".to_owned()),
        (
            prop::sample::select(vec!["received", "displayed"]),
            attr_value()
        )
            .prop_map(|(n, id)| format!("<{n} xmlns='urn:xmpp:chat-markers:0' id='{id}'/>")),
        Just(
            "<received xmlns='urn:xmpp:chat-markers:0' id='5c094687e588ce59fff87425'/>".to_owned()
        ),
        prop::sample::select(vec!["composing", "paused", "active", "gone"])
            .prop_map(|n| format!("<{n} xmlns='http://jabber.org/protocol/chatstates'/>")),
        attr_value().prop_map(|s| format!("<delay xmlns='urn:xmpp:delay' stamp='{s}'/>")),
        Just("<delay xmlns='urn:xmpp:delay' stamp='2018-12-06T15:55:51Z' from='h'/>".to_owned()),
        content().prop_map(|t| format!("<x xmlns='jabber:x:oob'><url>{t}</url></x>")),
        Just("<subject>s</subject>".to_owned()),
        Just(" \n".to_owned()),
    ]
}

/// A message id: mostly an ObjectId, sometimes anything.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[0-9a-f]{24}".prop_map(|i| format!(" id='{i}'")),
        1 => attr_value().prop_map(|i| format!(" id='{i}'")),
        1 => Just(String::new()),
    ]
}

fn stanza() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", " type='chat'", " type='groupchat'", " type='normal'"]),
        prop::sample::select(vec![
            "",
            " from='29085-105@chat.connectycube.com/phone'",
            " from='105_5c093376e588ce6856f873fe@muc.chat.connectycube.com/29085'",
            " from='105_5c093376e588ce6856f873fe@muc.chat.connectycube.com'",
            " from='someone@else.example'",
        ]),
        id(),
        // The usual shape (a body, extraParams) around any others, so that most stanzas
        // are hot ones and some are odd.
        prop::option::of(body()),
        prop::option::weighted(0.7, extra()),
        prop::collection::vec(payload(), 0..3),
    )
        .prop_map(|(kind, from, id, body, extra, others)| {
            format!(
                "<message xmlns='jabber:client'{kind}{from}{id} to='29086-105@chat.connectycube.com'>{}{}{}</message>",
                body.unwrap_or_default(),
                others.concat(),
                extra.unwrap_or_default(),
            )
        })
}

#[test]
fn the_generator_reaches_the_event_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = stanza();
    let (mut fast, n) = (0, 400);
    for _ in 0..n {
        let xml = strategy.new_tree(&mut runner).unwrap().current();
        fast += usize::from(agree(&xml));
    }
    assert!(
        fast * 5 >= n,
        "only {fast} of {n} generated stanzas read fast"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_stanzas_read_the_same_both_ways(xml in stanza()) {
        agree(&xml);
    }

    /// Mostly malformed text: the reader never panics and refuses what is not well-formed
    /// (what is well-formed is compared; few of these are hot stanzas, which the generator
    /// above covers).
    #[test]
    fn any_text_never_panics_and_malformed_text_is_refused(xml in "<message xmlns='jabber:client' [^>]{0,20}>[<>/a-z'&;# ]{0,40}") {
        if xml.parse::<Element>().is_ok() {
            agree(&xml);
        } else {
            prop_assert!(read_message(xml.as_bytes()).is_none());
        }
    }
}

#[test]
fn line_ends_and_tabs_survive_the_writer() {
    use crate::address::ChatDomain;
    use crate::ids::{AppId, UserId};
    use crate::message::ChatKind;
    use crate::model::{Attachment, Message};

    let mut m = Message::new("a\r\nb\rc\td ]]> <&>");
    let mut a = Attachment::new("file");
    a.name = Some("x\ty\nz\r\"'<&>".into());
    m.attachments.push(a);
    m.custom.insert("k".into(), "\r\n".into());
    let to = ChatDomain::new("h", AppId(1)).user_jid(UserId(2)).unwrap();
    let mut out = String::new();
    m.write_stanza(&to.into(), ChatKind::Chat, &mut out)
        .unwrap();
    let Some(ChatEvent::ChatMessage(read)) = read_message(out.as_bytes()) else {
        panic!("not read: {out}");
    };
    m.recipient_id = Some(UserId(2));
    assert_eq!(read.payload, m, "{out}");
}

#[test]
fn the_writer_refuses_what_the_tree_refuses() {
    use crate::message::BuildError;
    use crate::model::Message;

    let to: xmpp_parsers::jid::Jid = "1-2@h".parse().unwrap();
    let mut m = Message::new("nul\u{0}");
    m.custom.insert("bad name".into(), "x".into());
    let tree = m.to_stanza(to.clone(), crate::message::ChatKind::Chat);
    let direct = m.write_stanza(&to, crate::message::ChatKind::Chat, &mut String::new());
    assert!(
        matches!(&direct, Err(BuildError::PropertyName(_))),
        "{direct:?}"
    );
    assert_eq!(direct.err(), tree.err());
    m.custom.clear();
    let tree = m.to_stanza(to.clone(), crate::message::ChatKind::Chat);
    let direct = m.write_stanza(&to, crate::message::ChatKind::Chat, &mut String::new());
    assert_eq!(direct.err(), tree.err());
    let mut deep = serde_json::json!("leaf");
    for _ in 0..200 {
        deep = serde_json::json!({ "n": deep });
    }
    m.body = None;
    m.custom.insert("deep".into(), deep);
    let tree = m.to_stanza(to.clone(), crate::message::ChatKind::Chat);
    let direct = m.write_stanza(&to, crate::message::ChatKind::Chat, &mut String::new());
    assert!(matches!(&direct, Err(BuildError::TooDeep(_))), "{direct:?}");
    assert_eq!(direct.err(), tree.err());
}

#[test]
fn a_spent_reader_refuses_more_events() {
    use xso::exports::rxml::{self, Parse as _};
    let xml = message("", "<body>x</body>");
    let mut parser = rxml::Parser::new();
    let mut rest = xml.as_bytes();
    let Some(rxml::Event::StartElement(_, (ns, name), attrs)) =
        parser.parse(&mut rest, true).unwrap()
    else {
        panic!("no start")
    };
    let mut reader = MessageReader::start(&ns, &name, &attrs).unwrap();
    let mut last = None;
    while let Ok(Some(event)) = parser.parse(&mut rest, true) {
        last = Some(reader.feed(&event));
        if let Some(Step::Read(_)) = &last {
            assert!(matches!(reader.feed(&event), Step::NotMine));
        }
    }
    assert!(matches!(last, Some(Step::Read(_))));
}
