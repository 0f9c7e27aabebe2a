//! Testing an app against a local ConnectyCube (feature `testing`): the devserver embedded in
//! the test process (REST and chat on 127.0.0.1, state in SQLite in memory), seeded users,
//! the pushes it would have sent, and faults to inject. `docs/TESTING.md` walks through it.
//!
//! ```no_run
//! use connectycube::testing::{TestServer, SeedUser};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let srv = TestServer::with_users(&[SeedUser::new("ann", "ann-password")]).await?;
//! let client = connectycube::Client::new(srv.app_config()?);
//! // … log in, chat, and assert on what the server saw …
//! srv.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::ops::Deref;

pub use connectycube_devserver::chat::faults::ChatFaults;
pub use connectycube_devserver::chat::notifications::Notification;
pub use connectycube_devserver::rest::{RateLimit, RestSettings};
pub use connectycube_devserver::store::{PushDelivery, PushSource};
pub use connectycube_devserver::{DevServer, DevServerConfig, DevServerError, Seed, SeedUser};

use crate::{AppConfig, Error};
use connectycube_protocol::ids::AppId;

/// A devserver for one test: derefs to [`DevServer`] (REST URL, store, chat, faults, pushes)
/// and builds the [`AppConfig`] that points a [`crate::Client`] at it.
#[derive(Debug)]
pub struct TestServer {
    server: DevServer,
}

impl TestServer {
    /// Starts a devserver in memory, on free loopback ports, with `users`.
    ///
    /// # Errors
    /// [`DevServerError`] when it cannot start.
    pub async fn with_users(users: &[SeedUser]) -> Result<Self, DevServerError> {
        let config = DevServerConfig {
            users: users.to_vec(),
            ..DevServerConfig::default()
        };
        Self::start(config).await
    }

    /// Starts a devserver as `config` says (a `db` file to keep state, a seed file, REST
    /// settings such as a short session lifetime or a rate limit).
    ///
    /// # Errors
    /// [`DevServerError`] when it cannot start.
    pub async fn start(config: DevServerConfig) -> Result<Self, DevServerError> {
        Ok(Self {
            server: DevServer::start(config).await?,
        })
    }

    /// The application's configuration for this server: its REST URL (plain `http://` on
    /// loopback, allowed here by name) and its chat server, whose generated CA is trusted for
    /// this connection only.
    ///
    /// # Errors
    /// [`Error::Rest`] when the URL does not parse (it always does), or
    /// [`Error::Unsupported`] when the server runs without chat.
    pub fn app_config(&self) -> Result<AppConfig, Error> {
        let chat = self
            .server
            .chat()
            .ok_or_else(|| Error::Unsupported("the test server runs without chat".into()))?;
        AppConfig::new(AppId(self.server.app_id()), self.server.auth_key())
            .with_endpoints(&self.server.api_url(), chat.connection_config())
    }

    /// The devserver itself.
    pub fn server(&self) -> &DevServer {
        &self.server
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

impl Deref for TestServer {
    type Target = DevServer;
    fn deref(&self) -> &DevServer {
        &self.server
    }
}
