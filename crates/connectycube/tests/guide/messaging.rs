//! Send/receive (1-1 and group, the room joined on demand), 'sent', 'delivered', 'read',
//! typing in 1-1 and group, silent messages, active/inactive.

use std::future::IntoFuture;
use std::time::Duration;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::iq::activity::ClientState;
use connectycube::protocol::message::chat_state::TypingState;
use connectycube::protocol::model::Message;
use connectycube::protocol::xmpp_parsers::stanza_error::ErrorType as StanzaErrorType;
use connectycube::rest::chat::dialogs::CreateDialog;
use connectycube::transport::session::{SendStage, StanzaErrorCondition};

use super::support::{join, wait};
use super::{next_message, two};

#[tokio::test]
async fn a_private_message_with_its_sent_delivered_and_read_statuses() {
    let mut t = two().await;
    let (mine, theirs) = t.private().await;
    let mut message = Message::new("How are you today?");
    message.custom.insert("country".into(), "USA".into());
    let handle = mine.send(&message).queued().await.unwrap();
    handle.clone().await.unwrap();
    assert!(
        matches!(handle.stage(), SendStage::Acked),
        "{:?}",
        handle.stage()
    );
    let got = next_message(&mut t.bob_events).await;
    assert_eq!(
        (got.id, got.body.as_deref()),
        (message.id, Some("How are you today?"))
    );
    assert_eq!(got.dialog_id, Some(mine.id()));
    assert_eq!(got.sender_id, Some(t.alice.user()));
    assert_eq!(got.custom.get("country"), Some(&"USA".into()));
    let delivered = wait(&mut t.alice_events, |e| match e {
        ChatEvent::Delivered(d) => Some(d.payload),
        _ => None,
    });
    assert_eq!(
        delivered.await.unwrap(),
        message.id,
        "automatic for markable messages"
    );
    theirs.send_read(&got).await.unwrap();
    theirs.send_delivered(&got).await.unwrap();
    let read = wait(&mut t.alice_events, |e| match e {
        ChatEvent::Read(r) => Some((r.payload, r.envelope.dialog_id)),
        _ => None,
    });
    assert_eq!(read.await.unwrap(), (message.id, Some(mine.id())));
}

/// The guide: "The SDK sends the 'delivered' status automatically when the message is
/// received by the recipient. This is controlled by markable = true [...]. If markable is false
/// or omitted, then you can send the delivered status manually."
#[tokio::test]
async fn a_message_that_is_not_markable_is_marked_delivered_only_by_the_app() {
    let mut t = two().await;
    let (mine, theirs) = t.private().await;
    let mut unmarked = Message::new("no marker asked");
    unmarked.markable = false;
    mine.send(&unmarked).await.unwrap();
    let got = next_message(&mut t.bob_events).await;
    assert_eq!((got.id, got.markable), (unmarked.id, false));
    // A markable message after it: its automatic marker is the first alice sees.
    let marked = mine.send_text("marker asked").await.unwrap();
    next_message(&mut t.bob_events).await;
    let first = wait(&mut t.alice_events, |e| match e {
        ChatEvent::Delivered(d) => Some(d.payload),
        _ => None,
    });
    assert_eq!(
        first.await.unwrap(),
        marked.id,
        "none sent for the unmarked one"
    );
    theirs.send_delivered(&got).await.unwrap();
    let manual = wait(&mut t.alice_events, |e| match e {
        ChatEvent::Delivered(d) => Some((d.payload, d.envelope.dialog_id)),
        _ => None,
    });
    assert_eq!(manual.await.unwrap(), (unmarked.id, Some(mine.id())));
}

#[tokio::test]
async fn a_group_message_joins_the_room_on_demand() {
    let mut t = two().await;
    let group = t
        .alice
        .create_dialog(&CreateDialog::group("G", [t.bob.user()]))
        .await
        .unwrap();
    let bobs = t.bob.dialog(group.id()).await.unwrap();
    join(&bobs, &mut t.bob_events).await.unwrap();
    // alice never joined by hand: sending does it.
    let sent = group.send_text("Hello, group!").await.unwrap();
    let got = next_message(&mut t.bob_events).await;
    assert_eq!((got.id, got.dialog_id), (sent.id, Some(group.id())));
    assert_eq!(got.sender_id, Some(t.alice.user()));
    let history = t.srv.store().messages_in(group.id(), None).unwrap();
    assert!(
        history.iter().any(|m| m.id == sent.id),
        "saved to the history"
    );
}

#[tokio::test]
async fn typing_in_a_private_and_in_a_group_dialog() {
    let mut t = two().await;
    let (mine, _) = t.private().await;
    mine.start_typing().await.unwrap();
    mine.stop_typing().await.unwrap();
    let mut states = Vec::new();
    while states.len() < 2 {
        let s = wait(&mut t.bob_events, |e| match e {
            ChatEvent::Typing(t) => Some(t.payload),
            _ => None,
        });
        states.push(s.await.unwrap());
    }
    assert_eq!(states, [TypingState::Composing, TypingState::Paused]);
    let group = t
        .alice
        .create_dialog(&CreateDialog::group("G", [t.bob.user()]))
        .await
        .unwrap();
    join(&t.bob.dialog(group.id()).await.unwrap(), &mut t.bob_events)
        .await
        .unwrap();
    group.start_typing().await.unwrap();
    let got = wait(&mut t.bob_events, |e| match e {
        ChatEvent::Typing(t) => Some((t.envelope.dialog_id, t.payload)),
        _ => None,
    });
    assert_eq!(
        got.await.unwrap(),
        (Some(group.id()), TypingState::Composing)
    );
}

#[tokio::test]
async fn a_silent_message_arrives_marked_silent() {
    let mut t = two().await;
    let (mine, _) = t.private().await;
    let mut quiet = Message::new("no push");
    quiet.silent = true;
    mine.send(&quiet).await.unwrap();
    let got = next_message(&mut t.bob_events).await;
    assert!(got.silent);
    mine.send_text("loud").await.unwrap();
    assert!(!next_message(&mut t.bob_events).await.silent);
}

/// Inactive (in the background) while connected, Bob still gets his messages over chat, and
/// each also makes a push notification (none for a silent one); once active again, none.
#[tokio::test]
async fn an_inactive_client_gets_pushes_until_it_is_active_again() {
    let mut t = two().await;
    let (mine, _) = t.private().await;
    let chat = t.bob.chat();
    let pushes = |t: &super::Two| t.srv.chat().unwrap().notifications();
    chat.set_client_state(ClientState::Inactive).await.unwrap();
    let mut quiet = Message::new("quiet");
    quiet.silent = true;
    for message in [quiet, Message::new("while away")] {
        mine.send(&message).await.unwrap();
        assert_eq!(next_message(&mut t.bob_events).await.id, message.id);
    }
    chat.set_client_state(ClientState::Active).await.unwrap();
    mine.send_text("back").await.unwrap();
    assert_eq!(
        next_message(&mut t.bob_events).await.body.as_deref(),
        Some("back")
    );
    let pushed: Vec<_> = pushes(&t)
        .into_iter()
        .map(|n| (n.user, n.sender, n.body))
        .collect();
    assert_eq!(
        pushed,
        [(t.bob.user(), t.alice.user(), "while away".to_owned())]
    );
}

/// One `.await` on a send means the server acknowledged it: a server that takes the message
/// (bob gets it) but withholds its ack keeps the send pending; the ack its resumption carries
/// resolves it.
#[tokio::test]
async fn a_send_stays_pending_until_the_server_acks_it() {
    let mut t = two().await;
    let (mine, _) = t.private().await;
    let faults = t.srv.chat_faults().unwrap();
    faults.withhold_acks(t.alice.user(), true);
    let message = Message::new("taken, never acknowledged");
    let send = tokio::spawn(mine.send(&message).into_future());
    assert_eq!(next_message(&mut t.bob_events).await.id, message.id);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!send.is_finished(), "resolved without the server's ack");

    faults.withhold_acks(t.alice.user(), false);
    // A cut connection resumes; the server's count in `<resumed h>` acknowledges the message.
    faults.cut(t.alice.user());
    let sent = tokio::time::timeout(Duration::from_secs(10), send).await;
    sent.expect("the ack resolves it").unwrap().unwrap();
}

/// A bounced send resolves, with its one `.await`, as an error that carries the bounce's
/// reason; it is not worth retrying.
#[tokio::test]
async fn a_bounced_send_resolves_with_the_bounce_reason() {
    let t = two().await;
    let (mine, _) = t.private().await;
    t.bob.chat().block(t.alice.user()).await.unwrap();
    let sent = mine.send(&Message::new("blocked")).await;
    let error = sent.expect_err("a blocked message bounces");
    let bounce = error
        .bounce()
        .unwrap_or_else(|| panic!("not a bounce: {error:?}"));
    assert_eq!(bounce.condition, StanzaErrorCondition::ServiceUnavailable);
    assert_eq!(bounce.kind, Some(StanzaErrorType::Cancel));
    assert!(!error.is_retryable(), "a privacy block is final");
    // The stages say the same, for those who follow them.
    let handle = mine.send(&Message::new("again")).queued().await.unwrap();
    assert!(handle.clone().await.is_err());
    assert!(
        matches!(handle.stage(), SendStage::Bounced(_)),
        "{:?}",
        handle.stage()
    );
}
