//! RFC 7395 over ws and wss, with the same semantics as TCP.

use connectycube_transport::config::ConnectionConfig;

use super::*;

#[tokio::test]
async fn ws_and_wss_clients_chat_with_a_tcp_client() {
    let s = server().await;
    let ws =
        ConnectionConfig::websocket("localhost", s.handle.ws_url()).allow_plaintext_for_tests(true);
    let wss = ConnectionConfig::websocket("localhost", s.handle.wss_url())
        .with_address("127.0.0.1")
        .with_custom_root_ca_pem(s.handle.ca_pem().as_bytes().to_vec());
    let (a, mut ai) = s.login_with(ws, 1, "pw1", "ws").await;
    let (b, mut bi) = s.login_with(wss, 2, "pw2", "wss").await;
    let (c, mut ci) = s.login(3, "tcp").await;
    a.send(saved_chat(&jid(2), "5c0e7a13e588ce6b6f3ebf82", "ws to wss"))
        .await
        .unwrap();
    let got = next_body(&mut bi).await;
    assert_eq!(body(&got).as_deref(), Some("ws to wss"));
    assert!(extra(&got, "dialog_id").is_some());
    b.send(chat(&jid(3), "m2", "wss to tcp")).await.unwrap();
    assert_eq!(
        body(&next_body(&mut ci).await).as_deref(),
        Some("wss to tcp")
    );
    c.send(chat(&jid(1), "m3", "tcp to ws")).await.unwrap();
    assert_eq!(
        body(&next_body(&mut ai).await).as_deref(),
        Some("tcp to ws")
    );
    a.ping_with_timeout(WAIT).await.unwrap();
}

#[tokio::test]
async fn ws_garbage_gets_a_stream_error() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let s = server().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(s.handle.ws_url())
        .await
        .unwrap();
    ws.send(Message::text(
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
    ))
    .await
    .unwrap();
    ws.send(Message::text("<not <xml")).await.unwrap();
    let mut texts = String::new();
    while let Ok(Some(Ok(m))) = tokio::time::timeout(WAIT, ws.next()).await {
        if let Message::Text(t) = m {
            texts.push_str(t.as_str());
            if texts.contains("not-well-formed") {
                break;
            }
        }
    }
    assert!(texts.contains("not-well-formed"), "{texts}");
}
