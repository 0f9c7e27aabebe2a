//! Connect to chat, states, provider logins (session token, renewed), reconnection, disconnect.

use connectycube::rest::session::GetSession;
use connectycube::transport::session::ConnectionState;
use connectycube::{ChatAuth, Client};

use super::support::{app_config, credentials, devserver, login};

#[tokio::test]
async fn login_makes_the_rest_session_and_connects_chat_with_the_password() {
    let (srv, client) = devserver(&["alice"]).await.unwrap();
    let (alice, _events) = login(&client, "alice").await.unwrap();
    assert_eq!(alice.chat().state(), ConnectionState::Ready);
    assert_eq!(alice.chat().user(), alice.user());
    let token = alice.rest().token().expect("a REST session token");
    let stored = srv
        .store()
        .session(&token)
        .unwrap()
        .expect("the session is live");
    assert_eq!(stored.user_id, Some(alice.user()));
    let wrong = client
        .login(connectycube::rest::session::SessionUser::Login {
            login: "alice".into(),
            password: connectycube::rest::session::Secret("nope".into()),
        })
        .await;
    assert!(
        matches!(wrong, Err(connectycube::Error::Rest(_))),
        "{wrong:?}"
    );
}

#[tokio::test]
async fn states_stream_every_transition() {
    let (_srv, client) = devserver(&["alice"]).await.unwrap();
    let (alice, _events) = login(&client, "alice").await.unwrap();
    let mut states = alice.connection_states();
    assert_eq!(alice.chat().state(), ConnectionState::Ready);
    alice.chat().logout().await;
    let mut seen = Vec::new();
    while let Some(Ok(s)) = states.next().await {
        seen.push(s);
        if s == ConnectionState::Closed {
            break;
        }
    }
    assert_eq!(seen.last(), Some(&ConnectionState::Closed), "{seen:?}");
}

/// A provider login's chat password is the session token; when the session expires, the next
/// chat connection renews it first and logs in with the new token.
#[tokio::test]
async fn a_token_login_reconnects_with_the_renewed_session_token() {
    let (srv, _) = devserver(&["bob"]).await.unwrap();
    let config = app_config(&srv)
        .unwrap()
        .with_chat_auth(ChatAuth::SessionToken);
    let (bob, _events) = Client::new(config).login(credentials("bob")).await.unwrap();
    assert_eq!(bob.chat().state(), ConnectionState::Ready);
    let old = bob.rest().token().unwrap();
    bob.chat().logout().await;
    srv.store().delete_session(&old).unwrap(); // the session expires meanwhile
    bob.chat().relogin().await.unwrap();
    assert_eq!(bob.chat().state(), ConnectionState::Ready);
    let new = bob.rest().token().unwrap();
    assert_ne!(new, old, "the chat logged in after a renewal");
    assert!(srv.store().session(&new).unwrap().is_some());
    assert!(srv.store().session(&old).unwrap().is_none());
}

#[tokio::test]
async fn reconnection_settings_and_relogin() {
    let (srv, _) = devserver(&["alice"]).await.unwrap();
    let mut config = app_config(&srv).unwrap();
    config.settings = config
        .settings
        .with_total_reconnections(5)
        .with_reconnection_timeout(std::time::Duration::from_millis(500));
    let (alice, _events) = Client::new(config)
        .login(credentials("alice"))
        .await
        .unwrap();
    alice.chat().logout().await;
    assert_ne!(alice.chat().state(), ConnectionState::Ready);
    alice.chat().relogin().await.unwrap();
    assert_eq!(alice.chat().state(), ConnectionState::Ready);
    alice.chat().ping().await.unwrap();
}

#[tokio::test]
async fn logout_and_destroy_end_both_halves() {
    let (srv, client) = devserver(&["alice", "bob"]).await.unwrap();
    let (alice, _a) = login(&client, "alice").await.unwrap();
    let (bob, _b) = login(&client, "bob").await.unwrap();
    let (ta, tb) = (alice.rest().token().unwrap(), bob.rest().token().unwrap());
    alice.logout().await.unwrap();
    bob.destroy().await.unwrap();
    for (s, token) in [(&alice, ta), (&bob, tb)] {
        assert_eq!(s.chat().state(), ConnectionState::Closed);
        assert!(s.rest().token().is_none());
        assert!(srv.store().session(&token).unwrap().is_none());
        assert!(s.rest().send(&GetSession).await.is_err());
    }
    assert!(bob.chat().relogin().await.is_err(), "destroyed for good");
}
