//! The classifier on bad and odd input: typed errors or `Unknown`, never a panic or a drop.

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::ids::{AppId, DialogId, UserId};
use connectycube_protocol::message::{ChatKind, ParseError};
use connectycube_protocol::model::{Attachment, Message};
use connectycube_protocol::{ChatEvent, ClassifyError, classify_xml};

const C: &str = "xmlns='jabber:client'";

#[test]
fn a_chat_message_with_a_non_object_id_is_a_typed_error() {
    let xml = format!("<message {C} id='message1' type='chat'><body>x</body></message>");
    assert!(matches!(
        classify_xml(&xml),
        Err(ClassifyError::Stanza(u)) if matches!(*u.error, ParseError::Value(_))
    ));
    let xml = format!("<message {C} type='chat'><body>x</body></message>");
    assert!(matches!(
        classify_xml(&xml),
        Err(ClassifyError::Stanza(u)) if matches!(*u.error, ParseError::Missing(_))
    ));
}

#[test]
fn a_chat_message_from_a_foreign_jid_is_a_typed_error() {
    let xml = format!(
        "<message {C} id='5c094687e588ce59fff87425' from='alice@example.org' type='chat'><body>x</body></message>"
    );
    assert!(matches!(
        classify_xml(&xml),
        Err(ClassifyError::Stanza(u)) if matches!(*u.error, ParseError::Address(_))
    ));
}

#[test]
fn bad_marker_and_edit_ids_are_typed_errors() {
    for payload in [
        "<received xmlns='urn:xmpp:chat-markers:0' id='origin1'/>",
        "<replace xmlns='urn:xmpp:message-correct:0' id='origin1'/>",
        "<remove xmlns='urn:xmpp:message-delete:0'/>",
        "<reactions user_id='0' message_id='5c094687e588ce59fff87425'/>",
    ] {
        let xml = format!("<message {C} type='chat'>{payload}</message>");
        assert!(
            matches!(classify_xml(&xml), Err(ClassifyError::Stanza(_))),
            "{payload}"
        );
    }
}

#[test]
fn garbage_is_an_xml_error() {
    for xml in [
        "",
        "<",
        "not xml",
        "<message>",
        "<message xmlns='jabber:client'>",
    ] {
        assert!(
            matches!(classify_xml(xml), Err(ClassifyError::Xml(_))),
            "{xml}"
        );
    }
}

#[test]
fn unknown_stanzas_come_back_whole() {
    for xml in [
        format!("<presence {C}/>"),
        format!(
            "<iq {C} type='get' id='p1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
        ),
        "<r xmlns='urn:xmpp:sm:3'/>".to_owned(),
        format!(
            "<message {C} type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>"
        ),
    ] {
        let original: minidom::Element = xml.parse().unwrap();
        match classify_xml(&xml).unwrap() {
            ChatEvent::Unknown(e) => assert_eq!(e, original),
            other => panic!("{xml}: {other:?}"),
        }
    }
}

#[test]
fn a_chat_state_wins_over_a_body_as_in_the_js_sdk() {
    let xml = format!(
        "<message {C} id='5c094687e588ce59fff87425' type='chat'><body>x</body><paused xmlns='http://jabber.org/protocol/chatstates'/></message>"
    );
    assert_eq!(classify_xml(&xml).unwrap().kind(), "Typing");
}

#[test]
fn an_iq_error_passes_its_error_through() {
    let xml = format!(
        "<iq {C} type='error' id='last1' from='5-105@chat.connectycube.com'><query xmlns='jabber:iq:last'/><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    match classify_xml(&xml).unwrap() {
        ChatEvent::IqError(r) => {
            assert_eq!(r.id, "last1");
            assert_eq!(
                r.payload.map(|p| p.name().to_owned()).as_deref(),
                Some("error")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn outbound_messages_parse_back_as_sent() {
    let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
    let dialog: DialogId = "5c093376e588ce6856f873fe".parse().unwrap();
    let mut m = Message::new("to the room <&>");
    m.dialog_id = Some(dialog);
    m.date_sent = Some(1_700_000_000);
    m.attachments.push(Attachment::new("image").with_id("1"));
    m.attachments
        .push(Attachment::new("file").with_url("https://e.x/f?a=1&b=2"));
    let room = domain.room_jid(dialog).unwrap().into();
    let el = m.to_stanza(room, ChatKind::Groupchat).unwrap();
    assert_eq!(el.attr("type"), Some("groupchat"));
    let back = Message::from_stanza(el).unwrap();
    assert_eq!(back, m);

    let mut one = Message::new("hi");
    one.recipient_id = Some(UserId(7));
    let to = domain.user_jid(UserId(7)).unwrap().into();
    let back = Message::from_stanza(one.to_stanza(to, ChatKind::Chat).unwrap()).unwrap();
    assert_eq!(back, one);
}

/// Found by the fuzzer: an error bounce that carries `extraParams/dialog_id` lost it when
/// written back.
#[test]
fn an_error_bounce_keeps_its_dialog_when_rebuilt() {
    let xml = format!(
        "<message {C} id='5c0e7a13e588ce6b6f3ebf86' type='error'><extraParams><dialog_id>5c093376e588ce6856f873fe</dialog_id></extraParams><error/></message>"
    );
    let first = classify_xml(&xml).unwrap();
    assert_eq!(first.kind(), "MessageError");
    let again = connectycube_protocol::classify(first.to_element().unwrap()).unwrap();
    assert_eq!(first, again);
}

/// Found by the fuzzer: a chat message with neither body nor anything in `extraParams` was
/// written back without both and read back as an unknown stanza.
#[test]
fn a_chat_message_without_body_or_params_stays_a_chat_message_when_rebuilt() {
    let xml = format!(
        "<message {C} id='55e821cd0ce78744090041b2' type='chat'>\n  <extraParams>\n  </extraParams>\n</message>"
    );
    let first = classify_xml(&xml).unwrap();
    assert_eq!(first.kind(), "ChatMessage");
    let again = connectycube_protocol::classify(first.to_element().unwrap()).unwrap();
    assert_eq!(first, again);

    let mut empty = Message::new("");
    empty.body = None;
    empty.markable = false;
    empty.save_to_history = false;
    let to = ChatDomain::new("chat.connectycube.com", AppId(105))
        .user_jid(UserId(7))
        .unwrap()
        .into();
    let el = empty.to_stanza(to, ChatKind::Chat).unwrap();
    match connectycube_protocol::classify(el).unwrap() {
        ChatEvent::ChatMessage(m) => assert_eq!(m.payload.id, empty.id),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unreadable_stanza_carries_the_raw_element() {
    let xml =
        format!("<message {C} id='not-an-object-id' type='chat'><body>keep me</body></message>");
    let el: minidom::Element = xml.parse().unwrap();
    let err = connectycube_protocol::classify(el.clone()).unwrap_err();
    assert_eq!(*err.element, el);
    assert!(matches!(*err.error, ParseError::Value(_)), "{err:?}");
    assert!(err.to_string().contains("<message>"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    // The same on the xso path (a carbon-free edit goes there) and for presences and IQs.
    for xml in [
        format!(
            "<message {C} type='chat'><replace xmlns='urn:xmpp:message-correct:0' id='origin1'/></message>"
        ),
        format!("<presence {C} from='1_5c094c0ce588ce6856f87422@muc.localhost/admin'/>"),
        format!("<iq {C} type='result'/>"),
    ] {
        let el: minidom::Element = xml.parse().unwrap();
        let err = connectycube_protocol::classify(el.clone()).unwrap_err();
        assert_eq!(*err.element, el, "{xml}");
    }
}
