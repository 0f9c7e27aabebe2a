//! A loopback proxy that holds every server-to-client chunk for a fixed delay, so a login's
//! wall time divided by the delay counts the round trips it waits for (the idea of the
//! transport's `direct_tls_login_uses_four_round_trips_after_tcp_connect` test).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Starts the proxy in front of `target` and returns its port on 127.0.0.1.
///
/// # Errors
/// When no local port can be bound.
pub async fn delaying_proxy(target: SocketAddr, delay: Duration) -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, target, delay));
        }
    });
    Ok(port)
}

/// Copies client to server at once, and server to client `delay` after each chunk arrived.
async fn relay(client: TcpStream, target: SocketAddr, delay: Duration) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = sr.read(&mut buf).await {
            if n == 0
                || tx
                    .send((Instant::now() + delay, buf[..n].to_vec()))
                    .is_err()
            {
                break;
            }
        }
    });
    while let Some((at, chunk)) = rx.recv().await {
        tokio::time::sleep_until(at).await;
        if cw.write_all(&chunk).await.is_err() {
            break;
        }
    }
}
