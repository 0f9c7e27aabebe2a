//! A loopback HTTP server that answers with documented exchanges and records every request
//! that differs from what the fixture expects (method, path, query as a map, JSON body).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use connectycube_fixtures::HttpFixture;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    /// Requests answered.
    pub requests: usize,
    /// Every difference from the expected request.
    pub mismatches: Vec<String>,
    /// `CB-Token` of each request.
    pub tokens: Vec<Option<String>>,
    /// `CB-AuthKey` of each request.
    pub auth_keys: Vec<Option<String>>,
}

/// The server: answers fixtures in the order they were queued.
pub struct Replay {
    pub url: String,
    queue: Arc<Mutex<VecDeque<HttpFixture>>>,
    pub seen: Arc<Mutex<Seen>>,
}

impl Replay {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let queue: Arc<Mutex<VecDeque<HttpFixture>>> = Arc::default();
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let (q, s) = (queue.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (q, s) = (q.clone(), s.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(req, q.clone(), s.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, queue, seen }
    }

    /// Answers the next request with `fixture`.
    pub fn expect(&self, fixture: HttpFixture) -> &Self {
        self.queue.lock().unwrap().push_back(fixture);
        self
    }

    /// The differences recorded so far, clearing them.
    pub fn take_mismatches(&self) -> Vec<String> {
        std::mem::take(&mut self.seen.lock().unwrap().mismatches)
    }

    /// Drops the queued fixtures still unrequested, answering how many there were.
    pub fn drop_pending(&self) -> usize {
        let mut queue = self.queue.lock().unwrap();
        let n = queue.len();
        queue.clear();
        n
    }

    /// Asserts every request matched its fixture and all were used.
    #[track_caller]
    pub fn assert_done(&self) {
        let seen = self.seen.lock().unwrap();
        assert!(
            seen.mismatches.is_empty(),
            "requests differ from the fixtures: {:#?}",
            seen.mismatches
        );
        assert!(
            self.queue.lock().unwrap().is_empty(),
            "fixtures left unrequested"
        );
    }
}

async fn answer(
    req: Request<Incoming>,
    queue: Arc<Mutex<VecDeque<HttpFixture>>>,
    seen: Arc<Mutex<Seen>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let Some(fixture) = queue.lock().unwrap().pop_front() else {
        seen.lock()
            .unwrap()
            .mismatches
            .push(format!("unexpected {} {}", parts.method, parts.uri));
        return Ok(Response::builder()
            .status(599)
            .body(Full::new(Bytes::new()))
            .unwrap());
    };
    let mut diffs = Vec::new();
    let want = &fixture.request;
    if parts.method.as_str() != want.method {
        diffs.push(format!("method {} != {}", parts.method, want.method));
    }
    if parts.uri.path() != want.path {
        diffs.push(format!("path {} != {}", parts.uri.path(), want.path));
    }
    let query = super::query_map(
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned())),
    );
    if query != want.query {
        diffs.push(format!("query {query:?} != {:?}", want.query));
    }
    let json: Option<serde_json::Value> = (!body.is_empty())
        .then(|| serde_json::from_slice(&body).ok())
        .flatten();
    if json != want.body {
        diffs.push(format!("body {json:?} != {:?}", want.body));
    }
    {
        let mut s = seen.lock().unwrap();
        s.requests += 1;
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        s.tokens.push(header("CB-Token"));
        s.auth_keys.push(header("CB-AuthKey"));
        s.mismatches
            .extend(diffs.into_iter().map(|d| format!("{}: {d}", fixture.doc)));
    }
    let mut response = Response::builder().status(fixture.response.status);
    for (k, v) in &fixture.response.headers {
        response = response.header(k, v);
    }
    Ok(response
        .body(Full::new(Bytes::from(fixture.response.body_bytes())))
        .unwrap())
}
