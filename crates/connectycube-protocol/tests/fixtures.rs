//! Every XMPP fixture classifies to its expected event and round-trips:
//! parse → value → XML text → parse, compared structurally.

use connectycube_fixtures::{xmpp, xmpp_all};
use connectycube_protocol::event::Inbound;
use connectycube_protocol::ids::UserId;
use connectycube_protocol::message::CarbonDirection;
use connectycube_protocol::message::chat_state::TypingState;
use connectycube_protocol::{ChatEvent, classify_xml};

/// Fixture name → expected event kind. Add a row for every new fixture file.
const EXPECTED: &[(&str, &str)] = &[
    ("carbon-received-chat-message", "ChatMessage"),
    ("carbon-sent-chat-message", "ChatMessage"),
    ("carbon-sent-read-marker", "Read"),
    ("csi-inactive", "Unknown"),
    ("delete-message", "Deleted"),
    ("edit-message", "Edited"),
    ("error-message-blocked-by-privacy-list", "MessageError"),
    ("error-message-legacy-code", "MessageError"),
    ("iq-last-activity-error-never-logged-in", "IqError"),
    ("iq-last-activity-request", "Unknown"),
    ("iq-last-activity-result", "LastActivity"),
    ("iq-mobile-active", "Unknown"),
    ("iq-mobile-inactive", "Unknown"),
    ("iq-result-bind", "IqResult"),
    ("iq-status-streaming-push", "LastActivity"),
    ("iq-status-streaming-subscribe", "Unknown"),
    ("marker-delivered", "Delivered"),
    ("marker-read", "Read"),
    ("message-attachment-odd-values", "ChatMessage"),
    ("message-attachments", "ChatMessage"),
    ("message-chat-delayed-offline", "ChatMessage"),
    ("message-chat-markable-custom-properties", "ChatMessage"),
    ("message-chat-odd-dates", "ChatMessage"),
    ("message-chat-odd-dialog-id-from-js-sdk", "ChatMessage"),
    ("message-chat-outbound", "ChatMessage"),
    ("message-groupchat-from-occupant", "ChatMessage"),
    ("message-groupchat-from-room-bare-jid", "ChatMessage"),
    ("message-groupchat-outbound", "ChatMessage"),
    ("message-groupchat-silent", "ChatMessage"),
    ("message-self-destroy", "ChatMessage"),
    ("muc-join", "Unknown"),
    ("muc-kicked", "Kicked"),
    ("muc-leave", "Unknown"),
    ("muc-occupant-joined", "OccupantJoined"),
    ("muc-occupant-left", "OccupantLeft"),
    ("muc-online-occupants-request", "Unknown"),
    ("muc-online-occupants-result", "IqResult"),
    ("muc-presence-from-room-bare-jid", "Unknown"),
    ("muc-self-joined", "OccupantJoined"),
    ("ping-from-server", "Ping"),
    ("ping-request", "Ping"),
    ("privacy-decline-default", "Unknown"),
    ("privacy-get-names", "Unknown"),
    ("privacy-names-result", "IqResult"),
    ("privacy-push", "PrivacyListChanged"),
    ("privacy-set-default", "Unknown"),
    ("privacy-set-list", "PrivacyListChanged"),
    ("reactions-event", "Reactions"),
    ("system-message", "System"),
    ("typing-composing", "Typing"),
    ("typing-composing-groupchat-from-occupant", "Typing"),
    ("typing-paused", "Typing"),
    ("unknown-message-groupchat-subject", "Unknown"),
    ("unknown-message-headline-not-system", "Unknown"),
];

fn event(name: &str) -> ChatEvent {
    classify_xml(&xmpp(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_file_is_in_the_table() {
    let missing: Vec<String> = xmpp_all()
        .into_iter()
        .map(|f| f.name)
        .filter(|n| !EXPECTED.iter().any(|(e, _)| e == n))
        .collect();
    assert!(
        missing.is_empty(),
        "fixtures without an expected event: {missing:?}"
    );
}

#[test]
fn every_fixture_classifies_to_its_expected_event() {
    for (name, kind) in EXPECTED {
        assert_eq!(event(name).kind(), *kind, "{name}");
    }
}

#[test]
fn every_fixture_round_trips() {
    for (name, _) in EXPECTED {
        let first = event(name);
        let xml = String::from(&first.to_element().unwrap());
        let second = classify_xml(&xml).unwrap_or_else(|e| panic!("{name} rebuilt: {e}\n{xml}"));
        assert_eq!(first, second, "{name}\n{xml}");
    }
}

#[test]
fn every_message_fixture_classifies_as_the_schema_reads_it() {
    use connectycube_protocol::classify::{classify_message, classify_message_by_schema};
    for f in xmpp_all() {
        let el: minidom::Element = f.xml.parse().unwrap();
        if el.name() != "message" {
            continue;
        }
        let fast = classify_message(el.clone()).map_err(|e| e.to_string());
        let schema = classify_message_by_schema(el).map_err(|e| e.to_string());
        assert_eq!(fast, schema, "{}", f.name);
    }
}

fn chat(name: &str) -> Box<Inbound<connectycube_protocol::model::Message>> {
    match event(name) {
        ChatEvent::ChatMessage(m) => m,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn group_message_sender_is_the_occupant_and_dialog_is_known() {
    let m = chat("message-groupchat-from-occupant").payload;
    assert_eq!(m.sender_id, Some(UserId(1501966)));
    assert_eq!(
        m.dialog_id.map(|d| d.to_string()).as_deref(),
        Some("54789d40535c12b1a5001172")
    );
    assert_eq!(m.recipient_id, None);
    assert_eq!(m.body.as_deref(), Some("Nice to met you!"));
    assert!(m.save_to_history && !m.silent && !m.markable);
    assert_eq!(m.date_sent, Some(1409146118));
}

#[test]
fn outbound_group_message_takes_the_dialog_from_the_room() {
    let m = chat("message-groupchat-silent").payload;
    assert!(m.silent);
    assert_eq!(
        m.dialog_id.map(|d| d.to_string()).as_deref(),
        Some("53fc460b515c128132016675")
    );
    assert_eq!(m.sender_id, None);
}

#[test]
fn attachments_and_custom_properties_are_read() {
    let m = chat("message-attachments").payload;
    assert_eq!(m.attachments.len(), 4);
    assert_eq!(m.attachments[1].width, Some(640));
    assert_eq!(m.attachments[0].duration, Some(894));
    let m = chat("message-chat-markable-custom-properties").payload;
    assert!(m.markable);
    assert_eq!(m.sender_id, Some(UserId(29085)));
    assert_eq!(m.recipient_id, Some(UserId(29086)));
    assert_eq!(m.custom["country"], "USA");
    assert_eq!(m.custom["meta"]["a"]["b"], "1");
    assert_eq!(m.custom["meta"]["kind"], "greeting");
}

#[test]
fn delayed_and_carbon_messages_are_flagged() {
    let m = chat("message-chat-delayed-offline");
    assert_eq!(
        m.payload.delayed.map(|d| d.to_rfc3339()).as_deref(),
        Some("2018-12-06T15:55:51+00:00")
    );
    assert!(!m.payload.carbon);
    let sent = chat("carbon-sent-chat-message");
    assert!(sent.payload.carbon);
    assert_eq!(
        sent.envelope.carbon.as_ref().map(|c| c.direction),
        Some(CarbonDirection::Sent)
    );
    assert_eq!(sent.payload.sender_id, Some(UserId(29086)));
    let received = chat("carbon-received-chat-message");
    assert_eq!(
        received.envelope.carbon.as_ref().map(|c| c.direction),
        Some(CarbonDirection::Received)
    );
    assert_eq!(received.payload.sender_id, Some(UserId(29085)));
}

#[test]
fn status_events_carry_ids_and_dialog() {
    match event("marker-delivered") {
        ChatEvent::Delivered(d) => {
            assert_eq!(d.payload.to_string(), "55e818f6e24a0998640041ed");
            assert_eq!(
                d.envelope.dialog_id.map(|d| d.to_string()).as_deref(),
                Some("55e6a9c8a28f9a3ea6001f15")
            );
        }
        other => panic!("{other:?}"),
    }
    match event("edit-message") {
        ChatEvent::Edited(e) => {
            assert_eq!(e.payload.body, "How are you today?");
            assert_eq!(e.payload.last, Some(true));
            assert_eq!(e.payload.message_id.to_string(), "52e6a9c8a18f3a3ea6001f19");
        }
        other => panic!("{other:?}"),
    }
    match event("typing-composing-groupchat-from-occupant") {
        ChatEvent::Typing(t) => {
            assert_eq!(t.payload, TypingState::Composing);
            assert_eq!(t.envelope.sender(), Some(UserId(4374458)));
        }
        other => panic!("{other:?}"),
    }
    match event("reactions-event") {
        ChatEvent::Reactions(r) => {
            assert_eq!(r.payload.user_id, UserId(89209));
            assert_eq!(r.payload.changes.len(), 2);
            assert!(r.payload.changes[0].is_add());
            assert_eq!(r.payload.changes[1].kind, "👎");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn system_and_error_messages_are_read() {
    match event("system-message") {
        ChatEvent::System(s) => {
            assert_eq!(s.payload.properties()["param1"], "value1");
            assert_eq!(s.payload.properties().len(), 2);
        }
        other => panic!("{other:?}"),
    }
    match event("error-message-blocked-by-privacy-list") {
        ChatEvent::MessageError(e) => {
            assert_eq!(e.payload.code, Some(503));
            assert_eq!(e.payload.condition.as_deref(), Some("service-unavailable"));
            assert_eq!(e.envelope.id.as_deref(), Some("5c0e7a13e588ce6b6f3ebf82"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rebuilt_carbon_keeps_its_shape() {
    let xml = String::from(&event("carbon-received-chat-message").to_element().unwrap());
    assert!(
        xml.contains("<received xmlns='urn:xmpp:carbons:2'>"),
        "{xml}"
    );
    assert!(
        xml.contains("<forwarded xmlns='urn:xmpp:forward:0'>"),
        "{xml}"
    );
    assert!(
        xml.contains("<dialog_id>5c093376e588ce6856f873fe</dialog_id>"),
        "{xml}"
    );
}

#[test]
fn a_dialog_id_that_is_no_object_id_keeps_the_message_and_the_raw_value() {
    let m = chat("message-chat-odd-dialog-id-from-js-sdk").payload;
    assert_eq!(
        m.body.as_deref(),
        Some("Sent by the JS SDK with a dialog id that is no ObjectId")
    );
    assert_eq!(m.dialog_id, None);
    assert_eq!(m.custom["dialog_id"], "105_29085_29086");
    assert_eq!(
        (m.sender_id, m.date_sent),
        (Some(UserId(29085)), Some(1544111751))
    );
    assert!(m.markable && m.save_to_history);
}

#[test]
fn bad_dates_lose_only_themselves() {
    let m = chat("message-chat-odd-dates").payload;
    assert_eq!(m.date_sent, None);
    assert_eq!(m.custom["date_sent"], "Thu Dec 06 2018 15:55:51 GMT+0200");
    assert_eq!(m.delayed, None);
    assert_eq!(
        m.dialog_id.map(|d| d.to_string()).as_deref(),
        Some("5c093376e588ce6856f873fe")
    );
    assert!(m.body.is_some());
}

#[test]
fn odd_attachments_are_kept() {
    use connectycube_protocol::model::AttachmentType;
    let m = chat("message-attachment-odd-values").payload;
    assert_eq!(m.attachments.len(), 3);
    assert_eq!(
        m.attachments[0].kind,
        AttachmentType::Other("sticker".into())
    );
    assert_eq!(
        m.attachments[0].url.as_deref(),
        Some("https://example.com/s/77.webp")
    );
    let image = &m.attachments[1];
    assert_eq!(image.kind, AttachmentType::Image);
    assert_eq!(
        (image.width, image.height, image.size),
        (None, Some(480), None)
    );
    assert_eq!(m.attachments[2].id.as_deref(), Some("9"));
}

#[test]
fn stanzas_from_a_room_bare_jid_are_classified() {
    let m = chat("message-groupchat-from-room-bare-jid");
    assert_eq!(m.payload.sender_id, None);
    assert_eq!(
        m.payload.dialog_id.map(|d| d.to_string()).as_deref(),
        Some("54789d40535c12b1a5001172")
    );
    assert!(matches!(
        event("muc-presence-from-room-bare-jid"),
        ChatEvent::Unknown(_)
    ));
}
