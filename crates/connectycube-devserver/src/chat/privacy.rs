//! XEP-0016 privacy lists: stored through the backend, enforced on 1-1 messages, presence and
//! room traffic (ConnectyCube blocks a user with a JID item and a `muc.{host}/{user}` item).

use super::xml;
use connectycube_protocol::address::user_id_of;
use connectycube_protocol::ids::UserId;
use connectycube_protocol::iq::privacy::{ActiveList, DefaultList, Item, List, PrivacyQuery};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::Jid;

use super::Shared;
use super::iq::{error_iq, result_iq};
use super::router::Deliver;
use super::session::Session;

/// The stanza kinds a rule can stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A message to the list's owner.
    MessageIn,
    /// A presence to the list's owner.
    PresenceIn,
    /// Anything from the owner to the other user: only rules without children (a mutual
    /// block) stop it.
    Out,
}

fn matches(ctx: &Shared, item: &Item, other: UserId) -> bool {
    match (item.kind.as_deref(), item.value.as_deref()) {
        (None, _) => true,
        (Some("jid"), Some(v)) => {
            if v == format!("{}/{other}", ctx.domain.muc_host()) {
                return true;
            }
            Jid::new(v)
                .ok()
                .and_then(|j| user_id_of(&j).ok())
                .is_some_and(|u| u == other)
        }
        _ => false,
    }
}

fn applies(item: &Item, kind: Kind) -> bool {
    let all = !(item.message || item.presence_in || item.presence_out || item.iq);
    all || match kind {
        Kind::MessageIn => item.message,
        Kind::PresenceIn => item.presence_in,
        Kind::Out => false,
    }
}

/// Whether `owner`'s default list stops this `kind` of stanza between them and `other`.
pub(crate) fn blocks(ctx: &Shared, owner: UserId, other: UserId, kind: Kind) -> bool {
    let Ok(lists) = ctx.backend.privacy_lists(owner) else {
        return false;
    };
    let Some(name) = lists.default.as_deref() else {
        return false;
    };
    let Some((_, items)) = lists.lists.iter().find(|(n, _)| n == name) else {
        return false;
    };
    let mut items: Vec<&Item> = items.iter().collect();
    items.sort_by_key(|i| i.order);
    for item in items {
        if matches(ctx, item, other) && applies(item, kind) {
            return item.action == "deny";
        }
    }
    false
}

/// A `jabber:iq:privacy` request.
pub(crate) fn iq(s: &mut Session, el: &Element, payload: &Element) {
    let id = el.attr("id").unwrap_or_default();
    let Ok(query) = PrivacyQuery::try_from(payload.clone()) else {
        return s.out.push(error_iq(el, "modify", "bad-request"));
    };
    let answer = match el.attr("type") {
        Some("get") => get(s, query),
        Some("set") => set(s, query),
        _ => Err("bad-request"),
    };
    let reply = match answer {
        Ok(Some(q)) => {
            let mut iq = Element::from(Iq::from_result(id, Some(q)));
            if let Some(to) = s.full_jid() {
                xml::set(&mut iq, "to", to);
            }
            iq
        }
        Ok(None) => result_iq(el, None),
        Err(c) => error_iq(el, "cancel", c),
    };
    s.out.push(reply);
}

fn get(s: &Session, q: PrivacyQuery) -> Result<Option<PrivacyQuery>, &'static str> {
    let lists = s
        .ctx
        .backend
        .privacy_lists(s.user)
        .map_err(|_| "internal-server-error")?;
    match q.lists.as_slice() {
        [] => Ok(Some(PrivacyQuery {
            active: None,
            default: lists
                .default
                .clone()
                .map(|name| DefaultList { name: Some(name) }),
            lists: lists
                .lists
                .iter()
                .map(|(name, _)| List {
                    name: name.clone(),
                    items: Vec::new(),
                })
                .collect(),
        })),
        [one] => {
            let (name, items) = lists
                .lists
                .iter()
                .find(|(n, _)| *n == one.name)
                .ok_or("item-not-found")?;
            Ok(Some(PrivacyQuery {
                lists: vec![List {
                    name: name.clone(),
                    items: items.clone(),
                }],
                ..Default::default()
            }))
        }
        _ => Err("bad-request"),
    }
}

fn set(s: &mut Session, q: PrivacyQuery) -> Result<Option<PrivacyQuery>, &'static str> {
    let backend = &s.ctx.backend;
    if let Some(DefaultList { name }) = q.default {
        let ok = backend
            .set_default_privacy_list(s.user, name.as_deref())
            .map_err(|_| "internal-server-error")?;
        return if ok { Ok(None) } else { Err("item-not-found") };
    }
    if let Some(ActiveList { .. }) = q.active {
        // Active lists are per connection in XEP-0016; enforcement here follows the default.
        return Ok(None);
    }
    let [list] = q.lists.as_slice() else {
        return Err("bad-request");
    };
    backend
        .set_privacy_list(s.user, &list.name, list.items.clone())
        .map_err(|_| "internal-server-error")?;
    push(s, &list.name);
    Ok(None)
}

/// Tells every resource of the user that a list changed (XEP-0016 privacy push).
fn push(s: &Session, name: &str) {
    for (res, entry) in s.ctx.router.resources(s.user) {
        let query = PrivacyQuery {
            lists: vec![List {
                name: name.to_owned(),
                items: Vec::new(),
            }],
            ..Default::default()
        };
        let mut iq = Element::from(Iq::from_set(super::session::stream_id(), query));
        xml::set(&mut iq, "to", s.ctx.full_jid(s.user, &res));
        if Some(res.as_str()) == s.resource.as_deref() {
            continue;
        }
        let _ = entry.tx.try_send(Deliver::Stanza(iq));
    }
}
