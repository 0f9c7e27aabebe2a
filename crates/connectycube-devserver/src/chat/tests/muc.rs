//! MUC rooms for group and public dialogs: joining, messages, kicks, the history replayed on
//! join, and the edits and deletes REST makes.

use connectycube_protocol::ids::{DialogId, MessageId};
use connectycube_protocol::model::DialogType;

use super::*;
use crate::chat::backend::DialogInfo;
use crate::push::Push;

const MUC_USER: &str = "http://jabber.org/protocol/muc#user";

fn group(s: &Server, kind: DialogType, occupants: &[u64]) -> DialogId {
    let id = DialogId::generate();
    s.backend.put_dialog(DialogInfo {
        id,
        kind,
        owner: UserId(occupants[0]),
        occupants: occupants.iter().map(|u| UserId(*u)).collect(),
        admins: vec![],
        subscribers: vec![],
    });
    id
}

fn room(d: DialogId) -> String {
    format!("1_{d}@muc.localhost")
}

fn join(d: DialogId, u: u64) -> Element {
    join_asking(d, u, "<history maxstanzas='0'/>")
}

/// A join whose `<x xmlns='…muc'>` holds `history` (empty: the server's default history).
fn join_asking(d: DialogId, u: u64, history: &str) -> Element {
    parse(&format!(
        "<presence xmlns='jabber:client' to='{}/{u}'><x xmlns='http://jabber.org/protocol/muc'>{history}</x></presence>",
        room(d)
    ))
}

fn codes(p: &Element) -> Vec<String> {
    p.get_child("x", MUC_USER)
        .map(|x| {
            x.children()
                .filter(|c| c.name() == "status")
                .filter_map(|c| c.attr("code").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn joined(s: &Server, d: DialogId, u: u64) -> (ChatConnection, Incoming) {
    joined_asking(s, d, u, "<history maxstanzas='0'/>").await
}

async fn joined_asking(
    s: &Server,
    d: DialogId,
    u: u64,
    history: &str,
) -> (ChatConnection, Incoming) {
    let (c, mut i) = s.login(u, "r").await;
    c.send(join_asking(d, u, history)).await.unwrap();
    let me = until(&mut i, |e| {
        e.name() == "presence" && codes(e).contains(&"110".into())
    })
    .await;
    assert_eq!(me.attr("from"), Some(format!("{}/{u}", room(d)).as_str()));
    (c, i)
}

#[tokio::test]
async fn occupants_join_and_group_messages_reach_everyone_and_history() {
    let s = server().await;
    let d = group(&s, DialogType::Group, &[1, 2]);
    let (a, mut ai) = joined(&s, d, 1).await;
    let (_b, mut bi) = joined(&s, d, 2).await;
    let arrived = until(&mut ai, |e| e.name() == "presence").await;
    assert_eq!(
        arrived.attr("from"),
        Some(format!("{}/2", room(d)).as_str())
    );
    let id = MessageId::generate();
    a.send(parse(&format!(
        "<message xmlns='jabber:client' to='{}' id='{id}' type='groupchat'><body>hi all</body>\
         <extraParams xmlns='jabber:client'><save_to_history>1</save_to_history></extraParams></message>",
        room(d)
    )))
    .await
    .unwrap();
    for incoming in [&mut bi, &mut ai] {
        let m = next_body(incoming).await;
        assert_eq!(m.attr("type"), Some("groupchat"));
        assert_eq!(m.attr("from"), Some(format!("{}/1", room(d)).as_str()));
        assert_eq!(extra(&m, "dialog_id"), Some(d.to_string()));
        assert!(extra(&m, "date_sent").is_some());
    }
    let h = s.backend.history(d);
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].message.id, h[0].message.recipient), (id, None));
}

#[tokio::test]
async fn non_occupants_cannot_join_a_group_but_anyone_joins_a_public_dialog() {
    let s = server().await;
    let g = group(&s, DialogType::Group, &[1, 2]);
    let (c, mut ci) = s.login(3, "r").await;
    c.send(join(g, 3)).await.unwrap();
    let refused = until(&mut ci, |e| e.name() == "presence").await;
    assert_eq!(refused.attr("type"), Some("error"));
    let p = group(&s, DialogType::Public, &[1]);
    joined(&s, p, 3).await;
}

#[tokio::test]
async fn removed_occupants_are_kicked_with_301() {
    let s = server().await;
    let d = group(&s, DialogType::Group, &[1, 2]);
    let (_a, mut ai) = joined(&s, d, 1).await;
    let (_b, mut bi) = joined(&s, d, 2).await;
    s.push
        .send(Push::OccupantsRemoved {
            dialog: d,
            users: vec![UserId(2)],
        })
        .unwrap();
    let kicked = until(&mut bi, |e| e.attr("type") == Some("unavailable")).await;
    assert_eq!(codes(&kicked), ["301", "110"]);
    let seen = until(&mut ai, |e| e.attr("type") == Some("unavailable")).await;
    assert_eq!(codes(&seen), ["301"]);
}

#[tokio::test]
async fn leaving_and_online_occupants() {
    let s = server().await;
    let d = group(&s, DialogType::Group, &[1, 2]);
    let (a, mut ai) = joined(&s, d, 1).await;
    let (b, _bi) = joined(&s, d, 2).await;
    let req = connectycube_protocol::muc::online_occupants_request(
        "occ",
        BareJid::new(&room(d)).unwrap(),
    );
    let answer = a.request(req, WAIT).await.unwrap();
    let q = answer.children().next().unwrap().clone();
    let mut users = connectycube_protocol::muc::online_occupants(q).unwrap();
    users.sort();
    assert_eq!(users, [UserId(1), UserId(2)]);
    b.send(parse(&format!(
        "<presence xmlns='jabber:client' type='unavailable' to='{}/2'/>",
        room(d)
    )))
    .await
    .unwrap();
    let left = until(&mut ai, |e| e.attr("type") == Some("unavailable")).await;
    assert_eq!(left.attr("from"), Some(format!("{}/2", room(d)).as_str()));
}

fn to_room(d: DialogId, id: &str, text: &str) -> Element {
    parse(&format!(
        "<message xmlns='jabber:client' to='{}' id='{id}' type='groupchat'><body>{text}</body>\
         <extraParams xmlns='jabber:client'><save_to_history>1</save_to_history></extraParams></message>",
        room(d)
    ))
}

/// User 1 says `texts` in the room (each reflected back before the next), returning the ids.
async fn say(a: &ChatConnection, ai: &mut Incoming, d: DialogId, texts: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for text in texts {
        let id = MessageId::generate().to_string();
        a.send(to_room(d, &id, text)).await.unwrap();
        until(ai, |e| e.attr("id") == Some(id.as_str())).await;
        ids.push(id);
    }
    ids
}

#[tokio::test]
async fn a_joining_occupant_gets_the_recent_history_with_delay_stamps() {
    let s = server().await;
    let d = group(&s, DialogType::Group, &[1, 2, 3, 4]);
    let (a, mut ai) = joined(&s, d, 1).await;
    let said = say(&a, &mut ai, d, &["one", "two", "three"]).await;

    // No <history/>: the server's default (up to 20) is replayed, oldest first.
    let (_b, mut bi) = joined_asking(&s, d, 2, "").await;
    for (id, text) in said.iter().zip(["one", "two", "three"]) {
        let m = next_body(&mut bi).await;
        assert_eq!(m.attr("id"), Some(id.as_str()));
        assert_eq!(body(&m).as_deref(), Some(text));
        assert_eq!(m.attr("type"), Some("groupchat"));
        assert_eq!(m.attr("from"), Some(format!("{}/1", room(d)).as_str()));
        assert_eq!(extra(&m, "dialog_id"), Some(d.to_string()));
        let delay = m
            .get_child("delay", "urn:xmpp:delay")
            .expect("a delay stamp");
        assert_eq!(delay.attr("from"), Some(room(d).as_str()));
        let stamp = delay.attr("stamp").unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
    }

    // maxstanzas='2' gets the last two; maxstanzas='0' (what the SDKs send) none: the next
    // message each sees is the one said after they joined.
    let (_c, mut ci) = joined_asking(&s, d, 3, "<history maxstanzas='2'/>").await;
    let (_e, mut ei) = joined(&s, d, 4).await;
    let after = say(&a, &mut ai, d, &["after"]).await;
    let seen: Vec<String> = [
        next_body(&mut ci).await,
        next_body(&mut ci).await,
        next_body(&mut ci).await,
    ]
    .iter()
    .map(|m| m.attr("id").unwrap().to_owned())
    .collect();
    assert_eq!(seen, [said[1].clone(), said[2].clone(), after[0].clone()]);
    let first = next_body(&mut ei).await;
    assert_eq!(first.attr("id"), Some(after[0].as_str()));
    assert!(first.get_child("delay", "urn:xmpp:delay").is_none());
}

#[test]
fn the_history_a_join_asks_for() {
    use crate::chat::muc::HistoryRequest;
    let ask = |x: &str| HistoryRequest::of(&join_asking(DialogId::generate(), 1, x), 1_000);
    assert_eq!(ask("").max, 20);
    assert_eq!(ask("<history maxstanzas='0'/>").max, 0);
    assert_eq!(ask("<history maxstanzas='500'/>").max, 20);
    assert_eq!(ask("<history seconds='60'/>").since, Some(940));
    let since = ask("<history since='1970-01-01T00:10:00Z'/>");
    assert_eq!((since.max, since.since), (20, Some(600)));
    // Both given: the later bound wins.
    assert_eq!(
        ask("<history seconds='60' since='1970-01-01T00:10:00Z'/>").since,
        Some(940)
    );
}

#[tokio::test]
async fn edits_and_deletes_made_over_rest_reach_the_joined_occupants() {
    let s = server().await;
    let d = group(&s, DialogType::Group, &[1, 2]);
    let (a, mut ai) = joined(&s, d, 1).await;
    let (_b, mut bi) = joined(&s, d, 2).await;
    let said = say(&a, &mut ai, d, &["typo"]).await;
    next_body(&mut bi).await;
    let orig: MessageId = said[0].parse().unwrap();
    s.push
        .send(Push::MessageEdited {
            dialog: d,
            message: orig,
            sender: UserId(1),
            body: "fixed".into(),
            recipients: vec![UserId(2)],
        })
        .unwrap();
    let edit = next_body(&mut bi).await;
    assert_eq!(body(&edit).as_deref(), Some("fixed"));
    assert_eq!(edit.attr("type"), Some("groupchat"));
    assert_eq!(edit.attr("from"), Some(format!("{}/1", room(d)).as_str()));
    let replace = edit
        .get_child("replace", "urn:xmpp:message-correct:0")
        .expect("the correction");
    assert_eq!(replace.attr("id"), Some(said[0].as_str()));
    assert_eq!(extra(&edit, "dialog_id"), Some(d.to_string()));
    s.push
        .send(Push::MessageDeleted {
            dialog: d,
            message: orig,
            sender: UserId(1),
            recipients: vec![UserId(2)],
        })
        .unwrap();
    let removed = until(&mut bi, |e| {
        e.has_child("remove", "urn:xmpp:message-delete:0")
    })
    .await;
    let remove = removed
        .get_child("remove", "urn:xmpp:message-delete:0")
        .unwrap();
    assert_eq!(remove.attr("id"), Some(said[0].as_str()));
    assert_eq!(
        removed.attr("from"),
        Some(format!("{}/1", room(d)).as_str())
    );
}

fn affiliation(p: &Element) -> Option<String> {
    p.get_child("x", MUC_USER)?
        .get_child("item", MUC_USER)?
        .attr("affiliation")
        .map(str::to_owned)
}

/// The dialog's admins show as `admin`, its owner as `owner`, the rest as `member`: in the
/// joiner's own presence, in the presences it gets of those already there, and in theirs.
#[tokio::test]
async fn room_presences_carry_owner_admin_and_member_affiliations() {
    let s = server().await;
    let d = DialogId::generate();
    s.backend.put_dialog(DialogInfo {
        id: d,
        kind: DialogType::Group,
        owner: UserId(1),
        occupants: [1, 2, 3].map(UserId).to_vec(),
        admins: vec![UserId(2)],
        subscribers: vec![],
    });
    let (_owner, mut oi) = joined(&s, d, 1).await;
    let (c2, mut i2) = s.login(2, "r").await;
    c2.send(join(d, 2)).await.unwrap();
    let own = until(&mut i2, |e| codes(e).contains(&"110".into())).await;
    assert_eq!(affiliation(&own).as_deref(), Some("admin"));
    let seen_by_owner = until(&mut oi, |e| {
        e.name() == "presence" && e.attr("from") == Some(format!("{}/2", room(d)).as_str())
    })
    .await;
    assert_eq!(affiliation(&seen_by_owner).as_deref(), Some("admin"));
    let (c3, mut i3) = s.login(3, "r").await;
    c3.send(join(d, 3)).await.unwrap();
    let mut others = Vec::new();
    loop {
        let p = until(&mut i3, |e| e.name() == "presence").await;
        if codes(&p).contains(&"110".into()) {
            assert_eq!(affiliation(&p).as_deref(), Some("member"));
            break;
        }
        others.push((p.attr("from").map(str::to_owned), affiliation(&p)));
    }
    others.sort();
    assert_eq!(
        others,
        [
            (Some(format!("{}/1", room(d))), Some("owner".into())),
            (Some(format!("{}/2", room(d))), Some("admin".into())),
        ]
    );
}

#[tokio::test]
async fn the_self_presence_echoes_the_join_presences_id() {
    let s = server().await;
    let d = group(&s, DialogType::Group, &[1, 2]);
    let (c, mut i) = s.login(1, "r").await;
    c.send(parse(&format!(
        "<presence xmlns='jabber:client' id='join-42' to='{}/1'><x xmlns='http://jabber.org/protocol/muc'>\
         <history maxstanzas='0'/></x></presence>",
        room(d)
    )))
    .await
    .unwrap();
    let own = until(&mut i, |e| {
        e.name() == "presence" && codes(e).contains(&"110".into())
    })
    .await;
    assert_eq!(own.attr("id"), Some("join-42"));
}
