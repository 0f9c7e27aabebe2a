//! Which dialogs got something while away, from one dialogs-list request (a few for
//! thousands of dialogs) instead of one history request per dialog: the dialogs updated
//! since the fill's since-time (`updated_at[gt]`, which a new message moves), newest last
//! message first, each with its last message's time and id.

use std::collections::HashMap;

use connectycube_protocol::ids::{DialogId, MessageId};
use connectycube_protocol::model::Dialog;
use connectycube_rest::RestClient;
use connectycube_rest::chat::dialogs::{DialogField, ListDialogs};
use connectycube_rest::query::FilterOp;

use super::history::keep_asked;
use super::{SLACK, Target};

/// Dialogs per list page (the API's largest page).
const LIST_PAGE: u32 = 100;
/// List pages read at most; past them, a dialog the list did not name is fetched as if it
/// had changed.
const MAX_LIST_PAGES: u32 = 20;

/// A dialog's last message, as the list gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Last {
    /// Its `date_sent` (unix seconds).
    pub date_sent: Option<i64>,
    /// Its id.
    pub id: Option<MessageId>,
}

/// What the dialogs list said.
#[derive(Debug, Default)]
pub(super) struct Changed {
    /// The dialogs listed, with their last message.
    pub listed: HashMap<DialogId, Last>,
    /// Every dialog updated since the since-time is in `listed`: the list was read to its
    /// end, or to dialogs whose last message is older than the since-time.
    pub whole: bool,
    /// The dialogs as listed, for the store (its dialogs catch up with the same request).
    pub dialogs: Vec<Dialog>,
}

impl Changed {
    /// Whether `target`'s history may hold messages it has not shown. Unsure means yes:
    /// a wasted request costs less than a missed message.
    pub(super) fn may_have_news(&self, target: &Target) -> bool {
        let Some(last) = self.listed.get(&target.dialog) else {
            return !self.whole;
        };
        if last.id.is_some() && last.id == target.last_id {
            // Its newest message is the one shown last.
            return false;
        }
        match last.date_sent {
            Some(sent) => sent >= target.since.saturating_sub(SLACK),
            None => last.id.is_some(),
        }
    }

    /// Remembers the last message of each of `dialogs`.
    pub(super) fn note(&mut self, dialogs: &[Dialog]) {
        for d in dialogs {
            let last = Last {
                date_sent: d.last_message_date_sent,
                id: d.last_message_id,
            };
            self.listed.insert(d.id, last);
        }
        self.dialogs.extend_from_slice(dialogs);
    }
}

/// The dialogs updated after `since` (unix seconds). A list that cannot be read leaves
/// every dialog possibly changed (logged): the fill then asks each dialog's history.
pub(super) async fn since(rest: &RestClient, since: i64) -> Changed {
    let mut changed = Changed::default();
    for page in 0..MAX_LIST_PAGES {
        let request = ListDialogs::new()
            .filter(DialogField::UpdatedAt, FilterOp::Gt, since)
            .sort_desc(DialogField::LastMessageDateSent)
            .limit(LIST_PAGE)
            .skip(page * LIST_PAGE);
        let mut items = match rest.send(&request).await {
            Ok(answer) => answer.items,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the changed dialogs; asking each dialog's history");
                return changed;
            }
        };
        let over = keep_asked(&mut items, LIST_PAGE as usize, "dialogs");
        changed.note(&items);
        let full = over || items.len() >= LIST_PAGE as usize;
        if !full || older_from_here(&items, since) {
            changed.whole = true;
            return changed;
        }
    }
    changed
}

/// Whether no dialog after this page can have a message after `since`: the page is sorted
/// newest last message first (as asked; checked, since a server may ignore the sort) and
/// ends with one older than `since`. Dialogs without messages do not count either way.
pub(super) fn older_from_here(page: &[Dialog], since: i64) -> bool {
    let times: Vec<i64> = page
        .iter()
        .filter_map(|d| d.last_message_date_sent)
        .collect();
    let sorted = times.windows(2).all(|w| w[0] >= w[1]);
    let last = page.last().and_then(|d| d.last_message_date_sent);
    sorted && last.is_some_and(|t| t < since)
}
