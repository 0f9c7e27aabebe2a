//! What publishing to the event hub costs per event and subscriber (it was the ignored test
//! `fanout::tests::cost_per_publish`): 100,000 events to 1, 4 and 16 subscribers that read as
//! they go (in chunks of 512, reading included), and to subscribers none of which reads (every
//! queue full: each event is only counted).
//! `cargo bench -p connectycube --features bench-internals --bench fanout`

// Fixed inputs: a failure is a bug the benchmark should stop on.
#![allow(clippy::unwrap_used)]
// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use connectycube::Subscription;
use connectycube::bench_api::{HubBench, chat_event};
use connectycube_protocol::classify_xml;
use connectycube_protocol::ids::{MessageId, ObjectId};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt;

const EVENTS: u32 = 100_000;
const DIALOG: &str = "5c093376e588ce6856f873fe";

fn message(counter: u32) -> connectycube::Event {
    let id = MessageId(ObjectId::from_parts(1_700_000_000, [1; 5], counter));
    chat_event(
        classify_xml(&format!(
            r#"<message xmlns="jabber:client" id="{id}" from="29085-105@chat.connectycube.com/a"
                 to="29086-105@chat.connectycube.com" type="chat"><body>{counter}</body>
               <extraParams xmlns="jabber:client"><dialog_id>{DIALOG}</dialog_id></extraParams>
               </message>"#
        ))
        .unwrap(),
    )
}

fn drain(sub: &mut Subscription) -> usize {
    let mut n = 0;
    while let Some(Some(_)) = sub.next().now_or_never() {
        n += 1;
    }
    n
}

fn publish(c: &mut Criterion) {
    let events: Vec<connectycube::Event> = (0..EVENTS).map(message).collect();
    let mut group = c.benchmark_group("fanout");
    group.sample_size(10);
    for subscribers in [1usize, 4, 16] {
        let hub = HubBench::new(1024);
        let mut subs: Vec<Subscription> = (0..subscribers).map(|_| hub.subscribe()).collect();
        group.throughput(Throughput::Elements(u64::from(EVENTS) * subscribers as u64));
        group.bench_function(format!("100000 events to {subscribers} reading"), |b| {
            // The events are the pump's to hand over: copying them is not the hub's cost.
            b.iter_batched(
                || events.clone(),
                |owned| {
                    let mut owned = owned.into_iter();
                    for _ in 0..owned.len().div_ceil(512) {
                        for e in owned.by_ref().take(512) {
                            hub.publish(e);
                        }
                        for s in &mut subs {
                            std::hint::black_box(drain(s));
                        }
                    }
                },
                BatchSize::PerIteration,
            );
        });
        let lagging: Vec<Subscription> = (0..=subscribers).map(|_| hub.subscribe()).collect();
        drop(subs);
        group.throughput(Throughput::Elements(u64::from(EVENTS)));
        group.bench_function(
            format!("100000 events to {} none reading", subscribers + 1),
            |b| {
                b.iter_batched(
                    || events.clone(),
                    |owned| {
                        for e in owned {
                            hub.publish(e);
                        }
                    },
                    BatchSize::PerIteration,
                );
            },
        );
        drop(lagging);
    }
    group.finish();
}

criterion_group!(benches, publish);
criterion_main!(benches);
