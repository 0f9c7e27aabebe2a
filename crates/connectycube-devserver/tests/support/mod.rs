//! A small HTTP/1.1 client for the tests (hyper's connection API, one request per
//! connection) and the shape comparison of the reverse replay.

#![allow(dead_code)]

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// An answer as the test sees it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }
}

/// Sends one request to `addr`.
pub async fn send(
    addr: std::net::SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let resp = tx.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// A query string from decoded pairs.
pub fn query_string(query: &BTreeMap<String, String>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Keys that are record ids (object ids as the docs write them, 24 letters and digits):
/// maps keyed by ids (unread counts) are compared by how many such keys they have.
fn id_like(k: &str) -> bool {
    k.len() == 24 && k.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Compares `ours` with the documented `doc` by shape; each difference is pushed to `errs`
/// with its path. The rules:
/// - a documented `null` says nothing of the type: any value of ours passes;
/// - a documented string, number or boolean needs the same JSON type;
/// - a documented object needs every documented key (ours may carry more: one record type
///   shows different key subsets in different examples); keys that are ids are compared by
///   count, their values pairwise;
/// - a documented non-empty list needs a non-empty list (unless its path is in
///   `may_be_empty`), items compared pairwise as far as both go; an empty one any list.
pub fn compare(
    doc: &Value,
    ours: &Value,
    path: &str,
    may_be_empty: &[&str],
    errs: &mut Vec<String>,
) {
    match (doc, ours) {
        (Value::Null, _) => {}
        (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_)) => {}
        (Value::Array(d), Value::Array(o)) => {
            if !d.is_empty() && o.is_empty() && !may_be_empty.contains(&path) {
                errs.push(format!("{path}: documented non-empty, ours empty"));
            }
            for (i, (dv, ov)) in d.iter().zip(o).enumerate() {
                compare(dv, ov, &format!("{path}[{i}]"), may_be_empty, errs);
            }
        }
        (Value::Object(d), Value::Object(o)) => {
            let d_ids: Vec<&Value> = d
                .iter()
                .filter(|(k, _)| id_like(k))
                .map(|(_, v)| v)
                .collect();
            let o_ids: Vec<&Value> = o
                .iter()
                .filter(|(k, _)| id_like(k))
                .map(|(_, v)| v)
                .collect();
            if d_ids.len() != o_ids.len() {
                errs.push(format!(
                    "{path}: {} id keys documented, {} ours",
                    d_ids.len(),
                    o_ids.len()
                ));
            }
            for (i, (dv, ov)) in d_ids.iter().zip(&o_ids).enumerate() {
                compare(dv, ov, &format!("{path}.<id {i}>"), may_be_empty, errs);
            }
            for (k, dv) in d.iter().filter(|(k, _)| !id_like(k)) {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match o.get(k) {
                    Some(ov) => compare(dv, ov, &p, may_be_empty, errs),
                    None => errs.push(format!("{p}: missing")),
                }
            }
        }
        (d, o) => errs.push(format!("{path}: documented {}, ours {}", kind(d), kind(o))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[test]
fn the_comparison_catches_what_it_should() {
    use serde_json::json;
    let mut e = Vec::new();
    compare(
        &json!({"a": 1, "b": null, "c": [1]}),
        &json!({"a": 2, "b": "x", "c": [5], "d": 0}),
        "",
        &[],
        &mut e,
    );
    assert!(e.is_empty(), "{e:?}");
    compare(&json!({"a": 1}), &json!({"a": "1"}), "", &[], &mut e);
    compare(&json!({"a": 1}), &json!({}), "", &[], &mut e);
    compare(&json!({"c": [1]}), &json!({"c": []}), "", &[], &mut e);
    compare(
        &json!({"5c093376e588ce6856f873fe": 1}),
        &json!({}),
        "",
        &[],
        &mut e,
    );
    assert_eq!(e.len(), 4, "{e:?}");
    let mut e = Vec::new();
    compare(&json!({"c": [1]}), &json!({"c": []}), "", &["c"], &mut e);
    assert!(e.is_empty());
}
