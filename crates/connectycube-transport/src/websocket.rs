//! XMPP over WebSocket (RFC 7395): each WebSocket text message carries one complete element,
//! the stream opens with `<open/>` and ends with `<close/>` (namespace
//! `urn:ietf:params:xml:ns:xmpp-framing`). Same login as over TCP; TLS is the `wss://` URL's.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use minidom::Element;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::stream_features::StreamFeatures;
use xmpp_parsers::websocket::Open;

use crate::config::ConnectionConfig;
use crate::connector::{AuthenticatedStream, Credentials, Outgoing, WriteNotice};
use crate::connectors::features;
use crate::connectors::stream_io::trace_received;
use crate::error::{ConnectError, StreamError};
use crate::sasl;
use crate::stanza::Stanza;
use crate::xml_stream::{StreamLimits, element_to_bytes, parse_stanza_with_limits, stream_error};

/// The RFC 7395 framing namespace of `<open/>` and `<close/>`.
pub const FRAMING_NS: &str = "urn:ietf:params:xml:ns:xmpp-framing";
const CHANNEL_CAPACITY: usize = 256;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the WebSocket at `url`, logs in and hands back the authenticated stream.
pub(crate) async fn connect(
    url: &str,
    config: &ConnectionConfig,
    tls: Arc<rustls::ClientConfig>,
    credentials: &Credentials,
) -> Result<AuthenticatedStream, ConnectError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ConnectError::InvalidConfig(format!("bad WebSocket URL: {e}")))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("xmpp"));
    let uri = request.uri().clone();
    let encrypted = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        other => {
            return Err(ConnectError::InvalidConfig(format!(
                "WebSocket URL scheme must be wss (or ws for tests), not {other:?}"
            )));
        }
    };
    if !encrypted && !config.allow_plaintext_for_tests {
        return Err(ConnectError::EncryptionRequired);
    }
    let host = uri
        .host()
        .ok_or_else(|| ConnectError::InvalidConfig("WebSocket URL without host".into()))?;
    let port = uri.port_u16().unwrap_or(if encrypted { 443 } else { 80 });
    let tcp =
        crate::connectors::connect_tcp(config.address.as_deref().unwrap_or(host), port).await?;
    tcp.set_nodelay(true)?;
    let mut ws_config = WebSocketConfig::default();
    // The stanza limit is enforced on whole messages before they are buffered past it.
    ws_config.max_message_size = Some(config.max_stanza_size);
    ws_config.max_frame_size = Some(config.max_stanza_size);
    let connector = if encrypted {
        tokio_tungstenite::Connector::Rustls(tls)
    } else {
        tokio_tungstenite::Connector::Plain
    };
    let (ws, response) = tokio_tungstenite::client_async_tls_with_config(
        request,
        tcp,
        Some(ws_config),
        Some(connector),
    )
    .await
    .map_err(|e| match e {
        // tokio-rustls reports a failed handshake (e.g. an untrusted certificate) as an I/O
        // error wrapping the rustls error.
        tungstenite::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<rustls::Error>()) => {
            crate::tls::handshake_error(io)
        }
        tungstenite::Error::Io(io) => ConnectError::Io(io),
        tungstenite::Error::Tls(tls) => {
            ConnectError::Tls(std::io::Error::new(std::io::ErrorKind::InvalidData, tls))
        }
        other => ConnectError::Negotiation(format!("WebSocket handshake failed: {other}")),
    })?;
    if response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|v| v.as_bytes())
        != Some(b"xmpp")
    {
        return Err(ConnectError::Negotiation(
            "the server did not accept the xmpp WebSocket subprotocol".into(),
        ));
    }
    let mut io = WsIo {
        ws,
        limits: config.stream_limits(),
    };
    let features = io.open(&config.domain).await?;
    sasl::require_plain(&features)?;
    io.send(&sasl::plain_auth(credentials), sasl::REDACTED_AUTH)
        .await?;
    sasl::outcome(io.recv().await?)?;
    let features = io.open(&config.domain).await?;
    Ok(io.into_authenticated(features))
}

struct WsIo {
    ws: Ws,
    limits: StreamLimits,
}

impl WsIo {
    async fn open(&mut self, domain: &str) -> Result<StreamFeatures, ConnectError> {
        let to = BareJid::new(domain)
            .map_err(|e| ConnectError::InvalidConfig(format!("bad XMPP domain {domain:?}: {e}")))?;
        let open = Element::from(Open::new(to));
        self.send(&open, &String::from(&open)).await?;
        let header = self.recv().await?;
        if !header.is("open", FRAMING_NS) {
            return Err(ConnectError::Negotiation(format!(
                "expected <open/>, got <{} xmlns='{}'>",
                header.name(),
                header.ns()
            )));
        }
        features(self.recv().await?)
    }

    async fn send(&mut self, el: &Element, log: &str) -> Result<(), ConnectError> {
        tracing::trace!(target: "connectycube_transport::xml", "SEND {log}");
        let text = to_text(el)?;
        self.ws.send(Message::text(text)).await.map_err(ws_error)?;
        Ok(())
    }

    async fn recv(&mut self) -> Result<Element, ConnectError> {
        Ok(recv_element(&mut self.ws, self.limits).await?)
    }

    fn into_authenticated(self, features: StreamFeatures) -> AuthenticatedStream {
        let (incoming_tx, incoming) = mpsc::channel(CHANNEL_CAPACITY);
        let (outgoing, outgoing_rx) = mpsc::channel(CHANNEL_CAPACITY);
        let (sink, stream) = self.ws.split();
        // Dropped when the reader ends, so the writer closes our side too.
        let (reader_alive, reader_gone) = oneshot::channel::<()>();
        tokio::spawn(async move {
            read_loop(stream, self.limits, incoming_tx).await;
            drop(reader_alive);
        });
        tokio::spawn(write_loop(sink, outgoing_rx, reader_gone));
        AuthenticatedStream {
            features,
            incoming,
            outgoing,
        }
    }
}

fn to_text(el: &Element) -> Result<String, StreamError> {
    let bytes = element_to_bytes(el)?;
    String::from_utf8(bytes.to_vec()).map_err(StreamError::xml_from)
}

fn ws_error(e: tungstenite::Error) -> StreamError {
    match e {
        tungstenite::Error::Io(io) => StreamError::Io(io),
        tungstenite::Error::Capacity(_) => StreamError::xml("WebSocket message over capacity"),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            StreamError::Closed
        }
        other => StreamError::Io(std::io::Error::other(other)),
    }
}

/// The next element from the server; `<close/>` and a closed socket end the stream.
async fn recv_element<S>(ws: &mut S, limits: StreamLimits) -> Result<Element, StreamError>
where
    S: futures_util::Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    recv_stanza(ws, limits, false).await?.into_element()
}

/// As [`recv_element`], reading a hot message without a tree when `hot` (after login).
async fn recv_stanza<S>(ws: &mut S, limits: StreamLimits, hot: bool) -> Result<Stanza, StreamError>
where
    S: futures_util::Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        let msg = match ws.next().await {
            None => return Err(StreamError::Closed),
            Some(Err(tungstenite::Error::Capacity(_))) => {
                return Err(StreamError::StanzaTooLarge {
                    limit: limits.max_stanza_size,
                });
            }
            Some(Err(e)) => return Err(ws_error(e)),
            Some(Ok(msg)) => msg,
        };
        let data = match msg {
            Message::Text(text) => text.as_bytes().to_vec(),
            Message::Binary(_) => return Err(StreamError::xml("binary WebSocket message")),
            Message::Close(_) => return Err(StreamError::Closed),
            // Pings are answered by tungstenite itself.
            _ => continue,
        };
        let stanza = parse_stanza_with_limits(&data, limits, hot)?;
        if let Some(el) = stanza.as_element() {
            if let Some(err) = stream_error(el) {
                return Err(err);
            }
            if el.is("close", FRAMING_NS) {
                return Err(StreamError::Closed);
            }
        }
        trace_received(&stanza);
        return Ok(stanza);
    }
}

async fn read_loop<S>(
    mut ws: S,
    limits: StreamLimits,
    incoming: mpsc::Sender<Result<Stanza, StreamError>>,
) where
    S: futures_util::Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        tokio::select! {
            next = recv_stanza(&mut ws, limits, true) => match next {
                Ok(el) => {
                    if incoming.send(Ok(el)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "XMPP WebSocket stream ended");
                    let _ = incoming.send(Err(e)).await;
                    return;
                }
            },
            () = incoming.closed() => return,
        }
    }
}

async fn write_loop<S>(
    mut sink: S,
    mut outgoing: mpsc::Receiver<Outgoing>,
    mut reader_gone: oneshot::Receiver<()>,
) where
    S: futures_util::Sink<Message, Error = tungstenite::Error> + Unpin,
{
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
        let (bytes, notice) = out.into_parts();
        tracing::trace!(target: "connectycube_transport::xml", "SEND {}", String::from_utf8_lossy(&bytes));
        // The session serialized the element to UTF-8 XML; a text frame carries it as is.
        // Never skip an element the session counted: close instead (it cannot happen, the
        // serializer writes UTF-8), so the session resends after reconnecting.
        let Ok(text) = tungstenite::Utf8Bytes::try_from(bytes) else {
            tracing::warn!("an outgoing element is not UTF-8: closing the stream");
            break;
        };
        if notice.is_some() {
            notices.push(notice);
        }
        // feed + flush once per batch: elements queued together share one flush.
        if sink.feed(Message::Text(text)).await.is_err() {
            return;
        }
        if outgoing.is_empty() {
            if sink.flush().await.is_err() {
                return;
            }
            for notice in notices.drain(..) {
                notice.written();
            }
        }
    }
    // The session dropped the sender or the stream broke: RFC 7395 section 3.6 close, then the WebSocket close.
    let close = Element::builder("close", FRAMING_NS).build();
    if let Ok(text) = to_text(&close) {
        let _ = sink.send(Message::text(text)).await;
    }
    let _ = sink.close().await;
}

#[cfg(test)]
#[path = "websocket_tests.rs"]
mod tests;
