//! MUC rooms for group and public dialogs.

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
    parse(&format!(
        "<presence xmlns='jabber:client' to='{}/{u}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>",
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
    let (c, mut i) = s.login(u, "r").await;
    c.send(join(d, u)).await.unwrap();
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
