//! A request read whole: path segments, decoded query, JSON body, credentials.

use std::collections::BTreeMap;

use bytes::Bytes;
use connectycube_rest::route::Params;
use http::Method;
use http::request::Parts;
use serde_json::{Map, Value};

use super::ApiError;

/// One request, parsed.
#[derive(Debug)]
pub(crate) struct Req {
    /// The method.
    pub method: Method,
    /// The path's segments, percent-decoded, a `.json` suffix dropped (the JS SDK adds it).
    pub path: Vec<String>,
    /// The matched route's `{name}` parameters (set by the dispatcher).
    pub params: Params,
    /// The query; a repeated key (`id[in][]=1&id[in][]=2`) is comma-joined.
    pub query: BTreeMap<String, String>,
    /// The query's pairs as sent, in order (`filter[]` repeats with commas in its values).
    pub pairs: Vec<(String, String)>,
    /// The JSON body as an object (empty when there is none).
    pub body: Map<String, Value>,
    /// The raw body (uploads).
    pub raw: Bytes,
    /// The `Content-Type`.
    pub content_type: Option<String>,
    /// `CB-Token`, or the `token` query parameter (private file links).
    pub token: Option<String>,
    /// `CB-AuthKey` (signing up without a session).
    pub auth_key: Option<String>,
    /// A test's fault: a list answers every matching item, whatever its `limit`.
    pub ignore_limit: bool,
}

impl Req {
    /// Reads `parts` and `raw`; a body that should be JSON and is not is a 400.
    pub(crate) fn parse(parts: &Parts, raw: Bytes) -> Result<Self, ApiError> {
        let mut path: Vec<String> = parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        if let Some(last) = path.last_mut()
            && let Some(stripped) = last.strip_suffix(".json")
        {
            *last = stripped.to_owned();
        }
        let mut query: BTreeMap<String, String> = BTreeMap::new();
        let mut pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        for (k, v) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            query
                .entry(k.into_owned())
                .and_modify(|old| {
                    old.push(',');
                    old.push_str(&v);
                })
                .or_insert_with(|| v.into_owned());
        }
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type");
        let is_multipart = content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("multipart/"));
        let is_form = content_type
            .as_deref()
            .is_some_and(|c| c.contains("x-www-form-urlencoded"));
        if is_form {
            // The JS SDK sends DELETE parameters (`force=1`) as a form body, serialized like a
            // query string: the cloud reads them as it reads the query, so they join it.
            let text = std::str::from_utf8(&raw)
                .map_err(|_| ApiError::malformed("The form body is not UTF-8"))?;
            for (k, v) in url::form_urlencoded::parse(text.trim().as_bytes()) {
                query
                    .entry(k.to_string())
                    .and_modify(|old| {
                        old.push(',');
                        old.push_str(&v);
                    })
                    .or_insert_with(|| v.to_string());
                pairs.push((k.into_owned(), v.into_owned()));
            }
        }
        let body = if raw.is_empty() || is_form || is_multipart {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(&raw) {
                Ok(Value::Object(m)) => m,
                Ok(Value::Null) => Map::new(),
                Ok(_) => return Err(ApiError::malformed("The body must be a JSON object")),
                Err(_) => return Err(ApiError::malformed("The body is not valid JSON")),
            }
        };
        let token = header("cb-token").or_else(|| query.get("token").cloned());
        Ok(Self {
            method: parts.method.clone(),
            path,
            params: Params::default(),
            query,
            pairs,
            body,
            raw,
            content_type,
            token,
            auth_key: header("cb-authkey"),
            ignore_limit: false,
        })
    }

    /// Path segment `i` as sent.
    pub(crate) fn seg(&self, i: usize) -> &str {
        self.path.get(i).map_or("", String::as_str)
    }

    /// The matched route's `{name}` parameter as sent, `""` when the route has none.
    pub(crate) fn path_param(&self, name: &str) -> &str {
        self.params.get(name).unwrap_or("")
    }

    /// A parameter from the body, else from the query.
    pub(crate) fn param(&self, name: &str) -> Option<Value> {
        self.body
            .get(name)
            .cloned()
            .or_else(|| self.query.get(name).map(|s| Value::String(s.clone())))
    }

    /// A text parameter (numbers given as text too).
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.param(name).and_then(|v| as_text(&v))
    }

    /// A flag: `1`, `"1"`, `true`, `"true"`.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.param(name).is_some_and(|v| is_true(&v))
    }

    /// A number parameter; `Err` when given but not a number.
    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.param(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => as_u64(&v)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(name, "is not a number")),
        }
    }
}

/// `%XX` escapes of a path segment decoded (invalid ones kept as they are).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON value as text: strings as they are, numbers and booleans printed.
pub(crate) fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON value as a non-negative integer (`5` or `"5"`).
pub(crate) fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a JSON value says yes.
pub(crate) fn is_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_u64() == Some(1),
        Value::String(s) => s == "1" || s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A list of ids given as a JSON array, or as comma-joined text.
pub(crate) fn id_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(as_text).collect(),
        other => as_text(other)
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    }
}
