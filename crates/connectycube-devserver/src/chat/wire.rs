//! One client's framing: an XML stream over TCP/TLS, or RFC 7395 messages over WebSocket. The
//! session logic sees frames and elements only.

use std::future::Future;

use bytes::BytesMut;
use connectycube_transport::xml_stream::{Frame, STREAM_NS, StreamWriter};
use minidom::Element;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::codec::{self, CodecError, StreamReader};

/// Why reading from a client stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The socket failed or closed.
    #[error("connection failed")]
    Io(#[from] std::io::Error),
    /// The client sent what we refuse.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The WebSocket layer failed.
    #[error("websocket: {0}")]
    WebSocket(String),
}

/// A client connection as frames.
pub trait Wire: Send {
    /// The next frame; `Ok(None)` when the socket closed. Cancel-safe.
    fn recv(&mut self) -> impl Future<Output = Result<Option<Frame>, WireError>> + Send;
    /// Queues our stream header (or `<open/>`).
    fn header(&mut self, host: &str, id: &str);
    /// Queues an element.
    fn queue(&mut self, el: &Element) -> Result<(), WireError>;
    /// Writes everything queued.
    fn flush(&mut self) -> impl Future<Output = Result<(), WireError>> + Send;
    /// Queues the end of the stream (`</stream:stream>` or `<close/>`).
    fn footer(&mut self);
    /// Starts a new stream on the same connection (after SASL).
    fn restart(&mut self) -> Result<(), WireError>;
    /// After a stream error: reads and drops what the client still sends, briefly, so closing
    /// with unread input does not reset the connection before the client read our error.
    fn linger(&mut self) -> impl Future<Output = ()> + Send;
}

/// Queues a stream error and the end of the stream, then writes them.
pub async fn close_with<W: Wire>(wire: &mut W, condition: &str, text: Option<&str>) {
    let mut err = Element::builder("error", STREAM_NS)
        .append(Element::builder(condition, "urn:ietf:params:xml:ns:xmpp-streams").build());
    if let Some(t) = text {
        err = err.append(
            Element::builder("text", "urn:ietf:params:xml:ns:xmpp-streams")
                .append(t)
                .build(),
        );
    }
    let _ = wire.queue(&err.build());
    wire.footer();
    let _ = wire.flush().await;
    wire.linger().await;
}

/// How long and how much [`Wire::linger`] reads at most.
const LINGER: std::time::Duration = std::time::Duration::from_millis(500);
const LINGER_BYTES: usize = 4 * 1024 * 1024;

/// A writer whose encoder stands inside `<stream:stream>`: the transport's writer writes the
/// client's header, so we let it write one and throw the bytes away, then send our own
/// server header (with `from` and `id`) by hand.
fn stream_writer() -> StreamWriter {
    let mut w = codec::writer();
    let mut scratch = BytesMut::new();
    let _ = w.header("localhost", &mut scratch);
    w
}

/// The XML stream over a byte socket.
pub struct StreamWire<S> {
    io: S,
    reader: StreamReader,
    writer: StreamWriter,
    out: BytesMut,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> StreamWire<S> {
    /// Wraps a socket.
    pub fn new(io: S) -> Self {
        Self {
            io,
            reader: StreamReader::new(),
            writer: stream_writer(),
            out: BytesMut::new(),
            buf: vec![0; 16 * 1024],
        }
    }

    /// The socket back, for STARTTLS; `None` when the client sent bytes after `<starttls/>`
    /// (they would be injected into the TLS session).
    pub fn into_inner(self) -> Option<S> {
        (!self.reader.has_unread()).then_some(self.io)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Wire for StreamWire<S> {
    async fn recv(&mut self) -> Result<Option<Frame>, WireError> {
        loop {
            if let Some(frame) = self.reader.next_frame()? {
                return Ok(Some(frame));
            }
            let n = self.io.read(&mut self.buf).await?;
            if n == 0 {
                return Ok(None);
            }
            self.reader.push(&self.buf[..n])?;
        }
    }

    fn header(&mut self, host: &str, id: &str) {
        self.out
            .extend_from_slice(codec::server_header(host, id).as_bytes());
    }

    fn queue(&mut self, el: &Element) -> Result<(), WireError> {
        self.writer
            .element(el, &mut self.out)
            .map_err(|e| WireError::Codec(e.into()))
    }

    async fn flush(&mut self) -> Result<(), WireError> {
        if !self.out.is_empty() {
            let out = self.out.split();
            self.io.write_all(&out).await?;
            self.io.flush().await?;
        }
        Ok(())
    }

    fn footer(&mut self) {
        self.out.extend_from_slice(b"</stream:stream>");
    }

    async fn linger(&mut self) {
        let _ = self.io.shutdown().await;
        let mut left = LINGER_BYTES;
        let deadline = tokio::time::Instant::now() + LINGER;
        while left > 0 {
            match tokio::time::timeout_at(deadline, self.io.read(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
                _ => return,
            }
        }
    }

    fn restart(&mut self) -> Result<(), WireError> {
        self.reader.restart()?;
        self.writer = stream_writer();
        Ok(())
    }
}
