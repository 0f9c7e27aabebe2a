//! Nothing missed while away: after a new session (not a resumed one) the messages of the
//! joined and recently active dialogs sent while the client was offline are fetched from the
//! REST history, since the last message seen in each, and handed to the event task, which
//! drops those already shown (the duplicate filter of [`crate::delivery`]) and delivers the
//! rest oldest first, then one [`crate::fanout::Synced`] per dialog, or a
//! [`crate::fanout::SyncFailed`] when its history could not be fetched. Opt-in: it needs a
//! logged-in [`RestClient`] ([`crate::ChatClient::enable_gap_fill`]).
//!
//! What it costs: one dialogs-list request (a few for thousands of dialogs) says which
//! dialogs have messages newer than the last one seen ([`changed`]); only those are asked
//! for their history, at most [`MAX_PER_DIALOG`] messages each ([`history`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_rest::RestClient;
use tokio::sync::mpsc;

use crate::store::Store;
use crate::{Error, lock, unix_now};

mod changed;
mod history;

pub(crate) use history::Me;

/// History messages waiting for the event task, at most.
const HISTORY_BUFFER: usize = 256;
/// Dialogs whose last message is remembered ("recently active"); the oldest go first.
const MAX_DIALOGS: usize = 256;
/// Recently active dialogs (besides the joined rooms) filled after a new session: the ones
/// with the newest messages seen.
const RECENT: usize = 20;
/// Messages one fill takes from a dialog's history at most: a dialog that got more while
/// away is left to the app's own history paging, and its `Synced` says so (`complete`).
pub(crate) const MAX_PER_DIALOG: u32 = 1_000;
/// Seconds subtracted from the since-time: `date_sent` has second resolution and clocks
/// differ; what overlaps is dropped as a duplicate.
const SLACK: i64 = 2;

/// What the gap filler hands the event task.
#[derive(Debug)]
pub(crate) enum Injected {
    /// A fill starts on a dialog: what an earlier fill of it showed (one that failed or was
    /// stopped by a newer session's) is not this fill's count.
    Begin(DialogId),
    /// A message from the history (boxed: the channel's slots stay small).
    History(Box<ChatEvent>),
    /// A dialog's history is through; `complete` is false when a bound cut it short.
    Synced {
        /// The dialog.
        dialog: DialogId,
        /// Whether everything since the last message seen was fetched.
        complete: bool,
    },
    /// A dialog's history could not be fetched (after what this fill already handed over).
    Failed {
        /// The dialog.
        dialog: DialogId,
        /// Why (shared: the slot stays small, and the event shares it as it is).
        error: Arc<Error>,
    },
}

/// One dialog a fill covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    dialog: DialogId,
    /// Fetch from here (unix seconds): the newest message seen, or when the connection was
    /// lost for a room nothing was seen in.
    since: i64,
    /// A joined room (its messages are addressed from the room's occupants).
    group: bool,
    /// The newest message seen in it, when known: the dialogs list names each dialog's last
    /// message, so one whose last message is this one got nothing new.
    last_id: Option<MessageId>,
}

/// The gap filler's memory and its line to the event task.
#[derive(Debug)]
pub(crate) struct GapFill {
    rest: Mutex<Option<RestClient>>,
    /// The newest `date_sent` (unix seconds) shown per dialog.
    last_seen: Mutex<HashMap<DialogId, i64>>,
    /// The id of the newest message shown per dialog (the same dialogs as `last_seen` or
    /// fewer: a since-time restored from elsewhere comes without one).
    last_id: Mutex<HashMap<DialogId, MessageId>>,
    /// When the connection was last lost (unix seconds).
    offline_since: Mutex<Option<i64>>,
    inject: mpsc::Sender<Injected>,
    /// The fill under way, stopped when a newer session starts its own.
    running: Mutex<Option<tokio::task::AbortHandle>>,
    /// Where the changed dialogs listed are kept, and for whom.
    keep: Mutex<Option<(Store, UserId)>>,
}

/// Why a fill stops handing over a dialog's history.
#[derive(Debug)]
enum Stop {
    /// The event task is gone: nobody listens any more.
    Closed,
    /// A history request failed.
    Failed(connectycube_rest::RestError),
}

impl GapFill {
    /// The filler and the event task's end of its line.
    pub(crate) fn new() -> (Self, mpsc::Receiver<Injected>) {
        // Bounded: the history waits (in REST pages) while the app reads, instead of piling
        // up in memory.
        let (inject, rx) = mpsc::channel(HISTORY_BUFFER);
        let fill = Self {
            rest: Mutex::new(None),
            last_seen: Mutex::default(),
            last_id: Mutex::default(),
            offline_since: Mutex::new(None),
            inject,
            running: Mutex::new(None),
            keep: Mutex::new(None),
        };
        (fill, rx)
    }

    /// Fills gaps from now on, through `rest` (logged in as the chat user `owner`), keeping
    /// the changed dialogs it lists in `store`.
    pub(crate) fn enable(&self, rest: RestClient, store: Store, owner: UserId) {
        *lock(&self.rest) = Some(rest);
        *lock(&self.keep) = Some((store, owner));
    }

    /// Starts from what the store saw per dialog: a previous run's newest message from others
    /// (its time and id), so a restart asks only for what came after it.
    pub(crate) fn seed(&self, marks: impl IntoIterator<Item = (DialogId, i64, MessageId)>) {
        // Lock order: `last_seen`, then `last_id` (as `plan` takes them).
        let mut seen = lock(&self.last_seen);
        let mut ids = lock(&self.last_id);
        for (dialog, sent, id) in marks {
            if !seen.contains_key(&dialog) && seen.len() >= MAX_DIALOGS {
                break;
            }
            let newest = seen.entry(dialog).or_insert(sent);
            if sent >= *newest {
                *newest = sent;
                ids.insert(dialog, id);
            }
        }
    }

    /// Notes a message shown (live or from the history).
    pub(crate) fn seen(&self, event: &ChatEvent) {
        let ChatEvent::ChatMessage(m) = event else {
            return;
        };
        let Some(dialog) = m.dialog_id() else {
            return;
        };
        // Never later than now: a sender's clock ahead (or a forged date) must not move the
        // since-time past messages others send meanwhile.
        let sent = m
            .payload
            .date_sent
            .unwrap_or_else(|| i64::from(m.payload.id.0.timestamp()))
            .min(unix_now());
        // Lock order: `last_seen`, then `last_id` (as `plan` takes them).
        let mut seen = lock(&self.last_seen);
        if !seen.contains_key(&dialog)
            && seen.len() >= MAX_DIALOGS
            && let Some(gone) = crate::forget_least(&mut seen, |t| *t)
        {
            lock(&self.last_id).remove(&gone);
        }
        let newest = seen.entry(dialog).or_insert(sent);
        if sent >= *newest {
            *newest = sent;
            lock(&self.last_id).insert(dialog, m.payload.id);
        }
    }

    /// Runs `fill` as the one fill under way: one a previous session started stops first
    /// (its since-times are the same or older, so the new fill covers what it would have).
    pub(crate) fn start(self: &Arc<Self>, rooms: Vec<DialogId>, me: Me) {
        let previous = if rooms.is_empty() && lock(&self.last_seen).is_empty() {
            // Nothing seen and no rooms: nothing to fill. No task either: a finished task's
            // memory stays while its handle is kept, 2 KiB for every idle session.
            lock(&self.offline_since).take();
            lock(&self.running).take()
        } else {
            let task = tokio::spawn(Arc::clone(self).fill(rooms, me));
            lock(&self.running).replace(task.abort_handle())
        };
        if let Some(previous) = previous {
            previous.abort();
        }
    }

    /// Notes that the connection dropped (the first drop since it was last up counts).
    pub(crate) fn went_offline(&self) {
        lock(&self.offline_since).get_or_insert_with(unix_now);
    }

    /// The dialogs to fill, newest since-time first: the joined `rooms` and the most
    /// recently active other dialogs.
    fn plan(&self, rooms: &[DialogId]) -> Vec<Target> {
        let offline = lock(&self.offline_since).take().unwrap_or_else(unix_now);
        let seen = lock(&self.last_seen).clone();
        let ids = lock(&self.last_id).clone();
        let target = |dialog: DialogId, since: i64, group: bool| Target {
            dialog,
            since,
            group,
            last_id: ids.get(&dialog).copied(),
        };
        let mut recent: Vec<Target> = seen
            .iter()
            .filter(|(d, _)| !rooms.contains(d))
            .map(|(d, t)| target(*d, *t, false))
            .collect();
        recent.sort_by_key(|t| std::cmp::Reverse(t.since));
        recent.truncate(RECENT);
        let joined = rooms
            .iter()
            .map(|r| target(*r, seen.get(r).copied().unwrap_or(offline), true));
        let mut targets: Vec<Target> = joined.chain(recent).collect();
        targets.sort_by_key(|t| std::cmp::Reverse(t.since));
        targets
    }

    /// Fetches what `rooms` and the recently active dialogs got since they were last seen
    /// and hands it to the event task; a no-op unless enabled.
    pub(crate) async fn fill(self: Arc<Self>, rooms: Vec<DialogId>, me: Me) {
        let Some(rest) = lock(&self.rest).clone() else {
            return;
        };
        let targets = self.plan(&rooms);
        let Some(oldest) = targets.iter().map(|t| t.since).min() else {
            return;
        };
        let changed = changed::since(&rest, oldest.saturating_sub(SLACK)).await;
        if let Some((store, owner)) = lock(&self.keep).clone()
            && let Err(e) = store.put_dialogs(owner, &changed.dialogs)
        {
            tracing::warn!(error = %e, "could not keep the changed dialogs");
        }
        for target in targets {
            let dialog = target.dialog;
            let outcome = if changed.may_have_news(&target) {
                self.fill_dialog(&rest, &target, &me).await
            } else {
                self.unchanged(dialog).await
            };
            let end = match outcome {
                Ok(complete) => Injected::Synced { dialog, complete },
                Err(Stop::Closed) => return,
                Err(Stop::Failed(e)) => {
                    tracing::warn!(%dialog, error = %e, "could not fetch a dialog's history");
                    Injected::Failed {
                        dialog,
                        error: Arc::new(e.into()),
                    }
                }
            };
            if self.inject.send(end).await.is_err() {
                return;
            }
        }
    }

    /// A dialog the list says got nothing new: synced without asking its history.
    async fn unchanged(&self, dialog: DialogId) -> Result<bool, Stop> {
        self.hand_over(Injected::Begin(dialog)).await?;
        Ok(true)
    }

    /// Hands `item` to the event task (waiting while its line is full).
    async fn hand_over(&self, item: Injected) -> Result<(), Stop> {
        self.inject.send(item).await.map_err(|_| Stop::Closed)
    }
}

#[cfg(test)]
mod tests;
