//! The session token a client's clones share, and its renewal as a single flight: when many
//! requests find the session expired at once, one renews it and the others wait for it and
//! go on with the new token.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::RestError;
use crate::client::SessionRenewer;

/// The token and what is needed to renew it once for everyone.
#[derive(Default)]
pub(crate) struct SharedSession {
    token: RwLock<Option<String>>,
    /// Bumped by every new token: a request compares it with what it saw when it was sent.
    generation: AtomicU64,
    /// Renewals that ran to their end (success or failure), counted under `renewal`.
    finished: AtomicU64,
    /// Held while a renewal runs.
    renewal: tokio::sync::Mutex<()>,
}

impl SharedSession {
    /// The current token.
    pub(crate) fn token(&self) -> Option<String> {
        self.token.read().ok().and_then(|t| t.clone())
    }

    /// Whether a token is set (without copying it).
    pub(crate) fn has_token(&self) -> bool {
        self.token.read().map(|t| t.is_some()).unwrap_or(false)
    }

    /// Puts a new token (or none) in place.
    pub(crate) fn set(&self, token: Option<String>) {
        if let Ok(mut t) = self.token.write() {
            *t = token;
        }
        // After the write: whoever sees the new generation also reads the new token.
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The token's generation, read before a request is built.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Makes sure a token newer than generation `seen` is in place: renews it with `renewer`
    /// unless another request did (or is doing) so meanwhile.
    ///
    /// # Errors
    /// `Some(error)` when this call's renewal failed; `None` when a renewal this call waited
    /// for failed (the caller reports its own expiry rather than renewing again at once).
    pub(crate) async fn renew_after(
        &self,
        seen: u64,
        renewer: &SessionRenewer,
    ) -> Result<(), Option<RestError>> {
        let finished_before = self.finished.load(Ordering::SeqCst);
        let _flight = self.renewal.lock().await;
        if self.generation() != seen {
            tracing::debug!("session renewed by another request meanwhile");
            return Ok(());
        }
        if self.finished.load(Ordering::SeqCst) != finished_before {
            return Err(None);
        }
        tracing::debug!("session expired: renewing");
        let renewed = renewer().await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        match renewed {
            Ok(token) => {
                self.set(Some(token));
                Ok(())
            }
            Err(e) => Err(Some(e)),
        }
    }
}
