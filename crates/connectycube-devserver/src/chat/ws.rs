//! RFC 7395 XMPP over WebSocket: each text message is one element; `<open/>` and `<close/>`
//! (framing namespace) stand for the stream header and footer.

use super::xml::Attr;
use futures_util::{SinkExt, StreamExt};
use minidom::Element;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use connectycube_transport::xml_stream::Frame;

use super::codec::{self, MAX_STANZA};
use super::wire::{Wire, WireError};

/// The framing namespace.
pub const FRAMING_NS: &str = "urn:ietf:params:xml:ns:xmpp-framing";

/// A WebSocket client connection.
pub struct WsWire<S> {
    ws: WebSocketStream<S>,
    out: Vec<String>,
}

/// Runs the WebSocket handshake, agreeing on the `xmpp` subprotocol when offered.
pub async fn accept<S>(io: S) -> Option<WsWire<S>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut config = WebSocketConfig::default();
    // Whole messages are bounded before they are buffered past the stanza limit.
    config.max_message_size = Some(MAX_STANZA);
    config.max_frame_size = Some(MAX_STANZA);
    // tungstenite's callback signature fixes the error type; we never fail the handshake.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered = req
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|p| p.trim() == "xmpp"));
        if offered {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("xmpp"));
        }
        Ok(resp)
    };
    let ws = tokio_tungstenite::accept_hdr_async_with_config(io, callback, Some(config))
        .await
        .ok()?;
    Some(WsWire {
        ws,
        out: Vec::new(),
    })
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Wire for WsWire<S> {
    async fn recv(&mut self) -> Result<Option<Frame>, WireError> {
        loop {
            let Some(msg) = self.ws.next().await else {
                return Ok(None);
            };
            let msg = msg.map_err(|e| WireError::WebSocket(e.to_string()))?;
            let data = match msg {
                Message::Text(t) => t.as_str().as_bytes().to_vec(),
                Message::Binary(b) => b.to_vec(),
                Message::Close(_) => return Ok(None),
                _ => continue,
            };
            let el = codec::parse_message(&data)?;
            return Ok(Some(if el.is("open", FRAMING_NS) {
                Frame::Header(el)
            } else if el.is("close", FRAMING_NS) {
                Frame::End
            } else {
                Frame::Stanza(el)
            }));
        }
    }

    fn header(&mut self, host: &str, id: &str) {
        let open = Element::builder("open", FRAMING_NS)
            .a("from", host)
            .a("id", id)
            .a("version", "1.0")
            .build();
        let _ = self.queue(&open);
    }

    fn queue(&mut self, el: &Element) -> Result<(), WireError> {
        let bytes = codec::to_bytes(el)?;
        let text =
            String::from_utf8(bytes.to_vec()).map_err(|e| WireError::WebSocket(e.to_string()))?;
        self.out.push(text);
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), WireError> {
        for text in self.out.drain(..) {
            self.ws
                .feed(Message::text(text))
                .await
                .map_err(|e| WireError::WebSocket(e.to_string()))?;
        }
        self.ws
            .flush()
            .await
            .map_err(|e| WireError::WebSocket(e.to_string()))
    }

    fn footer(&mut self) {
        let _ = self.queue(&Element::builder("close", FRAMING_NS).build());
    }

    fn restart(&mut self) -> Result<(), WireError> {
        Ok(())
    }

    async fn linger(&mut self) {
        let _ = self.ws.close(None).await;
    }
}
