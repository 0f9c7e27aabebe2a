//! The hot outbound stanzas written straight to text, with no tree.
//!
//! Each writer mirrors a tree builder (`message/chat.rs` `build`, `event.rs` `with_dialog`):
//! the same elements in the same order, the same checks in the same order, so the text parses
//! to the element the tree path serializes, and a value the tree path refuses is refused here
//! with the same [`BuildError`]. `fast/tests.rs` compares both on fixtures and generated
//! messages.

use std::fmt::Write as _;

use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;
use xso::exports::rxml::NcNameStr;

use crate::event::ChatEvent;
use crate::ids::{DialogId, MessageId};
use crate::message::chat_state::TypingState;
use crate::message::extra_params::MAX_PROPERTY_DEPTH;
use crate::message::{BuildError, ChatKind, Envelope, check_text, ns};
use crate::model::{Attachment, CustomProperties, Message};

/// The key a chat message's `moduleIdentifier` is kept under among custom properties.
const MODULE_IDENTIFIER: &str = "moduleIdentifier";

impl Message {
    /// Appends the `<message>` that [`Message::to_stanza`] builds, serialized (declaring
    /// `jabber:client` on itself, as a standalone stanza), without building the tree.
    ///
    /// # Errors
    /// As [`Message::to_stanza`]; also a text attribute (an attachment's name, say) holding a
    /// character XML cannot carry, which the tree path only finds when serializing.
    pub fn write_stanza(
        &self,
        to: &Jid,
        kind: ChatKind,
        out: &mut String,
    ) -> Result<(), BuildError> {
        let head = Head {
            from: None,
            to: Some(to),
            id: Id::Message(self.id),
            kind: kind.into(),
            dialog_id: self.dialog_id,
        };
        write_chat(&head, self, out)
    }
}

/// Appends the stanza [`ChatEvent::to_element`] builds for a hot event (a chat or group chat
/// message, typing, a delivered or read marker), serialized; `Ok(false)` and nothing written
/// for any other event or envelope (a carbon, a delay, a `normal` or `error` type), which the
/// tree path writes.
///
/// # Errors
/// As [`ChatEvent::to_element`] (see [`Message::write_stanza`]).
pub fn write_event(event: &ChatEvent, out: &mut String) -> Result<bool, BuildError> {
    let env = match event.envelope() {
        Some(env) if plain(env) => env,
        _ => return Ok(false),
    };
    match event {
        // The envelope's id is written, as `chat::build` does.
        ChatEvent::ChatMessage(i) => write_chat(&Head::of(env), &i.payload, out)?,
        ChatEvent::Typing(i) => {
            let name = match i.payload {
                TypingState::Composing => "composing",
                TypingState::Paused => "paused",
            };
            write_signal(env, out, |out| {
                let _ = write!(out, "<{name} xmlns='{}'/>", ns::CHATSTATES);
            })?;
        }
        ChatEvent::Delivered(i) | ChatEvent::Read(i) => {
            let name = match event {
                ChatEvent::Delivered(_) => "received",
                _ => "displayed",
            };
            write_signal(env, out, |out| {
                let _ = write!(
                    out,
                    "<{name} xmlns='{}' id='{}'/>",
                    ns::CHAT_MARKERS,
                    i.payload
                );
            })?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// An envelope these writers take: no carbon, no delay, a chat or group chat type.
fn plain(env: &Envelope) -> bool {
    env.carbon.is_none()
        && env.delayed.is_none()
        && matches!(env.kind, MessageType::Chat | MessageType::Groupchat)
}

/// What `Envelope::build` writes on `<message>`, borrowed (no JID is copied).
struct Head<'a> {
    from: Option<&'a Jid>,
    to: Option<&'a Jid>,
    id: Id<'a>,
    kind: MessageType,
    dialog_id: Option<DialogId>,
}

/// A stanza id: the envelope's text, or a message id written as its hex digits.
enum Id<'a> {
    Text(Option<&'a str>),
    Message(MessageId),
}

impl<'a> Head<'a> {
    fn of(env: &'a Envelope) -> Self {
        Self {
            from: env.from.as_ref(),
            to: env.to.as_ref(),
            id: Id::Text(env.id.as_deref()),
            kind: env.kind.clone(),
            dialog_id: env.dialog_id,
        }
    }
}

fn type_name(kind: &MessageType) -> &'static str {
    match kind {
        MessageType::Groupchat => "groupchat",
        _ => "chat",
    }
}

/// `<message xmlns='jabber:client' from to id type>`, as `Envelope::build` sets them.
fn open_message(head: &Head<'_>, out: &mut String) -> Result<(), BuildError> {
    out.push_str("<message xmlns='jabber:client'");
    attr(out, "from", head.from.map(Jid::as_str))?;
    attr(out, "to", head.to.map(Jid::as_str))?;
    match head.id {
        Id::Text(id) => attr(out, "id", id)?,
        // Hex digits: nothing to escape or check.
        Id::Message(id) => {
            let _ = write!(out, " id=\"{id}\"");
        }
    }
    attr(out, "type", Some(type_name(&head.kind)))?;
    out.push('>');
    Ok(())
}

/// A marker or typing stanza: the payload, then `extraParams/dialog_id` when the envelope
/// has one (`event.rs` `with_dialog`).
fn write_signal(
    env: &Envelope,
    out: &mut String,
    payload: impl FnOnce(&mut String),
) -> Result<(), BuildError> {
    open_message(&Head::of(env), out)?;
    payload(out);
    if let Some(d) = env.dialog_id {
        write_dialog_only(d, out);
    }
    out.push_str("</message>");
    Ok(())
}

fn write_dialog_only(d: DialogId, out: &mut String) {
    let _ = write!(out, "<extraParams><dialog_id>{d}</dialog_id></extraParams>");
}

/// A chat message (`message/chat.rs` `build`): body, `extraParams`, `markable`.
fn write_chat(head: &Head<'_>, message: &Message, out: &mut String) -> Result<(), BuildError> {
    open_message(head, out)?;
    if let Some(body) = &message.body {
        out.push_str("<body>");
        text(out, body);
        out.push_str("</body>");
    }
    let module = message
        .custom
        .get(MODULE_IDENTIFIER)
        .and_then(|v| v.as_str());
    let empty = !message.save_to_history
        && message.date_sent.is_none()
        && head.dialog_id.is_none()
        && !message.silent
        && module.is_none()
        && message.attachments.is_empty()
        && message
            .custom
            .keys()
            .all(|k| module.is_some() && k == MODULE_IDENTIFIER);
    // Without a body, an empty `<extraParams/>` is what makes it a chat message (chat.rs).
    if !empty || message.body.is_none() {
        write_extra(head.dialog_id, message, module, out)?;
    }
    if message.markable {
        let _ = write!(out, "<markable xmlns='{}'/>", ns::CHAT_MARKERS);
    }
    out.push_str("</message>");
    // The tree path checks the body after extraParams: the same error comes first here.
    if let Some(body) = &message.body {
        check_text("body", body)?;
    }
    Ok(())
}

/// `extraParams`: known children, attachments, custom properties (`ExtraRef::to_element`).
/// The tree path checks custom names and texts first, then the module: the checks here are
/// made as the text is written and their errors returned in that order.
fn write_extra(
    dialog_id: Option<DialogId>,
    message: &Message,
    module: Option<&str>,
    out: &mut String,
) -> Result<(), BuildError> {
    out.push_str("<extraParams>");
    if message.save_to_history {
        out.push_str("<save_to_history>1</save_to_history>");
    }
    if let Some(d) = message.date_sent {
        let _ = write!(out, "<date_sent>{d}</date_sent>");
    }
    if let Some(d) = dialog_id {
        let _ = write!(out, "<dialog_id>{d}</dialog_id>");
    }
    if message.silent {
        out.push_str("<silent>1</silent>");
    }
    if let Some(m) = module {
        out.push_str("<moduleIdentifier>");
        text(out, m);
        out.push_str("</moduleIdentifier>");
    }
    // An attribute the tree path would only fail to serialize: reported after its build
    // errors.
    let mut attachment_error = None;
    for a in &message.attachments {
        if let Err(e) = write_attachment(a, out) {
            attachment_error.get_or_insert(e);
        }
    }
    for (k, v) in &message.custom {
        if module.is_some() && k == MODULE_IDENTIFIER {
            continue;
        }
        write_value(k, v, 0, out)?;
    }
    if let Some(m) = module {
        check_text(MODULE_IDENTIFIER, m)?;
    }
    out.push_str("</extraParams>");
    attachment_error.map_or(Ok(()), Err)
}

fn write_attachment(a: &Attachment, out: &mut String) -> Result<(), BuildError> {
    out.push_str("<attachment");
    for (name, value) in [
        ("type", Some(a.kind.as_str())),
        ("id", a.id.as_deref()),
        ("uid", a.uid.as_deref()),
        ("url", a.url.as_deref()),
        ("name", a.name.as_deref()),
        ("content-type", a.content_type.as_deref()),
        ("data", a.data.as_deref()),
    ] {
        attr(out, name, value)?;
    }
    // Digits need neither escaping nor checking.
    for (name, value) in [
        ("size", a.size),
        ("width", a.width),
        ("height", a.height),
        ("duration", a.duration),
    ] {
        if let Some(v) = value {
            let _ = write!(out, " {name}=\"{v}\"");
        }
    }
    out.push_str("/>");
    Ok(())
}

/// A custom property as elements (`extra_params.rs` `value_to_elements`): arrays as repeated
/// siblings, objects as children, every leaf as text.
fn write_value(
    key: &str,
    value: &serde_json::Value,
    depth: usize,
    out: &mut String,
) -> Result<(), BuildError> {
    use serde_json::Value;
    if <&NcNameStr>::try_from(key).is_err() {
        return Err(BuildError::PropertyName(key.chars().take(64).collect()));
    }
    if depth > MAX_PROPERTY_DEPTH {
        return Err(BuildError::TooDeep(key.chars().take(64).collect()));
    }
    match value {
        Value::Null => {
            let _ = write!(out, "<{key}/>");
        }
        Value::String(s) => {
            check_text(key, s)?;
            let _ = write!(out, "<{key}>");
            text(out, s);
            let _ = write!(out, "</{key}>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<{key}>{b}</{key}>");
        }
        Value::Number(n) => {
            let _ = write!(out, "<{key}>{n}</{key}>");
        }
        Value::Array(items) => {
            for item in items {
                write_value(key, item, depth + 1, out)?;
            }
        }
        Value::Object(map) => {
            let _ = write!(out, "<{key}>");
            write_map(map, depth, out)?;
            let _ = write!(out, "</{key}>");
        }
    }
    Ok(())
}

fn write_map(map: &CustomProperties, depth: usize, out: &mut String) -> Result<(), BuildError> {
    for (k, v) in map {
        write_value(k, v, depth + 1, out)?;
    }
    Ok(())
}

/// ` name="value"` when there is a value, escaped for a double-quoted attribute; white space
/// other than the space is written as a character reference, or a parser would turn it into
/// a space.
fn attr(out: &mut String, name: &str, value: Option<&str>) -> Result<(), BuildError> {
    let Some(value) = value else { return Ok(()) };
    check_text(name, value)?;
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape(out, value, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\t' => Some("&#9;"),
        '\n' => Some("&#10;"),
        '\r' => Some("&#13;"),
        _ => None,
    });
    out.push('"');
    Ok(())
}

/// Character data; `\r` as a reference, or a parser would read it as a line end.
fn text(out: &mut String, s: &str) {
    escape(out, s, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '\r' => Some("&#13;"),
        _ => None,
    });
}

/// Copies `s` with the characters `subst` names replaced, in runs between them.
fn escape(out: &mut String, s: &str, subst: impl Fn(char) -> Option<&'static str>) {
    let mut from = 0;
    for (i, c) in s.char_indices() {
        if let Some(r) = subst(c) {
            out.push_str(&s[from..i]);
            out.push_str(r);
            from = i + c.len_utf8();
        }
    }
    out.push_str(&s[from..]);
}
