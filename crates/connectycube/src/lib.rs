#![doc = include_str!("../README.md")]
//!
//! ## Where to start
//!
//! [`Client::new`] with an [`AppConfig`], then [`Client::login`] gives a [`Session`] and its
//! [`ChatEvents`]; [`Session::create_dialog`], [`Session::dialogs`] and [`Session::dialog`] give
//! [`Dialog`] values. Every error converts into [`Error`]. The layers underneath are re-exported
//! whole as [`protocol`], [`transport`] and [`rest`] and documented in place, so every type a
//! signature here names links to its page. `docs/GUIDE.md` in the repository maps every section
//! of the official guide to its call.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod activity;
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
mod replay;
mod rooms;
mod sync;
#[cfg(feature = "testing")]
pub mod testing;

pub use activity::{LastActivityUpdates, SystemMessages};
pub use app::{AppConfig, ChatAuth, Client, Session};
pub use attachments::FileProgress;
pub use chat::{BLOCK_LIST, ChatClient, ChatConfig, Peer};
/// Privacy-list building blocks: rules and lists for [`ChatClient::create_privacy_list`].
pub mod privacy {
    pub use crate::chat::{allow, deny, privacy_list};
}
pub use delivery::{AutoDelivered, DeliverySettings, DeliveryStats};
pub use dialog::{Dialog, History};
pub use error::{Error, Retry};
pub use events::{ChatEvents, EventItem, Received};
pub use fanout::{Event, EventFilter, EventKind, Subscription};
pub use rooms::JoinError;

/// Stanzas, identifiers and the chat model (no I/O): the `connectycube-protocol` crate,
/// documented here so every type the facade names links.
pub mod protocol {
    #[doc(no_inline)]
    pub use connectycube_protocol::xmpp_parsers;
    #[doc(inline)]
    pub use connectycube_protocol::{
        ChatEvent, ClassifyError, UnreadableStanza, address, classify, classify_xml, event, ids,
        iq, message, model, muc,
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
        config, connector, connectors, error, sasl, session, tls, xml_stream,
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
