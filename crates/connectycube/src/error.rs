//! The facade's one error type: every layer's error converts into it with `?`, keeps its
//! source, and says whether retrying makes sense (each layer decides for its own errors).

use connectycube_protocol as protocol;
use connectycube_rest::RestError;
use connectycube_transport as transport;
use transport::session::{Bounce, IqError, LoginError, SendError};

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

    /// Whether trying the same thing again later may succeed. Each layer classifies its own
    /// errors; bad input, refusals, bad credentials and unusable configurations are final.
    ///
    /// ```
    /// use connectycube::Error;
    ///
    /// assert!(!Error::Refused("<iq type='error'/>".into()).is_retryable());
    /// assert!(!Error::Unsupported("no opponent".into()).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect(e) => e.is_retryable(),
            Self::Login(e) => e.is_retryable(),
            Self::Rest(e) => e.is_retryable(),
            Self::Send(e) => e.is_retryable(),
            Self::Iq(IqError::Send(e)) => e.is_retryable(),
            Self::Iq(IqError::Timeout(_)) => true,
            Self::Iq(_) => false,
            Self::Join(e) => e.is_retryable(),
            Self::Build(_)
            | Self::Address(_)
            | Self::Id(_)
            | Self::Protocol(_)
            | Self::Unreadable(_)
            | Self::Refused(_)
            | Self::Privacy(_)
            | Self::Search(_)
            | Self::Unsupported(_) => false,
        }
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
}
