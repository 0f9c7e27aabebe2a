//! What an inbound stanza means to a chat app: [`ChatEvent`], produced by [`mod@crate::classify`].
//!
//! Every event can be written back as a stanza ([`ChatEvent::to_element`]), so a local server
//! or a test can send exactly what it received.

use minidom::Element;
use xmpp_parsers::jid::Jid;
use xso::{AsXml, FromXml};

use crate::ids::{DialogId, MessageId};
use crate::iq::IqRequest;
use crate::iq::last_activity::LastActivity;
use crate::message::chat_state::TypingState;
use crate::message::error::MessageError;
use crate::message::extra_params::ExtraParams;
use crate::message::reactions::Reactions;
use crate::message::system::SystemMessage;
use crate::message::{BuildError, Envelope, ns};
use crate::model::Message;
use crate::muc::{Occupant, RoomPresence};

/// A message-stanza event: its envelope and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound<T> {
    /// Addresses, type, dialog, carbon and delay.
    pub envelope: Envelope,
    /// The event's content.
    pub payload: T,
}

impl Inbound<Message> {
    /// The message's dialog: the payload's `dialog_id` wins over the envelope's when they
    /// disagree (the payload is what the sender wrote for this message; the envelope is
    /// where it was routed from), as in the official SDKs.
    pub fn dialog_id(&self) -> Option<DialogId> {
        self.payload.dialog_id.or(self.envelope.dialog_id)
    }
}

/// An edit (XEP-0308 correction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The edited message.
    pub message_id: MessageId,
    /// Its new text.
    pub body: String,
    /// Whether it is the dialog's last message, when the sender said.
    pub last: Option<bool>,
}

/// An IQ answer, passed through: its id (to match the request) and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct IqResponse {
    /// The request's id.
    pub id: String,
    /// Who answered.
    pub from: Option<Jid>,
    /// Who asked.
    pub to: Option<Jid>,
    /// The first child: the result payload, or the `<error>` of an error.
    pub payload: Option<Element>,
}

/// The wire form of an IQ answer, read and written by xso.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = ns::JABBER_CLIENT, name = "iq")]
pub(crate) struct IqElement {
    #[xml(attribute(name = "type"))]
    pub kind: String,
    #[xml(attribute)]
    pub id: String,
    #[xml(attribute(default))]
    pub from: Option<Jid>,
    #[xml(attribute(default))]
    pub to: Option<Jid>,
    #[xml(element(n = ..))]
    pub children: Vec<Element>,
}

impl IqResponse {
    /// Reads an `<iq type='result|error'>`; the payload is the first child (for errors, the
    /// `<error>` child).
    pub(crate) fn from_iq(iq: IqElement) -> Self {
        let is_error = iq.kind == "error";
        let mut children = iq.children.into_iter();
        let payload = if is_error {
            children.find(|c| c.name() == "error")
        } else {
            children.next()
        };
        Self {
            id: iq.id,
            from: iq.from,
            to: iq.to,
            payload,
        }
    }

    fn to_element(&self, kind: &str) -> Element {
        Element::from(IqElement {
            kind: kind.to_owned(),
            id: self.id.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            children: self.payload.iter().cloned().collect(),
        })
    }
}

/// One inbound stanza, classified.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChatEvent {
    /// A chat or group chat message.
    ChatMessage(Box<Inbound<Message>>),
    /// Someone started or stopped typing.
    Typing(Box<Inbound<TypingState>>),
    /// A message reached the recipient (chat marker `received`).
    Delivered(Box<Inbound<MessageId>>),
    /// A message was read (chat marker `displayed`).
    Read(Box<Inbound<MessageId>>),
    /// A message was edited.
    Edited(Box<Inbound<Edit>>),
    /// A message was deleted.
    Deleted(Box<Inbound<MessageId>>),
    /// Reactions on a message changed.
    Reactions(Box<Inbound<Reactions>>),
    /// A system notification.
    System(Box<Inbound<SystemMessage>>),
    /// A message bounced.
    MessageError(Box<Inbound<MessageError>>),
    /// An IQ `result`.
    IqResult(IqResponse),
    /// An IQ `error`.
    IqError(IqResponse),
    /// A user's last activity: the answer to a request, or a push after subscribing.
    LastActivity(LastActivity),
    /// An occupant is in a room (`is_self`: our join succeeded).
    OccupantJoined(Occupant),
    /// An occupant left a room.
    OccupantLeft(Occupant),
    /// An occupant was removed from a room by an admin.
    Kicked(Occupant),
    /// The server pinged us: answer with [`IqRequest::result`].
    Ping(IqRequest),
    /// A privacy list changed on another session (XEP-0016 push): answer with
    /// [`IqRequest::result`].
    PrivacyListChanged {
        /// The push, to acknowledge.
        request: IqRequest,
        /// The list that changed.
        name: String,
    },
    /// A stanza this crate does not interpret, as received (never dropped silently).
    Unknown(Element),
}

impl ChatEvent {
    /// The variant's name, for logs and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ChatMessage(_) => "ChatMessage",
            Self::Typing(_) => "Typing",
            Self::Delivered(_) => "Delivered",
            Self::Read(_) => "Read",
            Self::Edited(_) => "Edited",
            Self::Deleted(_) => "Deleted",
            Self::Reactions(_) => "Reactions",
            Self::System(_) => "System",
            Self::MessageError(_) => "MessageError",
            Self::IqResult(_) => "IqResult",
            Self::IqError(_) => "IqError",
            Self::LastActivity(_) => "LastActivity",
            Self::OccupantJoined(_) => "OccupantJoined",
            Self::OccupantLeft(_) => "OccupantLeft",
            Self::Kicked(_) => "Kicked",
            Self::Ping(_) => "Ping",
            Self::PrivacyListChanged { .. } => "PrivacyListChanged",
            Self::Unknown(_) => "Unknown",
        }
    }

    /// The envelope of a message-stanza event.
    pub fn envelope(&self) -> Option<&Envelope> {
        Some(match self {
            Self::ChatMessage(i) => &i.envelope,
            Self::Typing(i) => &i.envelope,
            Self::Delivered(i) | Self::Read(i) | Self::Deleted(i) => &i.envelope,
            Self::Edited(i) => &i.envelope,
            Self::Reactions(i) => &i.envelope,
            Self::System(i) => &i.envelope,
            Self::MessageError(i) => &i.envelope,
            _ => return None,
        })
    }

    /// The stanza that carries this event.
    ///
    /// # Errors
    /// [`BuildError`] when a custom property name is not an XML name or a text holds characters
    /// XML cannot carry.
    pub fn to_element(&self) -> Result<Element, BuildError> {
        use crate::message::delete::Remove;
        use crate::message::edit::Replace;
        use crate::message::markers::{Displayed, Received};

        Ok(match self {
            Self::ChatMessage(i) => crate::message::chat::build(&i.envelope, &i.payload)?,
            Self::Typing(i) => with_dialog(&i.envelope, None, i.payload.chat_state().into())?,
            Self::Delivered(i) => {
                with_dialog(&i.envelope, None, Received { id: i.payload }.into())?
            }
            Self::Read(i) => with_dialog(&i.envelope, None, Displayed { id: i.payload }.into())?,
            Self::Edited(i) => {
                crate::message::check_text("body", &i.payload.body)?;
                let replace = Replace {
                    id: i.payload.message_id,
                    last: i.payload.last,
                };
                with_dialog(&i.envelope, Some(i.payload.body.clone()), replace.into())?
            }
            Self::Deleted(i) => with_dialog(&i.envelope, None, Remove { id: i.payload }.into())?,
            Self::Reactions(i) => with_dialog(&i.envelope, None, i.payload.clone().into())?,
            Self::System(i) => i.payload.build(&i.envelope)?,
            Self::MessageError(i) => with_dialog(&i.envelope, None, i.payload.to_element()?)?,
            Self::IqResult(r) => r.to_element("result"),
            Self::IqError(r) => r.to_element("error"),
            Self::LastActivity(a) => a.to_result(),
            Self::OccupantJoined(o) => RoomPresence::Joined(o.clone()).to_element(),
            Self::OccupantLeft(o) => RoomPresence::Left(o.clone()).to_element(),
            Self::Kicked(o) => RoomPresence::Kicked(o.clone()).to_element(),
            Self::Ping(r) => r.ping(),
            Self::PrivacyListChanged { request, name } => request.privacy_push(name),
            Self::Unknown(e) => e.clone(),
        })
    }
}

/// The stanza around `payload`, with `extraParams/dialog_id` when the envelope has one.
fn with_dialog(
    env: &Envelope,
    body: Option<String>,
    payload: Element,
) -> Result<Element, BuildError> {
    let mut payloads = vec![payload];
    if let Some(d) = env.dialog_id {
        let extra = ExtraParams {
            dialog_id: Some(d),
            ..ExtraParams::default()
        };
        payloads.push(extra.to_element()?);
    }
    Ok(env.build(body, payloads))
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::message::MessageType;

    #[test]
    fn a_messages_dialog_is_the_payloads_before_the_envelopes() {
        let a: DialogId = "5c093376e588ce6856f873fe".parse().unwrap();
        let b: DialogId = "5c094c0ce588ce6856f87422".parse().unwrap();
        let mut m = Inbound {
            envelope: Envelope::new(MessageType::Chat, None),
            payload: Message::new("hi"),
        };
        assert_eq!(m.dialog_id(), None);
        m.envelope.dialog_id = Some(b);
        assert_eq!(m.dialog_id(), Some(b));
        m.payload.dialog_id = Some(a);
        assert_eq!(m.dialog_id(), Some(a), "the payload wins");
    }
}
