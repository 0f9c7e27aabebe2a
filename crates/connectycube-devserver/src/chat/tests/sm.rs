//! XEP-0198 on the server: enable, r/a, resumption with the unacked queue replayed, and
//! ejabberd's max_ack_queue.

use super::*;
use crate::chat::ChatConfig;

const SM: &str = "urn:xmpp:sm:3";

async fn enable(r: &mut Raw) -> String {
    r.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
        .await;
    let enabled = r.until(|e| e.is("enabled", SM)).await;
    assert_eq!(enabled.attr("resume"), Some("true"));
    enabled.attr("id").unwrap().to_owned()
}

#[tokio::test]
async fn server_answers_r_with_the_count_of_client_stanzas() {
    let s = server().await;
    let mut r = s.raw_bound(1, "r").await;
    enable(&mut r).await;
    r.send("<presence/><iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='urn:xmpp:sm:3'/>")
        .await;
    let a = r.until(|e| e.is("a", SM)).await;
    assert_eq!(a.attr("h"), Some("2"));
}

#[tokio::test]
async fn resumption_replays_unacked_and_queued_messages() {
    let s = server().await;
    let mut r = s.raw_bound(1, "r").await;
    let id = enable(&mut r).await;
    r.send("<presence/>").await;
    let (b, _bi) = s.login(2, "b").await;
    for n in 1..=3 {
        b.send(chat(&jid(1), &format!("m{n}"), &format!("msg {n}")))
            .await
            .unwrap();
    }
    for n in 1..=3 {
        let m = r.until(|e| e.name() == "message").await;
        assert_eq!(body(&m), Some(format!("msg {n}")));
    }
    // Break the socket without closing the stream: the session waits for resumption.
    drop(r);
    b.send(chat(&jid(1), "m4", "msg 4")).await.unwrap();
    b.ping_with_timeout(WAIT).await.unwrap();
    let mut r = s.raw().await;
    r.login(1).await;
    // We acknowledge only the first message.
    r.send(&format!(
        "<resume xmlns='urn:xmpp:sm:3' previd='{id}' h='1'/>"
    ))
    .await;
    let resumed = r.until(|e| e.is("resumed", SM) || e.is("failed", SM)).await;
    assert!(resumed.is("resumed", SM), "{}", String::from(&resumed));
    assert_eq!(resumed.attr("h"), Some("1"), "the server saw our presence");
    let mut bodies = Vec::new();
    while bodies.len() < 3 {
        let m = r.until(|e| e.name() == "message").await;
        bodies.extend(body(&m));
    }
    assert_eq!(bodies, ["msg 2", "msg 3", "msg 4"]);
    // The resumed session is the same resource and still receives.
    b.send(chat(&format!("{}/r", jid(1)), "m5", "msg 5"))
        .await
        .unwrap();
    let m = r.until(|e| e.name() == "message").await;
    assert_eq!(body(&m).as_deref(), Some("msg 5"));
}

#[tokio::test]
async fn resuming_an_unknown_session_fails_with_item_not_found() {
    let s = server().await;
    let mut r = s.raw().await;
    r.login(1).await;
    r.send("<resume xmlns='urn:xmpp:sm:3' previd='nope' h='0'/>")
        .await;
    let failed = r.until(|e| e.is("failed", SM)).await;
    assert!(failed.has_child("item-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas"));
}

#[tokio::test]
async fn another_user_cannot_resume_a_session() {
    let s = server().await;
    let mut r = s.raw_bound(1, "r").await;
    let id = enable(&mut r).await;
    drop(r);
    let mut other = s.raw().await;
    other.login(2).await;
    other
        .send(&format!(
            "<resume xmlns='urn:xmpp:sm:3' previd='{id}' h='0'/>"
        ))
        .await;
    assert!(other.until(|e| e.name() == "failed").await.is("failed", SM));
}

/// A server (kept running by the caller) closing clients 5 stanzas behind, user 1 bound as `slow` with `before` done on its
/// raw stream, and user 2 (no stream management: no ack queue to overflow with the bounces)
/// sending it 8 messages.
async fn eight_to_a_slow_user(before: impl AsyncFnOnce(&Server, &mut Raw)) -> (Server, Raw, Raw) {
    let s = server_with(ChatConfig {
        max_ack_queue: 5,
        ..ChatConfig::default()
    })
    .await;
    let mut r = s.raw_bound(1, "slow").await;
    before(&s, &mut r).await;
    r.send("<presence/>").await;
    let mut b = s.raw_bound(2, "b").await;
    for n in 1..=8 {
        b.send(&String::from(&chat(
            &jid(1),
            &format!("m{n}"),
            &format!("msg {n}"),
        )))
        .await;
    }
    (s, r, b)
}

#[tokio::test]
async fn a_client_far_behind_in_acks_is_closed_and_its_messages_bounce_as_ejabberd_words_it() {
    let (_server, mut r, mut b) = eight_to_a_slow_user(async |_, r| drop(enable(r).await)).await;
    let err = r.until(|e| e.name() == "error").await;
    assert!(err.has_child("policy-violation", "urn:ietf:params:xml:ns:xmpp-streams"));
    let bounced = b.until(|e| e.attr("type") == Some("error")).await;
    assert!(
        bounced
            .attr("from")
            .is_some_and(|f| f.starts_with("1-1@localhost"))
    );
    assert!(body(&bounced).is_some_and(|b| b.starts_with("msg ")));
    // ejabberd's words, which senders' SDKs (ours among them) read as transient and resend.
    let error = bounced
        .get_child("error", "jabber:client")
        .map(String::from);
    let error = error.unwrap_or_default();
    assert!(error.contains("service-unavailable"), "{error}");
    assert!(error.contains("User session terminated"), "{error}");
}

#[test]
fn the_default_max_ack_queue_is_ejabberds() {
    assert_eq!(ChatConfig::default().max_ack_queue, 5000);
}

#[tokio::test]
async fn the_transport_keeps_acking_through_many_messages() {
    let s = server().await;
    let (a, _ai) = s.login(1, "a").await;
    let (_b, mut bi) = s.login(2, "b").await;
    for n in 0..2000 {
        drop(a.send(chat(&jid(2), &format!("m{n}"), &n.to_string())));
    }
    for n in 0..2000 {
        assert_eq!(body(&next_body(&mut bi).await), Some(n.to_string()));
    }
}

#[tokio::test]
async fn stanzas_held_back_by_a_delay_fault_count_toward_the_ack_queue() {
    // An hour's delay: without a bound, everything sent meanwhile would pile up in memory.
    let hour = std::time::Duration::from_secs(3600);
    let (_server, mut r, mut b) =
        eight_to_a_slow_user(async |s, _| s.handle.faults().delay_delivery(UserId(1), hour)).await;
    let err = r.until(|e| e.name() == "error").await;
    assert!(err.has_child("policy-violation", "urn:ietf:params:xml:ns:xmpp-streams"));
    let bounced = b.until(|e| e.attr("type") == Some("error")).await;
    assert!(body(&bounced).is_some_and(|b| b.starts_with("msg ")));
}
