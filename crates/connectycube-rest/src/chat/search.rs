//! Global search over message texts and dialog names, with the documented limits checked
//! before anything is sent.

use chrono::{DateTime, Months, SecondsFormat, Utc};
use connectycube_protocol::ids::DialogId;
use connectycube_protocol::model::{Dialog, Message};
use serde::Deserialize;

use super::null_as_empty;
use super::occupants::Occupant;
use crate::endpoint::Endpoint;
use crate::query::Query;
use crate::route::Metadata;

/// Shortest search text plus one: the docs say it "should be longer than 4 symbols".
pub const MIN_TEXT_CHARS: usize = 5;
/// Most dialogs one search may name.
pub const MAX_DIALOGS: usize = 10;
/// Largest page.
pub const MAX_LIMIT: u32 = 100;
/// Widest date window, in months.
pub const MAX_WINDOW_MONTHS: u32 = 3;

/// Why a search was refused before sending it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The text has 4 characters or fewer.
    #[error("search text must be longer than 4 characters, got {chars}")]
    TextTooShort {
        /// Characters given.
        chars: usize,
    },
    /// More than 10 dialog ids.
    #[error("at most {MAX_DIALOGS} dialogs may be searched at once, got {count}")]
    TooManyDialogs {
        /// Dialog ids given.
        count: usize,
    },
    /// A start date without an end date.
    #[error("an end date is required with a start date")]
    MissingEndDate,
    /// An end date without a start date.
    #[error("an end date needs a start date")]
    MissingStartDate,
    /// The end date is later than the start date (the start is the one closest to now).
    #[error("the end date must not be later than the start date")]
    EndAfterStart,
    /// The dates are more than 3 months apart.
    #[error("start and end dates may be at most {MAX_WINDOW_MONTHS} months apart")]
    WindowTooWide,
    /// A limit above 100.
    #[error("limit may be at most {MAX_LIMIT}, got {limit}")]
    LimitTooHigh {
        /// The limit given.
        limit: u32,
    },
}

/// Builds a [`GlobalSearch`]; [`GlobalSearchBuilder::build`] checks the documented limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalSearchBuilder {
    text: String,
    dialogs: Vec<DialogId>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    limit: Option<u32>,
}

impl GlobalSearchBuilder {
    /// Only in these dialogs (at most 10).
    pub fn dialogs(mut self, dialogs: impl IntoIterator<Item = DialogId>) -> Self {
        self.dialogs = dialogs.into_iter().collect();
        self
    }

    /// Only messages sent between `end` (older) and `start` (newer, closest to now), at most
    /// 3 months apart. The names follow the API, which counts back from `start`.
    pub fn between(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        self.start = Some(start);
        self.end = Some(end);
        self
    }

    /// Only a start date (`lte`); [`build`](Self::build) then asks for an end date.
    pub fn start_date(mut self, start: DateTime<Utc>) -> Self {
        self.start = Some(start);
        self
    }

    /// Only an end date (`gte`); [`build`](Self::build) then asks for a start date.
    pub fn end_date(mut self, end: DateTime<Utc>) -> Self {
        self.end = Some(end);
        self
    }

    /// At most `limit` results (100 at most).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The search, when it is within the documented limits.
    ///
    /// ```
    /// use connectycube_rest::chat::search::GlobalSearch;
    ///
    /// assert!(GlobalSearch::builder("ukulele").limit(3).build().is_ok());
    /// assert!(GlobalSearch::builder("").build().is_err(), "the API refuses an empty text");
    /// ```
    pub fn build(self) -> Result<GlobalSearch, SearchError> {
        let chars = self.text.chars().count();
        if chars < MIN_TEXT_CHARS {
            return Err(SearchError::TextTooShort { chars });
        }
        if self.dialogs.len() > MAX_DIALOGS {
            return Err(SearchError::TooManyDialogs {
                count: self.dialogs.len(),
            });
        }
        match (self.start, self.end) {
            (Some(_), None) => return Err(SearchError::MissingEndDate),
            // The docs only require the end with the start; an end alone has no documented
            // meaning, so it is refused rather than sent and silently ignored.
            (None, Some(_)) => return Err(SearchError::MissingStartDate),
            (Some(start), Some(end)) => {
                if end > start {
                    return Err(SearchError::EndAfterStart);
                }
                let earliest = start
                    .checked_sub_months(Months::new(MAX_WINDOW_MONTHS))
                    .ok_or(SearchError::WindowTooWide)?;
                if end < earliest {
                    return Err(SearchError::WindowTooWide);
                }
            }
            (None, None) => {}
        }
        if let Some(limit) = self.limit.filter(|&l| l > MAX_LIMIT) {
            return Err(SearchError::LimitTooHigh { limit });
        }
        Ok(GlobalSearch { query: self })
    }
}

/// `GET /chat/search`: messages and dialogs whose text or name holds a string
/// (case-sensitive). Built through [`GlobalSearch::builder`], so it is always valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalSearch {
    query: GlobalSearchBuilder,
}

impl GlobalSearch {
    /// A search for `text`, to refine and then [`build`](GlobalSearchBuilder::build).
    pub fn builder(text: impl Into<String>) -> GlobalSearchBuilder {
        GlobalSearchBuilder {
            text: text.into(),
            dialogs: Vec::new(),
            start: None,
            end: None,
            limit: None,
        }
    }
}

fn date(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Endpoint for GlobalSearch {
    type Response = SearchResults;
    const METADATA: Metadata = Metadata::get("GlobalSearch", "/chat/search");
    fn query(&self) -> Query {
        let s = &self.query;
        let mut q = Query::new();
        q.push("search_text", &s.text);
        if !s.dialogs.is_empty() {
            q.push_list("chat_dialog_ids", &s.dialogs);
        }
        q.push_opt("start_date", s.start.map(date))
            .push_opt("end_date", s.end.map(date))
            .push_opt("limit", s.limit);
        q
    }
}

/// The answer to [`GlobalSearch`].
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Dialogs whose name matches.
    pub dialogs: Vec<Dialog>,
    /// Messages whose text matches.
    pub messages: Vec<Message>,
    /// Users (the same shape as dialog occupants).
    pub users: Vec<Occupant>,
}

impl<'de> Deserialize<'de> for SearchResults {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            results: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            #[serde(default, deserialize_with = "null_as_empty")]
            dialogs: Vec<Dialog>,
            #[serde(default, deserialize_with = "null_as_empty")]
            messages: Vec<Message>,
            #[serde(default, deserialize_with = "null_as_empty")]
            users: Vec<Occupant>,
        }
        let r = Wire::deserialize(d)?.results;
        Ok(Self {
            dialogs: r.dialogs,
            messages: r.messages,
            users: r.users,
        })
    }
}
