//! Message carbons (XEP-0280): copies of what this user sent or received on another device,
//! wrapped in `<sent/>` or `<received/>` around a XEP-0297 `<forwarded/>`. Uses xmpp-parsers'
//! types; this module only finds, unwraps and re-wraps them.

use minidom::Element;
use xmpp_parsers::carbons::{Received, Sent};
use xmpp_parsers::delay::Delay;
use xmpp_parsers::forwarding::Forwarded;
use xmpp_parsers::message::{Message as XmppMessage, MessageType};

use super::envelope::{Carbon, CarbonDirection};
use super::{ParseError, ns};

/// The `<sent/>` or `<received/>` child of a carbon wrapper, if `message` is one.
pub fn find(message: &Element) -> Option<(CarbonDirection, &Element)> {
    message
        .children()
        .find_map(|c| find_one(c).map(|dir| (dir, c)))
}

/// The forwarded message inside a carbon wrapper child, by reference (to classify cheaply).
pub fn inner(wrapper_child: &Element) -> Option<&Element> {
    wrapper_child
        .get_child("forwarded", ns::FORWARD)?
        .get_child("message", ns::JABBER_CLIENT)
}

/// A carbon taken apart: the wrapper, the forwarded message, the forwarding delay.
pub type Unwrapped = (Carbon, XmppMessage, Option<Delay>);

/// Unwraps a carbon: the wrapper's addresses, the forwarded message and its forwarding delay.
/// `Ok(Err(outer))` gives back a message that is not a carbon.
///
/// # Errors
/// [`ParseError`] when the wrapper is malformed (no forwarded message, bad JIDs...).
pub fn unwrap(mut outer: XmppMessage) -> Result<Result<Unwrapped, XmppMessage>, ParseError> {
    let Some(pos) = outer.payloads.iter().position(|c| find_one(c).is_some()) else {
        return Ok(Err(outer));
    };
    let child = outer.payloads.swap_remove(pos);
    let (direction, forwarded) = match find_one(&child) {
        Some(CarbonDirection::Sent) => (CarbonDirection::Sent, Sent::try_from(child)?.forwarded),
        _ => (
            CarbonDirection::Received,
            Received::try_from(child)?.forwarded,
        ),
    };
    let carbon = Carbon {
        direction,
        from: outer.from,
        to: outer.to,
    };
    Ok(Ok((carbon, forwarded.message, forwarded.delay)))
}

fn find_one(c: &Element) -> Option<CarbonDirection> {
    if !c.has_ns(ns::CARBONS) {
        return None;
    }
    match c.name() {
        "sent" => Some(CarbonDirection::Sent),
        "received" => Some(CarbonDirection::Received),
        _ => None,
    }
}

/// Wraps `inner` as the carbon `carbon` describes.
pub fn wrap(carbon: &Carbon, inner: XmppMessage) -> Element {
    let forwarded = Forwarded {
        delay: None,
        message: inner,
    };
    let child = match carbon.direction {
        CarbonDirection::Sent => Element::from(Sent { forwarded }),
        CarbonDirection::Received => Element::from(Received { forwarded }),
    };
    // XEP-0280's wrappers are type='chat', as carbons are only made of chat messages.
    let mut outer = XmppMessage::new_with_type(MessageType::Chat, carbon.to.clone());
    outer.from = carbon.from.clone();
    outer.payloads.push(child);
    Element::from(outer)
}
