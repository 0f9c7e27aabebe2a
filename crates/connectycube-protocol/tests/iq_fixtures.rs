//! The IQ and presence fixtures: every outbound request is exactly what our builders send, and
//! every answer reads into its typed value.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use connectycube_fixtures::xmpp;
use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::ids::{AppId, DialogId, UserId};
use connectycube_protocol::iq::activity::ClientState;
use connectycube_protocol::iq::last_activity::{self, LastActivity};
use connectycube_protocol::iq::privacy::{
    PrivacyAction, PrivacyList, PrivacyListNames, PrivacyQuery, PrivacyRule, request,
};
use connectycube_protocol::iq::status_streaming::Subscribe;
use connectycube_protocol::iq::{ns, ping};
use connectycube_protocol::muc;
use connectycube_protocol::{ChatEvent, classify_xml};
use minidom::Element;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::presence::Presence;

fn el(name: &str) -> Element {
    xmpp(name)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Structural equality: names, namespaces, attributes and children, not namespace prefixes.
fn same(a: &Element, b: &Element) -> bool {
    a.name() == b.name()
        && a.ns() == b.ns()
        && a.attrs() == b.attrs()
        && a.text().trim() == b.text().trim()
        && a.children().count() == b.children().count()
        && a.children().zip(b.children()).all(|(x, y)| same(x, y))
}

macro_rules! assert_same {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        assert!(
            same(&a, &b),
            "{} differs from {}",
            String::from(&a),
            String::from(&b)
        );
    }};
}

fn domain() -> ChatDomain {
    ChatDomain::new("localhost", AppId(1))
}

fn dialog() -> DialogId {
    "5c094c0ce588ce6856f87422".parse().unwrap()
}

#[test]
fn outbound_requests_are_what_the_builders_send() {
    let user = BareJid::new("1002-1@localhost").unwrap();
    assert_same!(
        el("iq-last-activity-request"),
        last_activity::request("last1", user.clone())
    );
    let sub = Subscribe {
        user_jid: user,
        enable: true,
    };
    assert_same!(el("iq-status-streaming-subscribe"), sub.request("sub1"));
    assert_same!(
        el("iq-mobile-inactive"),
        ClientState::Inactive.mobile_iq("hELuW-35")
    );
    assert_same!(
        el("iq-mobile-active"),
        ClientState::Active.mobile_iq("hELuW-36")
    );
    assert_same!(el("csi-inactive"), ClientState::Inactive.csi());
    assert_same!(
        el("ping-request"),
        ping::request("c2s1", Some(Jid::new("localhost").unwrap()))
    );
    assert_same!(
        el("privacy-set-default"),
        request::set_default("priv2", Some("custom"))
    );
    assert_same!(
        el("privacy-decline-default"),
        request::set_default("priv3", None)
    );
    assert_same!(el("privacy-get-names"), request::names("priv4"));
    // xmpp-parsers always writes `<priority>0</priority>`, which the documented join leaves
    // out; the two mean the same, so presences are compared as parsed values.
    let presence = |e: Element| Presence::try_from(e).unwrap();
    let join = muc::join(&domain(), dialog(), UserId(1001)).unwrap();
    assert_eq!(presence(el("muc-join")), presence(join));
    let leave = muc::leave(&domain(), dialog(), UserId(1001)).unwrap();
    assert_eq!(presence(el("muc-leave")), presence(leave));
    let room = domain().room_jid(dialog()).unwrap();
    assert_same!(
        el("muc-online-occupants-request"),
        muc::online_occupants_request("disco1", room)
    );
}

fn seed_list() -> PrivacyList {
    let rule = |user, action, mutual| PrivacyRule {
        user: UserId(user),
        action,
        mutual,
    };
    PrivacyList {
        name: "custom".into(),
        rules: vec![
            rule(34, PrivacyAction::Deny, false),
            rule(48, PrivacyAction::Deny, true),
            rule(18, PrivacyAction::Allow, true),
        ],
    }
}

#[test]
fn the_seed_privacy_list_is_the_documented_two_items_per_user() {
    let built = request::set_list("priv1", &seed_list(), &domain()).unwrap();
    assert_same!(el("privacy-set-list"), built);
    let query = el("privacy-set-list")
        .get_child("query", ns::PRIVACY)
        .unwrap()
        .clone();
    let query = PrivacyQuery::try_from(query).unwrap();
    assert_eq!(
        PrivacyList::from_list(&query.lists[0]).unwrap(),
        seed_list()
    );
}

#[test]
fn privacy_names_answer_reads_active_default_and_names() {
    let query = el("privacy-names-result")
        .get_child("query", ns::PRIVACY)
        .unwrap()
        .clone();
    let names = PrivacyListNames::from(&PrivacyQuery::try_from(query).unwrap());
    assert_eq!(names.active.as_deref(), Some("custom"));
    assert_eq!(names.default.as_deref(), Some("custom"));
    assert_eq!(names.names, ["custom", "work"]);
}

#[test]
fn inbound_answers_and_pushes_read_into_typed_events() {
    match classify_xml(&xmpp("iq-last-activity-result")).unwrap() {
        ChatEvent::LastActivity(LastActivity {
            iq_id,
            user,
            seconds,
            ..
        }) => {
            assert_eq!(
                (iq_id.as_str(), user, seconds),
                ("last1", UserId(1002), 903)
            );
        }
        other => panic!("{other:?}"),
    }
    match classify_xml(&xmpp("ping-from-server")).unwrap() {
        ChatEvent::Ping(req) => {
            let pong = req.result();
            assert_eq!(
                (pong.attr("type"), pong.attr("id")),
                (Some("result"), Some("s2c1"))
            );
            assert_eq!(pong.attr("to"), Some("localhost"));
        }
        other => panic!("{other:?}"),
    }
    match classify_xml(&xmpp("privacy-push")).unwrap() {
        ChatEvent::PrivacyListChanged { name, request } => {
            assert_eq!((name.as_str(), request.id.as_str()), ("custom", "push1"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn room_presences_name_the_dialog_and_user() {
    match classify_xml(&xmpp("muc-self-joined")).unwrap() {
        ChatEvent::OccupantJoined(o) => {
            assert_eq!(
                (o.dialog, o.user, o.is_self),
                (dialog(), UserId(1001), true)
            );
        }
        other => panic!("{other:?}"),
    }
    match classify_xml(&xmpp("muc-kicked")).unwrap() {
        ChatEvent::Kicked(o) => assert_eq!((o.user, o.is_self), (UserId(1001), true)),
        other => panic!("{other:?}"),
    }
    match classify_xml(&xmpp("muc-occupant-left")).unwrap() {
        ChatEvent::OccupantLeft(o) => assert_eq!((o.user, o.is_self), (UserId(1002), false)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn online_occupants_answer_lists_user_ids() {
    let answer = el("muc-online-occupants-result");
    let query = answer
        .get_child("query", "http://jabber.org/protocol/disco#items")
        .unwrap();
    assert_eq!(
        muc::online_occupants(query.clone()).unwrap(),
        [UserId(1001), UserId(1002)]
    );
}
