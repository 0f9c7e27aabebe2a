//! The one classifier: any inbound stanza to one [`ChatEvent`].
//!
//! Messages follow the order of the official JavaScript SDK (WIRE.md): carbons are unwrapped
//! first; then `type='error'` is a message error and `type='headline'` with
//! `SystemNotifications` a system message; otherwise chat state, then replace (edit), reactions,
//! remove (delete), received/displayed markers, and last a plain message. Anything else is
//! [`ChatEvent::Unknown`], never dropped.
//!
//! The kind is decided on borrowed children first, so an unknown stanza comes back untouched
//! and a known one is parsed exactly once.
//!
//! Carbons are only trustworthy from the user's own bare JID (XEP-0280 §11): the caller, who
//! knows that JID, must check [`crate::message::Carbon::from`].

use minidom::Element;

use crate::event::{ChatEvent, Edit, Inbound, IqElement, IqResponse};
use crate::iq::IqRequest;
use crate::iq::last_activity::LastActivity;
use crate::message::chat_state::TypingState;
use crate::message::error::MessageError;
use crate::message::extra_params::SYSTEM_NOTIFICATIONS;
use crate::message::system::SystemMessage;
use crate::message::{ParseError, carbons, ns};
use crate::muc::RoomPresence;

/// Text that is not one XMPP stanza, or a stanza that is not what it claims to be.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    /// Not well-formed XML (or no namespace on the root).
    #[error("not an XML element: {0}")]
    Xml(#[from] minidom::Error),
    /// A known stanza kind with malformed content.
    #[error(transparent)]
    Stanza(#[from] UnreadableStanza),
}

/// A stanza of a known kind that cannot be read at all (a message id that is no ObjectId, a
/// foreign sender, a broken carbon), with the stanza as received so that nothing is lost.
///
/// Odd values inside a readable stanza are not this error: they are kept raw or left out (see
/// [`crate::message::extra_params`]).
#[derive(Debug, thiserror::Error)]
#[error("unreadable <{name}> stanza: {error}", name = .element.name())]
pub struct UnreadableStanza {
    /// The stanza, as received (boxed, like the error, to keep `Result`s small).
    pub element: Box<Element>,
    /// Why it could not be read.
    #[source]
    pub error: Box<ParseError>,
}

impl UnreadableStanza {
    fn new(element: Element, error: ParseError) -> Self {
        tracing::warn!(%error, stanza = element.name(), "a stanza could not be read");
        Self {
            element: Box::new(element),
            error: Box::new(error),
        }
    }
}

/// What a message stanza is, decided without taking it apart; declared in the order of
/// precedence (the first kind a stanza shows signs of wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Error,
    System,
    Typing,
    Edit,
    Reactions,
    Delete,
    Delivered,
    Read,
    Chat,
}

/// Classifies one stanza from the stream (namespace `jabber:client`).
///
/// # Errors
/// [`UnreadableStanza`], carrying the stanza, when a stanza of a known kind cannot be read: a
/// non-ObjectId message id, a foreign sender JID, a broken carbon. An odd value in a readable
/// stanza (a `dialog_id` that is no ObjectId, a bad date, an unknown attachment type) is not an
/// error, and unrecognised stanzas are [`ChatEvent::Unknown`].
pub fn classify(el: Element) -> Result<ChatEvent, UnreadableStanza> {
    if !el.has_ns(ns::JABBER_CLIENT) {
        return Ok(ChatEvent::Unknown(el));
    }
    match el.name() {
        "message" => message_event(el, true),
        "iq" => {
            // IQ answers are read by xso, which consumes the element.
            let raw = el.clone();
            classify_iq(el).map_err(|e| UnreadableStanza::new(raw, e))
        }
        "presence" => presence_event(el),
        _ => Ok(ChatEvent::Unknown(el)),
    }
}

/// Parses `xml` (one stanza with its namespace) and classifies it.
///
/// # Errors
/// [`ClassifyError::Xml`] for text that is not one namespaced element, else as [`classify`]
/// ([`ClassifyError::Stanza`]).
///
/// ```
/// use connectycube_protocol::{ChatEvent, classify_xml};
///
/// let xml = "<message xmlns='jabber:client' type='chat' id='5c094c0ce588ce6856f87422' \
///            from='56-105@chat.connectycube.com/phone' to='57-105@chat.connectycube.com'>\
///            <body>hello</body></message>";
/// match classify_xml(xml)? {
///     ChatEvent::ChatMessage(m) => assert_eq!(m.payload.body.as_deref(), Some("hello")),
///     other => panic!("not a message: {}", other.kind()),
/// }
/// assert!(classify_xml("<not xml").is_err());
/// # Ok::<(), connectycube_protocol::ClassifyError>(())
/// ```
pub fn classify_xml(xml: &str) -> Result<ChatEvent, ClassifyError> {
    let el: Element = xml.parse()?;
    Ok(classify(el)?)
}

/// The kind of a message stanza, `None` if it is none this crate knows.
fn decide(m: &Element) -> Option<Kind> {
    match m.attr("type") {
        Some("error") => return Some(Kind::Error),
        Some("headline") => {
            let system = m
                .get_child("extraParams", ns::JABBER_CLIENT)
                .and_then(|e| e.get_child("moduleIdentifier", ns::JABBER_CLIENT))
                .is_some_and(|e| e.text().trim() == SYSTEM_NOTIFICATIONS);
            return system.then_some(Kind::System);
        }
        _ => {}
    }
    m.children()
        .filter_map(|c| {
            SIGNS
                .iter()
                .find(|(ns, name, _)| c.is(name, *ns))
                .map(|s| s.2)
        })
        .min()
}

/// The children that make a message of each kind.
const SIGNS: [(&str, &str, Kind); 9] = [
    (ns::CHATSTATES, "composing", Kind::Typing),
    (ns::CHATSTATES, "paused", Kind::Typing),
    (ns::MESSAGE_CORRECT, "replace", Kind::Edit),
    (ns::JABBER_CLIENT, "reactions", Kind::Reactions),
    (ns::MESSAGE_DELETE, "remove", Kind::Delete),
    (ns::CHAT_MARKERS, "received", Kind::Delivered),
    (ns::CHAT_MARKERS, "displayed", Kind::Read),
    (ns::JABBER_CLIENT, "body", Kind::Chat),
    (ns::JABBER_CLIENT, "extraParams", Kind::Chat),
];

/// Classifies a `<message>`.
///
/// Everyday stanzas are read from the borrowed tree; the rest through the xso-derived types
/// (see [`classify_message_by_schema`]), with the same result.
///
/// # Errors
/// As [`classify`].
pub fn classify_message(el: Element) -> Result<ChatEvent, ParseError> {
    message_event(el, true).map_err(|u| *u.error)
}

/// Classifies a `<message>` like [`classify_message`], but reads every stanza through the
/// xso-derived schema types: slower, and the reference the fast reader is tested against.
///
/// # Errors
/// As [`classify`].
pub fn classify_message_by_schema(el: Element) -> Result<ChatEvent, ParseError> {
    message_event(el, false).map_err(|u| *u.error)
}

fn message_event(el: Element, fast: bool) -> Result<ChatEvent, UnreadableStanza> {
    let inner = carbons::find(&el)
        .and_then(|(_, child)| carbons::inner(child))
        .unwrap_or(&el);
    let Some(kind) = decide(inner) else {
        return Ok(ChatEvent::Unknown(el));
    };
    let read = fast
        .then(|| crate::message::borrowed::decompose(&el))
        .flatten();
    let (raw, (envelope, parts)) = match read {
        Some(read) => (el, read),
        // xso consumes the element: keep a copy for the error (the uncommon path only).
        None => {
            let raw = el.clone();
            match crate::message::parts::decompose(el) {
                Ok(read) => (raw, read),
                Err(e) => return Err(UnreadableStanza::new(raw, e)),
            }
        }
    };
    message_of_kind(kind, envelope, parts).map_err(|e| UnreadableStanza::new(raw, e))
}

pub(crate) fn message_of_kind(
    kind: Kind,
    envelope: crate::message::Envelope,
    mut parts: crate::message::parts::Parts,
) -> Result<ChatEvent, ParseError> {
    let missing = ParseError::Missing;
    Ok(match kind {
        Kind::Error => {
            let payload = parts
                .error
                .as_ref()
                .map(MessageError::from_element)
                .unwrap_or_default();
            ChatEvent::MessageError(Box::new(Inbound { envelope, payload }))
        }
        Kind::System => {
            let payload = SystemMessage {
                body: parts.body,
                params: parts
                    .extra
                    .ok_or(missing("a system message needs extraParams"))?,
            };
            ChatEvent::System(Box::new(Inbound { envelope, payload }))
        }
        Kind::Typing => {
            let payload = parts
                .chat_state
                .as_ref()
                .and_then(TypingState::from_chat_state)
                .ok_or(missing("typing needs composing or paused"))?;
            ChatEvent::Typing(Box::new(Inbound { envelope, payload }))
        }
        Kind::Edit => {
            let r = parts.replace.ok_or(missing("an edit needs replace"))?;
            let payload = Edit {
                message_id: r.id,
                // A correction without a body clears the text; keep it as an empty edit.
                body: parts.body.take().unwrap_or_default(),
                last: r.last,
            };
            ChatEvent::Edited(Box::new(Inbound { envelope, payload }))
        }
        Kind::Reactions => {
            let payload = parts.reactions.ok_or(missing("reactions"))?;
            ChatEvent::Reactions(Box::new(Inbound { envelope, payload }))
        }
        Kind::Delete => {
            let payload = parts.remove.ok_or(missing("a delete needs remove"))?.id;
            ChatEvent::Deleted(Box::new(Inbound { envelope, payload }))
        }
        Kind::Delivered => {
            let payload = parts.received.ok_or(missing("received"))?.id;
            ChatEvent::Delivered(Box::new(Inbound { envelope, payload }))
        }
        Kind::Read => {
            let payload = parts.displayed.ok_or(missing("displayed"))?.id;
            ChatEvent::Read(Box::new(Inbound { envelope, payload }))
        }
        Kind::Chat => {
            let payload = crate::message::chat::from_parts(&envelope, parts)?;
            ChatEvent::ChatMessage(Box::new(Inbound { envelope, payload }))
        }
    })
}

/// Classifies an `<iq>`: answers pass through; requests are for the IQ modules.
///
/// Dispatch point for the IQ domain modules (last activity, privacy lists, ping...): they add
/// their typed events here, before the generic pass-through.
///
/// # Errors
/// [`ParseError`] when `id` is missing or `from`/`to` is not a JID.
pub fn classify_iq(el: Element) -> Result<ChatEvent, ParseError> {
    if crate::iq::ping::is_request(&el) {
        return Ok(ChatEvent::Ping(IqRequest::of(&el)?));
    }
    if let Some(name) = crate::iq::privacy_push_name(&el) {
        let request = IqRequest::of(&el)?;
        return Ok(ChatEvent::PrivacyListChanged { request, name });
    }
    if let Some(activity) = LastActivity::from_iq(&el) {
        return Ok(ChatEvent::LastActivity(activity?));
    }
    let kind = match el.attr("type") {
        Some("result") => true,
        Some("error") => false,
        _ => return Ok(ChatEvent::Unknown(el)),
    };
    let response = IqResponse::from_iq(IqElement::try_from(el)?);
    Ok(if kind {
        ChatEvent::IqResult(response)
    } else {
        ChatEvent::IqError(response)
    })
}

/// Classifies a `<presence>`.
///
/// Room presences become occupant events; other presences (contacts' availability, which
/// ConnectyCube chat does not use) stay [`ChatEvent::Unknown`].
///
/// # Errors
/// [`ParseError`] when a room presence's nick is not a user id.
pub fn classify_presence(el: Element) -> Result<ChatEvent, ParseError> {
    presence_event(el).map_err(|u| *u.error)
}

fn presence_event(el: Element) -> Result<ChatEvent, UnreadableStanza> {
    Ok(match crate::muc::classify(&el) {
        Some(Ok(RoomPresence::Joined(o))) => ChatEvent::OccupantJoined(o),
        Some(Ok(RoomPresence::Left(o))) => ChatEvent::OccupantLeft(o),
        Some(Ok(RoomPresence::Kicked(o))) => ChatEvent::Kicked(o),
        Some(Err(e)) => return Err(UnreadableStanza::new(el, e)),
        None => ChatEvent::Unknown(el),
    })
}
