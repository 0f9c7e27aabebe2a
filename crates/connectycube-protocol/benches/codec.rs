//! The typed layer's cost over bare XML parsing, on a typical chat message: body, extraParams
//! (save_to_history, date_sent, dialog_id, a custom property) and two attachments.
//!
//! `cargo bench -p connectycube-protocol --bench codec`; figures in docs/PERFORMANCE.md.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::hint::black_box;

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::ids::{AppId, UserId};
use connectycube_protocol::message::ChatKind;
use connectycube_protocol::model::{Attachment, Message};
use connectycube_protocol::{ChatEvent, classify_xml};
use criterion::{Criterion, criterion_group, criterion_main};

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
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
