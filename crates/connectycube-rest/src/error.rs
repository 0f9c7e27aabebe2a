//! What can go wrong talking to the REST API, and whether trying again may help.

use std::time::Duration;

/// The API's `{"errors": …}` body: a list of messages, or messages per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrors {
    /// `{"errors": ["…", …]}`
    List(Vec<String>),
    /// `{"errors": {"field": ["…"], …}}`
    Fields(Vec<(String, Vec<String>)>),
    /// No `errors` in the body; its first bytes, as text.
    Other(String),
}

impl ApiErrors {
    /// Reads an error body, whatever its shape.
    pub fn parse(body: &[u8]) -> Self {
        let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let errors = value.as_ref().and_then(|v| v.get("errors"));
        let strings = |v: &serde_json::Value| match v {
            serde_json::Value::Array(items) => items.iter().map(text).collect(),
            other => vec![text(other)],
        };
        match errors {
            Some(serde_json::Value::Object(fields)) => Self::Fields(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), strings(v)))
                    .collect(),
            ),
            Some(list) => Self::List(strings(list)),
            None => Self::Other(excerpt(body)),
        }
    }

    /// Whether any message says the session is gone.
    pub fn says_session_expired(&self) -> bool {
        let expired = |s: &String| s.contains("Required session does not exist");
        match self {
            Self::List(l) => l.iter().any(expired),
            Self::Fields(f) => f.iter().flat_map(|(_, l)| l).any(expired),
            Self::Other(s) => expired(s),
        }
    }
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// The first 200 characters of a body, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

impl std::fmt::Display for ApiErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::List(l) => f.write_str(&l.join("; ")),
            Self::Fields(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.join(", ")))
                    .collect();
                f.write_str(&parts.join("; "))
            }
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// Should the caller try again?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// The network failed; the request may not have reached the server.
    NetworkFailure,
    /// The server is busy or failing; later may work (after `retry_after` when it said).
    Transient {
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// Trying again will fail the same way.
    Permanent,
}

/// A REST request that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestError {
    /// The API answered with an error status.
    #[error("HTTP {status}: {errors}")]
    Http {
        /// The status code.
        status: u16,
        /// The parsed `errors` body.
        errors: ApiErrors,
    },
    /// Too many requests (429).
    #[error("rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The session token is missing or expired, and could not be renewed.
    #[error("the REST session expired: {0}")]
    SessionExpired(ApiErrors),
    /// No answer within the request timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The connection or TLS failed.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The answer was not the JSON the endpoint returns.
    #[error("could not read the answer ({error}): {excerpt}")]
    Decode {
        /// What serde said.
        error: String,
        /// The start of the body.
        excerpt: String,
    },
    /// The request is invalid before sending (bad URL, client-side limits).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The answer's body is larger than [`crate::RestConfig::max_response_bytes`]; it was not
    /// read further.
    #[error("the answer is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A file to upload could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

impl RestError {
    /// Whether retrying may help, and when.
    pub fn retry_kind(&self) -> RetryKind {
        match self {
            Self::Connection(_) | Self::Timeout(_) => RetryKind::NetworkFailure,
            Self::RateLimited { retry_after } => RetryKind::Transient {
                retry_after: *retry_after,
            },
            Self::Http { status, .. } if *status >= 500 => {
                RetryKind::Transient { retry_after: None }
            }
            _ => RetryKind::Permanent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_shapes_and_garbage_are_read() {
        assert_eq!(
            ApiErrors::parse(br#"{"errors":["Required session does not exist"]}"#),
            ApiErrors::List(vec!["Required session does not exist".into()])
        );
        let fields = ApiErrors::parse(br#"{"errors":{"name":["is too long"],"type":"bad"}}"#);
        assert_eq!(
            fields,
            ApiErrors::Fields(vec![
                ("name".into(), vec!["is too long".into()]),
                ("type".into(), vec!["bad".into()])
            ])
        );
        assert_eq!(fields.to_string(), "name: is too long; type: bad");
        assert_eq!(
            ApiErrors::parse(b"<html>oops"),
            ApiErrors::Other("<html>oops".into())
        );
        assert!(
            ApiErrors::parse(br#"{"errors":["Required session does not exist"]}"#)
                .says_session_expired()
        );
    }

    #[test]
    fn retry_kinds() {
        let http = |status| RestError::Http {
            status,
            errors: ApiErrors::List(vec![]),
        };
        assert_eq!(
            http(503).retry_kind(),
            RetryKind::Transient { retry_after: None }
        );
        assert_eq!(http(422).retry_kind(), RetryKind::Permanent);
        assert_eq!(
            RestError::Connection("reset".into()).retry_kind(),
            RetryKind::NetworkFailure
        );
    }
}
