//! A dialog's history as a `Stream` of messages, fetched page by page as it is read, with
//! the REST endpoint's typed filters and sort.

use std::collections::VecDeque;
use std::fmt::Display;

use connectycube_protocol::model::Message;
use connectycube_rest::RestClient;
use connectycube_rest::chat::messages::{ListMessages, MessageField};
use connectycube_rest::query::FilterOp;
use futures_util::Stream;
use futures_util::stream;

use super::Dialog;
use crate::Error;

/// The largest page the API serves.
const MAX_PAGE: u32 = 100;

/// A history query: filters and sort, then [`History::stream`] to read it.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until streamed"]
pub struct History {
    rest: RestClient,
    query: ListMessages,
    page: u32,
}

impl Dialog {
    /// The dialog's history, oldest first unless sorted otherwise; pages of 100.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use futures_util::TryStreamExt;
    ///
    /// for text in ["one", "two", "three"] {
    ///     dialog.send_text(text).await?;
    /// }
    /// let all: Vec<_> = bobs.history().stream().try_collect().await?;
    /// let bodies: Vec<_> = all.iter().map(|m| m.body.as_deref()).collect();
    /// assert_eq!(bodies, [Some("one"), Some("two"), Some("three")]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn history(&self) -> History {
        History {
            rest: self.session.rest().clone(),
            query: ListMessages::new(self.id()),
            page: MAX_PAGE,
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
    /// use futures_util::TryStreamExt;
    ///
    /// dialog.send_text("one").await?;
    /// dialog.send_text("two").await?;
    /// let newest_first: Vec<_> = bobs
    ///     .history()
    ///     .filter(MessageField::DateSent, FilterOp::Gt, 1_583_402_980)
    ///     .sort_desc(MessageField::DateSent)
    ///     .page_size(1)
    ///     .stream()
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(newest_first.len(), 2, "pages are fetched until the end");
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
    /// use futures_util::TryStreamExt;
    ///
    /// dialog.send_text("older").await?;
    /// dialog.send_text("newer").await?;
    /// let newest_first: Vec<_> = bobs.history().sort_desc(MessageField::DateSent).stream().try_collect().await?;
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
    /// use futures_util::TryStreamExt;
    ///
    /// dialog.send_text("older").await?;
    /// dialog.send_text("newer").await?;
    /// let oldest_first: Vec<_> = bobs.history().sort_asc(MessageField::DateSent).stream().try_collect().await?;
    /// assert!(oldest_first[0].date_sent <= oldest_first[1].date_sent);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sort_asc(mut self, field: MessageField) -> Self {
        self.query = self.query.sort_asc(field);
        self
    }

    /// Messages per request (1 to 100).
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
    /// let all: Vec<_> = bobs.history().page_size(2).stream().try_collect().await?;
    /// assert_eq!(all.len(), 3, "two pages, read through");
    /// # Ok(())
    /// # }
    /// ```
    pub fn page_size(mut self, size: u32) -> Self {
        self.page = size.clamp(1, MAX_PAGE);
        self
    }

    /// Reading does not mark the messages read (the API's default does).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use futures_util::TryStreamExt;
    ///
    /// dialog.send_text("unread").await?;
    /// let peek: Vec<_> = bobs.history().keep_unread().stream().try_collect().await?;
    /// assert_eq!(peek.len(), 1);
    /// assert_eq!(bobs.unread_count().await?, 1, "still unread");
    /// # Ok(())
    /// # }
    /// ```
    pub fn keep_unread(mut self) -> Self {
        self.query = self.query.keep_unread();
        self
    }

    /// The messages, one request per page as the stream is read; a failed request ends it
    /// with its error.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use futures_util::StreamExt;
    ///
    /// dialog.send_text("hello").await?;
    /// let mut pages = Box::pin(bobs.history().stream());
    /// let first = pages.next().await.ok_or("an empty history")??;
    /// assert_eq!(first.body.as_deref(), Some("hello"));
    /// assert!(pages.next().await.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(self) -> impl Stream<Item = Result<Message, Error>> + Send + 'static {
        struct Cursor {
            history: History,
            skip: u32,
            buffered: VecDeque<Message>,
            done: bool,
        }
        let cursor = Cursor {
            history: self,
            skip: 0,
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
                let request = h.query.clone().limit(h.page).skip(c.skip);
                match h.rest.send(&request).await {
                    Ok(page) => {
                        let got = u32::try_from(page.items.len()).unwrap_or(u32::MAX);
                        // A short page is the last one: no request just to find it empty.
                        c.done = got < h.page;
                        c.skip = c.skip.saturating_add(got);
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
