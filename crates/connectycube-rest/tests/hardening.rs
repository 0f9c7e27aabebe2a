//! The client against hostile or unlucky answers: secrets stay out of error texts, the timeout
//! bounds a whole attempt, concurrent expiries share one renewal, a body that does not
//! serialize is never sent.

#![allow(clippy::unwrap_used)]

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use connectycube_fixtures::http;
use connectycube_protocol::ids::AppId;
use connectycube_rest::Metadata;
use connectycube_rest::chat::dialogs::ListDialogs;
use connectycube_rest::client::SessionRenewer;
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::error::RetryKind;
use connectycube_rest::session::{CreateSession, Secret, SessionUser};
use connectycube_rest::{RestClient, RestConfig, RestError};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use support::replay::Replay;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn client_for(url: &str, timeout: Duration) -> RestClient {
    let mut config = RestConfig::new().with_api_url(url).unwrap();
    config.allow_plain_http = true;
    config.timeout = timeout;
    config.max_retries = 0;
    let client = RestClient::new(config).unwrap();
    client.set_token(Some("token-1".into()));
    client
}

fn session_request() -> CreateSession {
    CreateSession {
        application_id: AppId(1),
        auth_key: Secret("29WfrNWdvkhmX6V".into()),
        timestamp: 1544010993,
        user: SessionUser::Login {
            login: "john".into(),
            password: Secret("11111111".into()),
        },
    }
}

/// A session answer the client cannot decode must not put its token into the error (which
/// apps log): the excerpt shows the shape with the token redacted.
#[tokio::test]
async fn an_undecodable_session_answer_keeps_its_token_out_of_the_error() {
    let replay = Replay::start().await;
    let client = client_for(&replay.url, Duration::from_secs(5));
    let mut f = http("session/create-user-login");
    let token = f.response.body["session"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A wrong type in a field decoded strictly: the whole answer fails to decode.
    f.response.body["session"]["application_id"] = serde_json::json!({ "oops": true });
    replay.expect(f);
    let err = client.send(&session_request()).await.unwrap_err();
    let RestError::Decode { excerpt, .. } = &err else {
        panic!("{err:?}")
    };
    for shown in [err.to_string(), format!("{err:?}"), excerpt.clone()] {
        assert!(!shown.contains(&token), "token in {shown}");
        assert!(!shown.contains("11111111"), "password in {shown}");
    }
    assert!(excerpt.contains("<redacted>"), "{excerpt}");
    replay.assert_done();
}

/// A server that sends its headers at once and then its body one byte at a time: each phase
/// alone stays under the timeout, the whole does not.
async fn dribbling_server(step: Duration, body_len: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                tokio::time::sleep(step).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {body_len}\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                // Valid JSON of the announced length (spaces, then `{}`), spread over `step`.
                let body = format!("{}{{}}", " ".repeat(body_len - 2));
                let gap = step / u32::try_from(body_len).unwrap();
                for byte in body.as_bytes() {
                    tokio::time::sleep(gap).await;
                    if stream.write_all(&[*byte]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// `RestConfig::timeout` bounds the attempt as a whole. The server needs at least 1.8 s
/// (headers after 0.9 s, the body over 0.9 s more); with the 1.5 s timeout applied per phase
/// (each under it) the request succeeded, with the total it must time out.
#[tokio::test]
async fn the_timeout_bounds_the_whole_attempt_not_each_phase() {
    let url = dribbling_server(Duration::from_millis(900), 8).await;
    let client = client_for(&url, Duration::from_millis(1500));
    let err = client.send(&ListDialogs::new()).await.unwrap_err();
    assert!(matches!(err, RestError::Timeout(_)), "{err:?}");
    assert_eq!(err.retry_kind(), RetryKind::NetworkFailure);
}

/// Answers 401 to every request with a token other than `token-2`, a dialog page otherwise.
async fn expiring_server(requests: Arc<AtomicUsize>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let page = Bytes::from(http("dialogs/list").response.body_bytes());
    let expired = Bytes::from(http("errors/session-expired").response.body_bytes());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (page, expired, requests) = (page.clone(), expired.clone(), requests.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    requests.fetch_add(1, Ordering::SeqCst);
                    let fresh = req
                        .headers()
                        .get("CB-Token")
                        .is_some_and(|t| t == "token-2");
                    let (status, body) = if fresh {
                        (200, page.clone())
                    } else {
                        (401, expired.clone())
                    };
                    async move {
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(status)
                                .body(Full::new(body))
                                .unwrap(),
                        )
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

/// Eight requests find the session expired together: one renewal, and all eight succeed with
/// the renewed token.
#[tokio::test]
async fn concurrent_expiries_share_one_renewal() {
    let requests = Arc::new(AtomicUsize::new(0));
    let url = expiring_server(requests.clone()).await;
    let renewals = Arc::new(AtomicUsize::new(0));
    let count = renewals.clone();
    let renewer: SessionRenewer = Arc::new(move || {
        count.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            // A renewal takes a round trip: the other requests' 401s arrive meanwhile.
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok("token-2".to_owned())
        })
    });
    let client = client_for(&url, Duration::from_secs(10)).with_session_renewer(renewer);
    let (go, _) = tokio::sync::broadcast::channel::<()>(1);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, mut start) = (client.clone(), go.subscribe());
            tokio::spawn(async move {
                let _ = start.recv().await;
                client.send(&ListDialogs::new()).await
            })
        })
        .collect();
    go.send(()).unwrap();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(renewals.load(Ordering::SeqCst), 1);
    assert_eq!(client.token().as_deref(), Some("token-2"));
    assert!(requests.load(Ordering::SeqCst) >= 9);
}

/// A renewal that fails is reported to every request that waited for it, without each of them
/// renewing again in turn.
#[tokio::test]
async fn a_failed_renewal_is_shared_too() {
    let requests = Arc::new(AtomicUsize::new(0));
    let url = expiring_server(requests).await;
    let renewals = Arc::new(AtomicUsize::new(0));
    let count = renewals.clone();
    let renewer: SessionRenewer = Arc::new(move || {
        count.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Err(RestError::InvalidRequest("no credentials".into()))
        })
    });
    let client = client_for(&url, Duration::from_secs(10)).with_session_renewer(renewer);
    let sends = (0..4).map(|_| {
        let client = client.clone();
        async move { client.send(&ListDialogs::new()).await }
    });
    let results = futures_util::future::join_all(sends).await;
    assert!(results.iter().all(Result::is_err), "{results:?}");
    // Requests whose 401 came in while the renewal ran waited for it and did not repeat it.
    assert!(renewals.load(Ordering::SeqCst) < 4);
}

/// An endpoint whose body cannot be serialized.
struct Unserializable;

impl Endpoint for Unserializable {
    type Response = serde_json::Value;
    const METADATA: Metadata = Metadata::post("Unserializable", "/chat/Dialog");
    fn body(&self) -> Result<Option<serde_json::Value>, RestError> {
        // A map with non-string keys: JSON cannot hold it.
        let map: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        serde_json::to_value(map).map(Some).map_err(RestError::Body)
    }
}

#[tokio::test]
async fn a_body_that_does_not_serialize_is_an_error_and_nothing_is_sent() {
    let replay = Replay::start().await;
    let client = client_for(&replay.url, Duration::from_secs(5));
    let err = client.send(&Unserializable).await.unwrap_err();
    assert!(matches!(err, RestError::Body(_)), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
    assert!(!err.is_retryable());
    assert_eq!(replay.seen.lock().unwrap().requests, 0);
}

#[tokio::test]
async fn a_connection_error_keeps_its_source_chain() {
    let client = client_for("http://127.0.0.1:9/", Duration::from_secs(5));
    let err = client.send(&ListDialogs::new()).await.unwrap_err();
    assert!(matches!(err, RestError::Connection { .. }), "{err:?}");
    assert!(err.is_retryable());
    // hyper-util's "client error (Connect)" on top, the system's refusal below it.
    let mut depth = 0;
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        depth += 1;
        source = s.source();
    }
    assert!(depth >= 2, "{err:?}");
}

/// The request's span covers the request only. With an entered guard held across the awaits,
/// whatever else ran on the thread while the request waited ran inside its span (here: the
/// other half of a `join!`, which saw `rest` as its current span).
#[test]
fn the_request_span_does_not_leak_into_what_runs_meanwhile() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Headers after 300 ms: the request is pending when the other half looks.
        let url = dribbling_server(Duration::from_millis(300), 2).await;
        let client = client_for(&url, Duration::from_secs(5));
        let endpoint = ListDialogs::new();
        let request = client.send(&endpoint);
        let other = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            tracing::Span::current().metadata().map(|m| m.name())
        };
        let (_, seen) = tokio::join!(request, other);
        assert_eq!(seen, None, "the other task ran inside the request's span");
    });
}
