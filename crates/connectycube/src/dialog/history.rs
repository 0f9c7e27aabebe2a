//! A dialog's history: one page with [`History::fetch`] (what the guide's `getMessages` with a
//! `limit` returns), or every page as a `Stream` with [`History::all_pages`], with the REST
//! endpoint's typed filters and sort.

use std::collections::VecDeque;
use std::fmt::Display;

use connectycube_protocol::model::Message;
use connectycube_rest::RestClient;
use connectycube_rest::chat::messages::{ListMessages, MessageField};
use connectycube_rest::query::FilterOp;
use futures_util::Stream;
use futures_util::stream;

use connectycube_protocol::ids::{DialogId, UserId};

use super::Dialog;
use crate::store::{LocalStatus, Store};
use crate::{Error, Retry};

/// The server's page when the request names no `limit`.
const DEFAULT_LIMIT: u32 = 100;

/// A history query: filters, sort, limit and skip, then [`History::fetch`] for one page or
/// [`History::all_pages`] for all of them.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until fetched or streamed"]
pub struct History {
    rest: RestClient,
    query: ListMessages,
    limit: Option<u32>,
    skip: u32,
    /// Where the store answers from, offline.
    kept: Kept,
}

/// The store, the owner and the dialog of a history; `offline` when the session has no REST
/// session (opened offline): then the store answers.
#[derive(Debug, Clone)]
struct Kept {
    store: Store,
    owner: UserId,
    dialog: DialogId,
    offline: bool,
}

impl Kept {
    /// The last `limit` kept messages, oldest first (filters and sort are the server's).
    fn last(&self, limit: u32) -> Result<Vec<Message>, Error> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let kept = self.store.messages(self.owner, self.dialog, limit)?;
        Ok(kept.into_iter().map(|(m, _)| m).collect())
    }

    /// Keeps what the server answered.
    fn keep(&self, items: &[Message]) {
        let rows: Vec<_> = items
            .iter()
            .map(|m| {
                let mut m = m.clone();
                m.dialog_id.get_or_insert(self.dialog);
                (m, LocalStatus::Sent)
            })
            .collect();
        if let Err(e) = self.store.put_messages(self.owner, &rows) {
            tracing::warn!(dialog = %self.dialog, error = %e, "could not keep a history page");
        }
    }
}

impl Dialog {
    /// The dialog's history, oldest first unless sorted otherwise: [`History::fetch`] gets one
    /// page (100 messages unless [`History::limit`] says otherwise), [`History::all_pages`]
    /// every page.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// for text in ["one", "two", "three"] {
    ///     dialog.send_text(text).await?;
    /// }
    /// let page = bobs.history().fetch().await?;
    /// let bodies: Vec<_> = page.iter().map(|m| m.body.as_deref()).collect();
    /// assert_eq!(bodies, [Some("one"), Some("two"), Some("three")]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn history(&self) -> History {
        History {
            rest: self.session.rest().clone(),
            query: ListMessages::new(self.id()),
            limit: None,
            skip: 0,
            kept: Kept {
                store: self.session.chat().store().clone(),
                owner: self.session.user(),
                dialog: self.id(),
                offline: self.session.offline(),
            },
        }
    }
}

impl History {
    /// Keeps messages whose `field` compares to `value` with `op` (e.g. `DateSent`, `Gt`, t).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::rest::chat::messages::MessageField;
    /// use connectycube::rest::query::FilterOp;
    ///
    /// dialog.send_text("one").await?;
    /// dialog.send_text("two").await?;
    /// let newest_first = bobs
    ///     .history()
    ///     .filter(MessageField::DateSent, FilterOp::Gt, 1_583_402_980)
    ///     .sort_desc(MessageField::DateSent)
    ///     .limit(100)
    ///     .fetch()
    ///     .await?;
    /// assert_eq!(newest_first.len(), 2);
    /// assert!(newest_first[0].date_sent >= newest_first[1].date_sent);
    /// # Ok(())
    /// # }
    /// ```
    pub fn filter(mut self, field: MessageField, op: FilterOp, value: impl Display) -> Self {
        self.query = self.query.filter(field, op, value);
        self
    }

    /// Newest first by `field`.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::rest::chat::messages::MessageField;
    ///
    /// dialog.send_text("older").await?;
    /// dialog.send_text("newer").await?;
    /// let newest_first = bobs.history().sort_desc(MessageField::DateSent).fetch().await?;
    /// assert!(newest_first[0].date_sent >= newest_first[1].date_sent);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sort_desc(mut self, field: MessageField) -> Self {
        self.query = self.query.sort_desc(field);
        self
    }

    /// Oldest first by `field`.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::rest::chat::messages::MessageField;
    ///
    /// dialog.send_text("older").await?;
    /// dialog.send_text("newer").await?;
    /// let oldest_first = bobs.history().sort_asc(MessageField::DateSent).fetch().await?;
    /// assert!(oldest_first[0].date_sent <= oldest_first[1].date_sent);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sort_asc(mut self, field: MessageField) -> Self {
        self.query = self.query.sort_asc(field);
        self
    }

    /// At most `limit` messages (the server's default: 100); for
    /// [`all_pages`](Self::all_pages), the messages each request asks for. Sent as given: the
    /// server applies its own maximum.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// for text in ["a", "b", "c"] {
    ///     dialog.send_text(text).await?;
    /// }
    /// let first_two = bobs.history().limit(2).fetch().await?;
    /// assert_eq!(first_two.len(), 2, "one page of two");
    /// # Ok(())
    /// # }
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Leaves out the first `skip` messages (in the query's order): with
    /// [`limit`](Self::limit), the page after them.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// for text in ["a", "b", "c"] {
    ///     dialog.send_text(text).await?;
    /// }
    /// let second_page = bobs.history().limit(2).skip(2).fetch().await?;
    /// assert_eq!(second_page.len(), 1);
    /// assert_eq!(second_page[0].body.as_deref(), Some("c"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = skip;
        self
    }

    /// Reading does not mark the messages read. By default the server marks read what it
    /// returns (`mark_as_read`, as the guide's `markAsRead = true`): the page fetched, not the
    /// messages past the limit.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// dialog.send_text("unread").await?;
    /// let peek = bobs.history().keep_unread().fetch().await?;
    /// assert_eq!(peek.len(), 1);
    /// assert_eq!(bobs.unread_count().await?, 1, "still unread");
    /// # Ok(())
    /// # }
    /// ```
    pub fn keep_unread(mut self) -> Self {
        self.query = self.query.keep_unread();
        self
    }

    /// One request: the page the query selects, [`limit`](Self::limit) messages at most (100
    /// by default) after [`skip`](Self::skip) ones. Unless [`keep_unread`](Self::keep_unread),
    /// the server marks these messages read, and only these.
    ///
    /// # Errors
    /// [`Error::Rest`] as the API answers.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// for text in ["a", "b", "c"] {
    ///     dialog.send_text(text).await?;
    /// }
    /// assert_eq!(bobs.history().limit(2).fetch().await?.len(), 2);
    /// assert_eq!(bobs.unread_count().await?, 1, "the message past the limit is still unread");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn fetch(self) -> Result<Vec<Message>, Error> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if self.kept.offline {
            return self.kept.last(limit);
        }
        let mut request = self.query.skip(self.skip);
        if let Some(limit) = self.limit {
            request = request.limit(limit);
        }
        match self.rest.send(&request).await {
            Ok(page) => {
                self.kept.keep(&page.items);
                Ok(page.items)
            }
            Err(e) => {
                let e = Error::from(e);
                if e.retry() != Retry::Network || self.skip > 0 {
                    return Err(e);
                }
                tracing::debug!(error = %e, "history from the store: the server is unreachable");
                self.kept.last(limit)
            }
        }
    }

    /// Every page, one request per page as the stream is read (pages of
    /// [`limit`](Self::limit), 100 by default), until a short page; a failed request ends it
    /// with its error. Unless [`keep_unread`](Self::keep_unread), each page is marked read by
    /// the server as it is fetched.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use futures_util::TryStreamExt;
    ///
    /// for text in ["a", "b", "c"] {
    ///     dialog.send_text(text).await?;
    /// }
    /// let all: Vec<_> = bobs.history().limit(2).all_pages().try_collect().await?;
    /// assert_eq!(all.len(), 3, "two pages, read through");
    /// # Ok(())
    /// # }
    /// ```
    pub fn all_pages(self) -> impl Stream<Item = Result<Message, Error>> + Send + 'static {
        struct Cursor {
            history: History,
            page: u32,
            buffered: VecDeque<Message>,
            done: bool,
        }
        // A zero limit would ask for the same empty page for ever.
        let page = self.limit.unwrap_or(DEFAULT_LIMIT).max(1);
        let cursor = Cursor {
            history: self,
            page,
            buffered: VecDeque::new(),
            done: false,
        };
        stream::unfold(cursor, |mut c| async move {
            loop {
                if let Some(m) = c.buffered.pop_front() {
                    return Some((Ok(m), c));
                }
                if c.done {
                    return None;
                }
                let h = &c.history;
                let request = h.query.clone().limit(c.page).skip(h.skip);
                match h.rest.send(&request).await {
                    Ok(page) => {
                        let got = u32::try_from(page.items.len()).unwrap_or(u32::MAX);
                        // A short page is the last one: no request just to find it empty.
                        c.done = got < c.page;
                        c.history.skip = c.history.skip.saturating_add(got);
                        c.buffered.extend(page.items);
                    }
                    Err(e) => {
                        c.done = true;
                        return Some((Err(e.into()), c));
                    }
                }
            }
        })
    }
}
