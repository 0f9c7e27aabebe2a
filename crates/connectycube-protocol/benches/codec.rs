//! The typed layer's cost over bare XML parsing, on a typical chat message: body, extraParams
//! (save_to_history, date_sent, dialog_id, a custom property) and two attachments.
//!
//! Two paths beside their floors: the tree path (minidom `Element`, the floors a bare minidom
//! parse and serialize) and the tree-free path (`fast`: the message read from rxml's events
//! and written as text; the floors an rxml namespaced tokenizer pass over the same bytes, and
//! the same bytes pushed as ready pieces with no escaping or checks).
//!
//! `cargo bench -p connectycube-protocol --bench codec`; figures in docs/PERFORMANCE.md.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::hint::black_box;

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::fast::read_message;
use connectycube_protocol::ids::{AppId, UserId};
use connectycube_protocol::message::ChatKind;
use connectycube_protocol::model::{Attachment, Message};
use connectycube_protocol::{ChatEvent, classify_xml};
use criterion::{Criterion, criterion_group, criterion_main};
use std::fmt::Write as _;
use xmpp_parsers::jid::Jid;
use xso::exports::rxml::{self, Parse as _};

const INBOUND: &str = r#"<message xmlns="jabber:client" id="5c094687e588ce59fff87425" from="29085-105@chat.connectycube.com/phone" to="29086-105@chat.connectycube.com/web" type="chat"><body>Here are the photos from Saturday, and the video of the cake!</body><extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><date_sent>1544111751</date_sent><dialog_id>5c093376e588ce6856f873fe</dialog_id><attachment type="image" id="a8b3c1e0d2f94e1b" name="IMG_2041.jpg" size="482133" content-type="image/jpeg" width="1024" height="768"/><attachment type="video" url="https://cdn.example.com/v/3f2a.mp4" name="cake.mp4" size="9043211" content-type="video/mp4" duration="42"/><mood>happy</mood></extraParams><markable xmlns="urn:xmpp:chat-markers:0"/></message>"#;

fn outbound() -> Message {
    let mut m = Message::new("Here are the photos from Saturday, and the video of the cake!");
    m.date_sent = Some(1544111751);
    let mut image = Attachment::new("image").with_id("a8b3c1e0d2f94e1b");
    image.name = Some("IMG_2041.jpg".into());
    image.size = Some(482133);
    image.content_type = Some("image/jpeg".into());
    image.width = Some(1024);
    image.height = Some(768);
    let mut video = Attachment::new("video").with_url("https://cdn.example.com/v/3f2a.mp4");
    video.name = Some("cake.mp4".into());
    video.size = Some(9043211);
    video.content_type = Some("video/mp4".into());
    video.duration = Some(42);
    m.attachments = vec![image, video];
    m.custom.insert("mood".into(), "happy".into());
    m
}

fn codec(c: &mut Criterion) {
    assert!(matches!(
        classify_xml(INBOUND),
        Ok(ChatEvent::ChatMessage(_))
    ));
    let mut g = c.benchmark_group("chat_message");
    g.bench_function("floor: parse into minidom::Element", |b| {
        b.iter(|| black_box(black_box(INBOUND).parse::<minidom::Element>()))
    });
    g.bench_function("parse + classify", |b| {
        b.iter(|| black_box(classify_xml(black_box(INBOUND))))
    });
    assert!(matches!(
        read_message(INBOUND.as_bytes()),
        Some(ChatEvent::ChatMessage(_))
    ));
    g.bench_function("floor: rxml namespaced tokenizer pass", |b| {
        b.iter(|| tokenize(black_box(INBOUND.as_bytes())))
    });
    g.bench_function("fast parse + classify", |b| {
        b.iter(|| black_box(read_message(black_box(INBOUND.as_bytes()))))
    });

    let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
    let to: xmpp_parsers::jid::Jid = domain
        .user_jid(UserId(29086))
        .map(Into::into)
        .unwrap_or_else(|e| panic!("{e}"));
    let message = outbound();
    let element = message
        .to_stanza(to.clone(), ChatKind::Chat)
        .unwrap_or_else(|e| panic!("{e}"));
    g.bench_function("floor: serialize a minidom::Element", |b| {
        b.iter(|| black_box(String::from(black_box(&element))))
    });
    g.bench_function("build + serialize", |b| {
        b.iter(|| {
            let el = black_box(&message).to_stanza(to.clone(), ChatKind::Chat);
            black_box(el.map(|e| String::from(&e)))
        })
    });

    let mut direct = String::new();
    message
        .write_stanza(&to, ChatKind::Chat, &mut direct)
        .unwrap_or_else(|e| panic!("{e}"));
    let floor = write_floor(&message, &to);
    assert_eq!(
        floor.parse::<minidom::Element>().ok(),
        direct.parse::<minidom::Element>().ok(),
        "the floor writes the same stanza"
    );
    g.bench_function("floor: direct writer (ready pieces)", |b| {
        b.iter(|| black_box(write_floor(black_box(&message), &to)))
    });
    g.bench_function("fast build + serialize", |b| {
        b.iter(|| {
            let mut out = String::with_capacity(1024);
            let r = black_box(&message).write_stanza(&to, ChatKind::Chat, &mut out);
            black_box((r, out))
        })
    });
    g.finish();
}

/// Every event of `xml`, namespaces resolved, each dropped as it comes. Never inlined, so a
/// callgrind profile counts its calls (as it does those of the library functions benched).
#[inline(never)]
fn tokenize(xml: &[u8]) -> usize {
    let mut parser = rxml::Parser::new();
    let mut rest = xml;
    let mut n = 0;
    while let Ok(Some(event)) = parser.parse(&mut rest, true) {
        black_box(&event);
        n += 1;
    }
    n
}

/// The bench message's stanza pushed as it is known to be: its texts need no escaping and
/// its names no check, so this is the copying and number formatting alone. Never inlined (see
/// [`tokenize`]).
#[inline(never)]
fn write_floor(m: &Message, to: &Jid) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("<message xmlns='jabber:client' to='");
    out.push_str(to.as_str());
    let _ = write!(out, "' id='{}' type='chat'><body>", m.id);
    out.push_str(m.body.as_deref().unwrap_or_default());
    out.push_str("</body><extraParams>");
    if m.save_to_history {
        out.push_str("<save_to_history>1</save_to_history>");
    }
    if let Some(d) = m.date_sent {
        let _ = write!(out, "<date_sent>{d}</date_sent>");
    }
    for a in &m.attachments {
        out.push_str("<attachment type='");
        out.push_str(a.kind.as_str());
        out.push('\'');
        for (name, v) in [
            ("id", &a.id),
            ("url", &a.url),
            ("name", &a.name),
            ("content-type", &a.content_type),
        ] {
            if let Some(v) = v {
                let _ = write!(out, " {name}='{v}'");
            }
        }
        for (name, v) in [
            ("size", a.size),
            ("width", a.width),
            ("height", a.height),
            ("duration", a.duration),
        ] {
            if let Some(v) = v {
                let _ = write!(out, " {name}='{v}'");
            }
        }
        out.push_str("/>");
    }
    for (k, v) in &m.custom {
        let _ = write!(out, "<{k}>{}</{k}>", v.as_str().unwrap_or_default());
    }
    out.push_str("</extraParams>");
    if m.markable {
        out.push_str("<markable xmlns='urn:xmpp:chat-markers:0'/>");
    }
    out.push_str("</message>");
    out
}

criterion_group!(benches, codec);
criterion_main!(benches);
