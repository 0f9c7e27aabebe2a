//! Privacy lists enforced, last activity and its status_streaming pushes, CSI/mobile IQ.

use super::*;

fn block_list(user: u64) -> Element {
    parse(&format!(
        "<iq xmlns='jabber:client' type='set' id='p1'><query xmlns='jabber:iq:privacy'><list name='block'>\
         <item type='jid' value='{}' action='deny' order='1'/>\
         <item type='jid' value='muc.localhost/{user}' action='deny' order='2'/></list></query></iq>",
        jid(user)
    ))
}

#[tokio::test]
async fn a_blocked_sender_gets_the_documented_error() {
    let s = server().await;
    let (a, mut ai) = s.login(1, "a").await;
    let (b, mut bi) = s.login(2, "b").await;
    let set = b.request(block_list(1), WAIT).await.unwrap();
    assert_eq!(set.attr("type"), Some("result"));
    let default = parse(
        "<iq xmlns='jabber:client' type='set' id='p2'><query xmlns='jabber:iq:privacy'><default name='block'/></query></iq>",
    );
    assert_eq!(
        b.request(default, WAIT).await.unwrap().attr("type"),
        Some("result")
    );
    let names = parse(
        "<iq xmlns='jabber:client' type='get' id='p3'><query xmlns='jabber:iq:privacy'/></iq>",
    );
    let names = b.request(names, WAIT).await.unwrap();
    let q = names.get_child("query", "jabber:iq:privacy").unwrap();
    assert_eq!(
        q.get_child("default", "jabber:iq:privacy")
            .unwrap()
            .attr("name"),
        Some("block")
    );
    drop(a.send(chat(&jid(2), "m1", "Are you there?")));
    let err = until(&mut ai, |e| e.attr("type") == Some("error")).await;
    let e = err.get_child("error", "jabber:client").unwrap();
    assert_eq!(
        (e.attr("code"), e.attr("type")),
        (Some("503"), Some("cancel"))
    );
    assert!(e.has_child("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas"));
    let text = e
        .get_child("text", "urn:ietf:params:xml:ns:xmpp-stanzas")
        .unwrap()
        .text();
    assert_eq!(text, "You have been blocked by the privacy list");
    assert_eq!(body(&err).as_deref(), Some("Are you there?"));
    assert_eq!(err.attr("from"), Some(jid(2).as_str()));
    // Declining the default list lets messages through again.
    let decline = parse(
        "<iq xmlns='jabber:client' type='set' id='p4'><query xmlns='jabber:iq:privacy'><default/></query></iq>",
    );
    b.request(decline, WAIT).await.unwrap();
    a.send(chat(&jid(2), "m2", "now?")).await.unwrap();
    assert_eq!(body(&next_body(&mut bi).await).as_deref(), Some("now?"));
}

#[tokio::test]
async fn last_activity_and_status_streaming() {
    let s = server().await;
    let (a, mut ai) = s.login(1, "a").await;
    let ask = |u: u64| {
        connectycube_protocol::iq::last_activity::request(
            format!("l{u}"),
            BareJid::new(&jid(u)).unwrap(),
        )
    };
    let never = a.request(ask(7), WAIT).await.unwrap();
    assert_eq!(never.attr("type"), Some("error"));
    assert!(
        never
            .get_child("error", "jabber:client")
            .unwrap()
            .has_child("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas")
    );
    let sub = parse(&format!(
        "<iq xmlns='jabber:client' type='set' id='sub1'><subscribe xmlns='https://connectycube.com/protocol/status_streaming' user_jid='{}' enable='true'/></iq>",
        jid(7)
    ));
    assert_eq!(
        a.request(sub, WAIT).await.unwrap().attr("type"),
        Some("result")
    );
    let (u7, _u7i) = s.login(7, "x").await;
    let online = until(&mut ai, |e| {
        e.name() == "iq" && e.has_child("query", "jabber:iq:last")
    })
    .await;
    assert_eq!(online.attr("from"), Some(jid(7).as_str()));
    assert_eq!(
        online
            .get_child("query", "jabber:iq:last")
            .unwrap()
            .attr("seconds"),
        Some("0")
    );
    let now = a.request(ask(7), WAIT).await.unwrap();
    assert_eq!(
        now.get_child("query", "jabber:iq:last")
            .unwrap()
            .attr("seconds"),
        Some("0")
    );
    u7.logout().await;
    let offline = until(&mut ai, |e| {
        e.name() == "iq" && e.has_child("query", "jabber:iq:last")
    })
    .await;
    assert_ne!(
        offline
            .get_child("query", "jabber:iq:last")
            .unwrap()
            .attr("seconds"),
        Some("0")
    );
    let after = a.request(ask(7), WAIT).await.unwrap();
    assert_eq!(
        after.attr("type"),
        Some("result"),
        "logged in once, so a time is known"
    );
}

/// Going offline, a user's watchers are told the seconds since its last logout as stored, not
/// a fixed 1: user 7 logged out 100 s ago, comes online, then sends unavailable presence.
#[tokio::test]
async fn the_offline_push_counts_from_the_stored_logout() {
    let s = server().await;
    let (a, mut ai) = s.login(1, "a").await;
    let sub = parse(&format!(
        "<iq xmlns='jabber:client' type='set' id='sub2'><subscribe xmlns='https://connectycube.com/protocol/status_streaming' user_jid='{}' enable='true'/></iq>",
        jid(7)
    ));
    assert_eq!(
        a.request(sub, WAIT).await.unwrap().attr("type"),
        Some("result")
    );
    let (u7, _u7i) = s.login(7, "x").await;
    let seconds = |e: &Element| {
        e.get_child("query", "jabber:iq:last")
            .and_then(|q| q.attr("seconds"))
            .and_then(|n| n.parse::<i64>().ok())
    };
    let last = |e: &Element| e.name() == "iq" && e.has_child("query", "jabber:iq:last");
    assert_eq!(seconds(&until(&mut ai, last).await), Some(0), "online");
    use crate::chat::backend::ChatBackend as _;
    let logout = chrono::Utc::now().timestamp() - 100;
    s.backend.set_last_activity(UserId(7), logout).unwrap();
    u7.send(parse(
        "<presence xmlns='jabber:client' type='unavailable'/>",
    ))
    .await
    .unwrap();
    let offline = seconds(&until(&mut ai, last).await).unwrap();
    assert!((100..110).contains(&offline), "{offline}");
}

/// A message to a user offline, or whose session is inactive (mobile IQ or CSI), makes a
/// push notification; one to a session in the foreground does not. Delivery over chat goes
/// on either way.
#[tokio::test]
async fn offline_and_inactive_recipients_get_pushes() {
    use connectycube_protocol::iq::activity::ClientState::{Active, Inactive};
    let s = server().await;
    let (a, _ai) = s.login(1, "a").await;
    // User 3 never logs in: offline.
    a.send(chat(&jid(3), "m0", "offline")).await.unwrap();
    let (b, mut bi) = s.login(2, "b").await;
    let mut to_b = async |id: &str, text: &str| {
        a.send(chat(&jid(2), id, text)).await.unwrap();
        assert_eq!(body(&next_body(&mut bi).await).as_deref(), Some(text));
    };
    to_b("m1", "foreground").await;
    let state = |iq: Element| async {
        b.request(iq, WAIT)
            .await
            .unwrap()
            .attr("type")
            .map(str::to_owned)
    };
    assert_eq!(
        state(Inactive.mobile_iq("mob1")).await.as_deref(),
        Some("result")
    );
    to_b("m2", "mobile inactive").await;
    assert_eq!(
        state(Active.mobile_iq("mob2")).await.as_deref(),
        Some("result")
    );
    to_b("m3", "mobile active").await;
    // CSI is a nonza: the ping after it is answered once the server has it.
    drop(b.send(Inactive.csi()));
    b.ping_with_timeout(WAIT).await.unwrap();
    to_b("m4", "csi inactive").await;
    drop(b.send(Active.csi()));
    b.ping_with_timeout(WAIT).await.unwrap();
    to_b("m5", "csi active").await;
    let pushed: Vec<_> = s
        .handle
        .notifications()
        .into_iter()
        .map(|n| (n.user, n.body))
        .collect();
    assert_eq!(
        pushed,
        [
            (UserId(3), "offline".to_owned()),
            (UserId(2), "mobile inactive".to_owned()),
            (UserId(2), "csi inactive".to_owned()),
        ]
    );
}
