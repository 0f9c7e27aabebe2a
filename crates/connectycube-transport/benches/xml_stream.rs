//! Codec throughput: parsing the server's stream and serializing ours, with no I/O.
//! `cargo bench -p connectycube-transport --bench xml_stream`

// Fixed inputs: a failure is a bug the benchmark should stop on.
#![allow(clippy::unwrap_used)]
// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use bytes::BytesMut;
use connectycube_protocol::{ChatEvent, classify};
use connectycube_transport::stanza::Stanza;
use connectycube_transport::xml_stream::{Frame, Parsed, StreamParser, StreamWriter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use minidom::Element;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";
const MESSAGE: &str = "<message from='1002-1@localhost/r1' to='1001-1@localhost' id='5f0e3c2a9b1d4e0012345678' type='chat'><body>hello, how are you doing today?</body><extraParams xmlns='jabber:client'><save_to_history>1</save_to_history><dialog_id>5f0e3c2a9b1d4e0012345679</dialog_id><date_sent>1409146118</date_sent></extraParams><markable xmlns='urn:xmpp:chat-markers:0'/></message>";
const N: usize = 1000;

fn parse(c: &mut Criterion) {
    let doc = format!("{HEADER}{}", MESSAGE.repeat(N));
    let mut group = c.benchmark_group("xml_stream");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("parse 1000 messages in 16 KiB reads", |b| {
        b.iter(|| {
            let mut parser = StreamParser::new(1 << 20);
            let mut count = 0;
            for chunk in doc.as_bytes().chunks(16 * 1024) {
                let mut data = chunk;
                while let Some(frame) = parser.next_frame(&mut data).unwrap() {
                    if matches!(frame, Frame::Stanza(_)) {
                        count += 1;
                    }
                }
                assert!(data.is_empty());
            }
            assert_eq!(count, N);
        });
    });
    // What the event task gets: the tree classified, or (hot) the message read from the
    // parser's events with them kept for a tree on demand.
    group.bench_function("parse + classify 1000 messages (trees)", |b| {
        b.iter(|| {
            let mut parser = StreamParser::new(1 << 20);
            let mut count = 0;
            for chunk in doc.as_bytes().chunks(16 * 1024) {
                let mut data = chunk;
                while let Some(frame) = parser.next_frame(&mut data).unwrap() {
                    if let Frame::Stanza(el) = frame
                        && let Ok(ChatEvent::ChatMessage(_)) = classify(el)
                    {
                        count += 1;
                    }
                }
            }
            assert_eq!(count, N);
        });
    });
    group.bench_function("read 1000 messages (hot, no tree)", |b| {
        b.iter(|| {
            let mut parser = StreamParser::new(1 << 20);
            parser.read_hot_messages();
            let mut count = 0;
            for chunk in doc.as_bytes().chunks(16 * 1024) {
                let mut data = chunk;
                while let Some(parsed) = parser.next_stanza(&mut data).unwrap() {
                    if let Parsed::Stanza(Stanza::Read(r)) = parsed
                        && let ChatEvent::ChatMessage(_) = r.into_event()
                    {
                        count += 1;
                    }
                }
            }
            assert_eq!(count, N);
        });
    });
    let el: Element = MESSAGE
        .replace("<message ", "<message xmlns='jabber:client' ")
        .parse()
        .unwrap();
    group.bench_function("serialize 1000 messages", |b| {
        b.iter(|| {
            let mut writer = StreamWriter::new();
            let mut out = BytesMut::with_capacity(N * MESSAGE.len());
            writer.header("localhost", &mut out).unwrap();
            for _ in 0..N {
                writer.element(&el, &mut out).unwrap();
            }
            out.len()
        });
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
