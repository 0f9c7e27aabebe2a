//! One REST endpoint as a value: method, path, query and body going out, a typed response
//! coming back. Endpoints know nothing of sockets, so fixtures can check them directly and
//! a local server can reuse them (the ruma pattern).

use http::Method;
use serde::de::DeserializeOwned;

use crate::RestError;
use crate::query::Query;
use crate::session::Secret;

/// Which credentials a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// No `CB-Token` (creating a session).
    None,
    /// The current session token in `CB-Token`.
    Session,
    /// The application's auth key in `CB-AuthKey`, no session (signing a user up).
    AuthKey(Secret),
}

/// A REST endpoint: everything needed to build the request and read the answer.
pub trait Endpoint {
    /// The decoded answer.
    type Response: DeserializeOwned;

    /// The HTTP method.
    fn method(&self) -> Method;

    /// The path, starting with `/`, ids already filled in and percent-encoded.
    fn path(&self) -> String;

    /// The query string parameters (GET and DELETE carry their parameters here).
    fn query(&self) -> Query {
        Query::new()
    }

    /// The JSON body (POST and PUT).
    ///
    /// # Errors
    /// [`RestError::Body`] when the body cannot be serialized: the request is then not sent
    /// (never sent without its body).
    fn body(&self) -> Result<Option<serde_json::Value>, RestError> {
        Ok(None)
    }

    /// The credentials the request needs.
    fn auth(&self) -> Auth {
        Auth::Session
    }

    /// Whether sending the request twice has the same effect as once, so it may be retried.
    fn idempotent(&self) -> bool {
        self.method() != Method::POST
    }
}

/// An answer with no useful body (the API answers some DELETEs with an empty 200).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Empty;

impl<'de> serde::Deserialize<'de> for Empty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Empty)
    }
}
