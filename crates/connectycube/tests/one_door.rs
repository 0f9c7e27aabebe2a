//! No stream the app drops can stop the client: a user who drops the stream `login` gives,
//! before subscribing to anything, still joins a room, gets messages, answers 'delivered'
//! and rejoins after a cut, through `Client` → `Session` → `Dialog` and the typed streams.
//! (On the event task of before, dropping that stream with no subscription ended it: the
//! join failed after 15 s with "no answer from the room".)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use connectycube::prelude::*;
use support::{WAIT, app_config, credentials, server_with};

async fn next<T>(stream: &mut Updates<T>) -> T {
    tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("nothing within the wait")
        .expect("the session ended")
        .expect("no lag")
}

#[tokio::test]
async fn a_dropped_login_stream_stops_nothing() {
    let srv = server_with(&["ann", "bob"], |c| {
        // A cut ends the session for good: the reconnect is a new session, with rejoins.
        c.chat.as_mut().unwrap().resume_timeout = Duration::ZERO;
    })
    .await;
    let mut config = app_config(&srv, srv.chat().unwrap().connection_config());
    config.settings = config
        .settings
        .with_reconnection_timeout(Duration::from_millis(100));
    let client = Client::new(config);
    // Ann drops her stream at once, before any subscription exists.
    let (ann, _) = client.login(credentials("ann")).await.unwrap();
    let (bob, _bob_events) = client.login(credentials("bob")).await.unwrap();

    // A group join resolves (the room's answer is read though nobody listens).
    let create = CreateDialog::group("door", [ann.user()]);
    let bobs_group = bob.create_dialog(&create).await.unwrap();
    let anns_group = ann.dialog(bobs_group.id()).await.unwrap();
    anns_group.join().await.unwrap();

    // A message arrives on a stream made later, and Ann's client answers 'delivered'.
    let mut ann_messages = ann.messages();
    let mut delivered = bob.delivered_statuses();
    let private = bob
        .create_dialog(&CreateDialog::private(ann.user()))
        .await
        .unwrap();
    let sent = private.send_text("hello").await.unwrap();
    assert_eq!(next(&mut ann_messages).await.message_id(), sent.id);
    let status = next(&mut delivered).await;
    assert_eq!(
        (status.message_id(), status.user_id()),
        (sent.id, Some(ann.user()))
    );

    // A cut: a new session, the room rejoined by itself, the group's messages arrive.
    let mut states = ann.connection_states();
    srv.chat_faults().unwrap().cut(ann.user());
    while next(&mut states).await != ConnectionState::NewSession {}
    while next(&mut states).await != ConnectionState::Ready {}
    bobs_group.join().await.unwrap();
    let sent = bobs_group.send_text("after the cut").await.unwrap();
    loop {
        let got = next(&mut ann_messages).await;
        if got.message_id() == sent.id {
            assert_eq!(got.dialog_id(), Some(bobs_group.id()));
            break;
        }
    }
    ann.logout().await.unwrap();
    bob.logout().await.unwrap();
    srv.shutdown().await;
}
