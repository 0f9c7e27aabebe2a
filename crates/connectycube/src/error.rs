//! The facade's one error type: every layer's error converts into it with `?`, keeps its
//! source, and says whether and when retrying makes sense ([`Retry`]): each layer classifies
//! its own errors, and [`Error::retry`] is the one place their two classifications meet.

use std::time::Duration;

use connectycube_protocol as protocol;
use connectycube_rest::RestError;
use connectycube_rest::error::RetryKind as RestRetry;
use connectycube_transport as transport;
use transport::error::{ConnectError, RetryKind as TransportRetry};
use transport::session::{Bounce, IqError, LoginError, SendError};

/// Whether trying the same thing again may succeed, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// The network failed (refused, reset, timed out, the chat connection lost): the request
    /// may not have reached the server; retry when the network is back.
    Network,
    /// The server is busy or failing, or the recipient away for now: retry later, after
    /// `retry_after` when the server said (a 429's or 503's `Retry-After`).
    Transient {
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// Retrying fails the same way: bad input or credentials, a refusal, a closed session.
    Permanent,
}

/// What can go wrong in the high-level API.
///
/// Each variant names the layer that failed; its error is the [`source`](std::error::Error::source),
/// so an error report shows the whole chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A stanza could not be built (bad custom property name, unwritable text).
    #[error("the stanza cannot be built")]
    Build(#[from] protocol::message::BuildError),
    /// A JID could not be built from the configured host.
    #[error("bad address")]
    Address(#[from] protocol::address::AddressError),
    /// An id did not read (not an ObjectId, not a positive number).
    #[error("bad id")]
    Id(#[from] protocol::ids::IdError),
    /// A stanza from the server did not read as expected.
    #[error("a stanza from the server does not read")]
    Protocol(#[from] protocol::message::ParseError),
    /// A stanza from the server could not be read at all; the error keeps the stanza.
    #[error("a stanza from the server could not be read")]
    Unreadable(#[from] protocol::UnreadableStanza),
    /// The connection could not be set up (configuration, TLS, network).
    #[error("cannot connect")]
    Connect(#[from] transport::error::ConnectError),
    /// Logging in failed.
    #[error("login failed")]
    Login(#[from] LoginError),
    /// A stanza did not reach the server, or bounced ([`Error::bounce`] says why): what an
    /// awaited [`Sending`](crate::Sending) fails with.
    #[error("send failed")]
    Send(#[from] SendError),
    /// An IQ request got no answer.
    #[error("the request got no answer")]
    Iq(#[from] IqError),
    /// A REST request failed.
    #[error("REST request failed")]
    Rest(#[from] RestError),
    /// The local store failed (see [`crate::StoreError`]).
    #[error("the local store failed")]
    Store(#[from] crate::StoreError),
    /// Joining a group room failed.
    #[error("joining the room failed")]
    Join(#[from] crate::rooms::JoinError),
    /// The server answered with an error.
    #[error("the server refused the request: {0}")]
    Refused(String),
    /// A privacy list the server cannot take (no rules), or one that does not read back.
    #[error("bad privacy list")]
    Privacy(#[from] protocol::iq::privacy::PrivacyError),
    /// A global search whose parameters the API would refuse.
    #[error("bad search")]
    Search(#[from] connectycube_rest::chat::search::SearchError),
    /// An admins change the API would refuse: more than five admins.
    #[error("too many admins")]
    Admins(#[from] connectycube_rest::chat::occupants::TooManyAdmins),
    /// The call needs something the client or dialog does not have (a private dialog with
    /// no opponent, a session with no user); the text says what.
    #[error("not possible here: {0}")]
    Unsupported(String),
}

impl Error {
    /// Why a send came back, when it bounced: the error stanza's condition and text (a
    /// privacy block is `service-unavailable`), and whether the server had acked it first.
    ///
    /// ```
    /// use connectycube::Error;
    /// use connectycube::transport::session::SendError;
    ///
    /// assert!(Error::from(SendError::Closed).bounce().is_none());
    /// ```
    pub fn bounce(&self) -> Option<&Bounce> {
        match self {
            Self::Send(SendError::Bounced(b)) => Some(b),
            _ => None,
        }
    }

    /// Whether and when trying the same thing again may succeed. Each layer classifies its
    /// own errors (the REST client its statuses and `Retry-After`, the transport what its
    /// reconnection manager retries); this maps both onto one [`Retry`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use connectycube::rest::RestError;
    /// use connectycube::{Error, Retry};
    ///
    /// let busy = Error::from(RestError::RateLimited { retry_after: Some(Duration::from_secs(2)) });
    /// assert_eq!(busy.retry(), Retry::Transient { retry_after: Some(Duration::from_secs(2)) });
    /// assert_eq!(Error::Refused("<iq type='error'/>".into()).retry(), Retry::Permanent);
    /// ```
    pub fn retry(&self) -> Retry {
        match self {
            Self::Rest(e) => rest(e.retry_kind()),
            Self::Connect(e) => connect(e),
            Self::Login(e) => login(e),
            Self::Send(e) => send(e),
            Self::Iq(IqError::Send(e)) => send(e),
            // No answer in time: the request or its answer may have been lost on the way.
            Self::Iq(IqError::Timeout(_)) => Retry::Network,
            Self::Iq(_) => Retry::Permanent,
            Self::Join(e) => join(e),
            Self::Build(_)
            | Self::Address(_)
            | Self::Id(_)
            | Self::Protocol(_)
            | Self::Unreadable(_)
            | Self::Refused(_)
            | Self::Privacy(_)
            | Self::Search(_)
            | Self::Admins(_)
            | Self::Store(_)
            | Self::Unsupported(_) => Retry::Permanent,
        }
    }

    /// Whether trying the same thing again later may succeed: [`Error::retry`] is not
    /// [`Retry::Permanent`]. Bad input, refusals, bad credentials and unusable
    /// configurations are final.
    ///
    /// ```
    /// use connectycube::Error;
    ///
    /// assert!(!Error::Refused("<iq type='error'/>".into()).is_retryable());
    /// assert!(!Error::Unsupported("no opponent".into()).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.retry() != Retry::Permanent
    }
}

/// The REST client's classification, which already has the three kinds.
fn rest(kind: RestRetry) -> Retry {
    match kind {
        RestRetry::NetworkFailure => Retry::Network,
        RestRetry::Transient { retry_after } => Retry::Transient { retry_after },
        RestRetry::Permanent => Retry::Permanent,
    }
}

/// The transport's verdict, with whether a retryable error was the network's: the transport
/// only says retry or not (all its reconnection manager needs), the variant says why.
fn transport(kind: TransportRetry, network: bool) -> Retry {
    match kind {
        TransportRetry::Retry if network => Retry::Network,
        TransportRetry::Retry => Retry::Transient { retry_after: None },
        _ => Retry::Permanent,
    }
}

/// Every retryable connection failure is the network's (TCP, TLS, a timeout, a broken
/// stream); the final ones are credentials, certificates, configuration and conflicts.
fn connect(e: &ConnectError) -> Retry {
    transport(e.retry_kind(), true)
}

fn login(e: &LoginError) -> Retry {
    // A credentials provider that failed (e.g. a token renewal over REST) may work later,
    // without the network being at fault; a refused bind is the server's.
    let network = matches!(e, LoginError::Connect(_) | LoginError::Timeout);
    transport(e.retry_kind(), network)
}

fn send(e: &SendError) -> Retry {
    // A full queue, a session that restarted, a transient bounce (the recipient's session
    // closed, the server's `wait`): the network is fine, later may work.
    transport(e.retry_kind(), matches!(e, SendError::ConnectionLost(_)))
}

fn join(e: &crate::rooms::JoinError) -> Retry {
    use crate::rooms::JoinError as J;
    match e {
        J::Send(e) => send(e),
        // The room did not answer in time: the presence or its answer was lost.
        J::Timeout { .. } => Retry::Network,
        J::Refused { .. } => Retry::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// `?` from every layer into the facade's error: these only compile with the `From`s.
    fn login(r: Result<(), LoginError>) -> Result<(), Error> {
        r?;
        Ok(())
    }
    fn send(r: Result<(), SendError>) -> Result<(), Error> {
        r?;
        Ok(())
    }
    fn rest(r: Result<(), RestError>) -> Result<(), Error> {
        r?;
        Ok(())
    }
    fn iq(r: Result<(), IqError>) -> Result<(), Error> {
        r?;
        Ok(())
    }
    fn connect(r: Result<(), transport::error::ConnectError>) -> Result<(), Error> {
        r?;
        Ok(())
    }
    fn id(s: &str) -> Result<protocol::ids::DialogId, Error> {
        Ok(s.parse()?)
    }

    #[test]
    fn every_layer_converts_and_keeps_its_error_as_source() {
        let e = login(Err(LoginError::Timeout)).unwrap_err();
        assert_eq!(
            e.source().map(ToString::to_string),
            Some(LoginError::Timeout.to_string())
        );
        let e = send(Err(SendError::Closed)).unwrap_err();
        assert!(e.source().unwrap().downcast_ref::<SendError>().is_some());
        let e = rest(Err(RestError::Timeout(std::time::Duration::from_secs(1)))).unwrap_err();
        assert!(e.source().unwrap().downcast_ref::<RestError>().is_some());
        let e = iq(Err(IqError::Timeout(std::time::Duration::from_secs(1)))).unwrap_err();
        assert!(matches!(e, Error::Iq(_)));
        let e = connect(Err(transport::error::ConnectError::EncryptionRequired)).unwrap_err();
        assert!(matches!(e, Error::Connect(_)));
        assert!(matches!(id("not-an-object-id"), Err(Error::Id(_))));
    }

    #[test]
    fn retrying_is_decided_by_the_layer_that_failed() {
        let connect = |e| Error::from(e);
        assert!(!connect(transport::error::ConnectError::EncryptionRequired).is_retryable());
        assert!(
            connect(transport::error::ConnectError::Timeout(Default::default())).is_retryable()
        );
        assert!(Error::from(LoginError::Timeout).is_retryable());
        assert!(!Error::from(LoginError::Authentication("not-authorized".into())).is_retryable());
        assert!(Error::from(RestError::Timeout(Default::default())).is_retryable());
        assert!(!Error::from(RestError::InvalidRequest("bad".into())).is_retryable());
        let lost = transport::session::Disconnect::KeepaliveTimeout;
        assert!(Error::from(SendError::ConnectionLost(lost)).is_retryable());
        assert!(!Error::from(SendError::Closed).is_retryable());
        assert!(!Error::Refused("forbidden".into()).is_retryable());
    }

    fn http(status: u16, retry_after: Option<Duration>) -> Error {
        Error::from(RestError::Http {
            status,
            errors: connectycube_rest::error::ApiErrors::List(vec![]),
            retry_after,
        })
    }

    #[test]
    fn rest_errors_keep_their_kind_and_the_servers_retry_after() {
        let second = Some(Duration::from_secs(1));
        let limited = Error::from(RestError::RateLimited {
            retry_after: second,
        });
        assert_eq!(
            limited.retry(),
            Retry::Transient {
                retry_after: second
            }
        );
        assert_eq!(
            http(503, second).retry(),
            Retry::Transient {
                retry_after: second
            }
        );
        assert_eq!(
            http(500, None).retry(),
            Retry::Transient { retry_after: None }
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let down = Error::from(RestError::Connection {
            source: Box::new(refused),
        });
        assert_eq!(down.retry(), Retry::Network);
        assert_eq!(
            Error::from(RestError::Timeout(Duration::from_secs(1))).retry(),
            Retry::Network
        );
        for status in [401, 404, 422] {
            assert_eq!(http(status, None).retry(), Retry::Permanent, "{status}");
        }
    }

    #[test]
    fn transport_errors_are_network_transient_or_permanent() {
        use transport::error::StreamError;
        use transport::session::Disconnect;

        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            Error::from(ConnectError::Io(refused)).retry(),
            Retry::Network
        );
        assert_eq!(Error::from(LoginError::Timeout).retry(), Retry::Network);
        let bad = LoginError::Authentication("not-authorized".into());
        assert_eq!(Error::from(bad).retry(), Retry::Permanent);
        assert_eq!(
            Error::from(ConnectError::EncryptionRequired).retry(),
            Retry::Permanent
        );
        let lost = SendError::ConnectionLost(Disconnect::KeepaliveTimeout);
        assert_eq!(Error::from(lost).retry(), Retry::Network);
        let conflict = StreamError::Server {
            condition: transport::error::StreamCondition::Conflict,
        };
        let replaced = SendError::ConnectionLost(Disconnect::Stream(std::sync::Arc::new(conflict)));
        assert_eq!(
            Error::from(replaced).retry(),
            Retry::Permanent,
            "a resource conflict"
        );
        assert_eq!(
            Error::from(SendError::QueueFull(3)).retry(),
            Retry::Transient { retry_after: None }
        );
        assert_eq!(Error::from(SendError::Closed).retry(), Retry::Permanent);
        assert_eq!(
            Error::from(IqError::Timeout(Duration::from_secs(1))).retry(),
            Retry::Network
        );
    }

    #[test]
    fn each_kind_of_bounce_is_classified() {
        use transport::session::StanzaErrorType as T;
        use transport::session::{Bounce, StanzaErrorCondition as C};

        let bounced = |c, t, text: Option<&str>| {
            Error::from(SendError::Bounced(Bounce::new(
                c,
                t,
                text.map(str::to_owned),
            )))
            .retry()
        };
        let later = Retry::Transient { retry_after: None };
        assert_eq!(
            bounced(C::ResourceConstraint, Some(T::Wait), None),
            later,
            "offline store full"
        );
        assert_eq!(
            bounced(C::RecipientUnavailable, Some(T::Cancel), None),
            later
        );
        assert_eq!(
            bounced(
                C::ServiceUnavailable,
                Some(T::Cancel),
                Some("User session terminated")
            ),
            later,
            "the recipient's session was closed: it logs in again"
        );
        assert_eq!(
            bounced(C::ServiceUnavailable, Some(T::Cancel), None),
            Retry::Permanent,
            "a privacy block"
        );
        assert_eq!(bounced(C::Forbidden, Some(T::Auth), None), Retry::Permanent);
        let iq = Error::from(IqError::Send(SendError::Bounced(Bounce::new(
            C::ResourceConstraint,
            Some(T::Wait),
            None,
        ))));
        assert_eq!(iq.retry(), later, "an IQ's send classified as a send");
    }

    #[test]
    fn is_retryable_is_retry_not_permanent() {
        let errors = [
            http(503, Some(Duration::from_secs(1))),
            http(422, None),
            Error::from(LoginError::Timeout),
            Error::from(SendError::Closed),
            Error::from(SendError::QueueFull(1)),
            Error::Unsupported("x".into()),
        ];
        for e in errors {
            assert_eq!(e.is_retryable(), e.retry() != Retry::Permanent, "{e:?}");
        }
    }
}
