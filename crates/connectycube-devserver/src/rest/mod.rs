//! The REST API, as `server-auth.mdx`, `server-users.md`, `server-chat.md` and
//! `server-storage.md` document it: hyper 1, HTTP/1.1, plain `http://` on 127.0.0.1.
//!
//! Each request is read whole (bounded), routed by method and path, and answered from the
//! [`Store`]; nothing a client sends can make the server panic or stop serving others.

mod admin;
mod dialogs;
mod faults;
mod filter;
mod messages;
mod records;
mod render;
mod reply;
mod request;
mod route;
mod session;
mod storage;
mod subscriptions;
mod users;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::push::PushSender;
use crate::store::Store;

pub use faults::{RestFault, RouteFault};
pub use reply::ApiError;
pub use session::provider_identity;

/// A request budget per session token (or per client without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window, counted from the first request in it.
    pub window: Duration,
}

/// How the REST half behaves.
#[derive(Debug, Clone)]
pub struct RestSettings {
    /// How long a session lives after its last request (the cloud: 2 h).
    pub session_ttl: Duration,
    /// How long a guest user's session lives (the cloud: 1 day).
    pub guest_session_ttl: Duration,
    /// Create the user on the fly when a session names an unknown login or email (the
    /// cloud's default; the admin panel can deny it).
    pub create_users_on_session: bool,
    /// The dialog custom fields allowed (`extensions`; others are dropped); `None` allows any.
    pub dialog_extensions: Option<Vec<String>>,
    /// Answer 429 past this budget; `None` never does.
    pub rate_limit: Option<RateLimit>,
    /// The chat host, for `xmpp_room_jid` (`{app}_{dialog}@muc.{host}`).
    pub chat_host: String,
    /// The largest JSON body read.
    pub max_body_bytes: usize,
    /// The largest file upload read.
    pub max_upload_bytes: usize,
}

impl Default for RestSettings {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(2 * 3600),
            guest_session_ttl: Duration::from_secs(24 * 3600),
            create_users_on_session: true,
            dialog_extensions: None,
            rate_limit: None,
            chat_host: "localhost".into(),
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What every request handler shares.
pub struct RestState {
    store: Store,
    push: PushSender,
    settings: RestSettings,
    api_url: String,
    limiter: Mutex<HashMap<String, (Instant, u32)>>,
    fail_next: AtomicU32,
    /// The status the failing requests answer (500: an HTML page, as a failing front end).
    fail_status: AtomicU16,
    /// Per-route faults and request counts.
    route_faults: faults::RouteFaults,
    /// The chat's fault injection, once the chat runs (the admin endpoint reaches it).
    pub(crate) chat_faults: OnceLock<Arc<crate::chat::faults::ChatFaults>>,
}

impl std::fmt::Debug for RestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestState")
            .field("api_url", &self.api_url)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RestState {
    /// The state of a server at `api_url` (its own address, for upload and download links).
    pub fn new(store: Store, push: PushSender, settings: RestSettings, api_url: String) -> Self {
        Self {
            store,
            push,
            settings,
            api_url,
            limiter: Mutex::new(HashMap::new()),
            fail_next: AtomicU32::new(0),
            fail_status: AtomicU16::new(500),
            route_faults: faults::RouteFaults::default(),
            chat_faults: OnceLock::new(),
        }
    }

    /// Makes the next `n` requests fail with a 500 and an HTML body, as a failing cloud
    /// front end does: for testing a client's retries.
    pub fn fail_next_requests(&self, n: u32) {
        self.fail_next_requests_with(n, http::StatusCode::INTERNAL_SERVER_ERROR);
    }

    /// Makes the next `n` requests (admin requests aside) fail with `status`: 500 answers
    /// an HTML page, any other status the documented `{"errors": {"base": [...]}}` (with
    /// `Retry-After: 1` for 429 and 503).
    pub fn fail_next_requests_with(&self, n: u32, status: http::StatusCode) {
        self.fail_status.store(status.as_u16(), Ordering::SeqCst);
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// Lets the admin endpoint reach the chat's faults.
    pub fn attach_chat_faults(&self, faults: Arc<crate::chat::faults::ChatFaults>) {
        let _ = self.chat_faults.set(faults);
    }

    /// Whether a request by `who` is within the rate limit (and counts it).
    fn within_rate_limit(&self, who: &str) -> Result<(), ApiError> {
        let Some(limit) = self.settings.rate_limit else {
            return Ok(());
        };
        let mut map = self.limiter.lock().map_err(|_| ApiError::internal())?;
        // Bound the table: a client inventing tokens must not grow it without end.
        if map.len() > 10_000 {
            map.retain(|_, (start, _)| start.elapsed() < limit.window);
            if map.len() > 10_000 {
                // Still too many live budgets: forget them all rather than grow.
                map.clear();
            }
        }
        let now = Instant::now();
        let entry = map.entry(who.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= limit.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 > limit.requests {
            let left = limit.window.saturating_sub(now.duration_since(entry.0));
            return Err(ApiError::rate_limited(left.as_secs().max(1)));
        }
        Ok(())
    }
}

/// Serves `listener` until `stop` turns true; each connection on its own task.
pub async fn serve(listener: TcpListener, state: Arc<RestState>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                continue;
            }
        };
        let state = state.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(state.clone(), peer, req));
            // A client that never finishes its headers is dropped rather than held open.
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => if let Err(e) = r {
                    tracing::debug!("connection from {peer}: {e}");
                },
                _ = stop.changed() => conn.as_mut().graceful_shutdown(),
            }
        });
    }
}

async fn handle(
    state: Arc<RestState>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let admin = req
        .uri()
        .path()
        .trim_start_matches('/')
        .starts_with(admin::PREFIX);
    if !admin
        && state
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        let status = state.fail_status.load(Ordering::SeqCst);
        return Ok(match http::StatusCode::from_u16(status) {
            Ok(s) if s != http::StatusCode::INTERNAL_SERVER_ERROR => {
                ApiError::injected(s).into_response()
            }
            _ => reply::server_error_page(),
        });
    }
    let (parts, body) = req.into_parts();
    let upload = route::is_upload(parts.uri.path());
    let limit = if upload {
        state.settings.max_upload_bytes
    } else {
        state.settings.max_body_bytes
    };
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(ApiError::too_large().into_response()),
    };
    let answer = match request::Req::parse(&parts, bytes) {
        Ok(req) if admin => admin::dispatch(&state, &req),
        Ok(mut req) => {
            let who = req.token.clone().unwrap_or_else(|| peer.ip().to_string());
            state
                .within_rate_limit(&who)
                .and_then(|()| route::dispatch(&state, &mut req))
        }
        Err(e) => Err(e),
    };
    Ok(match answer {
        Ok(reply) => reply.into_response(),
        Err(e) => e.into_response(),
    })
}
