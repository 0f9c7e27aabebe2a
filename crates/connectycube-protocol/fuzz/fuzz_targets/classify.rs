//! Any bytes: if they are one XML element, classification must not panic, the borrowed message
//! reader must agree with the xso schema reading, and whatever it yields must build a stanza that
//! classifies to the same event.

#![no_main]

use connectycube_protocol::classify::{classify_message, classify_message_by_schema};
use connectycube_protocol::{ChatEvent, classify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(element) = text.parse::<minidom::Element>() else {
        return;
    };
    if element.name() == "message" {
        let fast = classify_message(element.clone()).map_err(|e| e.to_string());
        let schema = classify_message_by_schema(element.clone()).map_err(|e| e.to_string());
        assert_eq!(fast, schema, "borrowed reader and schema disagree");
    }
    let Ok(event) = classify(element) else {
        return;
    };
    // An event that cannot be built (e.g. a property name that is no XML name) is a typed
    // error, not a bug; one that builds must read back the same.
    if let Ok(rebuilt) = event.to_element() {
        let again = classify(rebuilt).expect("a rebuilt stanza classifies");
        if !matches!(event, ChatEvent::Unknown(_)) {
            assert_eq!(event, again, "round trip changed the event");
        }
    }
});
