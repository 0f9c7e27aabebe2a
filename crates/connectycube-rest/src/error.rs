//! What can go wrong talking to the REST API, and whether trying again may help.

use std::time::Duration;

/// The API's `{"errors": …}` body: a list of messages, or messages per field (`base` for the
/// request as a whole, as the cloud answers an expired session).
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

/// How many characters of a body an error text keeps.
const EXCERPT_CHARS: usize = 200;

/// The first 200 characters of a body, for error messages, with every secret taken out: a
/// JSON body has the value of each secret-named field (at any depth) replaced by
/// `<redacted>` before it is cut; any other body is cut before the first secret-named word,
/// since where its value ends cannot be known.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            redact(&mut value, 0);
            value.to_string()
        }
        Err(_) => cut_before_secret(&String::from_utf8_lossy(body)),
    };
    text.chars().take(EXCERPT_CHARS).collect()
}

/// The text a secret's value is replaced with.
const REDACTED: &str = "<redacted>";

/// Words whose field carries a credential (compared lowercased, `-` read as `_`).
const SECRET_WORDS: &[&str] = &[
    "token",
    "password",
    "secret",
    "auth_key",
    "authkey",
    "api_key",
    "apikey",
    "signature",
    "authorization",
];

/// Whether a field named `key` carries a credential (`token`, `old_password`, `CB-Token`...).
pub(crate) fn is_secret_field(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// Replaces the value of every secret-named field; deeper than the JSON parser's own limit
/// (128) is never reached, the bound only keeps the walk obviously finite.
fn redact(value: &mut serde_json::Value, depth: usize) {
    if depth > 256 {
        return;
    }
    match value {
        serde_json::Value::Object(fields) => {
            for (key, v) in fields.iter_mut() {
                if is_secret_field(key) {
                    *v = serde_json::Value::String(REDACTED.into());
                } else {
                    redact(v, depth + 1);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact(v, depth + 1)),
        _ => {}
    }
}

/// `text` up to the first secret-named word, marked as cut there.
fn cut_before_secret(text: &str) -> String {
    let lower = text.to_ascii_lowercase().replace('-', "_");
    let first = SECRET_WORDS.iter().filter_map(|w| lower.find(w)).min();
    match first {
        // `to_ascii_lowercase` and `-`→`_` keep byte offsets, so `at` is a char boundary.
        Some(at) => format!("{}{REDACTED}", &text[..at]),
        None => text.to_owned(),
    }
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
        /// The server's `Retry-After`, when it sent one (a 503 may say when to come back).
        retry_after: Option<Duration>,
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
    #[error("connection failed: {source}")]
    Connection {
        /// What the HTTP stack said (its own sources below it).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The answer was not the JSON the endpoint returns.
    // Not `{source}`: serde_json's message quotes the offending value, which may be a secret;
    // the category and position say enough, and the redacted excerpt shows the rest.
    #[error(
        "could not read the answer ({:?} error at line {}, column {}): {excerpt}",
        source.classify(),
        source.line(),
        source.column()
    )]
    Decode {
        /// What serde said.
        #[source]
        source: serde_json::Error,
        /// The start of the body, secrets (`token`, `password`, ...) replaced by `<redacted>`.
        excerpt: String,
    },
    /// The request's JSON body could not be serialized; nothing was sent.
    #[error("the request body cannot be serialized: {0}")]
    Body(#[source] serde_json::Error),
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
    /// A connection failure caused by `source`.
    pub(crate) fn connection(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Connection {
            source: Box::new(source),
        }
    }

    /// Whether retrying may help: the one place the REST layer decides it.
    pub fn is_retryable(&self) -> bool {
        self.retry_kind() != RetryKind::Permanent
    }

    /// Whether retrying may help, and when.
    pub fn retry_kind(&self) -> RetryKind {
        match self {
            Self::Connection { .. } | Self::Timeout(_) => RetryKind::NetworkFailure,
            Self::RateLimited { retry_after } => RetryKind::Transient {
                retry_after: *retry_after,
            },
            Self::Http {
                status,
                retry_after,
                ..
            } if *status >= 500 => RetryKind::Transient {
                retry_after: *retry_after,
            },
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
        // The cloud's own shape (and the devserver's): the message under `base`.
        assert!(
            ApiErrors::parse(br#"{"errors":{"base":["Required session does not exist"]}}"#)
                .says_session_expired()
        );
    }

    #[test]
    fn retry_kinds() {
        let http = |status| RestError::Http {
            status,
            errors: ApiErrors::List(vec![]),
            retry_after: None,
        };
        assert_eq!(
            http(503).retry_kind(),
            RetryKind::Transient { retry_after: None }
        );
        let busy = RestError::Http {
            status: 503,
            errors: ApiErrors::List(vec![]),
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            busy.retry_kind(),
            RetryKind::Transient {
                retry_after: Some(Duration::from_secs(7))
            },
            "a 503's Retry-After is kept"
        );
        assert_eq!(http(422).retry_kind(), RetryKind::Permanent);
        assert_eq!(
            RestError::Connection {
                source: "reset".into()
            }
            .retry_kind(),
            RetryKind::NetworkFailure
        );
        assert!(http(503).is_retryable());
        assert!(!http(422).is_retryable());
    }

    #[test]
    fn secrets_are_redacted_from_json_excerpts_at_any_depth() {
        let body = br#"{"session":{"token":"83153a14fb2df777","user":{"login":"john","old_password":"p1"}},"items":[{"auth_key":"k"}],"CB-Token":"t2"}"#;
        let text = excerpt(body);
        for secret in ["83153a14fb2df777", "p1\"", "\"k\"", "t2"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("john") && text.contains(REDACTED), "{text}");
    }

    #[test]
    fn a_body_that_is_not_json_is_cut_before_the_first_secret() {
        // Truncated JSON: not parseable, so the structural walk cannot help.
        let text = excerpt(br#"{"session":{"_id":"x","Token":"83153a14fb2df777","#);
        assert_eq!(text, format!(r#"{{"session":{{"_id":"x","{REDACTED}"#));
        assert_eq!(excerpt(b"<html>oops"), "<html>oops");
    }

    #[test]
    fn error_bodies_are_redacted_too() {
        let errors = ApiErrors::parse(br#"{"token":"abc123","message":"bad"}"#);
        assert!(!errors.to_string().contains("abc123"), "{errors}");
    }

    #[test]
    fn a_connection_error_keeps_its_source() {
        let e = RestError::connection(std::io::Error::other("reset by peer"));
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("reset by peer"));
    }
}
