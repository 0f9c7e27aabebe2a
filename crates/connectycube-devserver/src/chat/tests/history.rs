//! ConnectyCube semantics: history on save_to_history, dialog_id and date_sent added,
//! markers, edits and deletes changing the history, pushes from REST.

use connectycube_protocol::ids::{DialogId, MessageId};

use super::*;
use crate::chat::backend::ChatBackend;
use crate::push::Push;

#[tokio::test]
async fn saved_messages_are_stored_and_delivered_with_dialog_id_and_date_sent() {
    let s = server().await;
    let (a, _ai) = s.login(1, "a").await;
    let (_b, mut bi) = s.login(2, "b").await;
    let id = MessageId::generate();
    a.send(saved_chat(&jid(2), &id.to_string(), "keep me"))
        .await
        .unwrap();
    let got = next_body(&mut bi).await;
    let dialog: DialogId = extra(&got, "dialog_id").unwrap().parse().unwrap();
    let date_sent: i64 = extra(&got, "date_sent").unwrap().parse().unwrap();
    assert!(date_sent > 1_600_000_000);
    let history = s.backend.history(dialog);
    assert_eq!(history.len(), 1);
    let m = &history[0].message;
    assert_eq!(
        (m.id, m.sender, m.recipient),
        (id, UserId(1), Some(UserId(2)))
    );
    assert_eq!((m.body.as_str(), m.date_sent), ("keep me", date_sent));
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].url.as_deref(), Some("http://x/1.png"));
    assert_eq!(m.custom.get("mood").and_then(|v| v.as_str()), Some("good"));
    // The same pair keeps one private dialog.
    a.send(saved_chat(
        &jid(2),
        &MessageId::generate().to_string(),
        "again",
    ))
    .await
    .unwrap();
    let again = next_body(&mut bi).await;
    assert_eq!(extra(&again, "dialog_id"), Some(dialog.to_string()));
    // Without save_to_history nothing is stored.
    a.send(chat(
        &jid(2),
        &MessageId::generate().to_string(),
        "ephemeral",
    ))
    .await
    .unwrap();
    next_body(&mut bi).await;
    assert_eq!(s.backend.history(dialog).len(), 2);
}

#[tokio::test]
async fn markers_edits_and_deletes_change_the_history() {
    let s = server().await;
    let (a, mut ai) = s.login(1, "a").await;
    let (b, mut bi) = s.login(2, "b").await;
    let id = MessageId::generate();
    a.send(saved_chat(&jid(2), &id.to_string(), "first"))
        .await
        .unwrap();
    let got = next_body(&mut bi).await;
    let dialog = extra(&got, "dialog_id").unwrap();
    for marker in ["received", "displayed"] {
        b.send(parse(&format!(
            "<message xmlns='jabber:client' to='{}' type='chat'><{marker} xmlns='urn:xmpp:chat-markers:0' id='{id}'/>\
             <extraParams xmlns='jabber:client'><dialog_id>{dialog}</dialog_id></extraParams></message>",
            jid(1)
        )))
        .await
        .unwrap();
        let relayed = until(&mut ai, |e| e.has_child(marker, "urn:xmpp:chat-markers:0")).await;
        assert_eq!(relayed.attr("from"), Some("2-1@localhost/b"));
    }
    let stored = s.backend.message(id).unwrap().unwrap();
    assert!(stored.delivered_ids.contains(&UserId(2)) && stored.read_ids.contains(&UserId(2)));
    // Only the sender's edit changes the body.
    b.send(parse(&format!(
        "<message xmlns='jabber:client' to='{}' type='chat'><body>hijack</body><replace xmlns='urn:xmpp:message-correct:0' id='{id}'/></message>",
        jid(1)
    )))
    .await
    .unwrap();
    a.send(parse(&format!(
        "<message xmlns='jabber:client' to='{}' type='chat'><body>edited</body><replace xmlns='urn:xmpp:message-correct:0' id='{id}' last='true'/></message>",
        jid(2)
    )))
    .await
    .unwrap();
    until(&mut bi, |e| {
        e.has_child("replace", "urn:xmpp:message-correct:0")
    })
    .await;
    assert_eq!(
        s.backend.message(id).unwrap().unwrap().message.body,
        "edited"
    );
    a.send(parse(&format!(
        "<message xmlns='jabber:client' to='{}' type='chat'><remove xmlns='urn:xmpp:message-delete:0' id='{id}'/></message>",
        jid(2)
    )))
    .await
    .unwrap();
    until(&mut bi, |e| {
        e.has_child("remove", "urn:xmpp:message-delete:0")
    })
    .await;
    assert!(s.backend.message(id).unwrap().is_none());
}

#[tokio::test]
async fn chat_states_are_relayed_and_not_stored_offline() {
    let s = server().await;
    let (a, _ai) = s.login(1, "a").await;
    let (_b, mut bi) = s.login(2, "b").await;
    a.send(parse(&format!(
        "<message xmlns='jabber:client' to='{}' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        jid(2)
    )))
    .await
    .unwrap();
    until(&mut bi, |e| {
        e.has_child("composing", "http://jabber.org/protocol/chatstates")
    })
    .await;
    a.send(parse(&format!(
        "<message xmlns='jabber:client' to='{}' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        jid(9)
    )))
    .await
    .unwrap();
    a.send(chat(&jid(9), "m", "real")).await.unwrap();
    let (_c, mut ci) = s.login(9, "c").await;
    let first = until(&mut ci, |e| e.name() == "message").await;
    assert_eq!(
        body(&first).as_deref(),
        Some("real"),
        "the chat state was not kept"
    );
}

#[tokio::test]
async fn rest_pushes_become_headlines_and_reactions() {
    let s = server().await;
    let (_b, mut bi) = s.login(2, "b").await;
    let mut params = serde_json::Map::new();
    params.insert("param1".into(), "value1".into());
    let id = MessageId::generate();
    s.push
        .send(Push::SystemMessage {
            from: UserId(1),
            to: UserId(2),
            id,
            params,
        })
        .unwrap();
    let sys = until(&mut bi, |e| e.attr("type") == Some("headline")).await;
    assert_eq!(
        extra(&sys, "moduleIdentifier").as_deref(),
        Some("SystemNotifications")
    );
    assert_eq!(extra(&sys, "param1").as_deref(), Some("value1"));
    assert_eq!(sys.attr("id"), Some(id.to_string().as_str()));
    let dialog = DialogId::generate();
    s.push
        .send(Push::Reactions {
            dialog,
            message: id,
            user: UserId(1),
            add: Some("👍".into()),
            remove: None,
            recipients: vec![UserId(2)],
        })
        .unwrap();
    let r = until(&mut bi, |e| e.has_child("reactions", "jabber:client")).await;
    let reactions = r.get_child("reactions", "jabber:client").unwrap();
    assert_eq!(reactions.attr("user_id"), Some("1"));
    assert_eq!(reactions.attr("message_id"), Some(id.to_string().as_str()));
    let reaction = reactions.children().next().unwrap();
    assert_eq!(
        (reaction.attr("add"), reaction.attr("type")),
        (Some("true"), Some("👍"))
    );
    assert_eq!(extra(&r, "dialog_id"), Some(dialog.to_string()));
}

#[tokio::test]
async fn a_rest_message_with_send_to_chat_reaches_the_recipient() {
    use crate::chat::backend::NewMessage;
    let s = server().await;
    let (_b, mut bi) = s.login(2, "b").await;
    let dialog = s.backend.private_dialog(UserId(1), UserId(2)).unwrap();
    let id = MessageId::generate();
    s.backend
        .save_message(&NewMessage {
            id,
            dialog: dialog.id,
            sender: UserId(1),
            recipient: Some(UserId(2)),
            body: "from REST".into(),
            date_sent: 1_700_000_000,
            attachments: vec![],
            custom: Default::default(),
        })
        .unwrap();
    s.push
        .send(Push::MessageCreated {
            dialog: dialog.id,
            message: id,
            sender: UserId(1),
            recipients: vec![UserId(2)],
        })
        .unwrap();
    let m = next_body(&mut bi).await;
    assert_eq!(body(&m).as_deref(), Some("from REST"));
    assert_eq!(extra(&m, "date_sent").as_deref(), Some("1700000000"));
    assert_eq!(extra(&m, "dialog_id"), Some(dialog.id.to_string()));
}
