//! Every section of the messaging guide through the `connectycube` facade, against an
//! embedded devserver (REST and chat on one store). One binary, a module per area; the
//! `coverage` module fails when a section of docs/GUIDE.md names no existing test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

#[path = "../../examples/support/mod.rs"]
mod support;

mod activity;
mod attachments;
mod connect;
mod coverage;
mod dialogs;
mod edit_delete;
mod messaging;
mod one_await;
mod privacy;
mod reactions;
mod system;

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::model::Message;
use connectycube::rest::chat::dialogs::CreateDialog;
use connectycube::{Dialog, Session, Subscription};
use connectycube_devserver::DevServer;

/// A devserver, its client, and two users logged in with their events.
pub(crate) struct Two {
    pub(crate) srv: DevServer,
    pub(crate) alice: Session,
    pub(crate) alice_events: Subscription,
    pub(crate) bob: Session,
    pub(crate) bob_events: Subscription,
}

pub(crate) async fn two() -> Two {
    let (srv, client) = support::devserver(&["alice", "bob", "carol"])
        .await
        .unwrap();
    let (alice, alice_events) = support::login(&client, "alice").await.unwrap();
    let (bob, bob_events) = support::login(&client, "bob").await.unwrap();
    Two {
        srv,
        alice,
        alice_events,
        bob,
        bob_events,
    }
}

impl Two {
    /// A private dialog alice created with bob, as alice's and as bob's value.
    pub(crate) async fn private(&self) -> (Dialog, Dialog) {
        let mine = self
            .alice
            .create_dialog(&CreateDialog::private(self.bob.user()))
            .await
            .unwrap();
        let theirs = self.bob.dialog(mine.id()).await.unwrap();
        (mine, theirs)
    }
}

/// The next chat message among `events`.
pub(crate) async fn next_message(events: &mut Subscription) -> Message {
    support::wait(events, |e| match e {
        ChatEvent::ChatMessage(m) => Some(m.payload),
        _ => None,
    })
    .await
    .unwrap()
}

/// The third seeded user's id.
pub(crate) fn carol(t: &Two) -> connectycube::protocol::ids::UserId {
    let users = t.srv.store().users(t.srv.app_id()).unwrap();
    users
        .into_iter()
        .find(|u| u.login.as_deref() == Some("carol"))
        .unwrap()
        .id
}
