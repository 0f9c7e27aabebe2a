//! What every call that sends a chat stanza returns: a [`Sending`], awaited once. It resolves
//! when the server has the stanza (its XEP-0198 ack), or fails with the reason: bounced
//! ([`Error::bounce`]), the room not joined, the connection lost or closed. Those who want the
//! stages in between (queued, written, acked, bounced after the ack) take the transport's
//! [`SendHandle`] with [`Sending::queued`].
//!
//! Like matrix-rust-sdk's `room/futures.rs`: a value that does nothing until awaited, so a
//! send that was never awaited was never sent, instead of sent and never checked.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use connectycube_protocol::event::ChatEvent;
use connectycube_transport::session::{ChatConnection, SendHandle};
use minidom::Element;

use crate::Error;

/// A preparation that waits before the stanza can be queued (a room join, pacing).
type Prepare = Pin<Box<dyn Future<Output = Result<SendHandle, Error>> + Send>>;

/// What is left to do before the stanza is in the connection's queue.
enum Step {
    /// A stanza built at the call, queued when the `Sending` is first polled.
    Queue(ChatConnection, Element),
    /// A hot event (marker, typing, edit, delete), written as text when first polled.
    Event(ChatConnection, Box<ChatEvent>),
    /// The stanza goes out once this resolves.
    Prepare(Prepare),
    /// It could not even be built (an address, a property name, a message with no sender).
    Failed(Error),
}

/// A chat stanza on its way: `.await` it once to know the server has it.
///
/// Nothing is sent until it is awaited (or [`Sending::queued`] is), and sends go out in the
/// order they are first polled. `Ok(())` means the server acknowledged the stanza (without
/// stream management on the connection: that it was written); a bounce, a refused join or a
/// lost connection is the error.
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
/// # #[tokio::main]
/// # async fn main() -> DocResult {
/// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
/// use connectycube::protocol::model::Message;
/// use connectycube::transport::session::SendStage;
///
/// dialog.send(&Message::new("one await: the server has it")).await?;
///
/// // The stages, for those who show them: the handle of the queued stanza.
/// let mut handle = dialog.send(&Message::new("watched")).queued().await?;
/// while !matches!(handle.stage(), SendStage::Acked) {
///     handle.next_stage().await;
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "nothing is sent until a Sending is awaited"]
pub struct Sending {
    step: Step,
    /// Told the outcome before the awaiting task sees it (the send queue settles the store,
    /// so that once the await returns, the store says so too).
    settle: Option<Settle>,
}

/// What runs when an awaited send resolves, before the await returns.
type Settle = Box<dyn FnOnce(&Result<(), Error>) + Send>;

impl Sending {
    /// Queues `stanza` on `connection` when awaited; a stanza that could not be built fails.
    pub(crate) fn stanza(connection: &ChatConnection, stanza: Result<Element, Error>) -> Self {
        let step = match stanza {
            Ok(stanza) => Step::Queue(connection.clone(), stanza),
            Err(e) => Step::Failed(e),
        };
        Self { step, settle: None }
    }

    /// Writes `event` on `connection` when awaited (no tree: the transport writes the
    /// hot stanzas as text); an event that could not be made fails.
    pub(crate) fn event(connection: &ChatConnection, event: Result<ChatEvent, Error>) -> Self {
        let step = match event {
            Ok(event) => Step::Event(connection.clone(), Box::new(event)),
            Err(e) => Step::Failed(e),
        };
        Self { step, settle: None }
    }

    /// Runs `prepare` when awaited: it waits for what the send needs, then queues it.
    pub(crate) fn prepare(
        prepare: impl Future<Output = Result<SendHandle, Error>> + Send + 'static,
    ) -> Self {
        Self {
            step: Step::Prepare(Box::pin(prepare)),
            settle: None,
        }
    }

    /// Runs `settle` with the outcome when the awaited send resolves, before the await
    /// returns (not for [`Sending::queued`], whose handle the caller follows).
    pub(crate) fn settled_by(
        mut self,
        settle: impl FnOnce(&Result<(), Error>) + Send + 'static,
    ) -> Self {
        self.settle = Some(Box::new(settle));
        self
    }

    /// A send that fails with `e` when awaited.
    pub(crate) fn failed(e: Error) -> Self {
        Self {
            step: Step::Failed(e),
            settle: None,
        }
    }

    /// Prepares the send (joins the room, waits for pacing) and queues it, without waiting for
    /// the server: the transport's handle, whose [`SendHandle::stage`] and
    /// [`SendHandle::next_stage`] follow the stanza (queued, written, acked, or bounced, also
    /// after the ack) and which resolves as awaiting the `Sending` would have.
    ///
    /// # Errors
    /// What the send's preparation can fail with: [`Error::Build`], [`Error::Address`],
    /// [`Error::Unsupported`], [`Error::Join`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::protocol::model::Message;
    /// use connectycube::transport::session::SendStage;
    ///
    /// // Many in flight at once, then each one's outcome.
    /// let mut handles = Vec::new();
    /// for n in 0..3 {
    ///     handles.push(dialog.send(&Message::new(format!("{n}"))).queued().await?);
    /// }
    /// for handle in handles {
    ///     handle.clone().await?;
    ///     assert!(matches!(handle.stage(), SendStage::Acked));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn queued(self) -> Result<SendHandle, Error> {
        match self.step {
            Step::Queue(connection, stanza) => Ok(connection.send(stanza)),
            Step::Event(connection, event) => Ok(connection.send_event(&event)?),
            Step::Prepare(prepare) => prepare.await,
            Step::Failed(e) => Err(e),
        }
    }
}

impl fmt::Debug for Sending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match &self.step {
            Step::Queue(..) | Step::Event(..) => "built",
            Step::Prepare(_) => "to prepare",
            Step::Failed(_) => "failed",
        };
        f.debug_struct("Sending").field("step", &step).finish()
    }
}

impl IntoFuture for Sending {
    type Output = Result<(), Error>;
    type IntoFuture = SendingFuture;

    fn into_future(self) -> SendingFuture {
        SendingFuture {
            state: State::Start(self.step),
            settle: self.settle,
        }
    }
}

/// Where an awaited [`Sending`] is.
// The built stanza is moved once, into the connection's queue; boxing it would cost every
// send an allocation to save a copy.
#[allow(clippy::large_enum_variant)]
enum State {
    Start(Step),
    Preparing(Prepare),
    Waiting(SendHandle),
    Done,
}

/// An awaited [`Sending`]: resolves when the server acknowledged the stanza, or with the error.
#[must_use = "futures do nothing unless awaited"]
pub struct SendingFuture {
    state: State,
    settle: Option<Settle>,
}

impl fmt::Debug for SendingFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Start(_) => "not started",
            State::Preparing(_) => "preparing",
            State::Waiting(handle) => return f.debug_tuple("SendingFuture").field(handle).finish(),
            State::Done => "done",
        };
        f.debug_tuple("SendingFuture").field(&state).finish()
    }
}

impl Future for SendingFuture {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcome = self.as_mut().advance(cx);
        if let Poll::Ready(result) = &outcome
            && let Some(settle) = self.settle.take()
        {
            settle(result);
        }
        outcome
    }
}

impl SendingFuture {
    fn advance(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Start(Step::Queue(connection, stanza)) => {
                    self.state = State::Waiting(connection.send(stanza));
                }
                State::Start(Step::Event(connection, event)) => {
                    match connection.send_event(&event) {
                        Ok(handle) => self.state = State::Waiting(handle),
                        Err(e) => return Poll::Ready(Err(e.into())),
                    }
                }
                State::Start(Step::Prepare(prepare)) => self.state = State::Preparing(prepare),
                State::Start(Step::Failed(e)) => return Poll::Ready(Err(e)),
                State::Preparing(mut prepare) => match prepare.as_mut().poll(cx) {
                    Poll::Ready(Ok(handle)) => self.state = State::Waiting(handle),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        self.state = State::Preparing(prepare);
                        return Poll::Pending;
                    }
                },
                State::Waiting(mut handle) => match Pin::new(&mut handle).poll(cx) {
                    Poll::Ready(result) => return Poll::Ready(result.map_err(Error::from)),
                    Poll::Pending => {
                        self.state = State::Waiting(handle);
                        return Poll::Pending;
                    }
                },
                // Polled after it resolved: the futures contract allows anything but UB.
                State::Done => return Poll::Pending,
            }
        }
    }
}

// A send can be handed to another task (spawned, or kept in a task's state): checked at
// compile time.
const _: () = {
    const fn sendable<T: Send + 'static>() {}
    sendable::<Sending>();
    sendable::<SendingFuture>();
};

#[cfg(test)]
mod tests {
    use connectycube_transport::config::ConnectionConfig;
    use connectycube_transport::connector::Credentials;
    use connectycube_transport::connectors::XmppConnector;
    use connectycube_transport::session::{SendError, SendStage, SessionSettings};

    use super::*;

    /// A connection that was never logged in, and closed for good.
    async fn closed() -> ChatConnection {
        let connector = XmppConnector::new(ConnectionConfig::direct_tls("localhost", 1)).unwrap();
        let credentials = Credentials {
            jid: "1-1@localhost".parse().unwrap(),
            password: String::new(),
        };
        let (connection, _incoming) =
            ChatConnection::new(connector, credentials, SessionSettings::default());
        connection.destroy().await;
        connection
    }

    fn stanza() -> Element {
        "<message xmlns='jabber:client' id='m1'/>".parse().unwrap()
    }

    #[tokio::test]
    async fn what_fails_before_the_queue_fails_at_the_one_await() {
        let no = || Error::Unsupported("no opponent".into());
        assert!(matches!(
            Sending::failed(no()).await,
            Err(Error::Unsupported(_))
        ));
        let failed = Sending::prepare(async move { Err(no()) }).queued().await;
        assert!(matches!(failed, Err(Error::Unsupported(_))));
        let connection = closed().await;
        let unbuilt = Sending::stanza(&connection, Err(no())).await;
        assert!(matches!(unbuilt, Err(Error::Unsupported(_))));
    }

    #[tokio::test]
    async fn a_stanza_the_connection_cannot_take_fails_as_its_handle_does() {
        let connection = closed().await;
        let sent = Sending::stanza(&connection, Ok(stanza())).await;
        assert!(
            matches!(sent, Err(Error::Send(SendError::Closed))),
            "{sent:?}"
        );
        let prepared = connection.clone();
        let handle = Sending::prepare(async move { Ok(prepared.send(stanza())) })
            .queued()
            .await
            .unwrap();
        assert!(
            matches!(handle.stage(), SendStage::Failed(_)),
            "{:?}",
            handle.stage()
        );
        let mut future = Sending::stanza(&connection, Ok(stanza())).into_future();
        assert!((&mut future).await.is_err());
        // Polled again after it resolved: pending, not a panic.
        let again = tokio::time::timeout(std::time::Duration::from_millis(10), &mut future);
        assert!(again.await.is_err());
    }
}
