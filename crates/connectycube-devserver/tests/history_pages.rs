//! History pages over REST as an app asks for them (newest first, older pages by
//! `date_sent[lt]`), read as SQL pages: ties in date newest first, reactions included, the
//! same order as the in-memory filter gives a request SQL does not page, and what was
//! answered (and only that) marked read.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

mod kit;

use connectycube_devserver::store::{Dialog, NewMessage, dialog_type};
use connectycube_protocol::ids::MessageId;
use connectycube_rest::chat::messages::{ListMessages, MessageField};
use connectycube_rest::query::FilterOp;
use kit::{rest, server};

#[tokio::test]
async fn newest_first_pages_walk_back_through_the_history() {
    let srv = server(&["ann", "bob"]).await;
    let (_, ann, _) = rest(&srv, "ann").await;
    let (bob_client, bob, _) = rest(&srv, "bob").await;
    let mut d = Dialog::new(srv.app_id(), dialog_type::GROUP, ann);
    d.occupants = vec![ann, bob];
    srv.store().put_dialog(&d).unwrap();
    // 10 messages, two per second, so dates tie as they do in a burst.
    let ids: Vec<MessageId> = (0..10)
        .map(|i| {
            let mut m = NewMessage::new(d.id, ann);
            m.body = Some(format!("m{i}"));
            m.date_sent = Some(1_700_000_000 + i / 2);
            srv.store().save_message(&m).unwrap().id
        })
        .collect();
    srv.store().react(ids[9], bob, Some("👍"), None).unwrap();

    let newest = ListMessages::new(d.id)
        .sort_desc(MessageField::DateSent)
        .limit(4);
    let page = bob_client.send(&newest).await.unwrap();
    let got: Vec<MessageId> = page.items.iter().map(|m| m.id).collect();
    assert_eq!(got, [ids[9], ids[8], ids[7], ids[6]]);
    assert_eq!(
        page.items[0].reactions.as_ref().map(|r| r.total.len()),
        Some(1)
    );
    // The next page: older than the oldest date seen (whole seconds: 1_700_000_003).
    let older = ListMessages::new(d.id)
        .sort_desc(MessageField::DateSent)
        .filter(MessageField::DateSent, FilterOp::Lt, 1_700_000_003)
        .limit(4);
    let page = bob_client.send(&older).await.unwrap();
    let got: Vec<MessageId> = page.items.iter().map(|m| m.id).collect();
    assert_eq!(got, [ids[5], ids[4], ids[3], ids[2]]);
    // A filter SQL does not page (the sender) reads the dialog in memory: same order.
    let filtered = ListMessages::new(d.id)
        .sort_desc(MessageField::DateSent)
        .eq(MessageField::SenderId, ann.0)
        .keep_unread()
        .limit(4);
    let page = bob_client.send(&filtered).await.unwrap();
    let got: Vec<MessageId> = page.items.iter().map(|m| m.id).collect();
    assert_eq!(got, [ids[9], ids[8], ids[7], ids[6]]);
    // Exactly the answered messages are read by bob now.
    for (i, id) in ids.iter().enumerate() {
        let m = srv.store().message(*id).unwrap().unwrap();
        let answered = (2..=9).contains(&i);
        assert_eq!(m.read_ids.contains(&bob), answered, "message {i}");
    }
}
