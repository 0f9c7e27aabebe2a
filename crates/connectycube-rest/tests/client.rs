//! The client end to end over a loopback server: documented exchanges go through
//! `RestClient::send` unchanged, and every error and retry path behaves.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connectycube_fixtures::http;
use connectycube_protocol::ids::{AppId, UserId};
use connectycube_protocol::model::DialogPermissions;
use connectycube_rest::chat::dialogs::{CreateDialog, ListDialogs};
use connectycube_rest::chat::unread::UnreadCount;
use connectycube_rest::client::SessionRenewer;
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::error::{ApiErrors, RetryKind};
use connectycube_rest::session::{CreateSession, Secret, SessionUser};
use connectycube_rest::{RestClient, RestConfig, RestError};
use support::replay::Replay;

async fn replay_client(replay: &Replay) -> RestClient {
    let mut config = RestConfig::new().with_api_url(&replay.url).unwrap();
    config.allow_plain_http = true;
    config.timeout = Duration::from_secs(5);
    let client = RestClient::new(config).unwrap();
    client.set_token(Some("token-1".into()));
    client
}

#[tokio::test]
async fn documented_exchanges_go_through_the_client() {
    let replay = Replay::start().await;
    let client = replay_client(&replay).await;
    replay.expect(http("dialogs/list"));
    let page = client.send(&ListDialogs::new()).await.unwrap();
    assert_eq!(page.total_entries, Some(4));
    replay.expect(http("messages/unread"));
    let f = http("messages/unread");
    let ids: Vec<_> = f.request.query["chat_dialog_ids"]
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let unread = client.send(&UnreadCount::for_dialogs(ids)).await.unwrap();
    assert_eq!(unread.total, 5);
    replay.assert_done();
    assert_eq!(
        replay.seen.lock().unwrap().tokens[0].as_deref(),
        Some("token-1")
    );
}

#[tokio::test]
async fn api_errors_are_typed() {
    let replay = Replay::start().await;
    let client = replay_client(&replay).await;
    replay.expect(http("errors/not-found"));
    match client.send(&ListDialogs::new()).await {
        Err(RestError::Http {
            status: 404,
            errors,
            ..
        }) => {
            assert_eq!(
                errors,
                ApiErrors::Fields(vec![("base".into(), vec!["Resource not found".into()])])
            );
        }
        other => panic!("{other:?}"),
    }
    replay.expect(http("errors/validation"));
    match client.send(&ListDialogs::new()).await {
        Err(e @ RestError::Http { status: 422, .. }) => {
            assert_eq!(e.retry_kind(), RetryKind::Permanent);
            assert!(e.to_string().contains("name: is too long"), "{e}");
            let RestError::Http { errors, .. } = e else {
                unreachable!()
            };
            assert_eq!(
                errors,
                ApiErrors::Fields(vec![(
                    "name".into(),
                    vec!["is too long (maximum is 200 characters)".into()]
                )])
            );
        }
        other => panic!("{other:?}"),
    }
    replay.assert_done();
}

#[tokio::test]
async fn an_expired_session_is_renewed_once_and_the_request_retried() {
    let replay = Replay::start().await;
    let renewals = Arc::new(AtomicUsize::new(0));
    let count = renewals.clone();
    let renewer: SessionRenewer = Arc::new(move || {
        count.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok("token-2".to_owned()) })
    });
    let client = replay_client(&replay).await.with_session_renewer(renewer);
    replay
        .expect(http("errors/session-expired"))
        .expect(http("dialogs/list"));
    client.send(&ListDialogs::new()).await.unwrap();
    assert_eq!(renewals.load(Ordering::SeqCst), 1);
    let tokens = replay.seen.lock().unwrap().tokens.clone();
    assert_eq!(tokens, [Some("token-1".into()), Some("token-2".into())]);

    // Expired again right after renewing: no loop, the caller sees it.
    replay
        .expect(http("errors/session-expired"))
        .expect(http("errors/session-expired"));
    let err = client.send(&ListDialogs::new()).await.unwrap_err();
    assert!(matches!(err, RestError::SessionExpired(_)), "{err:?}");
    assert_eq!(renewals.load(Ordering::SeqCst), 2);
    replay.assert_done();
}

#[tokio::test]
async fn idempotent_requests_retry_honouring_retry_after() {
    let replay = Replay::start().await;
    let client = replay_client(&replay).await;
    replay
        .expect(http("errors/rate-limited"))
        .expect(http("errors/server-error"))
        .expect(http("dialogs/list"));
    let started = Instant::now();
    client.send(&ListDialogs::new()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(replay.seen.lock().unwrap().requests, 3);
    replay.assert_done();
}

#[tokio::test]
async fn retries_stop_after_max_retries() {
    let replay = Replay::start().await;
    let mut config = RestConfig::new().with_api_url(&replay.url).unwrap();
    config.allow_plain_http = true;
    config.max_retries = 2;
    let client = RestClient::new(config).unwrap();
    for _ in 0..3 {
        replay.expect(http("errors/server-error"));
    }
    let err = client.send(&ListDialogs::new()).await.unwrap_err();
    assert!(
        matches!(err, RestError::Http { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(
        replay.seen.lock().unwrap().requests,
        3,
        "one try, two retries"
    );
    replay.assert_done();
}

#[tokio::test]
async fn a_401_to_session_creation_is_an_error_not_a_renewal() {
    let replay = Replay::start().await;
    let renewals = Arc::new(AtomicUsize::new(0));
    let count = renewals.clone();
    let renewer: SessionRenewer = Arc::new(move || {
        count.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok("token-2".to_owned()) })
    });
    let client = replay_client(&replay).await.with_session_renewer(renewer);
    let create = CreateSession {
        application_id: AppId(1),
        auth_key: Secret("wrong".into()),
        timestamp: 1,
        user: SessionUser::None,
    };
    let mut refused = http("errors/session-expired");
    refused.request = http("session/create-user-login").request;
    refused.request.body = create.body().unwrap();
    replay.expect(refused);
    let err = client.send(&create).await.unwrap_err();
    assert!(
        matches!(err, RestError::Http { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(renewals.load(Ordering::SeqCst), 0);
    replay.assert_done();
}

#[tokio::test]
async fn posts_are_never_retried_blindly() {
    let replay = Replay::start().await;
    let client = replay_client(&replay).await;
    let mut failure = http("errors/server-error");
    failure.request = http("dialogs/create-with-extensions").request;
    replay.expect(failure);
    let mut extensions = serde_json::Map::new();
    extensions.insert("location".into(), "Sun bar".into());
    extensions.insert("unknown_field".into(), "will be ignored".into());
    let create = CreateDialog::group("Night party", [UserId(29085), UserId(29087)])
        .extensions(extensions)
        .permissions(DialogPermissions {
            allow_preview: Some(true),
        });
    let err = client.send(&create).await.unwrap_err();
    assert!(
        matches!(err, RestError::Http { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(
        replay.seen.lock().unwrap().requests,
        1,
        "one POST, no retry"
    );
}

#[tokio::test]
async fn a_dead_server_is_a_connection_error_and_garbage_a_decode_error() {
    let mut config = RestConfig::new()
        .with_api_url("http://127.0.0.1:9/")
        .unwrap();
    config.allow_plain_http = true;
    config.max_retries = 0;
    let client = RestClient::new(config).unwrap();
    let err = client.send(&ListDialogs::new()).await.unwrap_err();
    assert_eq!(err.retry_kind(), RetryKind::NetworkFailure, "{err:?}");

    let replay = Replay::start().await;
    let client = replay_client(&replay).await;
    let mut garbage = http("dialogs/list");
    garbage.response.body = serde_json::json!("not a page");
    replay.expect(garbage);
    assert!(matches!(
        client.send(&ListDialogs::new()).await,
        Err(RestError::Decode { .. })
    ));
}

#[test]
fn secrets_stay_out_of_debug() {
    let client = RestClient::new(RestConfig::new()).unwrap();
    client.set_token(Some("super-secret-token".into()));
    let shown = format!("{client:?}");
    assert!(!shown.contains("super-secret-token"), "{shown}");
    assert!(shown.contains("redacted"));
}

/// The server decides how big an answer is: past `max_response_bytes` the client stops reading
/// and says so, and the next request goes through as usual.
#[tokio::test]
async fn an_oversized_answer_is_a_typed_error_and_the_client_goes_on() {
    let replay = Replay::start().await;
    let mut config = RestConfig::new().with_api_url(&replay.url).unwrap();
    config.allow_plain_http = true;
    config.max_response_bytes = 1024;
    let client = RestClient::new(config).unwrap();
    client.set_token(Some("token-1".into()));
    let mut huge = http("dialogs/list");
    huge.response.body = serde_json::json!({ "items": [], "padding": "x".repeat(64 * 1024) });
    replay.expect(huge).expect(http("messages/unread"));
    let err = client.send(&ListDialogs::new()).await.unwrap_err();
    assert!(
        matches!(err, RestError::ResponseTooLarge { limit: 1024 }),
        "{err:?}"
    );
    assert_eq!(err.retry_kind(), RetryKind::Permanent);
    let f = http("messages/unread");
    let ids: Vec<_> = f.request.query["chat_dialog_ids"]
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(
        client
            .send(&UnreadCount::for_dialogs(ids))
            .await
            .unwrap()
            .total,
        5
    );
    replay.assert_done();
}

/// A `Retry-After` longer than `max_retry_wait` is the caller's to act on: one request, the
/// rate-limit error with the server's wait, no sleep inside `send`.
#[tokio::test]
async fn a_retry_after_beyond_the_cap_goes_back_to_the_caller() {
    let replay = Replay::start().await;
    let mut config = RestConfig::new().with_api_url(&replay.url).unwrap();
    config.allow_plain_http = true;
    config.max_retry_wait = Duration::from_millis(500);
    let client = RestClient::new(config).unwrap();
    client.set_token(Some("token-1".into()));
    replay.expect(http("errors/rate-limited"));
    let err = client.send(&ListDialogs::new()).await.unwrap_err();
    assert!(
        matches!(err, RestError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(1)),
        "{err:?}"
    );
    assert_eq!(replay.seen.lock().unwrap().requests, 1);
    replay.assert_done();
}

#[tokio::test]
async fn a_client_without_session_shares_the_connections_not_the_token() {
    let replay = Replay::start().await;
    let first = replay_client(&replay).await;
    let second = first.without_session();
    assert_eq!(second.token(), None, "no session of its own");
    second.set_token(Some("token-2".into()));
    assert_eq!(
        first.token().as_deref(),
        Some("token-1"),
        "the first keeps its own"
    );
    // Both reach the server through the shared pool.
    replay.expect(http("dialogs/list"));
    second.send(&ListDialogs::new()).await.unwrap();
    let tokens = replay.seen.lock().unwrap().tokens.clone();
    assert_eq!(tokens, [Some("token-2".to_owned())]);
}
