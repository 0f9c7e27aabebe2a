//! Turning an authenticated stream into a chat session: resume the previous one (XEP-0198) or
//! bind a resource, then enable stream management, presence and carbons.
//!
//! Round trips: a resumption takes one; a fresh session takes two (bind, then `<enable/>`
//! pipelined with the initial presence and the carbons IQ, whose answer rides back with
//! `<enabled/>`), which is what the XEPs allow.

use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::bind::{BindQuery, BindResponse};
use xmpp_parsers::carbons;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::FullJid;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::sm;

use super::sm::Unacked;
use crate::connector::{AuthenticatedStream, Outgoing};
use crate::error::{RetryKind, StreamError};
use crate::stanza::Stanza;

/// XEP-0198's namespace.
pub(crate) const SM_NS: &str = "urn:xmpp:sm:3";
/// Ids of the IQs the session sends itself; their answers are not the app's business.
pub(crate) const BIND_ID: &str = "cc-bind";
pub(crate) const CARBONS_ID: &str = "cc-carbons";
pub(crate) const KEEPALIVE_ID: &str = "cc-keepalive";

/// The most stanzas setup keeps for the session before stream management is on (after the
/// presence, the session takes over at [`SETUP_HANDOVER`]): ejabberd's admin offline limit
/// (5,000) twice over.
pub const MAX_SETUP_STANZAS: usize = 10_000;
/// The most bytes setup keeps for the session (names, attributes and text of what it keeps,
/// and a fixed overhead per node).
pub const MAX_SETUP_BYTES: usize = 32 * 1024 * 1024;
/// Stanzas after the presence that end the wait for the carbons answer: the server is
/// delivering to this session already, so the session takes over and reads the rest at the
/// app's pace. Holding everything until the answer came let a backlog bigger than the setup
/// limits (offline messages queued during a flood) fail every login for good.
pub const SETUP_HANDOVER: usize = 256;

/// Why setting up the session (bind or resumption, then stream management) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The stream broke or the server ended it.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// The server refused the resource bind (its condition).
    #[error("resource bind refused: {0}")]
    Bind(String),
    /// An element of ours could not be serialized.
    #[error("cannot serialize a setup element: {0}")]
    Serialize(#[source] StreamError),
    /// The server closed the stream during setup.
    #[error("the server closed the stream during setup")]
    Closed,
    /// The server sent more during setup than the session keeps ([`MAX_SETUP_STANZAS`],
    /// [`MAX_SETUP_BYTES`]); the connection was dropped.
    #[error("the server sent more than {stanzas} stanzas or {bytes} bytes during setup")]
    TooMuchDuringSetup {
        /// The stanza limit in force.
        stanzas: usize,
        /// The byte limit in force.
        bytes: usize,
    },
}

impl SetupError {
    /// Whether our resource is taken and the server will not replace it.
    pub fn is_conflict(&self) -> bool {
        match self {
            Self::Bind(condition) => condition.contains("conflict"),
            Self::Stream(e) => e.is_resource_conflict(),
            _ => false,
        }
    }

    /// A resource conflict is final, the rest worth another attempt.
    pub fn retry_kind(&self) -> RetryKind {
        if self.is_conflict() {
            RetryKind::Fatal
        } else {
            RetryKind::Retry
        }
    }
}

/// A session ready for stanzas.
#[derive(Debug)]
pub(crate) struct Negotiated {
    pub incoming: mpsc::Receiver<Result<Stanza, StreamError>>,
    pub outgoing: mpsc::Sender<Outgoing>,
    /// Our full JID (after a resumption, the one from before).
    pub jid: Option<FullJid>,
    /// The server's `h` when the previous session was resumed.
    pub resumed_h: Option<u32>,
    /// The `h` of a `<failed h/>` refusing the resumption: what the old session handled.
    pub failed_h: Option<u32>,
    /// Stream management: on, and the id to resume with later.
    pub sm: Option<Option<String>>,
    /// Stanzas that arrived during setup before `<enabled/>` (not counted in our `h`).
    pub early: Vec<Element>,
    /// Stanzas that arrived after `<enabled/>` while waiting for the carbons answer (offline
    /// messages, say): counted in our `h`, handled as any inbound stanza.
    pub late: Vec<Element>,
    /// Stanzas sent after `<enable/>` (carbons, presence): the server counts them in its `h`.
    pub counted: Vec<Unacked>,
}

/// What to resume: the previous session's id and our inbound count.
pub(crate) struct ResumeFrom {
    pub previd: String,
    pub h: u32,
}

async fn send(out: &mpsc::Sender<Outgoing>, el: Element) -> Result<(), SetupError> {
    let bytes = Outgoing::serialize(&el).map_err(SetupError::Serialize)?;
    out.send(bytes).await.map_err(|_| SetupError::Closed)
}

/// The next stanza as a tree: setup reads few, and keeps what it does not read for later.
async fn next(
    incoming: &mut mpsc::Receiver<Result<Stanza, StreamError>>,
) -> Result<Element, SetupError> {
    match incoming.recv().await {
        Some(Ok(stanza)) => Ok(stanza.into_element()?),
        Some(Err(e)) => Err(e.into()),
        None => Err(SetupError::Closed),
    }
}

/// How much setup keeps for the session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SetupLimits {
    pub stanzas: usize,
    pub bytes: usize,
}

impl Default for SetupLimits {
    fn default() -> Self {
        Self {
            stanzas: MAX_SETUP_STANZAS,
            bytes: MAX_SETUP_BYTES,
        }
    }
}

/// What arrived during setup, kept for the session within [`SetupLimits`]: `early` before
/// `<enabled/>` (not counted in our `h`), `late` after it.
#[derive(Debug)]
struct Held {
    early: Vec<Element>,
    late: Vec<Element>,
    bytes: usize,
    limits: SetupLimits,
}

impl Held {
    fn new(limits: SetupLimits) -> Self {
        Self {
            early: Vec::new(),
            late: Vec::new(),
            bytes: 0,
            limits,
        }
    }

    /// Keeps `el` (in `late` when `counted`), or fails once past a limit.
    fn keep(&mut self, el: Element, counted: bool) -> Result<(), SetupError> {
        self.bytes = self.bytes.saturating_add(weight(&el));
        if self.early.len() + self.late.len() >= self.limits.stanzas
            || self.bytes > self.limits.bytes
        {
            return Err(SetupError::TooMuchDuringSetup {
                stanzas: self.limits.stanzas,
                bytes: self.limits.bytes,
            });
        }
        if counted {
            self.late.push(el);
        } else {
            self.early.push(el);
        }
        Ok(())
    }
}

/// About what `el` weighs in memory: its names, attributes and text, and a fixed overhead
/// per node. Recursion is bounded by the parser's depth limit.
pub(crate) fn weight(el: &Element) -> usize {
    const NODE: usize = 64;
    let attrs: usize = el
        .attrs()
        .iter()
        .map(|((ns, name), v)| ns.len() + name.len() + v.len() + NODE)
        .sum();
    let nodes: usize = el
        .nodes()
        .map(|n| match n {
            minidom::Node::Element(child) => weight(child),
            minidom::Node::Text(t) => t.len() + NODE,
        })
        .sum();
    NODE + el.name().len() + el.ns().len() + attrs + nodes
}

/// Sets the session up on `stream`.
pub(crate) async fn negotiate(
    stream: AuthenticatedStream,
    resume: Option<ResumeFrom>,
    resource: Option<String>,
) -> Result<Negotiated, SetupError> {
    negotiate_within(stream, resume, resource, SetupLimits::default()).await
}

/// [`negotiate`] keeping at most `limits` of what arrives meanwhile.
pub(crate) async fn negotiate_within(
    stream: AuthenticatedStream,
    resume: Option<ResumeFrom>,
    resource: Option<String>,
    limits: SetupLimits,
) -> Result<Negotiated, SetupError> {
    let sm_offered = stream.features.stream_management.is_some();
    let AuthenticatedStream {
        mut incoming,
        outgoing,
        ..
    } = stream;
    let mut held = Held::new(limits);
    let mut failed_h = None;
    if let (true, Some(from)) = (sm_offered, resume) {
        let previd = sm::StreamId(from.previd.clone());
        send(&outgoing, sm::Resume { h: from.h, previd }.into()).await?;
        loop {
            let el = next(&mut incoming).await?;
            if let Ok(resumed) = sm::Resumed::try_from(el.clone()) {
                return Ok(Negotiated {
                    incoming,
                    outgoing,
                    jid: None,
                    resumed_h: Some(resumed.h),
                    failed_h: None,
                    sm: Some(Some(from.previd)),
                    early: held.early,
                    late: Vec::new(),
                    counted: Vec::new(),
                });
            }
            if el.is("failed", SM_NS) {
                // The old session is gone: bind a new one on this stream. Its `h`, when
                // given, says which of our stanzas the old session handled (XEP-0198 1.6).
                failed_h = sm::Failed::try_from(el).ok().and_then(|f| f.h);
                break;
            }
            held.keep(el, false)?;
        }
    }
    let bind = Iq::from_set(BIND_ID, BindQuery::new(resource));
    send(&outgoing, bind.into()).await?;
    let jid = loop {
        let el = next(&mut incoming).await?;
        if el.is("iq", "jabber:client") && el.attr("id") == Some(BIND_ID) {
            break read_bind(el)?;
        }
        held.keep(el, false)?;
    };
    if sm_offered {
        send(&outgoing, sm::Enable::new().with_resume().into()).await?;
    }
    // Presence first: the server handles a stream's stanzas in order, so the carbons answer
    // says the presence was processed too. Only then is the user available, and a message to
    // the bare JID reaches this session instead of offline storage; `login()` waits for it
    // (or for the first stanzas the server delivers after it: a backlog is the session's).
    let mut counted = Vec::new();
    for el in [
        Element::from(Presence::new(PresenceType::None)),
        Iq::from_set(CARBONS_ID, carbons::Enable).into(),
    ] {
        let entry = Unacked::serialize(&el).map_err(SetupError::Serialize)?;
        outgoing
            .send(entry.outgoing(false))
            .await
            .map_err(|_| SetupError::Closed)?;
        counted.push(entry);
    }
    let sm = if sm_offered {
        wait_enabled(&mut incoming, &mut held).await?
    } else {
        None
    };
    // With stream management offered, what comes now is handled as any inbound stanza.
    wait_carbons(&mut incoming, &mut held, sm_offered).await?;
    Ok(Negotiated {
        incoming,
        outgoing,
        jid: Some(jid),
        resumed_h: None,
        failed_h,
        sm,
        early: held.early,
        late: held.late,
        counted,
    })
}

fn read_bind(el: Element) -> Result<FullJid, SetupError> {
    if el.attr("type") == Some("error") {
        let condition = el
            .get_child("error", "jabber:client")
            .and_then(|e| e.children().next())
            .map(|c| c.name().to_owned())
            .unwrap_or_else(|| "undefined-condition".into());
        return Err(SetupError::Bind(condition));
    }
    let bind = el
        .get_child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
        .cloned()
        .ok_or_else(|| SetupError::Bind("answer without <bind/>".into()))?;
    BindResponse::try_from(bind)
        .map(FullJid::from)
        .map_err(|e| SetupError::Bind(e.to_string()))
}

/// Waits for the answer to the carbons IQ (a result or an error alike), or for
/// [`SETUP_HANDOVER`] stanzas before it; keeps what came, the answer included (`counted`: in
/// our `h`). An answer that comes after the handover is dropped by the session.
async fn wait_carbons(
    incoming: &mut mpsc::Receiver<Result<Stanza, StreamError>>,
    held: &mut Held,
    counted: bool,
) -> Result<(), SetupError> {
    let mut after_presence = 0usize;
    loop {
        let el = next(incoming).await?;
        let done = el.name() == "iq" && el.attr("id") == Some(CARBONS_ID);
        held.keep(el, counted)?;
        after_presence += 1;
        if done || after_presence >= SETUP_HANDOVER {
            return Ok(());
        }
    }
}

/// Waits for `<enabled/>` (stream management on) or `<failed/>` (off for this connection).
async fn wait_enabled(
    incoming: &mut mpsc::Receiver<Result<Stanza, StreamError>>,
    held: &mut Held,
) -> Result<Option<Option<String>>, SetupError> {
    loop {
        let el = next(incoming).await?;
        if let Ok(enabled) = sm::Enabled::try_from(el.clone()) {
            let id = enabled.resume.then(|| enabled.id.map(|i| i.0)).flatten();
            return Ok(Some(id));
        }
        if el.is("failed", SM_NS) {
            return Ok(None);
        }
        held.keep(el, false)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::stream_features::StreamFeatures;

    const C: &str = "jabber:client";

    /// When a test server sends its flood.
    #[derive(Clone, Copy, PartialEq)]
    enum FloodAt {
        /// Right after the bind answer: before `<enabled/>`, not counted in our `h`.
        Bind,
        /// Right after `<enabled/>`: what the presence brings (offline messages).
        Enabled,
    }

    /// A server that answers the bind and `<enable/>`, and sends `flood` at `at` before it
    /// answers anything else (it never answers the carbons IQ).
    fn flooding(flood: Vec<String>, at: FloodAt) -> AuthenticatedStream {
        let features: Element = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
            <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>"
            .parse()
            .unwrap();
        let (to_client, incoming) = mpsc::channel(64);
        let (outgoing, mut from_client) = mpsc::channel::<Outgoing>(64);
        tokio::spawn(async move {
            while let Some(out) = from_client.recv().await {
                let el: Element = std::str::from_utf8(out.bytes()).unwrap().parse().unwrap();
                if el.attr("id") == Some(BIND_ID) {
                    let bound = format!(
                        "<iq xmlns='{C}' type='result' id='{BIND_ID}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                         <jid>1001-1@localhost/sdk</jid></bind></iq>"
                    );
                    let _ = to_client
                        .send(Ok(Stanza::from(bound.parse::<Element>().unwrap())))
                        .await;
                }
                if el.name() == "enable" {
                    let enabled = "<enabled xmlns='urn:xmpp:sm:3' id='s' resume='true'/>";
                    let _ = to_client
                        .send(Ok(Stanza::from(enabled.parse::<Element>().unwrap())))
                        .await;
                }
                let now = match at {
                    FloodAt::Bind => el.attr("id") == Some(BIND_ID),
                    FloodAt::Enabled => el.name() == "enable",
                };
                if now {
                    for xml in &flood {
                        if to_client
                            .send(Ok(Stanza::from(xml.parse::<Element>().unwrap())))
                            .await
                            .is_err()
                        {
                            return; // The client gave up: what the test wants.
                        }
                    }
                }
            }
        });
        AuthenticatedStream {
            features: StreamFeatures::try_from(features).unwrap(),
            incoming,
            outgoing,
        }
    }

    fn messages(n: usize, body: &str) -> Vec<String> {
        (0..n)
            .map(|i| format!("<message xmlns='{C}' id='o{i}'><body>{body}</body></message>"))
            .collect()
    }

    async fn within(stream: AuthenticatedStream, limits: SetupLimits) -> SetupError {
        let setup = negotiate_within(stream, None, None, limits);
        match tokio::time::timeout(std::time::Duration::from_secs(20), setup).await {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => panic!("setup ended without the carbons answer"),
            Err(_) => panic!("the flood was kept without bound"),
        }
    }

    #[tokio::test]
    async fn a_server_flooding_before_enabled_is_cut_off_at_the_stanza_limit() {
        let flood = messages(MAX_SETUP_STANZAS + 1, "x");
        let e = within(flooding(flood, FloodAt::Bind), SetupLimits::default()).await;
        assert!(
            matches!(
                e,
                SetupError::TooMuchDuringSetup {
                    stanzas: MAX_SETUP_STANZAS,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(e.retry_kind(), RetryKind::Retry);
    }

    #[tokio::test]
    async fn a_server_flooding_before_enabled_is_cut_off_at_the_byte_limit() {
        let limits = SetupLimits {
            stanzas: 1_000,
            bytes: 64 * 1024,
        };
        // 20 stanzas of 4 KiB: far below the count, past the bytes.
        let flood = messages(20, &"y".repeat(4096));
        let e = within(flooding(flood, FloodAt::Bind), limits).await;
        assert!(
            matches!(e, SetupError::TooMuchDuringSetup { bytes: 65_536, .. }),
            "{e}"
        );
    }

    #[tokio::test]
    async fn what_fits_the_limits_is_kept_for_the_session() {
        let mut flood = messages(3, "z");
        flood.push(format!("<iq xmlns='{C}' type='result' id='{CARBONS_ID}'/>"));
        let stream = flooding(flood, FloodAt::Enabled);
        let n = negotiate_within(stream, None, None, SetupLimits::default())
            .await
            .unwrap();
        assert_eq!(
            n.late.len(),
            4,
            "three messages and the carbons answer, counted"
        );
        assert!(n.early.is_empty());
    }

    /// A backlog bigger than the setup limits after the presence (a flood's offline
    /// messages) is handed to the session after [`SETUP_HANDOVER`] stanzas: holding it all
    /// failed the setup, and every setup after it, for good.
    #[tokio::test]
    async fn a_backlog_after_the_presence_goes_to_the_session_not_into_memory() {
        let flood = messages(MAX_SETUP_STANZAS + 1, "x");
        let stream = flooding(flood, FloodAt::Enabled);
        let setup = negotiate_within(stream, None, None, SetupLimits::default());
        let mut n = tokio::time::timeout(std::time::Duration::from_secs(20), setup)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.late.len(), SETUP_HANDOVER, "counted, for the session");
        assert!(n.early.is_empty());
        let next = n.incoming.recv().await.unwrap().unwrap().into_element();
        assert_eq!(
            next.unwrap().attr("id"),
            Some(format!("o{SETUP_HANDOVER}").as_str()),
            "the rest is left for the session to read, in order"
        );
    }

    #[test]
    fn weight_grows_with_text_and_attributes() {
        let small: Element = "<message xmlns='jabber:client'/>".parse().unwrap();
        let big: Element = format!(
            "<message xmlns='jabber:client' id='{}'><body>{}</body></message>",
            "i".repeat(100),
            "b".repeat(1000)
        )
        .parse()
        .unwrap();
        assert!(weight(&big) >= weight(&small) + 1100);
    }
}
