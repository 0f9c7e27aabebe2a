//! Active/inactive: tell the server whether the app is in the foreground.
//!
//! ConnectyCube's docs use Tigase's mobile IQ (`enable='true'` = inactive: offline-style push
//! notifications while connected); XEP-0352 client state indication is listed too and sent as a
//! top-level nonza.

use minidom::Element;
use xmpp_parsers::csi;
use xmpp_parsers::iq::{Iq, IqSetPayload};
use xso::{AsXml, FromXml};

use super::ns;

/// `<mobile xmlns='http://tigase.org/protocol/mobile#v2' enable='…'/>`.
#[derive(FromXml, AsXml, Debug, Clone, Copy, PartialEq, Eq)]
#[xml(namespace = ns::TIGASE_MOBILE, name = "mobile")]
pub struct Mobile {
    /// `true` marks the client inactive, `false` active.
    #[xml(attribute)]
    pub enable: bool,
}

impl IqSetPayload for Mobile {}

/// Whether the app is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// In the foreground: deliver messages in real time, no pushes.
    Active,
    /// In the background: the server may push notifications while connected.
    Inactive,
}

impl ClientState {
    /// The Tigase mobile IQ that sets this state.
    pub fn mobile_iq(self, id: impl Into<String>) -> Element {
        let enable = self == Self::Inactive;
        Iq::from_set(id, Mobile { enable }).into()
    }

    /// The XEP-0352 nonza (`<active/>` or `<inactive/>` in `urn:xmpp:csi:0`).
    pub fn csi(self) -> Element {
        match self {
            Self::Active => csi::Active.into(),
            Self::Inactive => csi::Inactive.into(),
        }
    }

    /// Reads a Tigase mobile IQ payload or a CSI nonza.
    pub fn from_element(el: &Element) -> Option<Self> {
        if let Ok(m) = Mobile::try_from(el.clone()) {
            return Some(if m.enable {
                Self::Inactive
            } else {
                Self::Active
            });
        }
        match (el.ns().as_str(), el.name()) {
            ("urn:xmpp:csi:0", "active") => Some(Self::Active),
            ("urn:xmpp:csi:0", "inactive") => Some(Self::Inactive),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inactive_is_mobile_enable_true_as_in_the_docs() {
        let iq = ClientState::Inactive.mobile_iq("hELuW-35");
        let mobile = iq.get_child("mobile", ns::TIGASE_MOBILE).unwrap();
        assert_eq!(mobile.attr("enable"), Some("true"));
        assert_eq!(
            ClientState::from_element(mobile),
            Some(ClientState::Inactive)
        );
        let active = ClientState::Active.mobile_iq("x");
        let m = active.get_child("mobile", ns::TIGASE_MOBILE).unwrap();
        assert_eq!(ClientState::from_element(m), Some(ClientState::Active));
    }

    #[test]
    fn csi_nonzas_round_trip() {
        for s in [ClientState::Active, ClientState::Inactive] {
            assert_eq!(ClientState::from_element(&s.csi()), Some(s));
        }
    }

    #[test]
    fn bad_enable_value_is_rejected() {
        let el: Element = "<mobile xmlns='http://tigase.org/protocol/mobile#v2' enable='maybe'/>"
            .parse()
            .unwrap();
        assert!(Mobile::try_from(el).is_err());
    }
}
