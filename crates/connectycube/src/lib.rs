#![doc = include_str!("../README.md")]
//!
//! ## Where to start
//!
//! [`Client::new`] with an [`AppConfig`], then [`Client::login`] (or [`Client::login_chat`]
//! for a chat server alone) gives a [`Session`] and a [`Subscription`] to all its events;
//! [`Session::messages`], [`Session::delivered_statuses`] and the other typed streams listen to
//! one kind each; [`Session::create_dialog`], [`Session::dialogs`] and [`Session::dialog`] give
//! [`Dialog`] values. Every call that sends something over chat returns a [`Sending`], awaited
//! once: it resolves when the server has it. Every error converts into [`Error`]. The layers
//! underneath are re-exported whole as [`protocol`], [`transport`] and [`rest`] and documented
//! in place, so every type a signature here names links to its page. `docs/GUIDE.md` in the
//! repository maps every section of the official guide to its call.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
mod attachments;
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_api;
mod chat;
mod delivery;
mod dialog;
mod dialogs;
mod error;
mod events;
pub mod fanout;
mod flow;
mod lifecycle;
mod markers;
mod reopen;
mod replay;
mod rooms;
mod send_queue;
mod sending;
mod store;
mod streams;
mod sync;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::{AppConfig, ChatAuth, Client, Session};
pub use attachments::FileProgress;
pub use chat::{BLOCK_LIST, ChatClient, Peer};
/// Privacy-list building blocks: rules and lists for [`ChatClient::create_privacy_list`].
pub mod privacy {
    pub use crate::chat::{allow, deny, privacy_list};
}
pub use delivery::{AutoDelivered, DeliverySettings, DeliveryStats};
pub use dialog::{Dialog, History};
pub use error::{Error, Retry};
pub use events::Received;
pub use fanout::{Event, EventFilter, EventKind, Subscription};
pub use rooms::JoinError;
pub use sending::{Sending, SendingFuture};
pub use store::{
    LocalEcho, LocalStatus, PendingUpload, QueuedSend, SendTarget, StoreConfig, StoreError,
};
pub use streams::{
    EditedMessage, ErrorEvent, IncomingMessage, MessageStatus, ReactionsChanged, SystemNotice,
    TypingStatus, Updates,
};

/// The everyday types in one import: `use connectycube::prelude::*;` is enough for the guide's
/// sections.
///
/// ```
/// use connectycube::prelude::*;
///
/// let client = Client::new(AppConfig::new(AppId(105), "auth key"));
/// let user = SessionUser::Login { login: "john".into(), password: Secret("pwd".into()) };
/// let create = CreateDialog::private(UserId(56));
/// assert_eq!(client.config().app_id, AppId(105));
/// # let _ = (user, create, TypingState::Composing, ClientState::Active, ListDialogs::new());
/// ```
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::protocol::ids::{AppId, DialogId, MessageId, UserId};
    #[doc(no_inline)]
    pub use crate::protocol::iq::activity::ClientState;
    #[doc(no_inline)]
    pub use crate::protocol::message::chat_state::TypingState;
    #[doc(no_inline)]
    pub use crate::protocol::model::{
        Attachment, AttachmentType, CustomProperties, DialogType, Message,
    };
    #[doc(no_inline)]
    pub use crate::rest::chat::dialogs::{CreateDialog, DialogField, ListDialogs, UpdateDialog};
    #[doc(no_inline)]
    pub use crate::rest::chat::messages::MessageField;
    #[doc(no_inline)]
    pub use crate::rest::chat::search::GlobalSearch;
    #[doc(no_inline)]
    pub use crate::rest::query::FilterOp;
    #[doc(no_inline)]
    pub use crate::rest::session::{Secret, SessionUser};
    #[doc(no_inline)]
    pub use crate::transport::session::{ConnectionState, SessionSettings};
    #[doc(no_inline)]
    pub use crate::{
        AppConfig, ChatAuth, Client, DeliverySettings, Dialog, EditedMessage, Error, ErrorEvent,
        Event, EventFilter, EventKind, IncomingMessage, MessageStatus, Peer, ReactionsChanged,
        Sending, Session, Subscription, SystemNotice, TypingStatus, Updates,
    };
}

// The repository README's examples compile (not run: they need an account).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct RepositoryReadme;

/// Stanzas, identifiers and the chat model (no I/O): the `connectycube-protocol` crate,
/// documented here so every type the facade names links.
pub mod protocol {
    #[doc(no_inline)]
    pub use connectycube_protocol::xmpp_parsers;
    #[doc(inline)]
    pub use connectycube_protocol::{
        ChatEvent, ClassifyError, UnreadableStanza, address, classify, classify_xml, event, fast,
        ids, iq, message, model, muc,
    };
}
/// The REST client: the `connectycube-rest` crate, documented here.
pub mod rest {
    #[doc(inline)]
    pub use connectycube_rest::{
        Metadata, ROUTES, RestClient, RestConfig, RestError, chat, client, data, endpoint, error,
        login, page, push, query, route, session, storage, users,
    };
}
/// The XMPP connection: the `connectycube-transport` crate, documented here.
pub mod transport {
    #[cfg(feature = "websocket")]
    #[doc(inline)]
    pub use connectycube_transport::websocket;
    #[doc(inline)]
    pub use connectycube_transport::{
        config, connector, connectors, error, sasl, session, stanza, tls, xml_stream,
    };
}

/// Locks `m`, also after a panic elsewhere while it was held: every lock in this crate guards
/// plain maps and queues that each update leaves consistent, so a poisoned one holds nothing
/// half-written.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes the entry of `map` with the smallest `age` (the least recently used) and returns
/// its key: how each bounded table of this crate makes room for a new entry.
pub(crate) fn forget_least<K, V, A>(
    map: &mut std::collections::HashMap<K, V>,
    age: impl Fn(&V) -> A,
) -> Option<K>
where
    K: Clone + Eq + std::hash::Hash,
    A: Ord,
{
    let key = map
        .iter()
        .min_by_key(|(_, v)| age(v))
        .map(|(k, _)| k.clone())?;
    map.remove(&key);
    Some(key)
}

/// Unix seconds now (0 for a clock before 1970): the REST session's timestamp and the gap
/// filler's since-times.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

// The handles an app shares between tasks: checked at compile time.
const _: () = {
    const fn shareable<T: Send + Sync + std::fmt::Debug + Clone>() {}
    shareable::<Client>();
    shareable::<Session>();
    shareable::<Dialog>();
    shareable::<ChatClient>();
};

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    #[test]
    fn forget_least_removes_the_oldest_entry_and_names_it() {
        let mut ages = HashMap::from([("a", 3), ("b", 1), ("c", 2)]);
        assert_eq!(super::forget_least(&mut ages, |age| *age), Some("b"));
        assert_eq!(ages.len(), 2);
        assert!(!ages.contains_key("b"));
        let mut empty: HashMap<&str, u8> = HashMap::new();
        assert_eq!(super::forget_least(&mut empty, |age| *age), None);
    }
}
