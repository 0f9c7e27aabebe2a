//! Chat and group chat messages: [`Message`] to an outbound `<message>` and back.

use minidom::Element;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use super::envelope::Envelope;
use super::extra_params::ExtraRef;
use super::parts::{Parts, decompose};
use super::{BuildError, ParseError, check_text};
use crate::address::{occupant_user_id, room_of, user_id_of, user_of};
use crate::ids::MessageId;
use crate::model::Message;

/// The `type` of a chat message: 1-1 or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// `chat`: to a user JID.
    Chat,
    /// `groupchat`: to a room JID.
    Groupchat,
}

impl From<ChatKind> for MessageType {
    fn from(k: ChatKind) -> Self {
        match k {
            ChatKind::Chat => MessageType::Chat,
            ChatKind::Groupchat => MessageType::Groupchat,
        }
    }
}

/// The key a chat message's stray `moduleIdentifier` is kept under among custom properties.
const MODULE_IDENTIFIER: &str = "moduleIdentifier";

impl Message {
    /// The `<message>` a client sends: to a user JID with [`ChatKind::Chat`], or to a room JID
    /// with [`ChatKind::Groupchat`]. Sender, delay and carbon flags are the server's business
    /// and not written.
    ///
    /// # Errors
    /// [`BuildError`] when a custom property name is not an XML name or a text holds characters
    /// XML cannot carry.
    pub fn to_stanza(&self, to: Jid, kind: ChatKind) -> Result<Element, BuildError> {
        let mut env = Envelope::new(kind.into(), Some(to));
        env.id = Some(self.id.to_string());
        env.dialog_id = self.dialog_id;
        build(&env, self)
    }

    /// Reads a chat or group chat `<message>` (a carbon is unwrapped and flagged). The sender
    /// comes from a user JID or an occupant JID's resource, the recipient of a 1-1 message from
    /// `to`, the dialog from `dialog_id` or the room JID.
    ///
    /// # Errors
    /// [`ParseError`] when the id is not an ObjectId, `from` is a foreign JID, or a payload is
    /// malformed.
    pub fn from_stanza(el: Element) -> Result<Self, ParseError> {
        let (env, parts) = match super::borrowed::decompose(&el) {
            Some(read) => read,
            None => decompose(el)?,
        };
        from_parts(&env, parts)
    }
}

/// The stanza for `message` inside `env` (whose `dialog_id` is written, not the message's).
pub(crate) fn build(env: &Envelope, message: &Message) -> Result<Element, BuildError> {
    let module = message
        .custom
        .get(MODULE_IDENTIFIER)
        .and_then(|v| v.as_str());
    let custom_without_module;
    let custom = if module.is_some() {
        let mut c = message.custom.clone();
        c.remove(MODULE_IDENTIFIER);
        custom_without_module = c;
        &custom_without_module
    } else {
        &message.custom
    };
    let extra = ExtraRef {
        save_to_history: message.save_to_history.then_some(true),
        date_sent: message.date_sent,
        dialog_id: env.dialog_id,
        silent: message.silent.then_some(true),
        module_identifier: module,
        attachments: &message.attachments,
        custom,
    };
    let mut payloads = Vec::with_capacity(2);
    // Without a body, an empty `<extraParams/>` is what makes the stanza a chat message: left
    // out, the message would read back as an unknown stanza.
    if !extra.is_empty() || message.body.is_none() {
        payloads.push(extra.to_element()?);
    }
    if message.markable {
        // The same tree as `Element::from(Markable)`, without xso's event round trip.
        payloads.push(Element::bare("markable", super::ns::CHAT_MARKERS));
    }
    if let Some(b) = &message.body {
        check_text("body", b)?;
    }
    Ok(env.build(message.body.clone(), payloads))
}

/// The message a decomposed chat stanza carries.
pub(crate) fn from_parts(env: &Envelope, parts: Parts) -> Result<Message, ParseError> {
    let id: MessageId = env
        .id
        .as_deref()
        .ok_or(ParseError::Missing("a chat message needs an id"))?
        .parse()
        .map_err(xso::error::Error::text_parse_error)?;
    let sender_id = match &env.from {
        None => None,
        // The room itself (its bare JID) speaks for no user.
        Some(from) if room_of(from).is_some() && from.resource().is_none() => None,
        Some(from) if room_of(from).is_some() => Some(occupant_user_id(from)?),
        Some(from) => Some(user_id_of(from)?),
    };
    let recipient_id = match env.kind {
        MessageType::Chat => env.to.as_ref().and_then(user_of),
        _ => None,
    };
    let mut m = Message::new(String::new());
    m.id = id;
    m.body = parts.body;
    m.dialog_id = env.dialog();
    m.sender_id = sender_id;
    m.recipient_id = recipient_id;
    m.markable = parts.markable;
    m.delayed = env.delayed.as_ref().map(|d| d.stamp);
    m.carbon = env.carbon.is_some();
    let extra = parts.extra.unwrap_or_default();
    m.save_to_history = extra.save_to_history.unwrap_or(false);
    m.silent = extra.silent.unwrap_or(false);
    m.date_sent = extra.date_sent;
    m.attachments = extra.attachments;
    m.custom = extra.custom;
    if let Some(module) = extra.module_identifier {
        m.custom.insert(
            MODULE_IDENTIFIER.to_owned(),
            serde_json::Value::String(module),
        );
    }
    Ok(m)
}
