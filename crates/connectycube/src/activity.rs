//! One user's last-activity pushes, as a stream over the subscribers' hub that ends the
//! server subscription when dropped.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::event::ChatEvent;
use connectycube_protocol::ids::UserId;
use connectycube_protocol::iq::status_streaming::Subscribe;
use connectycube_transport::session::ChatConnection;
use futures_util::Stream;

use crate::fanout::{Event, Lagged, Subscription};

/// How many live [`LastActivityUpdates`] watch each user: the server subscription is ended
/// when the last one goes.
pub(crate) type Watchers = Arc<Mutex<HashMap<UserId, usize>>>;

/// One user's last-activity pushes, in seconds since they were active (0: online now),
/// from [`crate::ChatClient::watch_last_activity`]. Dropping it (or
/// [`LastActivityUpdates::unsubscribe`]) ends the server subscription once no other stream
/// watches the same user. A `Err(Lagged)` item says pushes were missed (see
/// [`crate::fanout`]).
#[derive(Debug)]
pub struct LastActivityUpdates {
    user: UserId,
    events: Subscription,
    release: Option<Release>,
}

/// What ends the server subscription.
#[derive(Debug)]
struct Release {
    connection: ChatConnection,
    domain: ChatDomain,
    watchers: Watchers,
}

impl LastActivityUpdates {
    pub(crate) fn new(
        user: UserId,
        events: Subscription,
        connection: ChatConnection,
        domain: ChatDomain,
        watchers: Watchers,
    ) -> Self {
        *crate::lock(&watchers).entry(user).or_default() += 1;
        Self {
            user,
            events,
            release: Some(Release {
                connection,
                domain,
                watchers,
            }),
        }
    }

    /// The watched user.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let updates = ann.chat().watch_last_activity(bob.user()).await?;
    /// assert_eq!(updates.user(), bob.user());
    /// # Ok(())
    /// # }
    /// ```
    pub fn user(&self) -> UserId {
        self.user
    }

    /// Stops watching now (as dropping does), and waits until the server has the request
    /// when this was the last stream for the user.
    ///
    /// # Errors
    /// [`crate::Error::Send`] when the request did not reach the server.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let updates = ann.chat().watch_last_activity(bob.user()).await?;
    /// let again = ann.chat().watch_last_activity(bob.user()).await?;
    /// updates.unsubscribe().await?; // `again` still watches
    /// assert_eq!(again.user(), bob.user());
    /// again.unsubscribe().await?; // the last one: the server subscription ends
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unsubscribe(mut self) -> Result<(), crate::Error> {
        if let Some(handle) = self.release.take().and_then(|r| r.release(self.user)) {
            handle.await?;
        }
        Ok(())
    }
}

impl Release {
    /// Counts one watcher less; the unsubscribe request when it was the last.
    fn release(self, user: UserId) -> Option<connectycube_transport::session::SendHandle> {
        let last = {
            let mut w = crate::lock(&self.watchers);
            let n = w.entry(user).or_default();
            *n = n.saturating_sub(1);
            let last = *n == 0;
            if last {
                w.remove(&user);
            }
            last
        };
        if !last {
            return None;
        }
        let user_jid = self.domain.user_jid(user).ok()?;
        let sub = Subscribe {
            user_jid,
            enable: false,
        };
        Some(self.connection.send(sub.request(crate::chat::iq_id())))
    }
}

impl Drop for LastActivityUpdates {
    fn drop(&mut self) {
        if let Some(r) = self.release.take() {
            // Fire and forget: a failed unsubscribe only means pushes the hub ignores.
            drop(r.release(self.user));
        }
    }
}

impl Stream for LastActivityUpdates {
    type Item = Result<u64, Lagged>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let user = self.user;
        loop {
            let Some(event) = futures_util::ready!(Pin::new(&mut self.events).poll_next(cx)) else {
                return Poll::Ready(None);
            };
            match event {
                Event::Chat(r) => match &r.event {
                    ChatEvent::LastActivity(a) if a.user == user => {
                        return Poll::Ready(Some(Ok(a.seconds)));
                    }
                    _ => {}
                },
                Event::Lagged(lag) => return Poll::Ready(Some(Err(lag))),
                _ => {}
            }
        }
    }
}
