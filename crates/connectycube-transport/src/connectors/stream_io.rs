//! An XML stream over a byte socket (TCP or TLS): the negotiation-time read/write helpers, and
//! the split into a reader task and a writer task joined to the session by channels.

use bytes::BytesMut;
use minidom::Element;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::connector::{AuthenticatedStream, Outgoing, WriteNotice};
use crate::error::StreamError;
use crate::stanza::Stanza;
use crate::xml_stream::{Frame, Parsed, StreamLimits, StreamParser, StreamWriter, stream_error};

/// How many elements may wait in each channel; the writer applies back-pressure beyond that.
const CHANNEL_CAPACITY: usize = 256;
/// Bytes read from the socket at a time, at most (and the writer's batch size).
const READ_CHUNK: usize = 16 * 1024;
/// Bytes read at a time by a quiet connection: most stanzas fit, and an idle connection of
/// the thousands a program may hold keeps this much, not `READ_CHUNK`.
const QUIET_READ: usize = 2 * 1024;

/// How much room the next read gets: doubled after a read that filled it (a burst), back to
/// [`QUIET_READ`] after one that did not. Idle buffers are given back (see `shrink_idle`).
#[derive(Debug)]
struct ReadSize(usize);

impl ReadSize {
    fn next(&mut self, read: usize) {
        self.0 = if read >= self.0 {
            (self.0 * 2).min(READ_CHUNK)
        } else {
            QUIET_READ
        };
    }
}

/// Gives back `buf`'s allocation once it is empty and larger than a quiet connection needs:
/// a connection keeps the size of its largest burst otherwise.
fn shrink_idle(buf: &mut BytesMut) {
    if buf.is_empty() && buf.capacity() > QUIET_READ {
        *buf = BytesMut::new();
    }
}

/// One XMPP stream over a byte socket during negotiation.
pub(crate) struct StreamIo<S> {
    io: S,
    rx: BytesMut,
    tx: BytesMut,
    parser: StreamParser,
    writer: StreamWriter,
    limits: StreamLimits,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> StreamIo<S> {
    /// Wraps a connected socket; `limits` bound what the peer may send.
    pub fn new(io: S, limits: StreamLimits) -> Self {
        Self {
            io,
            rx: BytesMut::new(),
            tx: BytesMut::new(),
            parser: StreamParser::with_limits(limits),
            writer: StreamWriter::new(),
            limits,
        }
    }

    /// Queues a new stream header to `domain` and resets both directions (a new stream).
    pub fn queue_header(&mut self, domain: &str) -> Result<(), StreamError> {
        self.writer = StreamWriter::new();
        self.parser = StreamParser::with_limits(self.limits);
        tracing::trace!(target: "connectycube_transport::xml", "SEND <stream:stream to='{domain}'>");
        self.writer.header(domain, &mut self.tx)
    }

    /// Queues an element; `log` is what the trace log shows of it (secrets redacted).
    pub fn queue(&mut self, element: &Element, log: &str) -> Result<(), StreamError> {
        tracing::trace!(target: "connectycube_transport::xml", "SEND {log}");
        self.writer.element(element, &mut self.tx)
    }

    /// Writes everything queued, in one write when it fits (one TCP segment, no extra RTT).
    pub async fn flush(&mut self) -> Result<(), StreamError> {
        self.io.write_all(&self.tx).await?;
        self.io.flush().await?;
        self.tx.clear();
        Ok(())
    }

    /// Reads the next frame; a `<stream:error>` becomes `StreamError::Server`.
    pub async fn recv(&mut self) -> Result<Frame, StreamError> {
        loop {
            let mut data = &self.rx[..];
            let before = data.len();
            let frame = self.parser.next_frame(&mut data);
            let consumed = before - data.len();
            let _ = self.rx.split_to(consumed);
            match frame? {
                Some(Frame::Stanza(el)) => {
                    if let Some(err) = stream_error(&el) {
                        return Err(err);
                    }
                    tracing::trace!(target: "connectycube_transport::xml", "RECV {}", String::from(&el));
                    return Ok(Frame::Stanza(el));
                }
                Some(frame) => return Ok(frame),
                None => {}
            }
            self.rx.reserve(QUIET_READ);
            if self.io.read_buf(&mut self.rx).await? == 0 {
                return Err(StreamError::Closed);
            }
        }
    }

    /// Whether bytes arrived that nothing has parsed yet.
    pub fn has_unread(&self) -> bool {
        !self.rx.is_empty()
    }

    /// Gives back the socket (for the TLS upgrade after `<proceed/>`).
    pub fn into_inner(self) -> S {
        self.io
    }

    /// Splits into a reader task and a writer task and returns the session's ends.
    pub fn into_authenticated(
        self,
        features: xmpp_parsers::stream_features::StreamFeatures,
    ) -> AuthenticatedStream {
        let (incoming_tx, incoming) = mpsc::channel(CHANNEL_CAPACITY);
        let (outgoing, outgoing_rx) = mpsc::channel(CHANNEL_CAPACITY);
        // Dropped when the reader ends, so the writer closes our side too: a broken stream
        // then fails the session's sends at once instead of swallowing them.
        let (reader_alive, reader_gone) = oneshot::channel::<()>();
        let (read_half, write_half) = tokio::io::split(self.io);
        let mut parser = self.parser;
        parser.read_hot_messages();
        tokio::spawn(async move {
            read_loop(read_half, self.rx, parser, incoming_tx).await;
            drop(reader_alive);
        });
        tokio::spawn(write_loop(
            write_half,
            self.writer,
            self.tx,
            outgoing_rx,
            reader_gone,
        ));
        AuthenticatedStream {
            features,
            incoming,
            outgoing,
        }
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut io: R,
    mut rx: BytesMut,
    mut parser: StreamParser,
    incoming: mpsc::Sender<Result<Stanza, StreamError>>,
) {
    let mut size = ReadSize(QUIET_READ);
    let end = loop {
        let mut data = &rx[..];
        let before = data.len();
        let parsed = parser.next_stanza(&mut data);
        let consumed = before - data.len();
        let _ = rx.split_to(consumed);
        match parsed {
            Ok(Some(Parsed::Stanza(stanza))) => {
                if let Some(err) = stanza.as_element().and_then(stream_error) {
                    break err;
                }
                trace_received(&stanza);
                if incoming.send(Ok(stanza)).await.is_err() {
                    // The session dropped its receiver: nobody listens any more.
                    return;
                }
                continue;
            }
            Ok(Some(Parsed::Frame(Frame::End))) => break StreamError::Closed,
            Ok(Some(Parsed::Frame(Frame::Header(_)))) => {
                break StreamError::xml("unexpected second stream header");
            }
            Ok(Some(_)) => break StreamError::xml("unexpected frame"),
            Ok(None) => {}
            Err(e) => break e,
        }
        if size.0 == QUIET_READ {
            shrink_idle(&mut rx);
        }
        rx.reserve(size.0);
        tokio::select! {
            read = io.read_buf(&mut rx) => match read {
                Ok(0) => break StreamError::Closed,
                Ok(n) => size.next(n),
                Err(e) => break StreamError::Io(e),
            },
            () = incoming.closed() => return,
        }
    };
    tracing::debug!(error = %end, "XMPP stream ended");
    let _ = incoming.send(Err(end)).await;
}

/// The trace log's line for a received stanza (a read message shows its event: its tree was
/// never built).
pub(crate) fn trace_received(stanza: &Stanza) {
    match stanza {
        Stanza::Element(el) => {
            tracing::trace!(target: "connectycube_transport::xml", "RECV {}", String::from(&**el));
        }
        Stanza::Read(r) => {
            tracing::trace!(target: "connectycube_transport::xml", "RECV (read) {:?}", r.event());
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut io: W,
    mut writer: StreamWriter,
    mut tx: BytesMut,
    mut outgoing: mpsc::Receiver<Outgoing>,
    mut reader_gone: oneshot::Receiver<()>,
) {
    // The sends written by the current batch, told once the write succeeded.
    let mut notices: Vec<WriteNotice> = Vec::new();
    loop {
        let out = tokio::select! {
            biased;
            _ = &mut reader_gone => break,
            out = outgoing.recv() => match out {
                Some(out) => out,
                None => break,
            },
        };
        take(out, &mut tx, &mut notices);
        // Batch whatever else is already waiting into the same write.
        while tx.len() < READ_CHUNK {
            match outgoing.try_recv() {
                Ok(out) => take(out, &mut tx, &mut notices),
                Err(_) => break,
            }
        }
        if let Err(e) = write_out(&mut io, &mut tx).await {
            tracing::debug!(error = %e, "XMPP stream write failed");
            return;
        }
        if outgoing.is_empty() {
            shrink_idle(&mut tx);
        }
        for notice in notices.drain(..) {
            notice.written();
        }
    }
    // The session dropped the sender or the stream broke: close our side politely.
    if writer.footer(&mut tx).is_ok() {
        let _ = write_out(&mut io, &mut tx).await;
    }
    let _ = io.shutdown().await;
}

/// Appends an element the session serialized; no serialization here, so nothing to drop.
fn take(out: Outgoing, tx: &mut BytesMut, notices: &mut Vec<WriteNotice>) {
    let (bytes, notice) = out.into_parts();
    tracing::trace!(target: "connectycube_transport::xml", "SEND {}", String::from_utf8_lossy(&bytes));
    tx.extend_from_slice(&bytes);
    if notice.is_some() {
        notices.push(notice);
    }
}

async fn write_out<W: AsyncWrite + Unpin>(io: &mut W, tx: &mut BytesMut) -> std::io::Result<()> {
    io.write_all(tx).await?;
    io.flush().await?;
    tx.clear();
    Ok(())
}

#[cfg(test)]
mod buffer_tests {
    use super::*;

    #[test]
    fn reads_grow_in_a_burst_and_fall_back_when_quiet() {
        let mut size = ReadSize(QUIET_READ);
        size.next(QUIET_READ);
        assert_eq!(size.0, 2 * QUIET_READ, "a full read doubles the next");
        for _ in 0..10 {
            let full = size.0;
            size.next(full);
        }
        assert_eq!(size.0, READ_CHUNK, "never past READ_CHUNK");
        size.next(100);
        assert_eq!(size.0, QUIET_READ);
    }

    #[test]
    fn an_empty_buffer_gives_back_a_burst_sized_allocation() {
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        buf.extend_from_slice(b"x");
        shrink_idle(&mut buf);
        assert!(buf.capacity() >= READ_CHUNK, "data left: kept");
        buf.clear();
        shrink_idle(&mut buf);
        assert_eq!(buf.capacity(), 0);
    }
}
