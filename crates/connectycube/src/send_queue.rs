//! The persisted send queue: a dialog's send is written to the store before it goes to the
//! wire and shows at once as a local echo ([`Session::local_echoes`]) with the id the
//! recipients will see. The server's ack takes it off the queue (`Sent`); the recipients'
//! markers move it on (`Delivered`, `Read`, by the event task); a bounce or a refusal leaves
//! it `Failed` with the reason, to retry, edit or cancel. A lost or closed connection leaves it
//! `Queued`: it goes out again after the next login, also in a new process on the same store
//! file, with the same id, so the receivers' duplicate filter drops a copy that did arrive.

use connectycube_protocol::ids::{MessageId, UserId};
use connectycube_protocol::message::ChatKind;
use connectycube_protocol::model::Message;
use connectycube_transport::session::{SendError, SendHandle};

use crate::store::{LocalEcho, LocalStatus, QueuedSend, SendTarget};
use crate::{ChatClient, Error, FileProgress, JoinError, Retry, Sending, Session};

impl Session {
    /// Writes `send` to the queue, shows its echo, then sends it.
    pub(crate) fn send_queued(&self, send: QueuedSend) -> Sending {
        let (session, id) = (self.clone(), send.message.id);
        let sending = Sending::prepare(async move {
            session.enqueue(&send).await?;
            dispatch(session.chat(), session.user(), &send).await
        });
        settle_on_await(sending, self.chat(), id)
    }

    /// Writes `send` to the queue and shows its echo (`Queued`).
    ///
    /// # Errors
    /// [`Error::Store`] when it cannot be written: then it is not sent either.
    pub(crate) async fn enqueue(&self, send: &QueuedSend) -> Result<(), Error> {
        self.chat().store().enqueue(self.user(), send)?;
        let echo = LocalEcho {
            message: send.message.clone(),
            status: LocalStatus::Queued,
        };
        self.chat().echo(echo).await;
        Ok(())
    }

    /// Uploads the file a queued send waits for, attaches it, and sends the message. An
    /// upload that fails on the network leaves the send queued (a restart uploads again);
    /// one refused (a missing file, a refusal) leaves it `Failed`.
    pub(crate) async fn upload_and_send(
        &self,
        mut send: QueuedSend,
        progress: &mut (dyn FnMut(FileProgress) + Send),
    ) -> Result<(SendHandle, Message), Error> {
        if let Some(upload) = send.upload.take() {
            let attachment = match crate::attachments::upload(self, &upload, progress).await {
                Ok(a) => a,
                Err(e) => {
                    if let Some(echo) = settle(self.chat(), self.user(), send.message.id, Err(&e)) {
                        self.chat().echo(echo).await;
                    }
                    return Err(e);
                }
            };
            send.message.attachments.push(attachment);
            self.chat().store().requeue(self.user(), &send)?;
        }
        let handle = dispatch(self.chat(), self.user(), &send).await?;
        Ok((handle, send.message))
    }

    /// Sends what the queue holds as `Queued` (a previous run's, or this one's that lost its
    /// connection), in the order it was queued; each one's outcome moves its echo.
    ///
    /// # Errors
    /// [`Error::Store`] when the queue cannot be read.
    pub(crate) async fn resend_queued(&self) -> Result<usize, Error> {
        let queued = self.chat().store().queued(self.user())?;
        let (files, texts): (Vec<_>, Vec<_>) = queued
            .into_iter()
            .filter(|s| s.status == LocalStatus::Queued)
            .partition(|s| s.upload.is_some());
        let mut sent = 0;
        for send in &texts {
            // One that fails now is marked by `dispatch` and the rest still go.
            if dispatch(self.chat(), self.user(), send).await.is_ok() {
                sent += 1;
            }
        }
        if !files.is_empty() {
            // Uploads take their time: the login does not wait for them.
            let session = self.internal();
            tokio::spawn(async move {
                for send in files {
                    let id = send.message.id;
                    if let Err(e) = session.upload_and_send(send, &mut |_| {}).await {
                        tracing::warn!(%id, error = %e, "a queued file could not be sent");
                    }
                }
            });
        }
        Ok(sent)
    }

    /// The sends not yet acknowledged by the server (`Queued`) or refused (`Failed`), in the
    /// order they were made.
    ///
    /// # Errors
    /// [`Error::Store`] when the queue cannot be read.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// dialog.send_text("acknowledged").await?;
    /// assert!(ann.unsent()?.is_empty(), "the server has it: off the queue");
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsent(&self) -> Result<Vec<QueuedSend>, Error> {
        Ok(self.chat().store().queued(self.user())?)
    }

    /// Sends a `Failed` (or still `Queued`) send again, with its id.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when `id` is not on the queue; then as [`crate::Dialog::send`].
    pub fn retry_send(&self, id: MessageId) -> Sending {
        match self.take_queued(id) {
            Ok(mut send) => {
                send.status = LocalStatus::Queued;
                self.requeue_and_send(send)
            }
            Err(e) => Sending::failed(e),
        }
    }

    /// Changes the text of a send still on the queue (`Failed`, or `Queued` while offline)
    /// and sends it; the recipients see only the new text.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when `id` is not on the queue; then as [`crate::Dialog::send`].
    pub fn edit_unsent(&self, id: MessageId, text: impl Into<String>) -> Sending {
        match self.take_queued(id) {
            Ok(mut send) => {
                send.message.body = Some(text.into());
                send.status = LocalStatus::Queued;
                self.requeue_and_send(send)
            }
            Err(e) => Sending::failed(e),
        }
    }

    /// Takes a send off the queue without sending it, and its echo out of the history.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when `id` is not on the queue; [`Error::Store`].
    pub fn cancel_send(&self, id: MessageId) -> Result<(), Error> {
        self.take_queued(id)?;
        let store = self.chat().store();
        store.dequeue(self.user(), id)?;
        store.remove_message(self.user(), id)?;
        Ok(())
    }

    fn take_queued(&self, id: MessageId) -> Result<QueuedSend, Error> {
        self.unsent()?
            .into_iter()
            .find(|s| s.message.id == id)
            .ok_or_else(|| Error::Unsupported(format!("message {id} is not on the send queue")))
    }

    /// Writes the changed send back, shows its echo, and sends it (its file first, when its
    /// upload never finished).
    fn requeue_and_send(&self, send: QueuedSend) -> Sending {
        let (session, id) = (self.clone(), send.message.id);
        let sending = Sending::prepare(async move {
            session.chat().store().requeue(session.user(), &send)?;
            let echo = LocalEcho {
                message: send.message.clone(),
                status: LocalStatus::Queued,
            };
            session.chat().echo(echo).await;
            let (handle, _) = session.upload_and_send(send, &mut |_| {}).await?;
            Ok(handle)
        });
        settle_on_await(sending, self.chat(), id)
    }
}

/// Puts a queued send on the connection; its outcome settles it in the store.
async fn dispatch(
    chat: &ChatClient,
    owner: UserId,
    send: &QueuedSend,
) -> Result<SendHandle, Error> {
    let message = &send.message;
    let sending = match send.target {
        SendTarget::User(to) => chat.send_private_paced(to, message),
        SendTarget::Room(dialog) => {
            let to_room = chat.room_message(dialog, message);
            crate::dialog::in_room(chat, dialog, move |c| {
                let (room, message) = to_room?;
                Ok(c.send_message(&message, &room, ChatKind::Groupchat)?)
            })
        }
    };
    match sending.queued().await {
        Ok(handle) => {
            // The client's own handle: a send in flight does not keep the session alive.
            let (chat, id, watched) = (chat.internal(), message.id, handle.clone());
            tokio::spawn(async move {
                let outcome = watched.await.map_err(Error::from);
                if let Some(echo) = settle(&chat, owner, id, outcome.as_ref().map(|_| ())) {
                    chat.echo(echo).await;
                }
            });
            Ok(handle)
        }
        Err(e) => {
            if let Some(echo) = settle(chat, owner, message.id, Err(&e)) {
                chat.echo(echo).await;
            }
            Err(e)
        }
    }
}

/// Settles a send in the store when awaiting it resolves, before the await returns (so
/// `unsent()` agrees with the `Ok`); the echo follows from a task of its own.
pub(crate) fn settle_on_await(sending: Sending, chat: &ChatClient, id: MessageId) -> Sending {
    let (chat, owner) = (chat.internal(), chat.user());
    sending.settled_by(move |outcome| {
        if let Some(echo) = settle(&chat, owner, id, outcome.as_ref().map(|_| ())) {
            tokio::spawn(async move { chat.echo(echo).await });
        }
    })
}

/// The store's side of a send's outcome, the echo to show when its status moved (once,
/// whoever settles first). Acknowledged: off the queue, `Sent` (unless a marker already moved
/// it further). Refused: `Failed`, kept on the queue for a retry. A lost or closed
/// connection: still `Queued`, for the next login.
fn settle(
    chat: &ChatClient,
    owner: UserId,
    id: MessageId,
    outcome: Result<(), &Error>,
) -> Option<LocalEcho> {
    let store = chat.store();
    let status = match outcome {
        Ok(()) => {
            if let Err(e) = store.dequeue(owner, id) {
                tracing::warn!(%id, error = %e, "could not take an acknowledged send off the queue");
            }
            LocalStatus::Sent
        }
        Err(e) if refused(e) => LocalStatus::Failed(e.to_string()),
        Err(_) => return None,
    };
    match store.set_status(owner, id, &status) {
        Ok(moved) => moved.map(|message| LocalEcho { message, status }),
        Err(e) => {
            tracing::warn!(%id, error = %e, "could not settle a send in the store");
            None
        }
    }
}

/// Whether `e` says something about the message (bounced, refused, unbuildable) rather than
/// the connection (not connected, closed, lost, a full queue): only then is it `Failed`.
fn refused(e: &Error) -> bool {
    match e {
        Error::Send(SendError::Bounced(_) | SendError::Serialize(_)) => true,
        Error::Send(_) => false,
        Error::Join(JoinError::Refused { .. }) => true,
        Error::Join(_) => false,
        other => other.retry() == Retry::Permanent,
    }
}
