//! Who is connected and where stanzas go: sessions by user and resource, offline storage,
//! detached (resumable) sessions, room occupants and status subscriptions. One std mutex, never
//! held across an await: each operation is a few map lookups.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use connectycube_protocol::ids::{DialogId, UserId};
use minidom::Element;
use tokio::sync::{mpsc, oneshot};

use super::sm::SmState;

/// A room occupant: (user, resource, nick).
pub type Occupant = (UserId, String, String);

/// How many messages wait in offline storage per user; past it a message bounces, as
/// ejabberd's `max_user_offline_messages` makes it.
pub const MAX_OFFLINE: usize = 10_000;
/// How many stanzas may wait for one session before it counts as stalled.
pub const MAILBOX: usize = 20_000;

/// What a session's task is told.
#[derive(Debug)]
pub enum Deliver {
    /// A stanza to write out.
    Stanza(Element),
    /// Another connection resumes this session: hand over the state.
    Takeover(oneshot::Sender<Detached>),
    /// Another connection bound the same resource: close with `conflict`.
    Conflict,
}

/// A session between connections, waiting to be resumed.
#[derive(Debug)]
pub struct Detached {
    /// Its user.
    pub user: UserId,
    /// Its resource.
    pub resource: String,
    /// Its mailbox, still registered in the router, so stanzas keep arriving.
    pub mailbox: mpsc::Receiver<Deliver>,
    /// Counters and unacked stanzas.
    pub sm: SmState,
    /// The connection that owned it.
    pub conn: u64,
}

/// One bound resource.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its mailbox.
    pub tx: mpsc::Sender<Deliver>,
    /// Sent its initial presence (and no unavailable since).
    pub available: bool,
    /// Carbons enabled.
    pub carbons: bool,
    /// The connection now serving it.
    pub conn: u64,
    /// The stream-management id, when resumable.
    pub sm_id: Option<String>,
    /// Marked inactive (CSI `<inactive/>` or the mobile IQ): the app is in the background.
    pub inactive: bool,
}

#[derive(Default)]
struct State {
    sessions: HashMap<UserId, HashMap<String, Entry>>,
    offline: HashMap<UserId, VecDeque<Element>>,
    detached: HashMap<String, Detached>,
    /// Room -> joined (user, resource) -> nick.
    rooms: HashMap<DialogId, HashMap<(UserId, String), String>>,
    /// User watched -> who watches (user, resource).
    watchers: HashMap<UserId, HashSet<(UserId, String)>>,
}

/// The routing table.
#[derive(Default)]
pub struct Router {
    state: Mutex<State>,
}

impl Router {
    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }

    /// Registers a bound resource; returns the entry it replaces, if any.
    pub fn register(&self, user: UserId, resource: &str, entry: Entry) -> Option<Entry> {
        self.lock()
            .sessions
            .entry(user)
            .or_default()
            .insert(resource.to_owned(), entry)
    }

    /// Removes a resource if `conn` still serves it; returns whether it did.
    pub fn unregister(&self, user: UserId, resource: &str, conn: u64) -> bool {
        let mut s = self.lock();
        let Some(map) = s.sessions.get_mut(&user) else {
            return false;
        };
        if map.get(resource).is_none_or(|e| e.conn != conn) {
            return false;
        }
        map.remove(resource);
        if map.is_empty() {
            s.sessions.remove(&user);
        }
        true
    }

    /// Changes one resource's entry.
    pub fn update(&self, user: UserId, resource: &str, f: impl FnOnce(&mut Entry)) {
        if let Some(e) = self
            .lock()
            .sessions
            .get_mut(&user)
            .and_then(|m| m.get_mut(resource))
        {
            f(e);
        }
    }

    /// Whether the user has a session in the foreground: available and not inactive. A
    /// message to a user without one gets a push notification.
    pub fn in_foreground(&self, user: UserId) -> bool {
        self.lock()
            .sessions
            .get(&user)
            .is_some_and(|m| m.values().any(|e| e.available && !e.inactive))
    }

    /// The entry of one resource.
    pub fn entry(&self, user: UserId, resource: &str) -> Option<Entry> {
        self.lock().sessions.get(&user)?.get(resource).cloned()
    }

    /// The user's resources.
    pub fn resources(&self, user: UserId) -> Vec<(String, Entry)> {
        self.lock()
            .sessions
            .get(&user)
            .map(|m| m.iter().map(|(r, e)| (r.clone(), e.clone())).collect())
            .unwrap_or_default()
    }

    /// Whether the user has an available resource.
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock()
            .sessions
            .get(&user)
            .is_some_and(|m| m.values().any(|e| e.available))
    }

    /// Keeps a stanza for a user who is offline.
    pub fn store_offline(&self, user: UserId, el: Element) {
        let mut s = self.lock();
        let q = s.offline.entry(user).or_default();
        if q.len() >= MAX_OFFLINE {
            q.pop_front();
        }
        q.push_back(el);
    }

    /// How many stanzas wait for `user` in memory.
    pub fn offline_len(&self, user: UserId) -> usize {
        self.lock().offline.get(&user).map_or(0, |q| q.len())
    }

    /// Takes the user's offline stanzas.
    pub fn take_offline(&self, user: UserId) -> Vec<Element> {
        self.lock()
            .offline
            .remove(&user)
            .map(Vec::from)
            .unwrap_or_default()
    }

    /// Parks a session for resumption.
    pub fn detach(&self, id: String, d: Detached) {
        self.lock().detached.insert(id, d);
    }

    /// Takes a parked session.
    pub fn take_detached(&self, id: &str) -> Option<Detached> {
        self.lock().detached.remove(id)
    }

    /// The resource a resumable id belongs to, while a connection still serves it.
    pub fn attached_by_sm_id(&self, user: UserId, id: &str) -> Option<Entry> {
        self.lock()
            .sessions
            .get(&user)?
            .values()
            .find(|e| e.sm_id.as_deref() == Some(id))
            .cloned()
    }

    /// Joins a room; returns the occupants already there (before this one).
    pub fn join(
        &self,
        room: DialogId,
        who: (UserId, String),
        nick: String,
    ) -> Vec<(UserId, String, String)> {
        let mut s = self.lock();
        let r = s.rooms.entry(room).or_default();
        let others = r
            .iter()
            .filter(|(k, _)| **k != who)
            .map(|((u, res), n)| (*u, res.clone(), n.clone()))
            .collect();
        r.insert(who, nick);
        others
    }

    /// Leaves a room; returns the nick it had and the occupants left.
    pub fn leave(&self, room: DialogId, who: &(UserId, String)) -> Option<(String, Vec<Occupant>)> {
        let mut s = self.lock();
        let r = s.rooms.get_mut(&room)?;
        let nick = r.remove(who)?;
        let rest = r
            .iter()
            .map(|((u, res), n)| (*u, res.clone(), n.clone()))
            .collect();
        if r.is_empty() {
            s.rooms.remove(&room);
        }
        Some((nick, rest))
    }

    /// Everyone in a room: (user, resource, nick).
    pub fn occupants(&self, room: DialogId) -> Vec<(UserId, String, String)> {
        self.lock()
            .rooms
            .get(&room)
            .map(|r| {
                r.iter()
                    .map(|((u, res), n)| (*u, res.clone(), n.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The rooms a resource has joined.
    pub fn rooms_of(&self, who: &(UserId, String)) -> Vec<DialogId> {
        self.lock()
            .rooms
            .iter()
            .filter(|(_, r)| r.contains_key(who))
            .map(|(d, _)| *d)
            .collect()
    }

    /// Starts or stops `who` watching `user`'s activity.
    pub fn watch(&self, user: UserId, who: (UserId, String), on: bool) {
        let mut s = self.lock();
        if on {
            s.watchers.entry(user).or_default().insert(who);
        } else if let Some(w) = s.watchers.get_mut(&user) {
            w.remove(&who);
        }
    }

    /// Who watches `user`.
    pub fn watchers(&self, user: UserId) -> Vec<(UserId, String)> {
        self.lock()
            .watchers
            .get(&user)
            .map(|w| w.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets a resource's watches.
    pub fn unwatch_all(&self, who: &(UserId, String)) {
        for w in self.lock().watchers.values_mut() {
            w.remove(who);
        }
    }
}
