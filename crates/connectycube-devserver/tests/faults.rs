//! Fault injection, from Rust and over the admin endpoint: a cut connection resumes (or,
//! with the next resumption refused, starts a new session), a stalled or delayed user gets
//! their messages late but in order, and the next REST requests fail with the status asked.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

mod kit;
mod support;

use std::time::{Duration, Instant};

use connectycube_protocol::ids::MessageId;
use connectycube_rest::chat::dialogs::ListDialogs;
use connectycube_transport::session::{ChatConnection, ConnectionState, SessionSettings};
use futures_util::StreamExt;
use kit::{WAIT, chat, message, message_to, rest, server};
use serde_json::json;

/// Reconnects at once after a drop, so a test sees the recovery quickly.
fn quick() -> SessionSettings {
    SessionSettings::default().with_reconnection_timeout(Duration::from_millis(50))
}

/// The states `conn` goes through (every one, in order) until it is `Ready` again after
/// leaving it.
fn recovery(conn: &ChatConnection) -> impl Future<Output = Vec<ConnectionState>> + use<> {
    let mut states = Box::pin(conn.state_changes());
    async move {
        let mut seen = Vec::new();
        let done = tokio::time::timeout(WAIT, async {
            while let Some(s) = states.next().await {
                seen.push(s);
                if s == ConnectionState::Ready && seen.len() > 1 {
                    return;
                }
            }
        })
        .await;
        assert!(done.is_ok(), "not ready again: {seen:?}");
        seen
    }
}

#[tokio::test]
async fn a_cut_connection_resumes_and_a_refused_resumption_makes_a_new_session() {
    let srv = server(&["ann"]).await;
    let (_, ann, token) = rest(&srv, "ann").await;
    let (conn, _in) = chat(&srv, ann, &token, quick()).await;
    let faults = srv.chat_faults().unwrap();

    let watching = recovery(&conn);
    faults.cut(ann);
    let states = watching.await;
    assert!(
        states.contains(&ConnectionState::Reconnecting),
        "{states:?}"
    );
    assert!(states.contains(&ConnectionState::Resumed), "{states:?}");

    // Over the admin endpoint this time: refuse the next resumption, then cut.
    let headers = [
        ("cb-authkey", srv.auth_key()),
        ("content-type", "application/json"),
    ];
    let admin = |body: serde_json::Value| {
        support::send(
            srv.api_addr(),
            "POST",
            "/_devserver/faults",
            &headers,
            body.to_string().into_bytes(),
        )
    };
    let a = admin(json!({"fault": "refuse_next_resumption", "user_id": ann.0})).await;
    assert_eq!(a.status, 200, "{:?}", a.json());
    let watching = recovery(&conn);
    assert_eq!(
        admin(json!({"fault": "cut", "user_id": ann.0}))
            .await
            .status,
        200
    );
    let states = watching.await;
    assert!(states.contains(&ConnectionState::NewSession), "{states:?}");
    assert!(!states.contains(&ConnectionState::Resumed), "{states:?}");
    let bad = admin(json!({"fault": "explode", "user_id": ann.0})).await;
    assert_eq!(bad.status, 422);
    conn.logout().await;
}

#[tokio::test]
async fn stalled_and_delayed_users_get_their_messages_late_and_in_order() {
    let srv = server(&["ann", "bob"]).await;
    let (_, ann, ann_token) = rest(&srv, "ann").await;
    let (_, bob, bob_token) = rest(&srv, "bob").await;
    let (ann_chat, _) = chat(&srv, ann, &ann_token, quick()).await;
    let (_bob_chat, mut bob_in) = chat(&srv, bob, &bob_token, quick()).await;
    let faults = srv.chat_faults().unwrap();
    let late = Duration::from_millis(600);

    faults.delay_delivery(bob, late);
    let ids: Vec<String> = (0..3).map(|_| MessageId::generate().to_string()).collect();
    let sent = Instant::now();
    for id in &ids {
        ann_chat
            .send(message_to(&srv, bob, id, "late", ""))
            .await
            .unwrap();
    }
    for id in &ids {
        message(&mut bob_in, id).await;
    }
    assert!(
        sent.elapsed() >= late,
        "delivered after {:?}",
        sent.elapsed()
    );
    faults.delay_delivery(bob, Duration::ZERO);

    faults.stall(bob, late);
    let id = MessageId::generate().to_string();
    let sent = Instant::now();
    ann_chat
        .send(message_to(&srv, bob, &id, "stalled", ""))
        .await
        .unwrap();
    message(&mut bob_in, &id).await;
    assert!(
        sent.elapsed() >= late - Duration::from_millis(50),
        "{:?}",
        sent.elapsed()
    );
    ann_chat.logout().await;
}

#[tokio::test]
async fn the_next_rest_requests_fail_with_the_status_asked() {
    let srv = server(&["ann"]).await;
    let (client, _, token) = rest(&srv, "ann").await;
    srv.rest()
        .fail_next_requests_with(2, http::StatusCode::SERVICE_UNAVAILABLE);
    for _ in 0..2 {
        let a = support::send(
            srv.api_addr(),
            "GET",
            "/chat/Dialog",
            &[("cb-token", &token)],
            Vec::new(),
        )
        .await;
        assert_eq!(a.status, 503);
        assert_eq!(a.headers.get("retry-after").map(String::as_str), Some("1"));
        assert_eq!(a.json()["errors"]["base"][0], "Injected failure");
    }
    client.send(&ListDialogs::new()).await.unwrap();
    // Over the admin endpoint, which itself never fails.
    let a = support::send(
        srv.api_addr(),
        "POST",
        "/_devserver/faults",
        &[
            ("cb-authkey", srv.auth_key()),
            ("content-type", "application/json"),
        ],
        json!({"fault": "fail_next_requests", "count": 1, "status": 429})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(a.status, 200);
    let failed = support::send(
        srv.api_addr(),
        "GET",
        "/chat/Dialog",
        &[("cb-token", &token)],
        Vec::new(),
    )
    .await;
    assert_eq!(failed.status, 429);
    client.send(&ListDialogs::new()).await.unwrap();
}

/// One route's answers misbehave as armed (after the requests let through, for as many as
/// asked) while the others answer normally, and every request to a route is counted.
#[tokio::test]
async fn a_routes_answers_misbehave_as_armed_and_its_requests_are_counted() {
    use connectycube_devserver::rest::{RestFault, RouteFault};
    use connectycube_rest::chat::dialogs::CreateDialog;
    use connectycube_rest::chat::messages::{CreateMessage, Target};

    let srv = server(&["ann", "bob"]).await;
    let (client, _, token) = rest(&srv, "ann").await;
    let (_, bob, _) = rest(&srv, "bob").await;
    let dialog = client
        .send(&CreateDialog::group("g", [bob]))
        .await
        .unwrap()
        .id;
    for i in 0..5 {
        let m = CreateMessage::new(Target::Dialog(dialog)).text(format!("m{i}"));
        client.send(&m).await.unwrap();
    }
    let page = || async {
        let path = format!("/chat/Message?chat_dialog_id={dialog}&limit=2");
        support::send(
            srv.api_addr(),
            "GET",
            &path,
            &[("cb-token", &token)],
            vec![],
        )
        .await
    };
    let st = srv.rest();
    st.inject_route_fault(
        RouteFault::new("ListMessages", RestFault::IgnoreLimit)
            .after(1)
            .times(1),
    );
    let sizes = [page().await, page().await, page().await]
        .map(|a| a.json()["items"].as_array().map(Vec::len));
    assert_eq!(
        sizes,
        [Some(2), Some(5), Some(2)],
        "only the second ignored it"
    );

    st.inject_route_fault(RouteFault::new("ListMessages", RestFault::MalformedJson));
    let malformed = page().await;
    assert_eq!(malformed.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&malformed.body).is_err());
    st.inject_route_fault(RouteFault::new(
        "ListMessages",
        RestFault::Oversized(10_000),
    ));
    let oversized = page().await;
    assert_eq!(oversized.body.len(), 10_000);
    assert_eq!(oversized.json()["items"], json!([]));
    let status = RestFault::Status(http::StatusCode::BAD_GATEWAY);
    st.inject_route_fault(RouteFault::new("ListMessages", status));
    client.send(&ListDialogs::new()).await.unwrap();
    assert_eq!(page().await.status, 502, "another route did not take it");
    assert_eq!(page().await.status, 200);
    assert_eq!(st.served("ListMessages"), 7);
    assert_eq!(st.served("CreateMessage"), 5);
    st.clear_route_faults();
}

/// A new message updates its dialog: `updated_at[gt]` a time lists the dialogs that got
/// messages since (what the facade's gap filler asks after a new session).
#[tokio::test]
async fn dialogs_updated_since_a_time_are_those_that_got_messages() {
    use connectycube_devserver::store::{Dialog, NewMessage, dialog_type};
    use connectycube_rest::chat::dialogs::DialogField;
    use connectycube_rest::query::FilterOp;

    let srv = server(&["ann"]).await;
    let (client, ann, _) = rest(&srv, "ann").await;
    let hour_ago = chrono::Utc::now().timestamp() - 3600;
    let dialogs: Vec<_> = (0..3)
        .map(|_| {
            let mut d = Dialog::new(srv.app_id(), dialog_type::GROUP, ann);
            d.occupants = vec![ann];
            (d.created_at, d.updated_at) = (hour_ago, hour_ago);
            srv.store().put_dialog(&d).unwrap();
            d.id
        })
        .collect();
    srv.store()
        .save_message(&NewMessage::new(dialogs[1], ann))
        .unwrap();
    let since = hour_ago + 60;
    let changed = ListDialogs::new().filter(DialogField::UpdatedAt, FilterOp::Gt, since);
    let listed: Vec<_> = client
        .send(&changed)
        .await
        .unwrap()
        .items
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, [dialogs[1]]);
}
