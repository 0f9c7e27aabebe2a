//! The in-memory server the session's tests run against: no sockets, every fault on demand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::stream_features::StreamFeatures;

use crate::connector::{AuthenticatedStream, BoxFuture, Connector, Credentials, Outgoing};
use crate::error::ConnectError;
use crate::error::{StreamCondition, StreamError};
use crate::session::*;
use crate::stanza::Stanza;

pub(super) const C: &str = "jabber:client";
pub(super) const SM: &str = "urn:xmpp:sm:3";

/// What the fake server does and saw.
#[derive(Default)]
pub(super) struct Server {
    /// Message ids received, in order, across connections.
    pub messages: Vec<String>,
    /// Stanzas handled in the current SM session (its `h`).
    pub h: u32,
    /// Whether a `<resume/>` is accepted.
    pub resumable: bool,
    /// Refuse the credentials.
    pub refuse_auth: bool,
    /// Refuse connections (network down).
    pub down: bool,
    /// Stop answering anything (a black hole).
    pub silent: bool,
    /// Sends every message id back as a bounced error.
    pub bounce: bool,
    /// The current connection's push channel and kill switch.
    pub push: Option<mpsc::Sender<Result<Stanza, StreamError>>>,
    /// The `h` of every `<a/>` the client sent, in order.
    pub client_acks: Vec<u32>,
    /// Do not answer the carbons IQ (the test answers it).
    pub hold_carbons: bool,
    /// Names of the stanzas received after SM negotiation, in order.
    pub stanzas: Vec<String>,
    /// Do not answer `<r/>` (acks withheld; the test sends `<a/>` itself).
    pub hold_acks: bool,
    /// Answer every `<r/>` with this `h` (a stale server).
    pub stale_ack: Option<u32>,
    /// Answer the next `<r/>` with this `h` (once).
    pub bogus_ack: Option<u32>,
    /// Answer the next `<resume/>` with this `h` (once).
    pub bogus_resumed: Option<u32>,
    /// Refuse `<resume/>` with `<failed h/>` carrying the old session's count.
    pub failed_with_h: bool,
    /// Fail the next connections with this error (e.g. "encryption").
    pub connect_error: Option<&'static str>,
    /// How many `<r/>` arrived.
    pub r_count: usize,
    /// The stream errors the client sent (its child element names).
    pub stream_errors: Vec<String>,
    /// The current connection stopped reading what the client writes ([`Fake::deafen`]).
    pub deaf: bool,
}

#[derive(Clone, Default)]
pub(super) struct Fake {
    pub server: Arc<Mutex<Server>>,
    pub connects: Arc<AtomicUsize>,
    /// Wakes the current connection's reader to stop reading ([`Fake::deafen`]).
    pub deafen: Arc<tokio::sync::Notify>,
}

impl Fake {
    pub fn with<T>(&self, f: impl FnOnce(&mut Server) -> T) -> T {
        f(&mut self.server.lock().unwrap())
    }

    /// Drops the current connection as a network failure would.
    pub fn cut(&self) {
        self.with(|s| s.push.take());
    }

    /// Breaks the current connection's client-to-server half only: what the client writes
    /// fails from now on, while what the server pushes still arrives (a link that broke
    /// between a read and the next write).
    pub async fn deafen(&self) {
        self.deafen.notify_one();
        self.until("the connection stopped reading", |s| s.deaf)
            .await;
    }

    /// Pushes an element to the client on the current connection.
    pub async fn push(&self, xml: &str) {
        let push = self.with(|s| s.push.clone()).unwrap();
        push.send(Ok(Stanza::from(xml.parse::<Element>().unwrap())))
            .await
            .unwrap();
    }

    /// Waits until `f` holds on the server's state.
    pub async fn until(&self, what: &str, f: impl Fn(&Server) -> bool) {
        for _ in 0..500 {
            if self.with(|s| f(s)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the fake server never saw: {what}");
    }

    /// Sends the client a stream error.
    pub async fn stream_error(&self, condition: StreamCondition) {
        let push = self.with(|s| s.push.clone()).unwrap();
        let _ = push.send(Err(StreamError::Server { condition })).await;
    }
}

fn features() -> StreamFeatures {
    let xml = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
        <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";
    StreamFeatures::try_from(xml.parse::<Element>().unwrap()).unwrap()
}

impl Connector for Fake {
    fn connect<'a>(
        &'a self,
        _credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<AuthenticatedStream, ConnectError>> {
        Box::pin(async move {
            self.connects.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            let (down, refuse, error) = self.with(|s| (s.down, s.refuse_auth, s.connect_error));
            if error == Some("encryption") {
                return Err(ConnectError::EncryptionRequired);
            }
            if down {
                return Err(ConnectError::Io(
                    std::io::ErrorKind::ConnectionRefused.into(),
                ));
            }
            if refuse {
                return Err(ConnectError::AuthenticationFailure {
                    condition: "not-authorized".into(),
                });
            }
            let (to_client, incoming) = mpsc::channel(64);
            let (outgoing, from_client) = mpsc::channel(64);
            // The fake keeps the only strong sender: `cut()` drops it and the client sees EOF.
            let weak = to_client.downgrade();
            self.with(|s| {
                s.push = Some(to_client);
                s.deaf = false;
            });
            let deafen = self.deafen.clone();
            tokio::spawn(serve(self.server.clone(), from_client, weak, deafen));
            Ok(AuthenticatedStream {
                features: features(),
                incoming,
                outgoing,
            })
        })
    }
}

/// The fake server's side of one connection.
async fn serve(
    server: Arc<Mutex<Server>>,
    mut from_client: mpsc::Receiver<Outgoing>,
    to_client: mpsc::WeakSender<Result<Stanza, StreamError>>,
    deafen: Arc<tokio::sync::Notify>,
) {
    loop {
        let out = tokio::select! {
            out = from_client.recv() => out,
            () = deafen.notified() => {
                drop(from_client);
                server.lock().unwrap().deaf = true;
                return;
            }
        };
        let Some(out) = out else { return };
        let el: Element = std::str::from_utf8(out.bytes()).unwrap().parse().unwrap();
        out.written();
        // A cut connection: the fake dropped the strong sender.
        let Some(to_client) = to_client.upgrade() else {
            return;
        };
        for answer in answer(&server, el) {
            if to_client.send(Ok(answer.into())).await.is_err() {
                return;
            }
        }
    }
}

fn answer(server: &Arc<Mutex<Server>>, el: Element) -> Vec<Element> {
    let mut s = server.lock().unwrap();
    if s.silent {
        return vec![];
    }
    let id = el.attr("id").unwrap_or_default().to_owned();
    let parse = |x: String| -> Element { x.parse().unwrap() };
    match (el.ns().as_str(), el.name()) {
        (SM, "enable") => {
            s.h = 0;
            vec![parse(format!(
                "<enabled xmlns='{SM}' id='sm-1' resume='true'/>"
            ))]
        }
        (SM, "resume") if s.resumable => {
            let h = s.bogus_resumed.take().unwrap_or(s.h);
            vec![parse(format!(
                "<resumed xmlns='{SM}' h='{h}' previd='sm-1'/>"
            ))]
        }
        (SM, "resume") if s.failed_with_h => {
            vec![parse(format!("<failed xmlns='{SM}' h='{}'/>", s.h))]
        }
        (SM, "resume") => vec![parse(format!("<failed xmlns='{SM}'/>"))],
        (SM, "r") => {
            s.r_count += 1;
            if s.hold_acks {
                return vec![];
            }
            let h = s.bogus_ack.take().or(s.stale_ack).unwrap_or(s.h);
            vec![parse(format!("<a xmlns='{SM}' h='{h}'/>"))]
        }
        (SM, "a") => {
            let h = el.attr("h").and_then(|h| h.parse().ok()).unwrap();
            s.client_acks.push(h);
            vec![]
        }
        (SM, _) => vec![],
        ("http://etherx.jabber.org/streams", "error") => {
            s.stream_errors
                .extend(el.children().map(|c| c.name().to_owned()));
            vec![]
        }
        (_, "iq") if s.hold_carbons && id == negotiate::CARBONS_ID => {
            s.h = s.h.wrapping_add(1);
            s.stanzas.push("iq".into());
            vec![]
        }
        (_, "iq") if matches!(el.attr("type"), Some("result" | "error")) => {
            s.h = s.h.wrapping_add(1);
            s.stanzas.push("iq-answer".into());
            vec![]
        }
        (_, "iq") => {
            s.h = s.h.wrapping_add(1);
            s.stanzas.push("iq".into());
            if el.has_child("bind", "urn:ietf:params:xml:ns:xmpp-bind") {
                s.h = 0; // bind comes before <enable/>: not counted
                return vec![parse(format!(
                    "<iq xmlns='{C}' type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                     <jid>1001-1@localhost/sdk</jid></bind></iq>"
                ))];
            }
            vec![parse(format!("<iq xmlns='{C}' type='result' id='{id}'/>"))]
        }
        (_, "message") => {
            s.h = s.h.wrapping_add(1);
            s.messages.push(id.clone());
            if s.bounce {
                return vec![parse(format!(
                    "<message xmlns='{C}' type='error' id='{id}'><error type='cancel'>\
                     <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                     <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>blocked</text></error></message>"
                ))];
            }
            vec![]
        }
        (_, name) => {
            s.h = s.h.wrapping_add(1);
            s.stanzas.push(name.into());
            vec![]
        }
    }
}

pub(super) fn settings() -> SessionSettings {
    SessionSettings::default()
        .with_reconnection_timeout(Duration::from_millis(30))
        .with_total_reconnections(3)
        .with_keepalive(Duration::from_secs(30), Duration::from_secs(5))
}

pub(super) fn session(fake: &Fake, settings: SessionSettings) -> (ChatConnection, Incoming) {
    let creds = Credentials {
        jid: BareJid::new("1001-1@localhost").unwrap(),
        password: "pw".into(),
    };
    ChatConnection::new(fake.clone(), creds, settings)
}

pub(super) fn message(n: usize) -> Element {
    format!("<message xmlns='{C}' type='chat' to='1002-1@localhost' id='m{n}'><body>{n}</body></message>")
        .parse()
        .unwrap()
}

pub(super) async fn wait_for(conn: &ChatConnection, want: ConnectionState) {
    let mut w = conn.watch_state();
    tokio::time::timeout(Duration::from_secs(5), w.wait_for(|s| *s == want))
        .await
        .unwrap_or_else(|_| panic!("never reached {want:?}; now {:?}", conn.state()))
        .unwrap();
}
