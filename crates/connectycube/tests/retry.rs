//! `Error::retry` on errors that really happened, through the facade against the devserver:
//! the REST layer's statuses with their `Retry-After`, a refused connection from each layer,
//! and refused credentials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

#[path = "../examples/support/mod.rs"]
mod support;

use std::time::Duration;

use connectycube::protocol::ids::{AppId, UserId};
use connectycube::rest::chat::dialogs::ListDialogs;
use connectycube::rest::session::{Secret, SessionUser};
use connectycube::transport::config::ConnectionConfig;
use connectycube::{AppConfig, Client, Error, Retry};
use http::StatusCode;

/// A client whose REST requests are not retried inside the client: the caller sees the
/// first failure with what the server said.
async fn no_retries() -> (connectycube_devserver::DevServer, Client) {
    let (srv, _) = support::devserver(&["ann"]).await.unwrap();
    let mut config = support::app_config(&srv).unwrap();
    config.rest.max_retries = 0;
    (srv, Client::new(config))
}

#[tokio::test]
async fn a_429_and_a_503_are_transient_with_the_servers_retry_after() {
    let (srv, client) = no_retries().await;
    let (ann, _events) = support::login(&client, "ann").await.unwrap();
    for status in [
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::SERVICE_UNAVAILABLE,
    ] {
        srv.rest().fail_next_requests_with(1, status);
        let e = ann.dialogs(&ListDialogs::new()).await.unwrap_err();
        assert_eq!(
            e.retry(),
            Retry::Transient {
                retry_after: Some(Duration::from_secs(1))
            },
            "{status}: {e:?}"
        );
        assert!(e.is_retryable());
    }
    srv.rest().fail_next_requests(1);
    let e = ann.dialogs(&ListDialogs::new()).await.unwrap_err();
    assert_eq!(e.retry(), Retry::Transient { retry_after: None }, "{e:?}");
}

#[tokio::test]
async fn a_refused_connection_is_the_networks_in_rest_and_in_chat() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (srv, _) = support::devserver(&["ann"]).await.unwrap();
    let chat = srv.chat().unwrap().connection_config();
    let mut config = AppConfig::new(AppId(srv.app_id()), srv.auth_key())
        .with_endpoints(&format!("http://127.0.0.1:{port}"), chat.clone())
        .unwrap();
    config.rest.max_retries = 0;
    let e = Client::new(config)
        .login(support::credentials("ann"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Rest(_)), "{e:?}");
    assert_eq!(e.retry(), Retry::Network, "{e:?}");

    let mut chat_only = AppConfig::new(AppId(srv.app_id()), srv.auth_key());
    chat_only.chat = ConnectionConfig::direct_tls("localhost", port).with_address("127.0.0.1");
    let chat_client = Client::new(chat_only);
    let refused = chat_client.login_chat(UserId(1), Secret("unused".into()));
    let e = refused.await.unwrap_err();
    assert!(matches!(e, Error::Login(_)), "{e:?}");
    assert_eq!(e.retry(), Retry::Network, "{e:?}");
}

#[tokio::test]
async fn bad_credentials_and_a_refused_request_are_permanent() {
    let (_srv, client) = no_retries().await;
    let wrong = SessionUser::Login {
        login: "ann".into(),
        password: Secret("not-the-password".into()),
    };
    let e = client.login(wrong).await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Rest(connectycube::rest::RestError::Http { status: 401, .. })
        ),
        "{e:?}"
    );
    assert_eq!(e.retry(), Retry::Permanent);
    assert!(!e.is_retryable());

    let (ann, _events) = support::login(&client, "ann").await.unwrap();
    let nobody = ann
        .dialog("5356c64ab35c12bd3b108a41".parse().unwrap())
        .await;
    assert!(matches!(nobody, Err(ref e) if e.retry() == Retry::Permanent));
    let e = ann
        .create_dialog(&connectycube::rest::chat::dialogs::CreateDialog::group(
            "",
            [],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Rest(connectycube::rest::RestError::Http { status: 422, .. })
        ),
        "{e:?}"
    );
    assert_eq!(e.retry(), Retry::Permanent);
}
