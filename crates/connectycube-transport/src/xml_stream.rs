//! The XML stream codec: an incremental rxml parser feeding xso's minidom element builder, with
//! limits on stanza size and nesting depth, and an rxml encoder for what we send.
//!
//! Both halves are I/O-free so the same code serves TCP (bytes arrive in arbitrary chunks, the
//! stream is one long document) and WebSocket (each message is one complete element).

use bytes::BytesMut;
use minidom::Element;
use rxml::error::EndOrError;
use rxml::writer::{Encoder, Item, SimpleNamespaces, TrackNamespace};
use rxml::{Event, Namespace, Options, Parse, Parser, WithOptions, XmlVersion};
use xmpp_parsers::ns;
use xso::minidom_compat::ElementFromEvents;
use xso::{AsXml, Context, FromEventsBuilder};

use connectycube_protocol::fast::{MessageReader, Step};

use crate::config::{DEFAULT_MAX_STANZA_DEPTH, MAX_STANZA_DEPTH_CEILING};
use crate::error::{StreamCondition, StreamError};
use crate::stanza::{ReadStanza, Stanza};

/// What the parser accepts from a peer: both limits are checked on each event before the
/// element builder does any work on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// The largest top-level element in bytes.
    pub max_stanza_size: usize,
    /// The deepest element nesting within one top-level element (the stanza itself is depth 1),
    /// capped at [`MAX_STANZA_DEPTH_CEILING`].
    pub max_depth: usize,
}

impl StreamLimits {
    /// `max_stanza_size` bytes, with the default depth limit.
    pub fn new(max_stanza_size: usize) -> Self {
        Self {
            max_stanza_size,
            max_depth: DEFAULT_MAX_STANZA_DEPTH,
        }
    }

    /// The depth limit in force: xso's builder, minidom's drop and serializer and our own readers
    /// all recurse once per level, so no configuration may lift it past the ceiling that is known
    /// to fit a 2 MiB (tokio worker) stack.
    fn depth(&self) -> usize {
        self.max_depth.clamp(1, MAX_STANZA_DEPTH_CEILING)
    }
}

/// xso's element builder with the nesting depth counted before each event reaches it: the builder
/// recurses once per open element, so an unchecked `<a><a><a>…` from a peer would overflow the stack.
struct DepthBuilder {
    inner: ElementFromEvents,
    depth: usize,
    max_depth: usize,
}

impl DepthBuilder {
    fn new(qname: rxml::QName, attrs: rxml::AttrMap, limits: &StreamLimits) -> Self {
        Self {
            inner: ElementFromEvents::new(qname, attrs),
            depth: 1,
            max_depth: limits.depth(),
        }
    }

    fn feed(&mut self, event: Event) -> Result<Option<Element>, StreamError> {
        match &event {
            Event::StartElement(..) => {
                self.depth += 1;
                if self.depth > self.max_depth {
                    return Err(StreamError::NestingTooDeep {
                        limit: self.max_depth,
                    });
                }
            }
            Event::EndElement(..) => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.inner
            .feed(event, &Context::empty())
            .map_err(StreamError::xml_from)
    }
}

/// A hot `<message>` read from its events by the protocol crate's reader, the events kept:
/// replayed into a tree builder when the reader gives up, handed on with the event when not.
struct FastBuilder {
    reader: MessageReader,
    start: rxml::QName,
    attrs: rxml::AttrMap,
    events: Vec<Event>,
    depth: usize,
    max_depth: usize,
}

/// The top-level element being read.
enum Building {
    Tree(DepthBuilder),
    Fast(Box<FastBuilder>),
}

/// What feeding an event to a [`Building`] gave.
enum Fed {
    More(Building),
    Done(Stanza),
}

/// Events a message usually has: one allocation for the log of a typical one.
const USUAL_EVENTS: usize = 32;

impl Building {
    /// The builder for an element starting with `qname` and `attrs`: the event reader for a
    /// top-level message when `hot`, else (or when it does not take the message) the tree.
    fn start(qname: rxml::QName, attrs: rxml::AttrMap, limits: &StreamLimits, hot: bool) -> Self {
        if hot && let Some(reader) = MessageReader::start(&qname.0, &qname.1, &attrs) {
            return Self::Fast(Box::new(FastBuilder {
                reader,
                start: qname,
                attrs,
                events: Vec::with_capacity(USUAL_EVENTS),
                depth: 1,
                max_depth: limits.depth(),
            }));
        }
        Self::Tree(DepthBuilder::new(qname, attrs, limits))
    }

    fn feed(self, event: Event, limits: &StreamLimits) -> Result<Fed, StreamError> {
        let mut f = match self {
            Self::Tree(mut b) => {
                return Ok(match b.feed(event)? {
                    Some(el) => Fed::Done(Stanza::from(el)),
                    None => Fed::More(Self::Tree(b)),
                });
            }
            Self::Fast(f) => f,
        };
        // The same depth rule as the tree builder's, so both fail alike.
        match &event {
            Event::StartElement(..) => {
                f.depth += 1;
                if f.depth > f.max_depth {
                    return Err(StreamError::NestingTooDeep { limit: f.max_depth });
                }
            }
            Event::EndElement(..) => f.depth = f.depth.saturating_sub(1),
            _ => {}
        }
        match f.reader.feed(&event) {
            Step::More => {
                f.events.push(event);
                Ok(Fed::More(Self::Fast(f)))
            }
            Step::Read(read) => {
                let FastBuilder {
                    start,
                    attrs,
                    mut events,
                    ..
                } = *f;
                events.push(event);
                let read = ReadStanza::new(read, start, attrs, events);
                Ok(Fed::Done(Stanza::Read(Box::new(read))))
            }
            // Not a hot message after all: the tree, from the events so far.
            _ => {
                let FastBuilder {
                    start,
                    attrs,
                    events,
                    ..
                } = *f;
                let mut tree = DepthBuilder::new(start, attrs, limits);
                for e in events.into_iter().chain(std::iter::once(event)) {
                    if let Some(el) = tree.feed(e)? {
                        return Ok(Fed::Done(Stanza::from(el)));
                    }
                }
                Ok(Fed::More(Self::Tree(tree)))
            }
        }
    }
}

/// The namespace of `<stream:stream>` and `<stream:error>`.
pub const STREAM_NS: &str = ns::STREAM;

/// One unit read from the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// The server's stream header (`<stream:stream>`, or `<open/>` on WebSocket), attributes only.
    Header(Element),
    /// A complete top-level element: a stanza or a nonza (features, SASL, SM...).
    Stanza(Element),
    /// The server closed the stream (`</stream:stream>` or `<close/>`).
    End,
}

/// A unit read by [`StreamParser::next_stanza`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Parsed {
    /// The stream header or end ([`Frame::Header`], [`Frame::End`]).
    Frame(Frame),
    /// A complete top-level element.
    Stanza(Stanza),
}

/// Incremental parser of an XMPP stream (the server's side of it).
///
/// rxml checks well-formedness and namespace well-formedness, and refuses DTDs, entity
/// declarations and undeclared entities by design, so a server cannot make us expand entities
/// (no "billion laughs"). Each top-level element is built into a minidom tree by xso's builder.
pub struct StreamParser {
    parser: Parser,
    /// The top-level element being built.
    stanza: Option<Building>,
    /// Top-level messages go to the event reader first (see [`StreamParser::read_hot_messages`]).
    hot: bool,
    header_seen: bool,
    /// Between top-level elements with nothing but whitespace fed since the last one.
    idle: bool,
    limits: StreamLimits,
    /// Bytes consumed since the current top-level element began (or the last one ended).
    current: usize,
    ended: bool,
    /// An error was returned: the parser's state is no longer trustworthy.
    failed: bool,
}

impl StreamParser {
    /// A parser for a fresh stream that accepts stanzas of at most `limit` bytes, nested at most
    /// [`DEFAULT_MAX_STANZA_DEPTH`] deep.
    pub fn new(limit: usize) -> Self {
        Self::with_limits(StreamLimits::new(limit))
    }

    /// A parser for a fresh stream with these limits.
    pub fn with_limits(limits: StreamLimits) -> Self {
        Self {
            parser: parser(limits.max_stanza_size),
            stanza: None,
            hot: false,
            header_seen: false,
            idle: false,
            limits,
            current: 0,
            ended: false,
            failed: false,
        }
    }

    /// From now on, reads top-level chat messages, markers and typing without a tree (see
    /// [`crate::stanza`]); [`StreamParser::next_stanza`] hands them over as read, and
    /// [`StreamParser::next_frame`] still as trees.
    pub fn read_hot_messages(&mut self) {
        self.hot = true;
    }

    /// As [`StreamParser::next_frame`], with a top-level element as a [`Stanza`]: read
    /// without a tree when [`StreamParser::read_hot_messages`] is on and it is a hot message.
    ///
    /// # Errors
    /// As [`StreamParser::next_frame`].
    pub fn next_stanza(&mut self, data: &mut &[u8]) -> Result<Option<Parsed>, StreamError> {
        if self.failed {
            return Err(StreamError::xml("the stream already failed"));
        }
        let result = self.next_inner(data);
        self.failed = result.is_err();
        result
    }

    /// Parses from `data` until one frame is complete, consuming only the bytes it needs (the
    /// rest stays in `data`, e.g. for a parser of the restarted stream). `Ok(None)` means more
    /// bytes are needed.
    ///
    /// # Errors
    /// [`StreamError::Xml`] on malformed XML (invalid UTF-8 included), DTDs or entities;
    /// [`StreamError::StanzaTooLarge`] when the current element passes the size limit,
    /// [`StreamError::NestingTooDeep`] when it nests deeper than the depth limit. After an error
    /// the stream is unusable and every later call fails too.
    pub fn next_frame(&mut self, data: &mut &[u8]) -> Result<Option<Frame>, StreamError> {
        Ok(match self.next_stanza(data)? {
            None => None,
            Some(Parsed::Frame(frame)) => Some(frame),
            Some(Parsed::Stanza(stanza)) => Some(Frame::Stanza(stanza.into_element()?)),
        })
    }

    fn next_inner(&mut self, data: &mut &[u8]) -> Result<Option<Parsed>, StreamError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            if self.idle {
                // Whitespace keepalives between stanzas are insignificant: drop them here so
                // they neither count towards the next stanza's size nor pile up anywhere.
                let skip = data
                    .iter()
                    .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                    .count();
                *data = &data[skip..];
                if data.is_empty() {
                    return Ok(None);
                }
                // The next byte starts a token: the lexer is no longer between elements.
                self.idle = false;
            }
            let before = data.len();
            let result = self.parser.parse(data, false);
            self.current = self.current.saturating_add(before - data.len());
            if self.current > self.limits.max_stanza_size {
                return Err(StreamError::StanzaTooLarge {
                    limit: self.limits.max_stanza_size,
                });
            }
            match result {
                Ok(Some(event)) => {
                    if let Some(frame) = self.on_event(event)? {
                        self.current = 0;
                        self.idle = true;
                        return Ok(Some(frame));
                    }
                }
                // Only reported at end of input, which a network stream never claims.
                Ok(None) => return Ok(None),
                Err(EndOrError::NeedMoreData) => return Ok(None),
                Err(EndOrError::Error(e)) => return Err(StreamError::xml_from(e)),
            }
        }
    }

    fn on_event(&mut self, event: Event) -> Result<Option<Parsed>, StreamError> {
        if let Some(builder) = self.stanza.take() {
            return Ok(match builder.feed(event, &self.limits)? {
                Fed::Done(stanza) => Some(Parsed::Stanza(stanza)),
                Fed::More(builder) => {
                    self.stanza = Some(builder);
                    None
                }
            });
        }
        match event {
            Event::XmlDeclaration(..) => Ok(None),
            Event::StartElement(_, qname, attrs) if !self.header_seen => {
                self.header_seen = true;
                let header = header_element(&qname, &attrs);
                Ok(Some(Parsed::Frame(Frame::Header(header))))
            }
            Event::StartElement(_, qname, attrs) => {
                self.stanza = Some(Building::start(qname, attrs, &self.limits, self.hot));
                Ok(None)
            }
            Event::EndElement(_) => {
                self.ended = true;
                Ok(Some(Parsed::Frame(Frame::End)))
            }
            // Non-whitespace text directly inside the stream root carries no meaning in XMPP.
            Event::Text(..) => Ok(None),
        }
    }
}

/// The longest single token (text run, attribute value, name) rxml accepts whatever the stanza
/// limit: rxml reserves this much scratch space up front, so a huge configured stanza limit
/// (`usize::MAX` panicked with a capacity overflow, found by fuzzing) must not pass through.
const MAX_TOKEN_LENGTH: usize = 16 * 1024 * 1024;

/// rxml's default token limit (8 KiB) would refuse a legitimate long attribute, such as an
/// attachment's inline `data`; the stanza limit bounds every token anyway.
fn parser(limit: usize) -> Parser {
    Parser::with_options(Options {
        max_token_length: limit.clamp(1, MAX_TOKEN_LENGTH),
        ..Options::default()
    })
}

fn header_element(qname: &rxml::QName, attrs: &rxml::AttrMap) -> Element {
    let mut builder = Element::builder(qname.1.as_str(), qname.0.as_str());
    for ((ns, name), value) in attrs.iter() {
        if ns.is_empty() {
            builder = builder.attr(name.clone(), value.as_str());
        }
    }
    builder.build()
}

/// Parses one complete element, e.g. a WebSocket message, of at most `limit` bytes, with the
/// default depth limit.
///
/// # Errors
/// As [`parse_element_with_limits`].
pub fn parse_element(data: &[u8], limit: usize) -> Result<Element, StreamError> {
    parse_element_with_limits(data, StreamLimits::new(limit))
}

/// Parses one complete element, e.g. a WebSocket message, with the same limits and refusals as
/// the stream parser.
///
/// # Errors
/// As [`StreamParser::next_frame`], and [`StreamError::Xml`] when `data` is not exactly one element.
pub fn parse_element_with_limits(
    data: &[u8],
    limits: StreamLimits,
) -> Result<Element, StreamError> {
    parse_stanza_with_limits(data, limits, false)?.into_element()
}

/// As [`parse_element_with_limits`], reading a hot message without a tree when `hot` (see
/// [`StreamParser::read_hot_messages`]).
///
/// # Errors
/// As [`parse_element_with_limits`].
pub fn parse_stanza_with_limits(
    data: &[u8],
    limits: StreamLimits,
    hot: bool,
) -> Result<Stanza, StreamError> {
    let limit = limits.max_stanza_size;
    if data.len() > limit {
        return Err(StreamError::StanzaTooLarge { limit });
    }
    // No token is longer than the message: reserve no more scratch space than that.
    let mut parser = parser(limit.min(data.len()));
    let mut rest = data;
    let mut builder: Option<Building> = None;
    loop {
        match parser.parse(&mut rest, true) {
            Ok(Some(Event::XmlDeclaration(..))) => {}
            Ok(Some(Event::StartElement(_, qname, attrs))) if builder.is_none() => {
                builder = Some(Building::start(qname, attrs, &limits, hot));
            }
            Ok(Some(event)) => {
                let Some(b) = builder.take() else {
                    return Err(StreamError::xml("text outside the element"));
                };
                match b.feed(event, &limits)? {
                    Fed::Done(stanza) => return Ok(stanza),
                    Fed::More(b) => builder = Some(b),
                }
            }
            Ok(None) => return Err(StreamError::xml("no element")),
            Err(EndOrError::NeedMoreData) => {
                return Err(StreamError::xml("truncated element"));
            }
            Err(EndOrError::Error(e)) => return Err(StreamError::xml_from(e)),
        }
    }
}

/// Serializer of our side of the stream. `jabber:client` and the `stream` prefix are declared
/// once on the stream header, so stanzas go out without repeated namespace declarations.
pub struct StreamWriter {
    encoder: Encoder<SimpleNamespaces>,
}

impl Default for StreamWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamWriter {
    /// A writer for a fresh stream.
    pub fn new() -> Self {
        let mut encoder = Encoder::new();
        encoder
            .ns_tracker_mut()
            .declare_fixed(Some(rxml::xml_ncname!("stream")), STREAM_NS.into());
        encoder
            .ns_tracker_mut()
            .declare_fixed(None, ns::DEFAULT_NS.into());
        Self { encoder }
    }

    /// Appends the `<stream:stream to=… version='1.0'>` opening tag.
    pub fn header(&mut self, to: &str, out: &mut BytesMut) -> Result<(), StreamError> {
        let items = [
            Item::XmlDeclaration(XmlVersion::V1_0),
            Item::ElementHeadStart(Namespace::from(STREAM_NS), rxml::xml_ncname!("stream")),
            Item::Attribute(Namespace::NONE, rxml::xml_ncname!("to"), to),
            Item::Attribute(Namespace::NONE, rxml::xml_ncname!("version"), "1.0"),
            Item::ElementHeadEnd,
        ];
        for item in items {
            self.encoder
                .encode_into_bytes(item, out)
                .map_err(StreamError::xml_from)?;
        }
        Ok(())
    }

    /// Appends one element.
    pub fn element(&mut self, element: &Element, out: &mut BytesMut) -> Result<(), StreamError> {
        let iter = element.as_xml_iter().map_err(StreamError::xml_from)?;
        for item in iter {
            let item = item.map_err(StreamError::xml_from)?;
            self.encoder
                .encode_into_bytes(item.as_rxml_item(), out)
                .map_err(StreamError::xml_from)?;
        }
        Ok(())
    }

    /// Appends the closing `</stream:stream>`.
    pub fn footer(&mut self, out: &mut BytesMut) -> Result<(), StreamError> {
        self.encoder
            .encode_into_bytes(Item::ElementFoot, out)
            .map_err(StreamError::xml_from)
    }
}

/// Serializes a standalone element (a WebSocket message), declaring its namespace on itself.
pub fn element_to_bytes(element: &Element) -> Result<BytesMut, StreamError> {
    let mut encoder: Encoder<SimpleNamespaces> = Encoder::new();
    let mut out = BytesMut::new();
    let iter = element.as_xml_iter().map_err(StreamError::xml_from)?;
    for item in iter {
        let item = item.map_err(StreamError::xml_from)?;
        encoder
            .encode_into_bytes(item.as_rxml_item(), &mut out)
            .map_err(StreamError::xml_from)?;
    }
    Ok(out)
}

/// Turns a `<stream:error>` into the typed error, or `None` for any other element.
pub fn stream_error(element: &Element) -> Option<StreamError> {
    if !element.is("error", STREAM_NS) {
        return None;
    }
    // One that xmpp-parsers cannot read (no condition, an unknown one) still ends the stream.
    let condition = xmpp_parsers::stream_error::StreamError::try_from(element.clone())
        .map_or(StreamCondition::UndefinedCondition, |e| e.condition);
    Some(StreamError::Server { condition })
}

#[cfg(test)]
#[path = "xml_stream_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "xml_stream_hot_tests.rs"]
mod hot_tests;
