//! Answers: JSON, empty, bytes; and the documented error bodies: `{"errors": {"base": [...]}}`
//! for an error of the request as a whole (`server-users.md` shows it; the JS SDK recognises an
//! expired session only in this shape) and `{"errors": {"field": [...]}}` for a field's.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;
use hyper::Response;
use serde_json::{Value, json};

use crate::store::StoreError;

/// A successful answer.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A JSON body.
    Json(StatusCode, Value),
    /// No body (the docs' "200 OK").
    Empty,
    /// A file's bytes, or S3's XML answer to an upload.
    Bytes {
        /// The status.
        status: StatusCode,
        /// Its content type.
        content_type: String,
        /// The content.
        body: Vec<u8>,
    },
}

impl Reply {
    /// `200` with `body`.
    pub(crate) fn ok(body: Value) -> Self {
        Self::Json(StatusCode::OK, body)
    }

    pub(crate) fn into_response(self) -> Response<Full<Bytes>> {
        match self {
            Self::Json(status, body) => json_response(status, &body),
            Self::Empty => {
                let mut r = Response::new(Full::new(Bytes::new()));
                *r.status_mut() = StatusCode::OK;
                r
            }
            Self::Bytes {
                status,
                content_type,
                body,
            } => {
                let mut r = Response::new(Full::new(Bytes::from(body)));
                *r.status_mut() = status;
                if let Ok(v) = HeaderValue::from_str(&content_type) {
                    r.headers_mut().insert(header::CONTENT_TYPE, v);
                }
                r
            }
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// An error answer: a status and the `errors` value.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The status code.
    pub status: StatusCode,
    /// The `errors` value: a map of field (or `base`) to a list of messages.
    pub errors: Value,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, errors: Value) -> Self {
        Self {
            status,
            errors,
            retry_after: None,
        }
    }

    /// 401: no token, or a token that is not (or no longer) a session.
    pub fn no_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            json!({ "base": ["Required session does not exist"] }),
        )
    }

    /// 401 with `message` (bad credentials).
    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, json!({ "base": [message] }))
    }

    /// 403 with `message`.
    pub fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, json!({ "base": [message] }))
    }

    /// 403: the request needs a user session, the session has only an application.
    pub fn need_user() -> Self {
        Self::forbidden("Forbidden. Need user.")
    }

    /// 403: the user may not do this to this record.
    pub fn no_permission() -> Self {
        Self::forbidden("You don't have appropriate permissions to perform this operation")
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            json!({ "base": ["Resource not found"] }),
        )
    }

    /// 405: the path exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "base": ["Method not allowed"] }),
        )
    }

    /// 400: the body is not JSON (or not an object).
    pub fn malformed(what: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, json!({ "base": [what] }))
    }

    /// 413: the body is larger than the server reads.
    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({ "base": ["Request body is too large"] }),
        )
    }

    /// 422 on `field` with `message`.
    pub fn invalid(field: &str, message: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ field: [message] }),
        )
    }

    /// 422 on `field`: required and missing.
    pub fn required(field: &str) -> Self {
        Self::invalid(field, "is required")
    }

    /// 429, try again in `secs`.
    pub fn rate_limited(secs: u64) -> Self {
        Self {
            retry_after: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "base": ["Too many requests"] }),
            )
        }
    }

    /// `status`, injected by a test (`fail_next_requests_with`); 429 and 503 say to retry
    /// in a second.
    pub fn injected(status: StatusCode) -> Self {
        let retry = matches!(status.as_u16(), 429 | 503).then_some(1);
        Self {
            retry_after: retry,
            ..Self::new(status, json!({ "base": ["Injected failure"] }))
        }
    }

    /// 500 (the store failed; the cause goes to the log, not to the client).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "base": ["Internal server error"] }),
        )
    }

    pub(crate) fn into_response(self) -> Response<Full<Bytes>> {
        let mut r = json_response(self.status, &json!({ "errors": self.errors }));
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Taken { field } => Self::invalid(field, "has already been taken"),
            other => {
                tracing::error!(error = %other, source = ?std::error::Error::source(&other), "store failed");
                Self::internal()
            }
        }
    }
}

/// What a failing front end answers: 500 with an HTML page (see
/// [`super::RestState::fail_next_requests`]).
pub(crate) fn server_error_page() -> Response<Full<Bytes>> {
    Reply::Bytes {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        content_type: "text/html".into(),
        body: b"<html>Internal Server Error</html>".to_vec(),
    }
    .into_response()
}
