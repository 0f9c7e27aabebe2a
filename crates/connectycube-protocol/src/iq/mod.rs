//! IQ requests and answers: last activity and its subscription, active/inactive, privacy lists
//! and ping. Each module builds the requests a client sends and reads the server's answers (and
//! the reverse, so a local server can use the same types).

pub mod activity;
pub mod last_activity;
pub mod ping;
pub mod privacy;
pub mod status_streaming;

use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::Jid;

/// Namespaces of the IQ payloads.
pub mod ns {
    /// XEP-0012 last activity.
    pub const LAST: &str = "jabber:iq:last";
    /// XEP-0016 privacy lists.
    pub const PRIVACY: &str = "jabber:iq:privacy";
    /// ConnectyCube's last-activity subscription.
    pub const STATUS_STREAMING: &str = "https://connectycube.com/protocol/status_streaming";
    /// Tigase's mobile optimisations (ConnectyCube's active/inactive switch).
    pub const TIGASE_MOBILE: &str = "http://tigase.org/protocol/mobile#v2";
    /// XEP-0199 ping.
    pub const PING: &str = "urn:xmpp:ping";
}

/// A request from the server that the client must answer (ping, privacy list push).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IqRequest {
    /// The request id, echoed in the answer.
    pub id: String,
    /// Who asked (the server, when absent).
    pub from: Option<Jid>,
}

impl IqRequest {
    /// The empty `result` that acknowledges this request.
    pub fn result(&self) -> Element {
        let iq = Iq::Result {
            from: None,
            to: self.from.clone(),
            id: self.id.clone(),
            payload: None,
        };
        iq.into()
    }
}

impl IqRequest {
    fn with_from(&self, iq: Iq) -> Element {
        match &self.from {
            Some(from) => iq.with_from(from.clone()).into(),
            None => iq.into(),
        }
    }

    /// This request as a server ping (`<iq type='get'><ping/></iq>`).
    pub fn ping(&self) -> Element {
        self.with_from(Iq::from_get(self.id.clone(), xmpp_parsers::ping::Ping))
    }

    /// This request as a privacy list push naming `list`.
    pub fn privacy_push(&self, list: &str) -> Element {
        let query = privacy::PrivacyQuery {
            lists: vec![privacy::List {
                name: list.to_owned(),
                items: Vec::new(),
            }],
            ..Default::default()
        };
        self.with_from(Iq::from_set(self.id.clone(), query))
    }

    /// Reads the id and sender of an IQ.
    pub(crate) fn of(el: &Element) -> Result<Self, crate::message::ParseError> {
        let from = match el.attr("from") {
            Some(f) => Some(Jid::new(f).map_err(|_| {
                crate::message::ParseError::Address(crate::address::AddressError::Invalid(
                    f.to_owned(),
                ))
            })?),
            None => None,
        };
        Ok(Self {
            id: el.attr("id").unwrap_or_default().to_owned(),
            from,
        })
    }
}

/// The name of the list a privacy push announces, if `el` is one.
pub(crate) fn privacy_push_name(el: &Element) -> Option<String> {
    if el.attr("type") != Some("set") {
        return None;
    }
    let query = el.get_child("query", ns::PRIVACY)?;
    let list = query.get_child("list", ns::PRIVACY)?;
    list.attr("name").map(str::to_owned)
}

/// Sets the `to` of an IQ built by xmpp-parsers.
pub(crate) fn addressed(iq: Iq, to: Option<Jid>) -> Element {
    match to {
        Some(to) => iq.with_to(to).into(),
        None => iq.into(),
    }
}
