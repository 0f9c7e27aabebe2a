//! A burst of requests shares a bounded number of connections: thousands of users of one
//! program asking at once wait their turn instead of opening a socket each.

#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use connectycube_fixtures::http;
use connectycube_rest::chat::dialogs::ListDialogs;
use connectycube_rest::client::DEFAULT_MAX_CONNECTIONS;
use connectycube_rest::{RestClient, RestConfig};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What the server saw: connections accepted, and the most requests in flight at once.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

/// A server that answers a dialog page after 20 ms, so that a burst overlaps.
async fn slow_server(seen: Arc<Seen>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let page = Bytes::from(http("dialogs/list").response.body_bytes());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.connections.fetch_add(1, Ordering::SeqCst);
            let (page, seen) = (page.clone(), seen.clone());
            tokio::spawn(async move {
                let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                    let (page, seen) = (page.clone(), seen.clone());
                    async move {
                        let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        seen.most_in_flight.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        seen.in_flight.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, Infallible>(Response::new(Full::new(page)))
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

/// Sends `n` requests at once through clones of one client (and of its session-less
/// siblings, as the facade's users share one pool) and checks each succeeded.
async fn burst(config: RestConfig, n: usize) {
    let client = RestClient::new(config).unwrap();
    client.set_token(Some("token".into()));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let client = if i % 2 == 0 {
                client.clone()
            } else {
                let other = client.without_session();
                other.set_token(Some("token".into()));
                other
            };
            tokio::spawn(async move { client.send(&ListDialogs::new()).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}

fn config(url: &str) -> RestConfig {
    let mut config = RestConfig::new().with_api_url(url).unwrap();
    config.allow_plain_http = true;
    config
}

#[tokio::test]
async fn a_burst_past_the_bound_waits_its_turn_on_that_many_connections() {
    let seen = Arc::new(Seen::default());
    let url = slow_server(seen.clone()).await;
    let mut config = config(&url);
    config.max_connections = 8;
    burst(config, 200).await;
    assert!(seen.most_in_flight.load(Ordering::SeqCst) <= 8);
    assert!(
        seen.connections.load(Ordering::SeqCst) <= 8,
        "connections are reused, never more than the bound: {}",
        seen.connections.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn the_default_bound_holds_for_a_thousand_at_once() {
    let seen = Arc::new(Seen::default());
    let url = slow_server(seen.clone()).await;
    burst(config(&url), 1_000).await;
    let most = seen.most_in_flight.load(Ordering::SeqCst);
    assert!(most <= DEFAULT_MAX_CONNECTIONS, "{most} in flight");
    assert!(
        most > 8,
        "the bound is not a brake: {most} in flight at most"
    );
    assert!(seen.connections.load(Ordering::SeqCst) <= DEFAULT_MAX_CONNECTIONS);
}
