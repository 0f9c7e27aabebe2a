//! The HTTP client: sends any [`Endpoint`], keeps the session token, renews an expired session
//! once, and retries what is safe to retry.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::sync::Semaphore;
use tracing::Instrument;
use url::Url;

use crate::endpoint::{Auth, Endpoint};
use crate::error::{ApiErrors, RestError, RetryKind, excerpt};
use crate::renewal::SharedSession;
use crate::storage::upload::UploadBody;

/// The production API.
pub const DEFAULT_API_URL: &str = "https://api.connectycube.com";

/// Requests in flight at once by default: enough to keep a server busy, few enough that
/// thousands of users of one program (10,000 creating their dialogs at once) do not open a
/// socket each and run both ends out of file descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;

/// Where the API is and how to talk to it.
#[derive(Clone)]
pub struct RestConfig {
    /// The API's base URL (enterprise and self-hosted installs have their own).
    pub api_url: Url,
    /// How long one request may take.
    pub timeout: Duration,
    /// How many times an idempotent request is retried after a transient failure.
    pub max_retries: u32,
    /// An extra trusted root certificate (PEM), for a server with a private CA.
    pub custom_root_ca_pem: Option<Vec<u8>>,
    /// Allow `http://` (only for a local test server).
    pub allow_plain_http: bool,
    /// How long one file upload may take, body included.
    pub upload_timeout: Duration,
    /// The largest answer body read (a bigger one fails as [`RestError::ResponseTooLarge`]
    /// instead of filling memory).
    pub max_response_bytes: usize,
    /// The longest `Retry-After` waited out before retrying; a longer one is handed to the
    /// caller as [`RestError::RateLimited`] rather than sleeping that long.
    pub max_retry_wait: Duration,
    /// Requests in flight at once through one client and the clients made from it with
    /// [`RestClient::without_session`], each on its own connection; more wait their turn.
    pub max_connections: usize,
}

impl fmt::Debug for RestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestConfig")
            .field("api_url", &self.api_url.as_str())
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("custom_root_ca", &self.custom_root_ca_pem.is_some())
            .field("allow_plain_http", &self.allow_plain_http)
            .field("upload_timeout", &self.upload_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl RestConfig {
    /// The production API, 30 s timeout, 3 retries, 10 min per upload, answers up to 16 MiB,
    /// `Retry-After` waited out up to 60 s, 64 requests in flight at once.
    ///
    /// ```
    /// use connectycube_rest::RestConfig;
    ///
    /// let config = RestConfig::new();
    /// assert_eq!(config.api_url.as_str(), "https://api.connectycube.com/");
    /// assert!(!config.allow_plain_http);
    /// ```
    #[allow(clippy::expect_used)] // a constant that parses: checked by a test
    pub fn new() -> Self {
        Self {
            api_url: Url::parse(DEFAULT_API_URL).expect("the default API URL parses"),
            timeout: Duration::from_secs(30),
            max_retries: 3,
            custom_root_ca_pem: None,
            allow_plain_http: false,
            upload_timeout: Duration::from_secs(600),
            max_response_bytes: 16 * 1024 * 1024,
            max_retry_wait: Duration::from_secs(60),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// Uses another API URL.
    ///
    /// # Errors
    /// [`RestError::InvalidRequest`] when `url` is not a URL.
    ///
    /// ```
    /// use connectycube_rest::RestConfig;
    ///
    /// let config = RestConfig::new().with_api_url("https://api.example.com")?;
    /// assert_eq!(config.api_url.host_str(), Some("api.example.com"));
    /// assert!(RestConfig::new().with_api_url("no url").is_err());
    /// # Ok::<(), connectycube_rest::RestError>(())
    /// ```
    pub fn with_api_url(mut self, url: &str) -> Result<Self, RestError> {
        self.api_url = Url::parse(url)
            .map_err(|e| RestError::InvalidRequest(format!("API URL `{url}`: {e}")))?;
        Ok(self)
    }
}

impl Default for RestConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Creates a new session token when the current one expired.
pub type SessionRenewer =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, RestError>> + Send>> + Send + Sync>;

/// The REST client. Cheap to clone; clones share the session token.
#[derive(Clone)]
pub struct RestClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    upload: Client<HttpsConnector<HttpConnector>, UploadBody>,
    config: Arc<RestConfig>,
    session: Arc<SharedSession>,
    renewer: Option<SessionRenewer>,
    /// One per request in flight ([`RestConfig::max_connections`]), shared with the pool.
    permits: Arc<Semaphore>,
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has_token = self.session.has_token();
        f.debug_struct("RestClient")
            .field("config", &self.config)
            .field("token", &if has_token { "<redacted>" } else { "<none>" })
            .finish()
    }
}

impl RestClient {
    /// A client for `config`, verifying TLS against the roots the crate's features choose (the
    /// bundled webpki roots by default) and the custom root, if any.
    ///
    /// # Errors
    /// [`RestError::InvalidRequest`] when the custom root is not a PEM certificate.
    ///
    /// ```
    /// use connectycube_rest::{RestClient, RestConfig};
    ///
    /// let client = RestClient::new(RestConfig::new())?; // no request is made yet
    /// assert_eq!(client.token(), None);
    /// client.set_token(Some("a session token".into()));
    /// assert!(!format!("{client:?}").contains("a session token"), "never printed");
    /// # Ok::<(), connectycube_rest::RestError>(())
    /// ```
    pub fn new(config: RestConfig) -> Result<Self, RestError> {
        let tls = tls_config(&config)?;
        let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls);
        let connector = if config.allow_plain_http {
            builder.https_or_http().enable_http1().build()
        } else {
            builder.https_only().enable_http1().build()
        };
        let upload = Client::builder(TokioExecutor::new()).build(connector.clone());
        let max = config.max_connections.max(1);
        let http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(max)
            .build(connector);
        Ok(Self {
            http,
            upload,
            config: Arc::new(config),
            session: Arc::default(),
            renewer: None,
            permits: Arc::new(Semaphore::new(max)),
        })
    }

    /// A client for another user of the same application: it shares this one's connection
    /// pool, TLS setup and settings, and has no session (nor renewer) of its own. A program
    /// with many users pays for one pool and one root store instead of one per user.
    pub fn without_session(&self) -> Self {
        Self {
            http: self.http.clone(),
            upload: self.upload.clone(),
            config: Arc::clone(&self.config),
            session: Arc::default(),
            renewer: None,
            permits: Arc::clone(&self.permits),
        }
    }

    /// Renews the session with `renewer` when the API says it expired (once per request;
    /// requests that find it expired together share one renewal).
    pub fn with_session_renewer(mut self, renewer: SessionRenewer) -> Self {
        self.renewer = Some(renewer);
        self
    }

    /// Sets (or clears) the session token sent as `CB-Token`.
    pub fn set_token(&self, token: Option<String>) {
        self.session.set(token);
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &RestConfig {
        &self.config
    }

    /// The pool that carries streamed uploads.
    pub(crate) fn upload_http(&self) -> &Client<HttpsConnector<HttpConnector>, UploadBody> {
        &self.upload
    }

    /// The current session token.
    pub fn token(&self) -> Option<String> {
        self.session.token()
    }

    /// Sends `endpoint` and decodes its answer.
    ///
    /// # Errors
    /// [`RestError`]: the API's error status with its parsed `errors`, rate limiting, an
    /// expired session that could not be renewed, timeout, connection or decode failures, a
    /// body that does not serialize.
    pub async fn send<E: Endpoint>(&self, endpoint: &E) -> Result<E::Response, RestError> {
        // `.instrument`, not a guard held across the awaits: a guard would mark whatever else
        // runs on this thread meanwhile as part of this request.
        let span =
            tracing::debug_span!("rest", method = %endpoint.method(), path = %endpoint.path());
        self.send_in_span(endpoint).instrument(span).await
    }

    async fn send_in_span<E: Endpoint>(&self, endpoint: &E) -> Result<E::Response, RestError> {
        let mut renewed = false;
        let mut attempt = 0u32;
        loop {
            let generation = self.session.generation();
            let timeout = self.config.timeout;
            // One deadline for the whole attempt (connect, headers and body): per phase, a
            // server dribbling its answer could stretch a request to a multiple of it.
            let sent = {
                // Waiting for a turn is not the server's time: the timeout starts after it.
                // The semaphore is never closed, so the permit is always there.
                let _turn = self.permits.acquire().await.ok();
                tokio::time::timeout(timeout, self.send_once(endpoint))
                    .await
                    .unwrap_or(Err(RestError::Timeout(timeout)))
            };
            match sent {
                Ok(body) => return decode::<E>(&body),
                Err(RestError::SessionExpired(e)) if !renewed => {
                    let Some(renewer) = &self.renewer else {
                        return Err(RestError::SessionExpired(e));
                    };
                    renewed = true;
                    self.session
                        .renew_after(generation, renewer)
                        .await
                        .map_err(|renewal| renewal.unwrap_or(RestError::SessionExpired(e)))?;
                }
                Err(e) => {
                    let wait = match e.retry_kind() {
                        RetryKind::Permanent => return Err(e),
                        _ if !endpoint.idempotent() || attempt >= self.config.max_retries => {
                            return Err(e);
                        }
                        RetryKind::Transient {
                            retry_after: Some(after),
                        } if after > self.config.max_retry_wait => return Err(e),
                        RetryKind::Transient {
                            retry_after: Some(after),
                        } => after,
                        _ => backoff(attempt),
                    };
                    attempt += 1;
                    tracing::debug!(attempt, error = %e, ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn send_once<E: Endpoint>(&self, endpoint: &E) -> Result<Bytes, RestError> {
        let request = self.request(endpoint)?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(RestError::connection)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_body(response, self.config.max_response_bytes).await?;
        if status.is_success() {
            return Ok(body);
        }
        let errors = ApiErrors::parse(&body);
        // Only a request that carried a session can have an expired one: a 401 to session
        // creation (a bad auth key) must not trigger renewal, which would send it again.
        let with_session = endpoint.auth() == Auth::Session;
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => RestError::RateLimited { retry_after },
            StatusCode::UNAUTHORIZED if with_session => RestError::SessionExpired(errors),
            _ if with_session && errors.says_session_expired() => RestError::SessionExpired(errors),
            _ => RestError::Http {
                status: status.as_u16(),
                errors,
                retry_after,
            },
        })
    }

    fn request<E: Endpoint>(&self, endpoint: &E) -> Result<Request<Full<Bytes>>, RestError> {
        let mut url = self
            .config
            .api_url
            .join(endpoint.path().trim_start_matches('/'))
            .map_err(|e| RestError::InvalidRequest(format!("path {}: {e}", endpoint.path())))?;
        let query = endpoint.query();
        if !query.is_empty() {
            url.set_query(Some(&query.encode()));
        }
        let mut builder = Request::builder()
            .method(endpoint.method())
            .uri(url.as_str());
        match endpoint.auth() {
            Auth::Session => {
                if let Some(token) = self.token() {
                    builder = builder.header("CB-Token", token);
                }
            }
            Auth::AuthKey(key) => builder = builder.header("CB-AuthKey", key.0),
            Auth::None => {}
        }
        let body = match endpoint.body()? {
            Some(json) => {
                builder = builder.header(CONTENT_TYPE, "application/json");
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        builder
            .body(Full::new(body))
            .map_err(|e| RestError::InvalidRequest(e.to_string()))
    }
}

fn decode<E: Endpoint>(body: &[u8]) -> Result<E::Response, RestError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|source| RestError::Decode {
        source,
        excerpt: excerpt(body),
    })
}

/// 200 ms, 400 ms, 800 ms... capped at 10 s, with jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(200u64 << attempt.min(6)).min(Duration::from_secs(10));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base / 2 + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

/// Reads an answer's body, at most `limit` bytes of it: the server decides its size.
pub(crate) async fn read_body<B>(
    response: http::Response<B>,
    limit: usize,
) -> Result<Bytes, RestError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    match http_body_util::Limited::new(response.into_body(), limit)
        .collect()
        .await
    {
        Ok(body) => Ok(body.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(RestError::ResponseTooLarge { limit })
        }
        Err(source) => Err(RestError::Connection { source }),
    }
}

/// The rustls configuration for `config`. The features choose the crypto provider
/// (`aws-lc-rs`, else `ring`, else the process-wide default) and the roots (`platform-verifier`:
/// the operating system's verifier, replacing the bundled roots; `webpki-roots`: the Mozilla
/// roots compiled in); a custom root CA always takes the built-in verifier with the bundled
/// roots (when on) plus that root.
fn tls_config(config: &RestConfig) -> Result<rustls::ClientConfig, RestError> {
    let invalid = |what: String| RestError::InvalidRequest(what);
    let provider = crypto_provider()?;
    let mut roots = rustls::RootCertStore::empty();
    #[cfg(feature = "webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = &config.custom_root_ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| invalid(format!("custom root CA is not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| invalid(format!("custom root CA rejected: {e}")))?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("TLS setup: {e}")))?;
    #[cfg(feature = "platform-verifier")]
    if config.custom_root_ca_pem.is_none() {
        let verifier = rustls_platform_verifier::Verifier::new(provider)
            .map_err(|e| invalid(format!("TLS setup: {e}")))?;
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth());
    }
    // A plain-HTTP client (a local server) may have nothing to trust.
    if roots.is_empty() && !config.allow_plain_http {
        return Err(invalid(
            "no trusted root: enable the `webpki-roots` or `platform-verifier` feature, or \
             configure a custom root CA"
                .into(),
        ));
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// The crypto provider the features choose: `aws-lc-rs`, else `ring`, else the process-wide
/// default. Explicit, so the choice does not depend on what other crates in the build enable.
fn crypto_provider() -> Result<Arc<rustls::crypto::CryptoProvider>, RestError> {
    #[cfg(feature = "aws-lc-rs")]
    let provider = Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let provider = Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    let provider = rustls::crypto::CryptoProvider::get_default().cloned();
    provider.ok_or_else(|| {
        RestError::InvalidRequest(
            "no TLS crypto provider: enable the `ring` or `aws-lc-rs` feature, or install a \
             process-wide default with rustls::crypto::CryptoProvider::install_default"
                .into(),
        )
    })
}
