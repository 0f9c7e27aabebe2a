//! Any bytes: the event reader must agree with the tree wherever it answers; if the bytes are
//! one XML element, classification must not panic, the borrowed message reader must agree
//! with the xso schema reading, and whatever it yields must build a stanza that classifies to
//! the same event, written as the tree writes it by the direct writer for hot events.

#![no_main]

use connectycube_protocol::classify::{classify_message, classify_message_by_schema};
use connectycube_protocol::fast::{read_message, write_event};
use connectycube_protocol::{ChatEvent, classify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Before any check of its own: the reader must stand any bytes.
    let fast = read_message(data);
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(fast.is_none(), "read fast from bytes that are no text");
        return;
    };
    // minidom's parser keeps rxml's 8 KiB token limit, which the reader lifts (as the
    // transport does for both): text it refuses says nothing about the reader.
    let Ok(element) = text.parse::<minidom::Element>() else {
        return;
    };
    if element.name() == "message" {
        let fast = classify_message(element.clone()).map_err(|e| e.to_string());
        let schema = classify_message_by_schema(element.clone()).map_err(|e| e.to_string());
        assert_eq!(fast, schema, "borrowed reader and schema disagree");
    }
    let tree = classify(element);
    if let Some(fast) = fast {
        let tree = tree.as_ref().expect("the tree reads what the event reader reads");
        assert_eq!(&fast, tree, "event reader and tree disagree");
    }
    let Ok(event) = tree else {
        return;
    };
    // An event that cannot be built (e.g. a property name that is no XML name) is a typed
    // error, not a bug; one that builds must read back the same.
    if let Ok(rebuilt) = event.to_element() {
        let mut direct = String::new();
        if let Ok(true) = write_event(&event, &mut direct) {
            let direct: minidom::Element = direct.parse().expect("the direct writer writes XML");
            let tree: minidom::Element = String::from(&rebuilt).parse().expect("tree text");
            assert_eq!(direct, tree, "direct writer and tree disagree");
        }
        let again = classify(rebuilt).expect("a rebuilt stanza classifies");
        if !matches!(event, ChatEvent::Unknown(_)) {
            assert_eq!(event, again, "round trip changed the event");
        }
    }
});
