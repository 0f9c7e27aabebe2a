//! The hot message stanzas read straight from rxml's namespaced events, with no tree.
//!
//! The rules are those of the borrowed-tree reader (`message/borrowed.rs`), one for one: the
//! plain shape of a chat or group chat message, a marker or typing is read; anything else
//! (another `type`, an unknown attribute, a repeated element, text where none belongs, an
//! edit, a carbon, a value that does not parse, a message of no known kind) ends the reading
//! with [`Step::NotMine`], and the caller builds the tree and classifies that instead. A
//! [`Step::Read`] is therefore always the event [`crate::classify`] gives for the same bytes;
//! `fast/tests.rs` and the fuzz target check it.

use xmpp_parsers::chatstates::ChatState;
use xmpp_parsers::date::DateTime as XmppDateTime;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;
use xso::exports::rxml::{AttrMap, Event, Namespace, NcName};

use crate::classify::{Kind, message_of_kind};
use crate::event::ChatEvent;
use crate::ids::MessageId;
use crate::message::envelope::{Delayed, Envelope};
use crate::message::extra_params::{self, KnownTexts};
use crate::message::markers::{Displayed, Received};
use crate::message::ns;
use crate::message::parts::Parts;
use crate::model::{Attachment, CustomProperties};

/// The deepest element this reader follows inside `<message>` (the stanza itself not counted):
/// custom properties nest, and a deeper one is rare enough for the tree path to read.
pub const MAX_FAST_DEPTH: usize = 16;

/// The XML namespace of `xml:lang`.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// What feeding one event gave.
#[derive(Debug)]
#[non_exhaustive]
// `Read` comes once per stanza and is moved straight out: boxing it would cost an allocation
// per message to save copying a few words on every `More`.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// The stanza is not complete yet: feed the next event.
    More,
    /// The stanza ended and reads as this event (what the tree path gives too). Later events
    /// are refused.
    Read(ChatEvent),
    /// Not a stanza this reader takes: classify it from the tree. Later events are refused.
    NotMine,
}

/// Reads one top-level `<message>` from its events (those after its own `StartElement`).
#[derive(Debug)]
pub struct MessageReader {
    env: Envelope,
    parts: Parts,
    kind: Option<Kind>,
    /// The elements open inside `<message>`, innermost last.
    open: Vec<Open>,
    extra: Option<ExtraDraft>,
    /// Gave up, or read the whole stanza: every later event answers `NotMine`.
    gave_up: bool,
}

/// `extraParams` while its children are read.
#[derive(Debug, Default)]
struct ExtraDraft {
    /// save_to_history, date_sent, dialog_id, silent.
    known: [Option<String>; 4],
    module: Option<String>,
    attachments: Vec<Attachment>,
    props: CustomProperties,
}

/// An element open inside the message, and what may come inside it.
#[derive(Debug)]
enum Open {
    Body(String),
    Extra,
    /// markable, a marker, a chat state, an attachment: white space only.
    NoContent,
    /// delay: its text (a reason) is not kept; no children.
    Delay,
    /// A payload no event carries: skipped with everything inside.
    Skip,
    /// A known text child of `extraParams` (index into `ExtraDraft::known`).
    Known(usize, String),
    Module(String),
    /// A custom property: its text, or its children once one came.
    Custom {
        name: String,
        text: String,
        map: Option<CustomProperties>,
    },
}

const KNOWN: [&str; 4] = ["save_to_history", "date_sent", "dialog_id", "silent"];

impl MessageReader {
    /// A reader for the element that starts with `name` and `attrs`, or `None` when it is not
    /// a `<message xmlns='jabber:client'>` of a type and with attributes this reader takes.
    pub fn start(namespace: &Namespace<'_>, name: &NcName, attrs: &AttrMap) -> Option<Self> {
        if namespace.as_str() != ns::JABBER_CLIENT || name.as_str() != "message" {
            return None;
        }
        let (mut from, mut to, mut id, mut kind) = (None, None, None, MessageType::Normal);
        each_attr(attrs, |name, value| {
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
        Some(Self {
            env,
            parts: Parts::default(),
            kind: None,
            open: Vec::new(),
            extra: None,
            gave_up: false,
        })
    }

    /// Takes the next event of the stanza.
    pub fn feed(&mut self, event: &Event) -> Step {
        if self.gave_up {
            return Step::NotMine;
        }
        let went = match event {
            Event::StartElement(_, (namespace, name), attrs) => {
                self.start_child(namespace.as_str(), name.as_str(), attrs)
            }
            Event::Text(_, text) => self.text(text),
            Event::EndElement(_) => {
                if self.open.is_empty() {
                    return match self.finish() {
                        Some(event) => {
                            // The stanza is over: anything fed later is no part of it.
                            self.gave_up = true;
                            Step::Read(event)
                        }
                        None => self.give_up(),
                    };
                }
                self.end_child()
            }
            Event::XmlDeclaration(..) => None,
        };
        match went {
            Some(()) => Step::More,
            None => self.give_up(),
        }
    }

    fn give_up(&mut self) -> Step {
        self.gave_up = true;
        self.open = Vec::new();
        Step::NotMine
    }

    fn start_child(&mut self, namespace: &str, name: &str, attrs: &AttrMap) -> Option<()> {
        if self.open.len() >= MAX_FAST_DEPTH {
            return None;
        }
        let open = match self.open.last_mut() {
            None => self.payload(namespace, name, attrs)?,
            Some(Open::Extra) => self.extra_child(namespace, name, attrs)?,
            Some(Open::Skip) => Open::Skip,
            Some(Open::Custom { map, .. }) => {
                map.get_or_insert_with(CustomProperties::new);
                custom(name)
            }
            // Children where the tree reader wants none: the xso path decides.
            Some(_) => return None,
        };
        self.open.push(open);
        Some(())
    }

    /// A child of `<message>`.
    fn payload(&mut self, namespace: &str, name: &str, attrs: &AttrMap) -> Option<Open> {
        let parts = &mut self.parts;
        Some(match (namespace, name) {
            (ns::JABBER_CLIENT, "body") => {
                if parts.body.is_some() {
                    return None;
                }
                each_attr(attrs, |name, _| (name == "xml:lang").then_some(()))?;
                self.sign(Kind::Chat);
                Open::Body(String::new())
            }
            (ns::JABBER_CLIENT, "extraParams") => {
                if self.extra.is_some() || parts.extra.is_some() || !attrs.is_empty() {
                    return None;
                }
                self.extra = Some(ExtraDraft::default());
                self.sign(Kind::Chat);
                Open::Extra
            }
            // subject, thread, error, reactions, nested stanzas: the xso path.
            (ns::JABBER_CLIENT, _) => return None,
            (ns::CHAT_MARKERS, "markable") => {
                if parts.markable || !attrs.is_empty() {
                    return None;
                }
                parts.markable = true;
                Open::NoContent
            }
            (ns::CHAT_MARKERS, "received") => {
                set_once(
                    &mut parts.received,
                    Received {
                        id: marker_id(attrs)?,
                    },
                )?;
                self.sign(Kind::Delivered);
                Open::NoContent
            }
            (ns::CHAT_MARKERS, "displayed") => {
                set_once(
                    &mut parts.displayed,
                    Displayed {
                        id: marker_id(attrs)?,
                    },
                )?;
                self.sign(Kind::Read);
                Open::NoContent
            }
            (ns::CHAT_MARKERS, _) => return None,
            (ns::CHATSTATES, _) => {
                let state = chat_state(name)?;
                if !attrs.is_empty() {
                    return None;
                }
                if matches!(state, ChatState::Composing | ChatState::Paused) {
                    self.sign(Kind::Typing);
                }
                set_once(&mut self.parts.chat_state, state)?;
                Open::NoContent
            }
            (ns::DELAY, "delay") => {
                if self.env.delayed.is_some() {
                    return None;
                }
                self.env.delayed = Some(delay(attrs)?);
                Open::Delay
            }
            (ns::DELAY | ns::CARBONS | ns::MESSAGE_CORRECT | ns::MESSAGE_DELETE, _) => {
                return None;
            }
            // A payload no event carries (hints, self-destroy...): skipped, as the tree
            // path does.
            _ => Open::Skip,
        })
    }

    /// A child of `<extraParams>`.
    fn extra_child(&mut self, namespace: &str, name: &str, attrs: &AttrMap) -> Option<Open> {
        let extra = self.extra.as_mut()?;
        if namespace != ns::JABBER_CLIENT {
            return Some(custom(name));
        }
        if let Some(slot) = KNOWN.iter().position(|k| *k == name) {
            if extra.known[slot].is_some() || !attrs.is_empty() {
                return None;
            }
            return Some(Open::Known(slot, String::new()));
        }
        Some(match name {
            "moduleIdentifier" => {
                if extra.module.is_some() || !attrs.is_empty() {
                    return None;
                }
                Open::Module(String::new())
            }
            "attachment" => {
                extra.attachments.push(attachment(attrs)?);
                Open::NoContent
            }
            _ => custom(name),
        })
    }

    fn text(&mut self, text: &str) -> Option<()> {
        match self.open.last_mut() {
            Some(
                Open::Body(s) | Open::Known(_, s) | Open::Module(s) | Open::Custom { text: s, .. },
            ) => s.push_str(text),
            Some(Open::Delay | Open::Skip) => {}
            // The message itself, extraParams, empty elements: white space only.
            None | Some(Open::Extra | Open::NoContent) => {
                if !text.chars().all(is_xml_whitespace) {
                    return None;
                }
            }
        }
        Some(())
    }

    fn end_child(&mut self) -> Option<()> {
        match self.open.pop()? {
            Open::Body(text) => self.parts.body = Some(text),
            Open::Known(slot, text) => {
                let extra = self.extra.as_mut()?;
                *extra.known.get_mut(slot)? = Some(text);
            }
            Open::Module(text) => self.extra.as_mut()?.module = Some(text),
            Open::Extra => {
                let e = self.extra.take()?;
                let [save, date, dialog, silent] = &e.known;
                let known = KnownTexts {
                    save_to_history: save.as_deref(),
                    date_sent: date.as_deref(),
                    dialog_id: dialog.as_deref(),
                    silent: silent.as_deref(),
                };
                let params = extra_params::assemble_props(known, e.module, e.attachments, e.props);
                self.parts.extra = Some(params);
            }
            Open::Custom { name, text, map } => {
                let value = match map {
                    Some(map) => serde_json::Value::Object(map),
                    None => serde_json::Value::String(text),
                };
                let into = match self.open.last_mut() {
                    Some(Open::Custom { map, .. }) => map.as_mut()?,
                    Some(Open::Extra) => &mut self.extra.as_mut()?.props,
                    _ => return None,
                };
                extra_params::insert_property(into, &name, value);
            }
            Open::NoContent | Open::Delay | Open::Skip => {}
        }
        Some(())
    }

    /// Marks the message as showing a sign of `kind` (the earliest kind wins, as in
    /// `classify::decide`).
    fn sign(&mut self, kind: Kind) {
        self.kind = Some(self.kind.map_or(kind, |k| k.min(kind)));
    }

    /// The event, once `</message>` came.
    fn finish(&mut self) -> Option<ChatEvent> {
        if self.extra.is_some() {
            return None;
        }
        // A message of no known kind is `ChatEvent::Unknown`, which carries the tree.
        let kind = self.kind?;
        // The reader is spent once the stanza ended: its parts are taken, not copied.
        let mut env = std::mem::replace(&mut self.env, Envelope::new(MessageType::Normal, None));
        env.dialog_id = self.parts.extra.as_ref().and_then(|e| e.dialog_id);
        let parts = std::mem::take(&mut self.parts);
        // An error (a bad message id, a foreign sender) is reported by the tree path, which
        // keeps the stanza in it.
        message_of_kind(kind, env, parts).ok()
    }
}

fn custom(name: &str) -> Open {
    Open::Custom {
        name: name.to_owned(),
        text: String::new(),
        map: None,
    }
}

/// XML's white space (xso refuses other text where none belongs).
fn is_xml_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Visits the attributes by name (`xml:lang` as `"xml:lang"`); gives up on other namespaced
/// ones or when `f` does.
fn each_attr<'a>(attrs: &'a AttrMap, mut f: impl FnMut(&str, &'a str) -> Option<()>) -> Option<()> {
    for ((namespace, name), value) in attrs.iter() {
        if namespace.is_none() {
            f(name.as_str(), value.as_str())?;
        } else if namespace.as_str() == XML_NS && name.as_str() == "lang" {
            f("xml:lang", value.as_str())?;
        } else {
            return None;
        }
    }
    Some(())
}

fn message_type(value: &str) -> Option<MessageType> {
    match value {
        "normal" => Some(MessageType::Normal),
        "chat" => Some(MessageType::Chat),
        "groupchat" => Some(MessageType::Groupchat),
        // Errors (bounces) and headlines (system messages) are the tree path's.
        _ => None,
    }
}

fn jid(s: Option<&str>) -> Option<Option<Jid>> {
    match s {
        None => Some(None),
        Some(s) => Jid::new(s).ok().map(Some),
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

fn marker_id(attrs: &AttrMap) -> Option<MessageId> {
    let mut id = None;
    each_attr(attrs, |name, value| {
        (name == "id").then(|| id = Some(value))
    })?;
    id?.trim().parse().ok()
}

fn chat_state(name: &str) -> Option<ChatState> {
    Some(match name {
        "active" => ChatState::Active,
        "composing" => ChatState::Composing,
        "gone" => ChatState::Gone,
        "inactive" => ChatState::Inactive,
        "paused" => ChatState::Paused,
        _ => return None,
    })
}

/// XEP-0203 `<delay from='…' stamp='…'>`.
fn delay(attrs: &AttrMap) -> Option<Delayed> {
    let (mut from, mut stamp) = (None, None);
    each_attr(attrs, |name, value| {
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

/// An `<attachment/>` with the attributes `AttachmentElement` declares.
fn attachment(attrs: &AttrMap) -> Option<Attachment> {
    let kind = attrs
        .get(&Namespace::NONE, "type")
        .map_or("", String::as_str);
    let mut a = Attachment::new(kind);
    each_attr(attrs, |name, value| {
        let text = || Some(value.to_owned());
        let number = |field| crate::message::attachment::number(field, Some(value));
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
