//! Bad input ends only the connection that sent it: malformed XML, oversized and too-deep
//! stanzas, unknown namespaces. Two users keep chatting and nothing stored is lost.

use connectycube_protocol::ids::{DialogId, MessageId};

use super::*;
use crate::chat::codec::{MAX_DEPTH, MAX_STANZA};

async fn stream_error(r: &mut Raw) -> String {
    loop {
        match r.frame().await {
            Some(Frame::Stanza(el)) if el.name() == "error" => {
                return el
                    .children()
                    .find(|c| c.ns() == "urn:ietf:params:xml:ns:xmpp-streams" && c.name() != "text")
                    .map(|c| c.name().to_owned())
                    .unwrap_or_default();
            }
            Some(_) => continue,
            None => return "closed without an error".into(),
        }
    }
}

#[tokio::test]
async fn garbage_from_one_client_does_not_disturb_the_others() {
    let s = server().await;
    let (a, _ai) = s.login(1, "a").await;
    let (_b, mut bi) = s.login(2, "b").await;
    let first = MessageId::generate();
    a.send(saved_chat(&jid(2), &first.to_string(), "before"))
        .await
        .unwrap();
    let dialog: DialogId = extra(&next_body(&mut bi).await, "dialog_id")
        .unwrap()
        .parse()
        .unwrap();

    let attacks: Vec<(String, &str)> = vec![
        (
            "<message><body>unclosed</wrong></message>".into(),
            "not-well-formed",
        ),
        (
            "<!DOCTYPE x [<!ENTITY a 'b'>]><x/>".into(),
            "not-well-formed",
        ),
        ("<a>".repeat(MAX_DEPTH + 10), "policy-violation"),
        (
            format!(
                "<message><body>{}</body></message>",
                "x".repeat(MAX_STANZA + 10)
            ),
            "policy-violation",
        ),
        (
            "<foo xmlns='urn:unknown'/>".into(),
            "unsupported-stanza-type",
        ),
    ];
    for (garbage, condition) in attacks {
        let mut r = s.raw_bound(3, "evil").await;
        r.send(&garbage).await;
        assert_eq!(stream_error(&mut r).await, condition, "for {:.60}", garbage);
        // Meanwhile the others chat on.
        let id = MessageId::generate();
        a.send(saved_chat(&jid(2), &id.to_string(), "during"))
            .await
            .unwrap();
        assert_eq!(body(&next_body(&mut bi).await).as_deref(), Some("during"));
    }
    // Garbage before authentication too.
    let mut r = s.raw().await;
    r.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><auth <<<").await;
    assert_eq!(stream_error(&mut r).await, "not-well-formed");
    let history = s.backend.history(dialog);
    assert_eq!(history.len(), 6, "nothing stored was lost");
    assert_eq!(history[0].message.id, first);
}

#[tokio::test]
async fn a_deep_stanza_is_refused_before_it_is_built() {
    let s = server().await;
    let mut r = s.raw_bound(1, "r").await;
    // A million levels would overflow a recursive builder or drop; the guard stops at the limit.
    let deep = "<a>".repeat(1_000_000);
    r.send(&deep[..MAX_STANZA / 2]).await;
    assert_eq!(stream_error(&mut r).await, "policy-violation");
    let (a, _ai) = s.login(1, "again").await;
    a.ping_with_timeout(WAIT).await.unwrap();
}

#[tokio::test]
async fn stanzas_before_bind_are_refused() {
    let s = server().await;
    let mut r = s.raw().await;
    r.login(1).await;
    r.send(&format!(
        "<message to='{}'><body>x</body></message>",
        jid(2)
    ))
    .await;
    assert_eq!(stream_error(&mut r).await, "not-authorized");
}
