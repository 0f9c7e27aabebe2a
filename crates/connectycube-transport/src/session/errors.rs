//! The session's errors: why a login or a send failed, why a connection was lost, and why a
//! message bounced. Sources are kept (behind an `Arc` where the error must be `Clone`, as a
//! send's outcome is shared by every clone of its handle).

use std::fmt;
use std::sync::Arc;

use minidom::Element;
use xmpp_parsers::stanza_error::StanzaError;

use super::negotiate::SetupError;
use crate::error::{ConnectError, RetryKind, StreamError};

/// Why `login()` (or a reconnection attempt) failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The server refused the credentials (its SASL condition); never retried.
    #[error("authentication failed: {0}")]
    Authentication(String),
    /// The server could not be reached, TLS failed, or the stream broke.
    #[error("could not connect: {0}")]
    Connect(#[source] Arc<ConnectError>),
    /// Setting the session up failed (resource bind refused, stream closed).
    #[error("session setup failed: {0}")]
    Setup(#[source] Arc<SetupError>),
    /// The credentials provider failed.
    #[error("no credentials: {0}")]
    Credentials(String),
    /// Login took longer than the configured timeout.
    #[error("login timed out")]
    Timeout,
    /// `logout()` or `destroy()` was called while logging in.
    #[error("the session was closed while logging in")]
    Closed,
}

impl LoginError {
    /// The classifier the reconnection manager asks: see [`RetryKind`].
    pub fn retry_kind(&self) -> RetryKind {
        match self {
            Self::Authentication(_) | Self::Closed => RetryKind::Fatal,
            Self::Connect(e) => e.retry_kind(),
            Self::Setup(e) => e.retry_kind(),
            Self::Credentials(_) | Self::Timeout => RetryKind::Retry,
        }
    }

    /// `retry_kind() == RetryKind::Retry`.
    pub fn is_retryable(&self) -> bool {
        self.retry_kind() == RetryKind::Retry
    }

    /// Whether our resource is taken and the server will not replace it.
    pub fn is_conflict(&self) -> bool {
        match self {
            Self::Setup(e) => e.is_conflict(),
            Self::Connect(e) => matches!(&**e, ConnectError::Stream(s) if s.is_resource_conflict()),
            _ => false,
        }
    }
}

impl From<ConnectError> for LoginError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::AuthenticationFailure { condition } => Self::Authentication(condition),
            other => Self::Connect(Arc::new(other)),
        }
    }
}

impl From<SetupError> for LoginError {
    fn from(e: SetupError) -> Self {
        Self::Setup(Arc::new(e))
    }
}

/// Why a connected session ended without the user asking.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Disconnect {
    /// The stream broke or the server closed it.
    #[error("the stream ended: {0}")]
    Stream(#[source] Arc<StreamError>),
    /// The server stopped answering the keepalive.
    #[error("keepalive unanswered")]
    KeepaliveTimeout,
    /// The connection's writer stopped (the socket is gone).
    #[error("the connection's writer stopped")]
    WriterStopped,
    /// The server's `h` went backwards or beyond what we sent (XEP-0198 section 4); we closed
    /// the stream with `<handled-count-too-high/>`.
    #[error("the server acknowledged {h} stanzas, we had sent {sent}")]
    HandledCountTooHigh {
        /// The server's `h`.
        h: u32,
        /// Our count of stanzas sent.
        sent: u32,
    },
    /// Reconnection gave up after this failure.
    #[error("reconnection failed: {0}")]
    Reconnection(#[source] LoginError),
}

impl Disconnect {
    /// A resource conflict is final, everything else worth a reconnection.
    pub fn retry_kind(&self) -> RetryKind {
        match self {
            Self::Stream(e) => e.retry_kind(),
            Self::Reconnection(e) => e.retry_kind(),
            _ => RetryKind::Retry,
        }
    }
}

/// A stanza error condition (RFC 6120 section 8.3.3): xmpp-parsers' type.
pub use xmpp_parsers::stanza_error::DefinedCondition as StanzaErrorCondition;
/// A stanza error's `type` (`cancel`, `wait`, `modify`, `auth`, `continue`): xmpp-parsers' type.
pub use xmpp_parsers::stanza_error::ErrorType as StanzaErrorType;

/// Why a message came back: the condition and text of the error stanza for its id.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Bounce {
    /// The stanza error condition (`undefined-condition` when the error could not be read).
    pub condition: StanzaErrorCondition,
    /// The error's `type`; `wait` means try later (`None` when the error could not be read).
    pub kind: Option<StanzaErrorType>,
    /// The server's explanation, e.g. "User session terminated".
    pub text: Option<String>,
    /// Whether the server had acknowledged the message before it bounced.
    pub after_ack: bool,
}

impl Bounce {
    /// A bounce of `condition` and `kind`, with the server's `text`, as if it came back before
    /// the server acknowledged the message (for tests of code that classifies bounces).
    ///
    /// ```
    /// use connectycube_transport::session::{Bounce, StanzaErrorCondition, StanzaErrorType};
    ///
    /// let full = Bounce::new(StanzaErrorCondition::ResourceConstraint, Some(StanzaErrorType::Wait), None);
    /// assert!(full.is_transient());
    /// ```
    pub fn new(
        condition: StanzaErrorCondition,
        kind: Option<StanzaErrorType>,
        text: Option<String>,
    ) -> Self {
        Self {
            condition,
            kind,
            text,
            after_ack: false,
        }
    }

    /// Reads the `<error/>` of an error stanza with xmpp-parsers; one it cannot read (no
    /// `type`, no condition, an unknown one) is an `undefined-condition` of no type.
    pub(crate) fn from_error_stanza(el: &Element, after_ack: bool) -> Self {
        let parsed = el
            .get_child("error", "jabber:client")
            .and_then(|e| StanzaError::try_from(e.clone()).ok());
        match parsed {
            Some(e) => Self {
                text: best_text(&e),
                condition: e.defined_condition,
                kind: Some(e.type_),
                after_ack,
            },
            None => Self {
                condition: StanzaErrorCondition::UndefinedCondition,
                kind: None,
                text: None,
                after_ack,
            },
        }
    }

    /// Whether the same message may get through later: a `wait` error (ejabberd's full
    /// offline store is `resource-constraint`/`wait`), an unavailable or timed-out recipient,
    /// or ejabberd's "User session terminated" (`service-unavailable`, `cancel`), which it
    /// sends for the unacknowledged queue of a recipient's session it closed (e.g. "Too many
    /// unacked stanzas"): that recipient logs in again. Never a privacy block (ejabberd
    /// answers a blocked message with a bare `service-unavailable`) or a refusal.
    pub fn is_transient(&self) -> bool {
        use StanzaErrorCondition as C;
        let terminated = self
            .text
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("session terminated"));
        self.kind == Some(StanzaErrorType::Wait)
            || matches!(
                self.condition,
                C::RecipientUnavailable | C::RemoteServerTimeout | C::ResourceConstraint
            )
            || (self.condition == C::ServiceUnavailable && terminated)
    }
}

/// The error's text: the English one, else the one without a language, else any.
fn best_text(e: &StanzaError) -> Option<String> {
    ["en", ""]
        .iter()
        .find_map(|lang| e.texts.get(*lang))
        .or_else(|| e.texts.values().next())
        .cloned()
}

impl fmt::Display for Bounce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.condition)?;
        if let Some(text) = &self.text {
            write!(f, ": {text}")?;
        }
        Ok(())
    }
}

/// Why a send did not reach the server (or its recipient).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// `login()` was never called, or the session was closed.
    #[error("not connected: call login() first")]
    NotConnected,
    /// Too many sends are waiting (for the connection, or for room in the in-flight window).
    #[error("the send queue is full ({0} stanzas wait)")]
    QueueFull(usize),
    /// The stanza cannot be serialized (it was never counted nor written).
    #[error("the stanza cannot be serialized: {0}")]
    Serialize(#[source] Arc<StreamError>),
    /// Reconnection gave up (or was off) before the server acknowledged the stanza.
    #[error("the connection was lost and could not be restored: {0}")]
    ConnectionLost(#[source] Disconnect),
    /// `logout()` or `destroy()` closed the session before the stanza was acknowledged.
    #[error("the session was closed before the server acknowledged the stanza")]
    Closed,
    /// An error stanza came back for the stanza's id (e.g. blocked by a privacy list).
    #[error("the stanza bounced: {0}")]
    Bounced(Bounce),
    /// A stanza other than a message was unacknowledged when the session had to start afresh;
    /// only messages are sent again (an IQ or presence from the old session means nothing in
    /// the new one).
    #[error("the session restarted before the server acknowledged this non-message stanza")]
    SessionRestarted,
}

impl SendError {
    /// Whether sending the same stanza again later may succeed: after a lost connection, a
    /// full queue, a restarted session, or a transient bounce ([`Bounce::is_transient`]). Never for a
    /// refusal such as a privacy block, a closed session or a stanza that cannot be written.
    pub fn retry_kind(&self) -> RetryKind {
        match self {
            Self::ConnectionLost(d) => d.retry_kind(),
            Self::QueueFull(_) | Self::SessionRestarted => RetryKind::Retry,
            Self::Bounced(b) if b.is_transient() => RetryKind::Retry,
            Self::Bounced(_) | Self::NotConnected | Self::Closed | Self::Serialize(_) => {
                RetryKind::Fatal
            }
        }
    }

    /// `retry_kind() == RetryKind::Retry`.
    pub fn is_retryable(&self) -> bool {
        self.retry_kind() == RetryKind::Retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounce(kind: StanzaErrorType) -> SendError {
        SendError::Bounced(Bounce {
            condition: StanzaErrorCondition::ServiceUnavailable,
            kind: Some(kind),
            text: None,
            after_ack: true,
        })
    }

    #[test]
    fn a_send_is_retried_after_transient_failures_only() {
        assert!(SendError::ConnectionLost(Disconnect::KeepaliveTimeout).is_retryable());
        assert!(SendError::QueueFull(3).is_retryable());
        assert!(bounce(StanzaErrorType::Wait).is_retryable());
        assert!(
            !bounce(StanzaErrorType::Cancel).is_retryable(),
            "a privacy block is final"
        );
        assert!(!SendError::Closed.is_retryable());
        assert!(!SendError::NotConnected.is_retryable());
    }

    fn read(error: &str) -> Bounce {
        let xml = format!("<message xmlns='jabber:client' type='error' id='m1'>{error}</message>");
        Bounce::from_error_stanza(&xml.parse().unwrap(), false)
    }

    #[test]
    fn a_bounce_is_read_with_xmpp_parsers_types() {
        let b = read(
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>User session terminated</text></error>",
        );
        assert_eq!(b.condition, StanzaErrorCondition::ServiceUnavailable);
        assert_eq!(b.kind, Some(StanzaErrorType::Cancel));
        assert_eq!(b.text.as_deref(), Some("User session terminated"));
        assert!(b.is_transient(), "ejabberd's closed recipient session");
        let full = read(
            "<error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
        );
        assert_eq!(full.condition, StanzaErrorCondition::ResourceConstraint);
        assert!(full.is_transient());
        let blocked = read(
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
        );
        assert!(!blocked.is_transient(), "a privacy block is final");
    }

    #[test]
    fn an_unreadable_bounce_is_an_undefined_condition_not_a_crash() {
        for error in [
            "",
            "<error/>",
            "<error type='cancel'/>",
            "<error type='bogus'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
            "<error type='wait'><x-made-up xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
        ] {
            let b = read(error);
            assert_eq!(
                b.condition,
                StanzaErrorCondition::UndefinedCondition,
                "{error}"
            );
            assert_eq!(b.kind, None, "{error}");
            assert!(!b.is_transient(), "{error}");
        }
    }
}
