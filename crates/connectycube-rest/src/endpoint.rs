//! One REST endpoint as a value: method, path, query and body going out, a typed response
//! coming back. Endpoints know nothing of sockets, so fixtures can check them directly and
//! a local server can reuse them (the ruma pattern).

use http::Method;
use serde::de::DeserializeOwned;

use crate::RestError;
use crate::query::Query;
use crate::route::{AuthKind, Metadata};
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

/// A REST endpoint: everything needed to build the request and read the answer. Method,
/// path and credentials come from its [`Metadata`] (listed in [`crate::route::ROUTES`]), so
/// the client and a server read the same declaration.
pub trait Endpoint {
    /// The decoded answer.
    type Response: DeserializeOwned;

    /// The endpoint's route (the first, when the type has several).
    const METADATA: Metadata;

    /// The route this value takes: [`Self::METADATA`] unless the type picks one of several
    /// (a user found by id or by login).
    fn metadata(&self) -> Metadata {
        Self::METADATA
    }

    /// The values for the path pattern's `{..}` segments, in order, not yet encoded.
    fn path_params(&self) -> Vec<String> {
        Vec::new()
    }

    /// The HTTP method.
    fn method(&self) -> Method {
        self.metadata().method
    }

    /// The path, starting with `/`, ids filled in and percent-encoded.
    fn path(&self) -> String {
        self.metadata().fill(&self.path_params())
    }

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

    /// The credentials the request needs; a route of [`AuthKind::AuthKey`] overrides this to
    /// hand over its key (it has a session otherwise).
    fn auth(&self) -> Auth {
        match self.metadata().auth {
            AuthKind::None => Auth::None,
            _ => Auth::Session,
        }
    }

    /// Whether sending the request twice has the same effect as once, so it may be retried.
    fn idempotent(&self) -> bool {
        self.metadata().idempotent
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
