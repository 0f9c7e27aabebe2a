//! What the facade's burst tests share (`burst.rs`, `burst_cuts.rs`, `js_burst.rs`):
//! clients of the test ejabberd's burst users, the one send every burst goes through, reading
//! what a receiving app saw, the tally of handles against receipts, and the printed report.
//!
//! Environment: `CC_XMPP_*` (set by `cargo xtask burst`), `CC_BURST_COUNT` (messages, 20,000
//! by default), `CC_BURST_SEND_RATE` (the sender's `max_send_rate`, stanzas a second; the
//! session's default when unset).

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::ids::UserId;
use connectycube::protocol::model::Message;
use connectycube::transport::session::{SendHandle, SendStage, SessionSettings};
use connectycube::{ChatClient, DeliverySettings, Event, EventFilter, Subscription};

/// The sending user of every burst (test user of `xtask/src/ejabberd.rs`).
pub const SENDER: u64 = 1018;
/// The receiving user of every burst.
pub const RECEIVER: u64 = 1019;

/// A variable `cargo xtask burst` sets.
pub fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: start the test server: cargo xtask burst"))
}

/// Messages per burst: `CC_BURST_COUNT`, 20,000 by default.
pub fn count() -> usize {
    std::env::var("CC_BURST_COUNT").map_or(20_000, |n| n.parse().unwrap())
}

/// The session settings of a burst client: `resource`, a quick reconnection, and the send
/// rate of `CC_BURST_SEND_RATE` when set.
pub fn settings(resource: &str) -> SessionSettings {
    let settings = SessionSettings::default()
        .with_resource(resource)
        .with_reconnection_timeout(Duration::from_millis(200));
    match std::env::var("CC_BURST_SEND_RATE") {
        Ok(rate) => settings.with_max_send_rate(rate.parse().unwrap()),
        Err(_) => settings,
    }
}

/// The stanzas a second a burst sender goes at (for spreading cuts over a burst).
pub fn send_rate() -> u32 {
    settings("burst").max_send_rate
}

/// Test user `user` logged in with `settings`, connecting to the server's direct TLS port
/// or to `port` instead (a cut proxy in front of it): its chat and a lossless stream of
/// all its events (a burst counts every message, so its reader holds the client back
/// rather than skipping any).
pub async fn client_with(
    user: u64,
    port: Option<u16>,
    settings: SessionSettings,
) -> (ChatClient, Subscription) {
    let session = super::ejabberd::login(user, port, settings, DeliverySettings::default()).await;
    let events = session.events_lossless(EventFilter::ALL);
    (session.chat().clone(), events)
}

/// Test user `user` bound to `resource`, straight to the server.
pub async fn client(user: u64, resource: &str) -> (ChatClient, Subscription) {
    client_with(user, None, settings(resource)).await
}

/// Ends sessions an earlier run left waiting for resumption: they would take copies.
pub fn kick(user: u64) {
    let out = std::process::Command::new(var("CC_EJABBERDCTL"))
        .args(["kick_user", &user.to_string(), "localhost"])
        .output()
        .unwrap();
    assert!(out.status.success(), "kick_user: {out:?}");
}

/// The one send of every burst, so the way messages go out changes in one place: paced by
/// the recipient's 'delivered' markers, what a program sending many messages calls.
pub async fn send(client: &ChatClient, to: UserId, m: &Message) -> SendHandle {
    client.send_private_paced(to, m).queued().await.unwrap()
}

/// `n` burst messages and each one's index by id.
pub fn messages(n: usize) -> (Vec<Message>, HashMap<String, usize>) {
    let messages: Vec<Message> = (0..n).map(|i| Message::new(format!("burst {i}"))).collect();
    let index = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.to_string(), i))
        .collect();
    (messages, index)
}

/// What one receiving app saw.
pub struct Seen {
    /// How many times each burst message (by index) was shown.
    pub got: Vec<u32>,
    /// Messages shown flagged out of order.
    pub out_of_order: usize,
    /// Stanzas the facade could not read (shown as errors): a lost message may be one.
    pub unreadable: usize,
}

impl Seen {
    /// Burst messages never shown.
    pub fn lost(&self) -> usize {
        self.got.iter().filter(|c| **c == 0).count()
    }

    /// The first few burst messages (by index) never shown, to find them in a trace.
    pub fn first_lost(&self) -> Vec<usize> {
        let lost = self.got.iter().enumerate().filter(|(_, c)| **c == 0);
        lost.map(|(i, _)| i).take(10).collect()
    }

    /// Burst messages shown more than once.
    pub fn duplicated(&self) -> usize {
        self.got.iter().filter(|c| **c > 1).count()
    }
}

/// Reads a receiver's events until every message arrived or none came for `idle`.
pub async fn receive(
    mut events: Subscription,
    index: HashMap<String, usize>,
    idle: Duration,
) -> Seen {
    let mut seen = Seen {
        got: vec![0; index.len()],
        out_of_order: 0,
        unreadable: 0,
    };
    let mut distinct = 0;
    while distinct < index.len() {
        let Ok(Some(item)) = tokio::time::timeout(idle, events.next()).await else {
            break;
        };
        let received = match item {
            Event::Chat(received) => received,
            Event::Unreadable(_) => {
                seen.unreadable += 1;
                continue;
            }
            _ => continue,
        };
        let ChatEvent::ChatMessage(m) = &received.event else {
            continue;
        };
        if let Some(&i) = index.get(&m.payload.id.to_string()) {
            seen.got[i] += 1;
            distinct += usize::from(seen.got[i] == 1);
            seen.out_of_order += usize::from(received.out_of_order);
        }
    }
    seen
}

/// What the sender's own events said.
#[derive(Debug, Default)]
pub struct Markers {
    /// 'delivered' markers received.
    pub delivered: usize,
    /// Error events (bounces nothing correlated).
    pub errors: usize,
}

/// Drains the sender's events (the 'delivered' markers), counting them, until none came
/// for 5 s.
pub async fn drain(mut events: Subscription) -> Markers {
    let mut markers = Markers::default();
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_secs(5), events.next()).await {
        match item.chat() {
            Some(ChatEvent::Delivered(_)) => markers.delivered += 1,
            Some(ChatEvent::MessageError(_)) => markers.errors += 1,
            _ if matches!(item, Event::Blocked(_)) => markers.errors += 1,
            _ => {}
        }
    }
    markers
}

/// Waits until no handle is still being resent after a bounce (at most `limit`).
pub async fn settle(handles: &[SendHandle], limit: Duration) {
    let until = Instant::now() + limit;
    while Instant::now() < until
        && handles
            .iter()
            .any(|h| matches!(h.stage(), SendStage::Retrying(_) | SendStage::Queued))
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends every message through [`send`], then waits for every handle to resolve; gives the
/// handles and how long until the last resolved.
pub async fn send_all(
    client: &ChatClient,
    to: UserId,
    messages: &[Message],
) -> (Vec<SendHandle>, Duration) {
    let started = Instant::now();
    let mut handles = Vec::with_capacity(messages.len());
    for m in messages {
        handles.push(send(client, to, m).await);
    }
    for h in &handles {
        let _ = h.clone().await;
    }
    (handles, started.elapsed())
}

/// The handles' final stages against what the app got.
#[derive(Debug, Default)]
pub struct Tally {
    /// Final stages by name.
    pub stages: HashMap<&'static str, usize>,
    /// Handles whose stage says `Acked` for a message the app never got, or not `Acked` for
    /// one it got.
    pub mismatched: usize,
    /// Why handles failed or bounced: the error's text (numbers as `#`), how many.
    pub reasons: HashMap<String, usize>,
}

/// A reason's text with its numbers (queue lengths, counters) masked, so like ones add up.
fn reason(error: &impl fmt::Display) -> String {
    let text = error.to_string();
    text.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// Tallies `handles` against `got` (times each message was shown, same order).
pub fn tally(handles: &[SendHandle], got: &[u32]) -> Tally {
    let mut tally = Tally::default();
    for (h, c) in handles.iter().zip(got) {
        let stage = h.stage();
        let (name, why) = match &stage {
            SendStage::Acked => ("acked", None),
            SendStage::Bounced(b) => ("bounced", Some(reason(b))),
            SendStage::Failed(e) => ("failed", Some(reason(e))),
            SendStage::Retrying(b) => ("retrying", Some(reason(b))),
            _ => ("other", None),
        };
        if let Some(why) = why {
            *tally.reasons.entry(why).or_default() += 1;
        }
        *tally.stages.entry(name).or_default() += 1;
        tally.mismatched += usize::from(matches!(stage, SendStage::Acked) != (*c > 0));
    }
    tally
}

/// One burst's figures, printed as one line.
pub struct Report {
    /// What ran (the case, the seed).
    pub label: String,
    /// Messages sent.
    pub n: usize,
    /// Until every handle resolved.
    pub acked_in: Duration,
    /// Until the app had every message (or gave up waiting).
    pub delivered_in: Duration,
    /// What the main app saw.
    pub app: Seen,
    /// The receiving facade's duplicate count.
    pub duplicates_dropped: u64,
    /// Paced sends that waited for the receiver's markers.
    pub paced_waits: u64,
    /// The handles against the app.
    pub tally: Tally,
    /// The sender's events.
    pub markers: Markers,
    /// What a second resource lost, when one was online.
    pub second_lost: Option<usize>,
    /// Anything the case adds (cuts, resumptions).
    pub extra: String,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} messages, acked in {:.2?}, delivered in {:.2?}; app: lost {}, duplicated {}, \
             out of order {}, unreadable {}, duplicates dropped by the facade {}; paced sends that waited {}; \
             handle/receipt mismatches {}, \
             final stages {:?} (why not acked: {:?}); sender saw {} 'delivered' markers and {} error events; second \
             resource lost {:?}{}{}",
            self.label,
            self.n,
            self.acked_in,
            self.delivered_in,
            self.app.lost(),
            self.app.duplicated(),
            self.app.out_of_order,
            self.app.unreadable,
            self.duplicates_dropped,
            self.paced_waits,
            self.tally.mismatched,
            self.tally.stages,
            self.tally.reasons,
            self.markers.delivered,
            self.markers.errors,
            self.second_lost,
            self.extra,
            match self.app.first_lost() {
                l if l.is_empty() => String::new(),
                l => format!("; first lost at the app (indexes): {l:?}"),
            },
        )
    }
}

impl Report {
    /// Prints the line, then asserts the promise: nothing lost or shown twice at the app, and
    /// every handle's final stage matching what it got.
    pub fn print_and_assert(&self) {
        println!("{self}");
        assert_eq!(self.app.lost(), 0, "lost at the app");
        assert_eq!(self.app.duplicated(), 0, "shown twice to the app");
        assert_eq!(
            self.tally.mismatched, 0,
            "every handle's final stage matches what the app got"
        );
    }
}

/// The clients of one burst: the sender, the receiving app, and maybe a second resource of
/// the receiver (reported on, not asserted on).
pub struct Peers {
    /// The sending user's client.
    pub sender: (ChatClient, Subscription),
    /// The receiving app.
    pub app: (ChatClient, Subscription),
    /// Another resource of the receiving user.
    pub second: Option<(ChatClient, Subscription)>,
}

impl Peers {
    /// Logs every client in.
    pub async fn login(&self) {
        self.sender.0.login().await.unwrap();
        self.app.0.login().await.unwrap();
        if let Some((other, _)) = &self.second {
            other.login().await.unwrap();
        }
    }
}

/// Sends `count()` messages from the sender to the receiver (logged in already), reads what
/// the app and the second resource saw, settles the handles, logs everyone out and reports.
pub async fn run(label: String, peers: Peers) -> Report {
    let n = count();
    let (messages, index) = messages(n);
    let Peers {
        sender: (alice, alice_events),
        app: (bob, bob_events),
        second,
    } = peers;
    let app = tokio::spawn(receive(bob_events, index.clone(), Duration::from_secs(40)));
    // The second resource is reported, not asserted on: a shorter wait for what it misses.
    let other_idle = Duration::from_secs(10);
    let other = second.map(|(c, events)| (c, tokio::spawn(receive(events, index, other_idle))));
    let markers = tokio::spawn(drain(alice_events));
    let started = Instant::now();
    let (handles, acked_in) = send_all(&alice, UserId(RECEIVER), &messages).await;
    let seen = app.await.unwrap();
    let delivered_in = started.elapsed();
    settle(&handles, Duration::from_secs(120)).await;
    let second_lost = match other {
        Some((c, task)) => {
            let s = task.await.unwrap();
            c.logout().await;
            Some(s.lost())
        }
        None => None,
    };
    let duplicates_dropped = bob.delivery_stats().duplicates_dropped;
    let paced_waits = alice.delivery_stats().paced_waits;
    let markers = markers.await.unwrap();
    bob.logout().await;
    alice.logout().await;
    Report {
        label,
        n,
        acked_in,
        delivered_in,
        tally: tally(&handles, &seen.got),
        app: seen,
        duplicates_dropped,
        paced_waits,
        markers,
        second_lost,
        extra: String::new(),
    }
}
