//! The stream parser with hot messages read without a tree: the same stanzas as the tree
//! parser, the hot ones as the event `classify` gives their tree, and their tree on demand.

use connectycube_fixtures::xmpp_all;
use connectycube_protocol::{ChatEvent, classify};

use super::*;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='abc' version='1.0'>";

const MESSAGE: &str = "<message id='5c094687e588ce59fff87425' type='chat' from='29085-105@chat.connectycube.com/phone' to='29086-105@chat.connectycube.com'><body>hi &amp; <![CDATA[bye]]></body><x xmlns='jabber:x:oob'><url>u</url></x><extraParams><dialog_id>5c093376e588ce6856f873fe</dialog_id><meta><a>1</a></meta></extraParams><markable xmlns='urn:xmpp:chat-markers:0'/></message>";

/// Every top-level element of `body` (after the header), fed `chunk` bytes at a time.
fn stanzas(parser: &mut StreamParser, body: &str, chunk: usize) -> Vec<Stanza> {
    let doc = format!("{HEADER}{body}");
    let mut out = Vec::new();
    for piece in doc.as_bytes().chunks(chunk) {
        let mut data = piece;
        while let Some(parsed) = parser.next_stanza(&mut data).unwrap() {
            if let Parsed::Stanza(s) = parsed {
                out.push(s);
            }
        }
        assert!(data.is_empty());
    }
    out
}

fn hot_parser(limits: StreamLimits) -> StreamParser {
    let mut p = StreamParser::with_limits(limits);
    p.read_hot_messages();
    p
}

/// The tree the plain parser builds for `body`'s one stanza.
fn tree(body: &str) -> Element {
    let mut all = stanzas(&mut StreamParser::new(1 << 20), body, 4096);
    assert_eq!(all.len(), 1);
    match all.remove(0) {
        Stanza::Element(el) => *el,
        other => panic!("the plain parser read {other:?}"),
    }
}

/// Checks a stanza from the hot parser against the plain parser's tree; whether it was read.
fn same(stanza: Stanza, tree: &Element) -> bool {
    match stanza {
        Stanza::Read(r) => {
            let event = classify(tree.clone()).unwrap();
            assert_eq!(r.event(), &event);
            assert_eq!(
                &r.into_element().unwrap(),
                tree,
                "the kept events build the tree"
            );
            true
        }
        Stanza::Element(el) => {
            assert_eq!(&*el, tree);
            false
        }
    }
}

#[test]
fn every_fixture_reads_as_the_tree_in_any_split() {
    let mut read = 0;
    for f in xmpp_all() {
        let tree = tree(&f.xml);
        for chunk in [1, 7, 4096] {
            let mut all = stanzas(&mut hot_parser(StreamLimits::new(1 << 20)), &f.xml, chunk);
            assert_eq!(all.len(), 1, "{}", f.name);
            let was_read = same(all.remove(0), &tree);
            read += usize::from(was_read && chunk == 1);
        }
    }
    assert!(read >= 15, "only {read} fixtures read without a tree");
}

#[test]
fn a_hot_message_is_read_and_keeps_its_whole_tree() {
    let mut all = stanzas(&mut hot_parser(StreamLimits::new(1 << 20)), MESSAGE, 3);
    let Stanza::Read(r) = all.remove(0) else {
        panic!("not read")
    };
    let ChatEvent::ChatMessage(m) = r.event() else {
        panic!("{:?}", r.event())
    };
    assert_eq!(m.payload.body.as_deref(), Some("hi & bye"));
    let el = r.into_element().unwrap();
    assert!(
        el.has_child("x", "jabber:x:oob"),
        "a payload no event carries is kept"
    );
    assert_eq!(el, tree(MESSAGE));
}

#[test]
fn a_message_that_turns_out_unusual_midway_is_built_as_a_tree() {
    for body in [
        "<message id='5c094687e588ce59fff87425' type='chat'><body>x</body><extraParams><a>1</a></extraParams><replace xmlns='urn:xmpp:message-correct:0' id='5c094687e588ce59fff87426'/></message>",
        "<message type='error' id='5c094687e588ce59fff87425'><body>x</body></message>",
        "<message><body>no id</body></message>",
        "<iq type='result' id='1'/>",
        "<presence/>",
    ] {
        let all = stanzas(&mut hot_parser(StreamLimits::new(1 << 20)), body, 5);
        assert_eq!(all.len(), 1);
        let tree = tree(body);
        assert!(
            matches!(&all[0], Stanza::Element(el) if **el == tree),
            "{body}"
        );
    }
}

#[test]
fn the_depth_limit_holds_on_the_hot_path_too() {
    let limits = StreamLimits {
        max_stanza_size: 1 << 20,
        max_depth: 4,
    };
    let deep = "<message id='5c094687e588ce59fff87425' type='chat'><extraParams><a><b><c>1</c></b></a></extraParams></message>";
    for hot in [true, false] {
        let mut p = StreamParser::with_limits(limits);
        if hot {
            p.read_hot_messages();
        }
        let doc = format!("{HEADER}{deep}");
        let mut data = doc.as_bytes();
        let err = loop {
            match p.next_stanza(&mut data) {
                Ok(Some(_)) => {}
                Ok(None) => panic!("no error (hot: {hot})"),
                Err(e) => break e,
            }
        };
        assert!(
            matches!(err, StreamError::NestingTooDeep { limit: 4 }),
            "{err:?}"
        );
    }
}

#[test]
fn frames_stay_trees_and_websocket_messages_read_alike() {
    let mut p = hot_parser(StreamLimits::new(1 << 20));
    let doc = format!("{HEADER}{MESSAGE}");
    let mut data = doc.as_bytes();
    let mut frames = Vec::new();
    while let Some(f) = p.next_frame(&mut data).unwrap() {
        frames.push(f);
    }
    assert_eq!(frames[1], Frame::Stanza(tree(MESSAGE)));
    let standalone = MESSAGE.replacen("<message ", "<message xmlns='jabber:client' ", 1);
    let limits = StreamLimits::new(1 << 20);
    let read = parse_stanza_with_limits(standalone.as_bytes(), limits, true).unwrap();
    let plain = parse_element_with_limits(standalone.as_bytes(), limits).unwrap();
    assert!(same(read, &plain));
}
