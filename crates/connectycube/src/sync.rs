//! Nothing missed while away: after a new session (not a resumed one) the messages of the
//! joined and recently active dialogs sent while the client was offline are fetched from the
//! REST history, since the last message seen in each, and handed to the event task, which
//! drops those already shown (the duplicate filter of [`crate::delivery`]) and delivers the
//! rest oldest first, then one [`crate::fanout::Synced`] per dialog. Opt-in: it needs a logged-in
//! [`RestClient`] ([`crate::ChatClient::enable_gap_fill`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::event::{ChatEvent, Inbound};
use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_protocol::message::Envelope;
use connectycube_protocol::model::Message;
use connectycube_rest::RestClient;
use connectycube_rest::chat::messages::{ListMessages, MessageField};
use connectycube_rest::query::FilterOp;
use tokio::sync::mpsc;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use crate::{lock, unix_now};

/// History messages waiting for the event task, at most.
const HISTORY_BUFFER: usize = 256;
/// Dialogs whose last message is remembered ("recently active"); the oldest go first.
const MAX_DIALOGS: usize = 256;
/// Recently active dialogs (besides the joined rooms) filled after a new session: the ones
/// with the newest messages seen.
const RECENT: usize = 20;
/// Messages fetched per history page.
const PAGE: u32 = 100;
/// Pages fetched per dialog at most (a dialog that got more while away is left to the app's
/// own history paging, after its `Synced`).
const MAX_PAGES: u32 = 10;
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
    /// A dialog's history is through.
    Synced(DialogId),
}

/// The gap filler's memory and its line to the event task.
#[derive(Debug)]
pub(crate) struct GapFill {
    rest: Mutex<Option<RestClient>>,
    /// The newest `date_sent` (unix seconds) shown per dialog.
    last_seen: Mutex<HashMap<DialogId, i64>>,
    /// When the connection was last lost (unix seconds).
    offline_since: Mutex<Option<i64>>,
    inject: mpsc::Sender<Injected>,
    /// The fill under way, stopped when a newer session starts its own.
    running: Mutex<Option<tokio::task::AbortHandle>>,
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
            offline_since: Mutex::new(None),
            inject,
            running: Mutex::new(None),
        };
        (fill, rx)
    }

    /// Fills gaps from now on, through `rest` (logged in as the chat user).
    pub(crate) fn enable(&self, rest: RestClient) {
        *lock(&self.rest) = Some(rest);
    }

    /// Starts from what the store saw per dialog (a previous run's newest messages).
    pub(crate) fn seed(&self, marks: impl IntoIterator<Item = (DialogId, i64)>) {
        let mut seen = lock(&self.last_seen);
        for (dialog, sent) in marks {
            if !seen.contains_key(&dialog) && seen.len() >= MAX_DIALOGS {
                break;
            }
            let newest = seen.entry(dialog).or_insert(sent);
            *newest = (*newest).max(sent);
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
        let sent = m
            .payload
            .date_sent
            .unwrap_or_else(|| i64::from(m.payload.id.0.timestamp()));
        let mut seen = lock(&self.last_seen);
        if !seen.contains_key(&dialog) && seen.len() >= MAX_DIALOGS {
            crate::forget_least(&mut seen, |t| *t);
        }
        let newest = seen.entry(dialog).or_insert(sent);
        *newest = (*newest).max(sent);
    }

    /// Runs `fill` as the one fill under way: one a previous session started stops first
    /// (its since-times are the same or older, so the new fill covers what it would have).
    pub(crate) fn start(self: &Arc<Self>, rooms: Vec<DialogId>, me: Me) {
        let task = tokio::spawn(Arc::clone(self).fill(rooms, me));
        if let Some(previous) = lock(&self.running).replace(task.abort_handle()) {
            previous.abort();
        }
    }

    /// Notes that the connection dropped (the first drop since it was last up counts).
    pub(crate) fn went_offline(&self) {
        lock(&self.offline_since).get_or_insert_with(unix_now);
    }

    /// Fetches what `rooms` and the recently active dialogs got since they were last seen
    /// and hands it to the event task; a no-op unless enabled.
    pub(crate) async fn fill(self: Arc<Self>, rooms: Vec<DialogId>, me: Me) {
        let Some(rest) = lock(&self.rest).clone() else {
            return;
        };
        let offline = lock(&self.offline_since).take().unwrap_or_else(unix_now);
        let seen = lock(&self.last_seen).clone();
        let mut recent: Vec<(DialogId, i64)> = seen
            .iter()
            .filter(|(d, _)| !rooms.contains(d))
            .map(|(d, t)| (*d, *t))
            .collect();
        recent.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        recent.truncate(RECENT);
        let joined = rooms
            .iter()
            .map(|r| (*r, seen.get(r).copied().unwrap_or(offline)));
        let mut dialogs: Vec<(DialogId, i64)> = joined.chain(recent).collect();
        dialogs.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        for (dialog, since) in dialogs {
            let group = rooms.contains(&dialog);
            if let Err(e) = self
                .fill_dialog(&rest, dialog, since - SLACK, group, &me)
                .await
            {
                // The dialog stays unsynced: the app sees no `Synced` for it and can page
                // the history itself.
                tracing::warn!(%dialog, error = %e, "could not fetch a dialog's history");
                continue;
            }
            if self.inject.send(Injected::Synced(dialog)).await.is_err() {
                return;
            }
        }
    }

    async fn fill_dialog(
        &self,
        rest: &RestClient,
        dialog: DialogId,
        since: i64,
        group: bool,
        me: &Me,
    ) -> Result<(), connectycube_rest::RestError> {
        if self.inject.send(Injected::Begin(dialog)).await.is_err() {
            return Ok(());
        }
        for page in 0..MAX_PAGES {
            let request = ListMessages::new(dialog)
                .filter(MessageField::DateSent, FilterOp::Gte, since)
                .sort_asc(MessageField::DateSent)
                .keep_unread()
                .limit(PAGE)
                .skip(page * PAGE);
            let items = rest.send(&request).await?.items;
            let full = items.len() >= PAGE as usize;
            // Our own messages were sent from here or show on the other device's side; the
            // app already has those it sent.
            for message in items.into_iter().filter(|m| m.sender_id != Some(me.user)) {
                let event = me.event(dialog, group, message);
                if self
                    .inject
                    .send(Injected::History(Box::new(event)))
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            }
            if !full {
                break;
            }
        }
        Ok(())
    }
}

/// Who the history messages are for, to address them as the live ones are.
#[derive(Debug, Clone)]
pub(crate) struct Me {
    pub domain: ChatDomain,
    pub user: UserId,
}

impl Me {
    /// A history message as the event a live one makes: from the room's occupant (group) or
    /// the sender (1-1), to us, with its dialog id.
    fn event(&self, dialog: DialogId, group: bool, mut message: Message) -> ChatEvent {
        message.dialog_id = Some(dialog);
        let sender = message.sender_id;
        let from = match (group, sender) {
            (true, Some(s)) => self.domain.occupant_jid(dialog, s).ok().map(Jid::from),
            (false, Some(s)) => self.domain.user_jid(s).ok().map(Jid::from),
            (_, None) => None,
        };
        let kind = if group {
            MessageType::Groupchat
        } else {
            MessageType::Chat
        };
        let mut envelope = Envelope::new(kind, self.domain.user_jid(self.user).ok().map(Jid::from));
        envelope.id = Some(message.id.to_string());
        envelope.from = from;
        envelope.dialog_id = Some(dialog);
        ChatEvent::ChatMessage(Box::new(Inbound {
            envelope,
            payload: message,
        }))
    }
}
