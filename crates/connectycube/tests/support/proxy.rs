//! (A copy of the transport tests' proxy: test support cannot be shared across crates.)
//! A TCP proxy on 127.0.0.1 that forwards to the test server and can break what it carries:
//! cut every connection now (as a dropped network does), or swallow every byte without
//! closing anything (a silent drop: no FIN, no RST).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running proxy; dropping it stops accepting (open connections are cut).
pub struct Proxy {
    pub port: u16,
    generation: watch::Sender<u64>,
    blackhole: Arc<AtomicBool>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Proxy {
    /// Starts a proxy to `127.0.0.1:target`.
    pub async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (generation, _) = watch::channel(0u64);
        let blackhole = Arc::new(AtomicBool::new(false));
        let (gen_tx, hole) = (generation.clone(), blackhole.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                let cut = gen_tx.subscribe();
                tokio::spawn(pipe(client, upstream, cut, hole.clone()));
            }
        });
        Self {
            port,
            generation,
            blackhole,
            accept,
        }
    }

    /// Cuts every open connection now.
    pub fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// Swallows (true) or forwards (false) every byte, closing nothing.
    pub fn blackhole(&self, on: bool) {
        self.blackhole.store(on, Ordering::SeqCst);
    }
}

async fn pipe(
    client: TcpStream,
    upstream: TcpStream,
    mut cut: watch::Receiver<u64>,
    hole: Arc<AtomicBool>,
) {
    let (cr, cw) = client.into_split();
    let (ur, uw) = upstream.into_split();
    let up = copy(cr, uw, hole.clone());
    let down = copy(ur, cw, hole);
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = cut.changed() => {}
    }
}

async fn copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    hole: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if hole.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
