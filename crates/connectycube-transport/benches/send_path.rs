//! The session's send path: 2,000 chat messages through `ChatConnection::send` to an
//! in-memory server that acknowledges like ejabberd (`<r/>` answered with `<a h/>`), awaited
//! to the ack. No sockets: what is measured is the session and the writer hand-off.
//! `cargo bench -p connectycube-transport --bench send_path`

// Fixed inputs: a failure is a bug the benchmark should stop on.
#![allow(clippy::unwrap_used)]
// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use connectycube_transport::connector::{AuthenticatedStream, BoxFuture, Connector, Credentials};
use connectycube_transport::error::ConnectError;
use connectycube_transport::session::{ChatConnection, SessionSettings};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::stream_features::StreamFeatures;

const N: usize = 2000;
const MESSAGE: &str = "<message xmlns='jabber:client' to='1002-1@localhost' id='5f0e3c2a9b1d4e0012345678' type='chat'><body>hello, how are you doing today?</body><extraParams xmlns='jabber:client'><save_to_history>1</save_to_history><dialog_id>5f0e3c2a9b1d4e0012345679</dialog_id><date_sent>1409146118</date_sent></extraParams><markable xmlns='urn:xmpp:chat-markers:0'/></message>";

struct Loopback;

#[path = "send_path/server.rs"]
mod server;

impl Connector for Loopback {
    fn connect<'a>(
        &'a self,
        _credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<AuthenticatedStream, ConnectError>> {
        Box::pin(async move {
            let xml = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
                <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";
            let features = StreamFeatures::try_from(xml.parse::<Element>().unwrap()).unwrap();
            let (to_client, incoming) = mpsc::channel(256);
            let (outgoing, from_client) = mpsc::channel(256);
            tokio::spawn(server::serve(from_client, to_client));
            Ok(AuthenticatedStream {
                features,
                incoming,
                outgoing,
            })
        })
    }
}

fn sends(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let creds = Credentials {
        jid: BareJid::new("1001-1@localhost").unwrap(),
        password: "pw".into(),
    };
    let conn = rt.block_on(async {
        let (conn, incoming) = ChatConnection::new(Loopback, creds, SessionSettings::default());
        std::mem::forget(incoming);
        conn.login().await.unwrap();
        conn
    });
    let el: Element = MESSAGE.parse().unwrap();
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("send 2000 messages, awaited to the ack", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..N).map(|_| conn.send(el.clone())).collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        });
    });
    group.finish();
}

criterion_group!(benches, sends);
criterion_main!(benches);
