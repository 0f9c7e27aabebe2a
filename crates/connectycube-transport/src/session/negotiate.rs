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

/// XEP-0198's namespace.
pub(crate) const SM_NS: &str = "urn:xmpp:sm:3";
/// Ids of the IQs the session sends itself; their answers are not the app's business.
pub(crate) const BIND_ID: &str = "cc-bind";
pub(crate) const CARBONS_ID: &str = "cc-carbons";
pub(crate) const KEEPALIVE_ID: &str = "cc-keepalive";

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
    pub incoming: mpsc::Receiver<Result<Element, StreamError>>,
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

async fn next(
    incoming: &mut mpsc::Receiver<Result<Element, StreamError>>,
) -> Result<Element, SetupError> {
    match incoming.recv().await {
        Some(Ok(el)) => Ok(el),
        Some(Err(e)) => Err(e.into()),
        None => Err(SetupError::Closed),
    }
}

/// Sets the session up on `stream`.
pub(crate) async fn negotiate(
    stream: AuthenticatedStream,
    resume: Option<ResumeFrom>,
    resource: Option<String>,
) -> Result<Negotiated, SetupError> {
    let sm_offered = stream.features.stream_management.is_some();
    let AuthenticatedStream {
        mut incoming,
        outgoing,
        ..
    } = stream;
    let mut early = Vec::new();
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
                    early,
                    late: Vec::new(),
                    counted: Vec::new(),
                });
            }
            if el.is("failed", SM_NS) {
                // The old session is gone: bind a new one on this stream. Its `h`, when
                // given, says which of our stanzas the old session handled (XEP-0198 1.6).
                failed_h = el.attr("h").and_then(|h| h.parse().ok());
                break;
            }
            early.push(el);
        }
    }
    let bind = Iq::from_set(BIND_ID, BindQuery::new(resource));
    send(&outgoing, bind.into()).await?;
    let jid = loop {
        let el = next(&mut incoming).await?;
        if el.is("iq", "jabber:client") && el.attr("id") == Some(BIND_ID) {
            break read_bind(el)?;
        }
        early.push(el);
    };
    if sm_offered {
        send(&outgoing, sm::Enable::new().with_resume().into()).await?;
    }
    // Presence first: the server handles a stream's stanzas in order, so the carbons answer
    // says the presence was processed too. Only then is the user available, and a message to
    // the bare JID reaches this session instead of offline storage; `login()` waits for it.
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
    let (sm, late) = if sm_offered {
        let sm = wait_enabled(&mut incoming, &mut early).await?;
        (sm, wait_carbons(&mut incoming).await?)
    } else {
        let mut before = wait_carbons(&mut incoming).await?;
        early.append(&mut before);
        (None, Vec::new())
    };
    Ok(Negotiated {
        incoming,
        outgoing,
        jid: Some(jid),
        resumed_h: None,
        failed_h,
        sm,
        early,
        late,
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

/// Waits for the answer to the carbons IQ (a result or an error alike); answers every stanza
/// that came before it, the answer included.
async fn wait_carbons(
    incoming: &mut mpsc::Receiver<Result<Element, StreamError>>,
) -> Result<Vec<Element>, SetupError> {
    let mut seen = Vec::new();
    loop {
        let el = next(incoming).await?;
        let done = el.name() == "iq" && el.attr("id") == Some(CARBONS_ID);
        seen.push(el);
        if done {
            return Ok(seen);
        }
    }
}

/// Waits for `<enabled/>` (stream management on) or `<failed/>` (off for this connection).
async fn wait_enabled(
    incoming: &mut mpsc::Receiver<Result<Element, StreamError>>,
    early: &mut Vec<Element>,
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
        early.push(el);
    }
}
