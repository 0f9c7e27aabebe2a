//! ConnectyCube chat SDK for Rust: log in, open dialogs and exchange messages in real time.
//!
//! [`Client`] is the one entry point: built from the application's credentials (ConnectyCube's
//! cloud by default, any installation with [`AppConfig::with_endpoints`]), its
//! [`login`](Client::login) creates the user's REST session and connects the chat, giving a
//! [`Session`]. Dialogs are [`Dialog`] values that carry their actions (send, typing, markers,
//! edit, delete, reactions, history, files). Under it are the layers it re-exports: [`protocol`]
//! (stanzas, identifiers, the chat model; no I/O), [`transport`] (the TLS XMPP session with
//! stream management and reconnection) and [`rest`] (the REST API); [`ChatClient`] is the chat
//! half on its own. `docs/GUIDE.md` maps every section of the official guide to its call.
//!
//! ```no_run
//! use connectycube::protocol::ids::{AppId, UserId};
//! use connectycube::rest::chat::dialogs::CreateDialog;
//! use connectycube::rest::session::{Secret, SessionUser};
//! use connectycube::{AppConfig, Client};
//!
//! # async fn run() -> Result<(), connectycube::Error> {
//! let client = Client::new(AppConfig::new(AppId(105), "auth key"));
//! let user = SessionUser::Login {
//!     login: "john".into(),
//!     password: Secret("awesomepwd".into()),
//! };
//! let (me, mut events) = client.login(user).await?;
//! let dialog = me.create_dialog(&CreateDialog::private(UserId(56))).await?;
//! dialog.send_text("hello").await?;
//! while let Some(event) = events.next().await {
//!     println!("{:?}", event?.kind());
//! }
//! me.logout().await?;
//! # Ok(())
//! # }
//! ```

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
pub use error::Error;
pub use events::{ChatEvents, EventItem, Received};
pub use fanout::{Event, EventFilter, EventKind, Subscription};
pub use rooms::JoinError;

/// Stanzas, identifiers and the chat model (no I/O).
pub use connectycube_protocol as protocol;
/// The REST client.
pub use connectycube_rest as rest;
/// The XMPP connection.
pub use connectycube_transport as transport;

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
