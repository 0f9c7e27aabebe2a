//! Accept loops: direct TLS, STARTTLS, ws and wss. Each connection runs in its own task, so a
//! client that misbehaves only ever ends its own connection.

use std::net::SocketAddr;
use std::sync::Arc;

use connectycube_transport::xml_stream::Frame;
use minidom::Element;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::session;
use super::wire::{StreamWire, Wire, close_with};
use super::ws;
use super::{ChatError, ChatPorts, Shared};

const TLS_NS: &str = "urn:ietf:params:xml:ns:xmpp-tls";

#[derive(Debug, Clone, Copy)]
enum Kind {
    DirectTls,
    StartTls,
    Ws,
    Wss,
}

async fn listen(shared: &Shared, port: u16) -> Result<TcpListener, ChatError> {
    let addr = SocketAddr::new(shared.config.bind, port);
    TcpListener::bind(addr)
        .await
        .map_err(|source| ChatError::Bind { addr, source })
}

fn port_of(l: &TcpListener) -> u16 {
    l.local_addr().map(|a| a.port()).unwrap_or(0)
}

/// Binds the four listeners and spawns their accept loops.
pub(crate) async fn bind_all(
    shared: &Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> Result<(ChatPorts, Vec<JoinHandle<()>>), ChatError> {
    let p = shared.config.ports;
    let direct = listen(shared, p.direct_tls).await?;
    let starttls = listen(shared, p.starttls).await?;
    let ws = listen(shared, p.ws).await?;
    let wss = listen(shared, p.wss).await?;
    let ports = ChatPorts {
        direct_tls: port_of(&direct),
        starttls: port_of(&starttls),
        ws: port_of(&ws),
        wss: port_of(&wss),
    };
    let tasks = vec![
        tokio::spawn(accept(
            direct,
            Kind::DirectTls,
            shared.clone(),
            stop.clone(),
        )),
        tokio::spawn(accept(
            starttls,
            Kind::StartTls,
            shared.clone(),
            stop.clone(),
        )),
        tokio::spawn(accept(ws, Kind::Ws, shared.clone(), stop.clone())),
        tokio::spawn(accept(wss, Kind::Wss, shared.clone(), stop)),
    ];
    Ok((ports, tasks))
}

async fn accept(l: TcpListener, kind: Kind, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            r = l.accept() => {
                let Ok((tcp, _)) = r else { continue };
                let _ = tcp.set_nodelay(true);
                tokio::spawn(connection(tcp, kind, shared.clone(), stop.clone()));
            }
            _ = stop.changed() => return,
        }
    }
}

async fn connection(tcp: TcpStream, kind: Kind, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    match kind {
        Kind::DirectTls => {
            let Ok(tls) = shared.tls.acceptor().accept(tcp).await else {
                return;
            };
            session::serve(StreamWire::new(tls), shared, stop).await;
        }
        Kind::StartTls => starttls(tcp, shared, stop).await,
        Kind::Ws => {
            if let Some(w) = ws::accept(tcp).await {
                session::serve(w, shared, stop).await;
            }
        }
        Kind::Wss => {
            let Ok(tls) = shared.tls.acceptor().accept(tcp).await else {
                return;
            };
            if let Some(w) = ws::accept(tls).await {
                session::serve(w, shared, stop).await;
            }
        }
    }
}

/// The plaintext stage: only `<starttls/>` is accepted (TLS is required before SASL).
async fn starttls(tcp: TcpStream, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let mut wire = StreamWire::new(tcp);
    match wire.recv().await {
        Ok(Some(Frame::Header(_))) => {}
        _ => return,
    }
    let id = session::stream_id();
    wire.header(shared.host(), &id);
    let features = Element::builder("features", connectycube_transport::xml_stream::STREAM_NS)
        .append(
            Element::builder("starttls", TLS_NS)
                .append(Element::builder("required", TLS_NS).build())
                .build(),
        )
        .build();
    if wire.queue(&features).is_err() || wire.flush().await.is_err() {
        return;
    }
    match wire.recv().await {
        Ok(Some(Frame::Stanza(el))) if el.is("starttls", TLS_NS) => {}
        Ok(Some(_)) => {
            close_with(&mut wire, "policy-violation", Some("STARTTLS is required")).await;
            return;
        }
        Ok(None) => return,
        Err(e) => {
            session::refuse(&mut wire, &e).await;
            return;
        }
    }
    let _ = wire.queue(&Element::builder("proceed", TLS_NS).build());
    if wire.flush().await.is_err() {
        return;
    }
    let Some(tcp) = wire.into_inner() else {
        return;
    };
    let Ok(tls) = shared.tls.acceptor().accept(tcp).await else {
        return;
    };
    session::serve(StreamWire::new(tls), shared, stop).await;
}
