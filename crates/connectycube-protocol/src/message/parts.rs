//! A message stanza taken apart: envelope, body and each known payload, parsed once.

use minidom::Element;
use xmpp_parsers::delay::Delay;
use xmpp_parsers::message::Message as XmppMessage;

use super::chat_state::ChatState;
use super::delete::Remove;
use super::edit::Replace;
use super::envelope::{Delayed, Envelope, take_body};
use super::extra_params::ExtraParams;
use super::markers::{Displayed, Markable, Received};
use super::reactions::Reactions;
use super::{ParseError, carbons, ns};

/// Body and payloads of a message stanza.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Parts {
    pub body: Option<String>,
    pub extra: Option<ExtraParams>,
    pub markable: bool,
    pub chat_state: Option<ChatState>,
    pub replace: Option<Replace>,
    pub remove: Option<Remove>,
    pub reactions: Option<Reactions>,
    pub received: Option<Received>,
    pub displayed: Option<Displayed>,
    pub error: Option<Element>,
}

/// Takes a `<message>` apart, unwrapping a carbon first and reading the delay stamp.
pub(crate) fn decompose(el: Element) -> Result<(Envelope, Parts), ParseError> {
    let outer = XmppMessage::try_from(el)?;
    let (carbon, mut m, forward_delay) = match carbons::unwrap(outer)? {
        Ok((c, m, d)) => (Some(c), m, d),
        Err(m) => (None, m, None),
    };
    let mut env = Envelope::take(&mut m);
    env.carbon = carbon;
    let mut parts = Parts {
        body: take_body(&mut m),
        ..Parts::default()
    };
    let mut delay = forward_delay;
    for p in std::mem::take(&mut m.payloads) {
        let ns = p.ns();
        match (ns.as_str(), p.name()) {
            (ns::JABBER_CLIENT, "extraParams") => {
                parts.extra = Some(ExtraParams::from_element(p)?);
            }
            (ns::CHAT_MARKERS, "markable") => {
                Markable::try_from(p)?;
                parts.markable = true;
            }
            (ns::CHAT_MARKERS, "received") => parts.received = Some(Received::try_from(p)?),
            (ns::CHAT_MARKERS, "displayed") => parts.displayed = Some(Displayed::try_from(p)?),
            (ns::CHATSTATES, _) => parts.chat_state = Some(ChatState::try_from(p)?),
            (ns::MESSAGE_CORRECT, "replace") => parts.replace = Some(Replace::try_from(p)?),
            (ns::MESSAGE_DELETE, "remove") => parts.remove = Some(Remove::try_from(p)?),
            (ns::JABBER_CLIENT, "reactions") => parts.reactions = Some(Reactions::try_from(p)?),
            (ns::JABBER_CLIENT, "error") => parts.error = Some(p),
            // A delay inside the message wins over one on the forwarding wrapper: it is the
            // original sending time.
            // An unreadable stamp loses only the stamp, not the message.
            (ns::DELAY, "delay") => match Delay::try_from(p) {
                Ok(d) => delay = Some(d),
                Err(e) => tracing::warn!(error = %e, "ignored an unreadable delay stamp"),
            },
            // Payloads no event carries (hints, self-destroy...).
            _ => {}
        }
    }
    env.delayed = delay.map(|d| Delayed {
        stamp: d.stamp.0.to_utc(),
        from: d.from,
    });
    env.dialog_id = parts.extra.as_ref().and_then(|e| e.dialog_id);
    Ok((env, parts))
}
