//! Bob away from many rooms, for the gap filler's bound tests: Ann's group dialogs made in
//! the devserver's store (an hour old, as if long there), bob joined to each; what is sent
//! while he is away goes straight into the history; then his connection is cut and the
//! server refuses to resume it, so his client starts a new session and fills the gaps.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use connectycube::fanout::{SyncFailed, Synced};
use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::{DialogId, UserId};
use connectycube::transport::session::{ConnectionState, SessionSettings};
use connectycube::{AppConfig, Client, Event, EventFilter, EventKind, Session, Subscription};
use connectycube_devserver::DevServer;
use connectycube_devserver::store::{Dialog, NewMessage, dialog_type};

use crate::support::{WAIT, app_config, credentials, rest, server};

/// Bob, his rooms and his listener.
pub struct Away {
    pub srv: DevServer,
    pub bob: Session,
    pub rooms: Vec<DialogId>,
    ann: UserId,
    events: Subscription,
}

/// What bob's listener saw after the new session.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The history messages' bodies per dialog, in the order shown.
    pub history: HashMap<DialogId, Vec<String>>,
    pub synced: HashMap<DialogId, Synced>,
    pub failed: HashMap<DialogId, SyncFailed>,
    /// History messages of a dialog shown after its `Synced` or `SyncFailed`.
    pub late: usize,
}

impl Outcome {
    /// How many history messages of `dialog` were shown.
    pub fn shown(&self, dialog: DialogId) -> usize {
        self.history.get(&dialog).map_or(0, Vec::len)
    }
}

fn unix_now() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(now.as_secs()).unwrap()
}

impl Away {
    /// Bob logged in (his app's configuration `adjust`ed), in `rooms` rooms of Ann's.
    pub async fn new(rooms: usize, adjust: impl FnOnce(&mut AppConfig)) -> Self {
        let srv = server(&["ann", "bob"]).await;
        let (_, ann, _) = rest(&srv, "ann").await;
        let mut config = app_config(&srv, srv.chat().unwrap().connection_config());
        config.settings =
            SessionSettings::default().with_reconnection_timeout(Duration::from_millis(100));
        adjust(&mut config);
        let (bob, _) = Client::new(config).login(credentials("bob")).await.unwrap();
        let hour_ago = unix_now() - 3600;
        let rooms: Vec<DialogId> = (0..rooms)
            .map(|i| {
                let mut d = Dialog::new(srv.app_id(), dialog_type::GROUP, ann);
                d.name = Some(format!("room {i}"));
                d.occupants = vec![ann, bob.chat().user()];
                (d.created_at, d.updated_at) = (hour_ago, hour_ago);
                srv.store().put_dialog(&d).unwrap();
                d.id
            })
            .collect();
        for chunk in rooms.chunks(100) {
            let joins = chunk.iter().map(|r| async { bob.chat().join(*r).await });
            for joined in futures_util::future::join_all(joins).await {
                joined.unwrap();
            }
        }
        // Lossless: a thousand `Synced` in a burst must not make the test's reader lag.
        let filter = EventFilter::only(EventKind::Messages).and(EventKind::Connection);
        let events = bob.events_lossless(filter);
        Self {
            srv,
            bob,
            rooms,
            ann,
            events,
        }
    }

    /// Ann's messages `m0000`, `m0001`, ... (`n` of them) in `room`'s history, sent while bob
    /// is away: dated ahead, so that they fall in the gap however long the setup takes; the
    /// dialog's `updated_at` is the time of saving, so call this right before
    /// [`Away::come_back`] (the fill lists the dialogs updated in the gap).
    pub fn sent_while_away(&self, room: DialogId, n: usize) {
        let at = unix_now() + 10;
        for i in 0..n {
            let mut m = NewMessage::new(room, self.ann);
            m.body = Some(format!("m{i:04}"));
            m.date_sent = Some(at);
            self.srv.store().save_message(&m).unwrap();
        }
    }

    /// Waits until bob has `n` live messages (not from the history).
    pub async fn live(&mut self, n: usize) {
        let mut got = 0;
        while got < n {
            let event = tokio::time::timeout(WAIT, self.events.next()).await;
            if let Event::Chat(r) = event.unwrap().unwrap()
                && !r.from_history
                && r.kind() == "ChatMessage"
            {
                got += 1;
            }
        }
    }

    /// Cuts bob's connection, refuses its resumption and waits for the new session.
    pub async fn come_back(&mut self) {
        let faults = self.srv.chat_faults().unwrap();
        let bob = self.bob.chat().user();
        faults.refuse_next_resumption(bob);
        faults.cut(bob);
        loop {
            let event = tokio::time::timeout(WAIT, self.events.next()).await;
            if let Event::State(ConnectionState::NewSession) = event.unwrap().unwrap() {
                return;
            }
        }
    }

    /// What the fill showed, until every room has its `Synced` or `SyncFailed` (and a
    /// quiet half second after, for anything late).
    pub async fn outcome(&mut self) -> Outcome {
        let mut seen = Outcome::default();
        let mut done = 0;
        while done < self.rooms.len() {
            let event = tokio::time::timeout(WAIT, self.events.next())
                .await
                .expect("every room's fill ends within the wait")
                .unwrap();
            done += usize::from(self.note(&mut seen, event));
        }
        let quiet = Duration::from_millis(500);
        while let Ok(Some(event)) = tokio::time::timeout(quiet, self.events.next()).await {
            self.note(&mut seen, event);
        }
        seen
    }

    /// Notes `event`; says whether it ended a room's fill.
    fn note(&self, seen: &mut Outcome, event: Event) -> bool {
        match event {
            Event::Chat(r) if r.from_history => {
                let ChatEvent::ChatMessage(m) = r.into_event() else {
                    return false;
                };
                let dialog = m.dialog_id().unwrap();
                if seen.synced.contains_key(&dialog) || seen.failed.contains_key(&dialog) {
                    seen.late += 1;
                }
                let body = m.payload.body.unwrap_or_default();
                seen.history.entry(dialog).or_default().push(body);
                false
            }
            Event::Synced(s) => {
                let room = self.rooms.contains(&s.dialog);
                seen.synced.insert(s.dialog, s);
                room
            }
            Event::SyncFailed(f) => {
                let room = self.rooms.contains(&f.dialog);
                seen.failed.insert(f.dialog, f);
                room
            }
            _ => false,
        }
    }

    /// Bodies `m{from}`..`m{to - 1}`, as [`Away::sent_while_away`] names them.
    pub fn bodies(from: usize, to: usize) -> Vec<String> {
        (from..to).map(|i| format!("m{i:04}")).collect()
    }

    pub async fn end(self) {
        self.bob.chat().logout().await;
        self.srv.shutdown().await;
    }
}
