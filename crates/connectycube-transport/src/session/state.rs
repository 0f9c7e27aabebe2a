//! The connection states the Flutter SDK exposes (and `NewSession`), observable as events.

/// Where a chat connection is: the Flutter SDK's states, and `NewSession`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Created, never logged in.
    Idle,
    /// The server accepted the credentials; the session is being set up.
    Authenticated,
    /// The server refused the credentials; nothing is retried.
    AuthenticationFailure,
    /// The connection was lost and is being restored.
    Reconnecting,
    /// The previous session was resumed (XEP-0198): nothing was lost. `Ready` follows.
    Resumed,
    /// After a drop, the previous session could not be resumed and a new one was set up:
    /// rooms must be joined again and gaps in history filled. `Ready` follows.
    NewSession,
    /// Fully ready for real-time messaging.
    Ready,
    /// The connection ended without the user asking: reconnection gave up, was off, or the
    /// server closed the session for good (e.g. the same resource logged in elsewhere).
    ForceClosed,
    /// Closed by `logout()` or `destroy()`.
    Closed,
}

impl ConnectionState {
    /// Whether sends go straight out in this state.
    pub fn is_connected(self) -> bool {
        matches!(self, Self::Ready | Self::Resumed | Self::NewSession)
    }
}

/// A state change and where it falls among the inbound stanzas
/// ([`crate::session::ChatConnection::state_changes_in_order`]): it came after the first
/// `after_stanzas` stanzas the session handed to the app ([`crate::session::Incoming`]), and
/// before the next. A reader of both puts it in place, so an app never sees a state before a
/// stanza that arrived ahead of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StateChange {
    /// The new state.
    pub state: ConnectionState,
    /// Stanzas handed to the app before the change, counted from the session's start.
    pub after_stanzas: u64,
}

impl StateChange {
    /// `state`, after `after_stanzas` stanzas.
    pub fn new(state: ConnectionState, after_stanzas: u64) -> Self {
        Self {
            state,
            after_stanzas,
        }
    }
}
