//! The duplicate and order filter's cost per inbound event (it was the ignored test
//! `delivery::tests::cost_per_event`): 200,000 distinct chat messages from 4 sending processes
//! in 16 dialogs through a fresh filter, then the last 4,096 replayed (all duplicates).
//! `cargo bench -p connectycube --features bench-internals --bench delivery_filter`

// Fixed inputs: a failure is a bug the benchmark should stop on.
#![allow(clippy::unwrap_used)]
// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use connectycube::bench_api::FilterBench;
use connectycube_protocol::classify_xml;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::ObjectId;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const EVENTS: u32 = 200_000;
const REPLAYED: usize = 4096;

/// An id of sending process `process` with counter `counter`.
fn id(process: u8, counter: u32) -> String {
    ObjectId::from_parts(1_700_000_000, [process; 5], counter).to_string()
}

fn message(id: &str, dialog: &str) -> ChatEvent {
    classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{id}" from="29085-105@chat.connectycube.com/phone"
             to="29086-105@chat.connectycube.com" type="chat"><body>hi</body>
           <extraParams xmlns="jabber:client"><dialog_id>{dialog}</dialog_id></extraParams>
           <markable xmlns="urn:xmpp:chat-markers:0"/></message>"#
    ))
    .unwrap()
}

fn filter(c: &mut Criterion) {
    let dialogs: Vec<String> = (0..16).map(|d| id(200, d)).collect();
    let events: Vec<ChatEvent> = (0..EVENTS)
        .map(|c| message(&id(1 + (c % 4) as u8, c), &dialogs[(c % 16) as usize]))
        .collect();
    let mut group = c.benchmark_group("delivery_filter");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(EVENTS)));
    group.bench_function("200000 new messages, fresh filter", |b| {
        b.iter_batched(
            FilterBench::default,
            |mut f| {
                for e in &events {
                    std::hint::black_box(f.admit(e));
                }
                f
            },
            BatchSize::LargeInput,
        );
    });
    let mut seen = FilterBench::default();
    for e in &events {
        seen.admit(e);
    }
    let replayed: Vec<&ChatEvent> = events.iter().rev().take(REPLAYED).collect();
    group.throughput(Throughput::Elements(REPLAYED as u64));
    group.bench_function("4096 replayed (duplicates)", |b| {
        b.iter(|| {
            for e in &replayed {
                assert!(!std::hint::black_box(seen.admit(e)));
            }
        });
    });
    group.finish();
    println!("filter after the runs: {:?}", seen.stats());
}

criterion_group!(benches, filter);
criterion_main!(benches);
