//! The transport's XML stream codec seen from the server, behind a thin wrapper: bytes are
//! checked for nesting depth before the parser builds any tree from them, so a client cannot
//! make us build (and later drop, recursively) a tree as deep as its input.

use bytes::BytesMut;
use connectycube_transport::error::StreamError;
use connectycube_transport::xml_stream::{self, Frame, StreamParser, StreamWriter};
use minidom::Element;

/// The largest stanza a client may send: 1 MiB, as the client accepts from the server.
pub const MAX_STANZA: usize = 1024 * 1024;
/// The deepest nesting allowed inside one stanza (the stream root not counted).
pub const MAX_DEPTH: usize = 48;

/// Why the input was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// Malformed XML, an oversized stanza, or another codec refusal.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// Elements nested deeper than [`MAX_DEPTH`].
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
}

impl CodecError {
    /// The stream error condition to send the client (RFC 6120 4.9.3).
    pub fn condition(&self) -> &'static str {
        match self {
            Self::Stream(StreamError::StanzaTooLarge { .. }) => "policy-violation",
            Self::TooDeep(_) => "policy-violation",
            _ => "not-well-formed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    Text,
    /// Just after `<`.
    Open,
    /// Inside a start tag (`quote` is the open quote, 0 for none; `slash` the last byte was `/`).
    Start {
        quote: u8,
        slash: bool,
    },
    /// Inside an end tag.
    End,
    /// `<!…` or `<?…`: matched bytes of `[CDATA[` so far, or skipping to `>`.
    Bang(u8),
    /// Inside CDATA, counting the `]` seen in a row.
    Cdata(u8),
    /// Skipping to `>` (a declaration or processing instruction, which the parser refuses or ignores).
    Skip,
}

/// Tracks element depth over raw bytes: a small state machine that needs no buffering and
/// overestimates rather than underestimates (a `<` it cannot read counts as an element).
#[derive(Debug, Clone)]
pub struct DepthGuard {
    state: Scan,
    depth: usize,
    limit: usize,
}

impl DepthGuard {
    /// A guard allowing `limit` levels in total.
    pub fn new(limit: usize) -> Self {
        Self {
            state: Scan::Text,
            depth: 0,
            limit,
        }
    }

    /// Scans `bytes`, which follow all bytes scanned before.
    ///
    /// # Errors
    /// [`CodecError::TooDeep`] as soon as the depth passes the limit.
    pub fn scan(&mut self, bytes: &[u8]) -> Result<(), CodecError> {
        const CDATA: &[u8] = b"[CDATA[";
        for &b in bytes {
            self.state = match self.state {
                Scan::Text if b == b'<' => Scan::Open,
                Scan::Text => Scan::Text,
                Scan::Open => match b {
                    b'/' => Scan::End,
                    b'!' => Scan::Bang(0),
                    b'?' => Scan::Skip,
                    _ => {
                        self.depth += 1;
                        if self.depth > self.limit {
                            return Err(CodecError::TooDeep(self.limit));
                        }
                        Scan::Start {
                            quote: 0,
                            slash: false,
                        }
                    }
                },
                Scan::Start { quote: 0, slash } => match b {
                    b'\'' | b'"' => Scan::Start {
                        quote: b,
                        slash: false,
                    },
                    b'>' => {
                        if slash {
                            self.depth = self.depth.saturating_sub(1);
                        }
                        Scan::Text
                    }
                    b'/' => Scan::Start {
                        quote: 0,
                        slash: true,
                    },
                    _ => Scan::Start {
                        quote: 0,
                        slash: false,
                    },
                },
                Scan::Start { quote, .. } if b == quote => Scan::Start {
                    quote: 0,
                    slash: false,
                },
                s @ Scan::Start { .. } => s,
                Scan::End if b == b'>' => {
                    self.depth = self.depth.saturating_sub(1);
                    Scan::Text
                }
                Scan::End => Scan::End,
                Scan::Bang(n) if usize::from(n) < CDATA.len() && CDATA[usize::from(n)] == b => {
                    if usize::from(n) + 1 == CDATA.len() {
                        Scan::Cdata(0)
                    } else {
                        Scan::Bang(n + 1)
                    }
                }
                Scan::Bang(_) if b == b'>' => Scan::Text,
                Scan::Bang(_) => Scan::Skip,
                Scan::Cdata(n) if b == b']' => Scan::Cdata((n + 1).min(2)),
                Scan::Cdata(2) if b == b'>' => Scan::Text,
                Scan::Cdata(_) => Scan::Cdata(0),
                Scan::Skip if b == b'>' => Scan::Text,
                Scan::Skip => Scan::Skip,
            };
        }
        Ok(())
    }
}

/// Reads a client's XML stream: depth-checked bytes into the transport's parser.
pub struct StreamReader {
    parser: StreamParser,
    guard: DepthGuard,
    buf: BytesMut,
}

impl Default for StreamReader {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamReader {
    /// A reader for a fresh stream.
    pub fn new() -> Self {
        Self {
            parser: StreamParser::new(MAX_STANZA),
            // The stream root is one level.
            guard: DepthGuard::new(MAX_DEPTH + 1),
            buf: BytesMut::new(),
        }
    }

    /// Takes bytes read from the socket.
    ///
    /// # Errors
    /// [`CodecError::TooDeep`] when they nest too deep.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), CodecError> {
        self.guard.scan(bytes)?;
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// The next complete frame, or `None` until more bytes come.
    ///
    /// # Errors
    /// As the transport's [`StreamParser::next_frame`].
    pub fn next_frame(&mut self) -> Result<Option<Frame>, CodecError> {
        let mut data: &[u8] = &self.buf;
        let before = data.len();
        let frame = self.parser.next_frame(&mut data)?;
        let used = before - data.len();
        let _ = self.buf.split_to(used);
        Ok(frame)
    }

    /// Starts over for a restarted stream (after SASL), keeping unread bytes.
    pub fn restart(&mut self) -> Result<(), CodecError> {
        let rest = std::mem::take(&mut self.buf);
        *self = Self::new();
        self.push(&rest)
    }

    /// Whether bytes wait unread (after `<starttls/>` they would be an injection).
    pub fn has_unread(&self) -> bool {
        !self.buf.is_empty()
    }
}

/// Parses one WebSocket message (one element), depth-checked first.
///
/// # Errors
/// [`CodecError`] as for the stream.
pub fn parse_message(data: &[u8]) -> Result<Element, CodecError> {
    DepthGuard::new(MAX_DEPTH).scan(data)?;
    Ok(xml_stream::parse_element(data, MAX_STANZA)?)
}

/// Serializes elements onto a stream whose header we wrote with [`server_header`].
pub fn writer() -> StreamWriter {
    StreamWriter::new()
}

/// Serializes a standalone element (a WebSocket message).
///
/// # Errors
/// When the element holds what XML cannot carry.
pub fn to_bytes(element: &Element) -> Result<BytesMut, CodecError> {
    Ok(xml_stream::element_to_bytes(element)?)
}

/// The server's `<stream:stream>` opening tag; it declares the namespaces [`writer`] assumes.
pub fn server_header(host: &str, id: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' id='{id}' from='{}' version='1.0' \
         xml:lang='en'>",
        escape_attr(host)
    )
}

/// Escapes an attribute value written by hand.
pub fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_guard_counts_nesting_not_siblings() {
        let mut g = DepthGuard::new(3);
        g.scan(b"<a><b/><b x='/>'/><c><d></d></c></a>").unwrap();
        assert!(DepthGuard::new(3).scan(b"<a><b><c><d>").is_err());
        // Split anywhere, same answer.
        let mut g = DepthGuard::new(3);
        for b in b"<a><b><![CDATA[<x><y><z>]]></b></a><a><b><c/></b></a>" {
            g.scan(&[*b]).unwrap();
        }
    }

    #[test]
    fn deep_input_is_refused_before_parsing() {
        let mut r = StreamReader::new();
        r.push(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
            .unwrap();
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            r.push(deep.as_bytes()),
            Err(CodecError::TooDeep(_))
        ));
        let ok = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH - 1),
            "</a>".repeat(MAX_DEPTH - 1)
        );
        let mut r = StreamReader::new();
        r.push(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
            .unwrap();
        r.push(ok.as_bytes()).unwrap();
        assert!(matches!(r.next_frame().unwrap(), Some(Frame::Header(_))));
        assert!(matches!(r.next_frame().unwrap(), Some(Frame::Stanza(_))));
        assert!(parse_message(deep.as_bytes()).is_err());
    }
}
