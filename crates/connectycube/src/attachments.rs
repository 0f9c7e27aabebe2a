//! Attachments: `send_file` uploads a file to storage, attaches it to a message and sends
//! the message in the dialog, reporting each step; `private_url` gives the link a receiver
//! downloads it from.

use std::path::Path;

use connectycube_protocol::model::{Attachment, AttachmentType, Message};
use connectycube_rest::storage::{CompleteBlob, CreateBlob};

use crate::store::PendingUpload;
use crate::{Dialog, Error, Session};

/// How far `send_file` got; reported in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileProgress {
    /// The storage record exists; its UID is known, the content is next.
    Created {
        /// The file UID the attachment will carry.
        uid: String,
    },
    /// Part of the content went to the connection (after each chunk of up to 64 KiB; a
    /// slow reader of progress may see fewer, never out of order).
    Uploading {
        /// File bytes sent so far.
        sent: u64,
        /// The file's size.
        total: u64,
    },
    /// The content is uploaded and declared complete.
    Uploaded {
        /// Bytes sent.
        bytes: u64,
    },
    /// The message with the attachment reached the chat server.
    Sent,
}

impl Dialog {
    /// Uploads the file at `path` (private, `content_type`), attaches it as `kind` to
    /// `message` and sends that message here; `progress` hears each step. Gives the message
    /// as sent, attachment included.
    ///
    /// The message is on the send queue from the start ([`crate::Session::unsent`], with its
    /// pending upload): an upload that fails on the network, or a process that stops
    /// meanwhile, leaves it there, and the next login uploads the file again and sends it.
    ///
    /// # Errors
    /// [`Error::Rest`] when the upload fails (the message waits on the queue, or is `Failed`
    /// when the upload was refused), or as [`Dialog::send`].
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::FileProgress;
    /// use connectycube::protocol::event::ChatEvent;
    /// use connectycube::protocol::model::{AttachmentType, Message};
    ///
    /// let file = std::env::temp_dir().join(format!("cc-doc-{}.jpeg", std::process::id()));
    /// std::fs::write(&file, b"not really a cat")?;
    /// let mut steps = Vec::new();
    /// let sent = dialog
    ///     .send_file(&file, "image/jpeg", AttachmentType::Image, Message::new("a cat"), |p| {
    ///         steps.push(p)
    ///     })
    ///     .await?;
    /// std::fs::remove_file(&file)?;
    /// assert!(matches!(steps.last(), Some(FileProgress::Sent)));
    /// let got = wait(&mut bob_events, |e| match e {
    ///     ChatEvent::ChatMessage(m) => Some(m.payload),
    ///     _ => None,
    /// })
    /// .await?;
    /// assert_eq!(got.attachments[0].uid, sent.attachments[0].uid);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_file(
        &self,
        path: impl AsRef<Path>,
        content_type: &str,
        kind: AttachmentType,
        message: Message,
        mut progress: impl FnMut(FileProgress) + Send,
    ) -> Result<Message, Error> {
        let mut send = self.queued_send(&message)?;
        send.upload = Some(PendingUpload {
            path: path.as_ref().to_path_buf(),
            content_type: content_type.to_owned(),
            kind,
        });
        // Queued before the upload: a restart uploads it again and sends it.
        self.session().enqueue(&send).await?;
        let (handle, sent) = self.session().upload_and_send(send, &mut progress).await?;
        handle.await?;
        progress(FileProgress::Sent);
        Ok(sent)
    }

    /// The download link of a private file for this session's user. It carries the session
    /// token: for an image view, never for a log.
    ///
    /// # Errors
    /// [`Error::Rest`] when there is no session token.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// let url = dialog.private_url("97f5802dcbd34a59a4921d73f6baedd000")?;
    /// assert!(url.contains("97f5802dcbd34a59a4921d73f6baedd000"));
    /// assert!(url.starts_with(&srv.api_url()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn private_url(&self, uid: &str) -> Result<String, Error> {
        Ok(self.session().rest().private_url(uid)?.to_string())
    }
}

/// Uploads `file` to storage (`progress` hears each step) and gives the attachment for it.
pub(crate) async fn upload(
    session: &Session,
    file: &PendingUpload,
    progress: &mut (dyn FnMut(FileProgress) + Send),
) -> Result<Attachment, Error> {
    let path = file.path.as_path();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let rest = session.rest();
    let blob = rest
        .send(&CreateBlob::new(name.clone(), &file.content_type))
        .await?
        .blob;
    progress(FileProgress::Created {
        uid: blob.uid.clone(),
    });
    let total = tokio::fs::metadata(path)
        .await
        .map_err(|source| connectycube_rest::RestError::File {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let (tx, mut rx) = tokio::sync::watch::channel(0u64);
    let bytes = {
        // The body reports from inside hyper; a watch hands the latest count over to
        // `progress`, which need not be `'static`.
        let upload = rest.upload_file_with_progress(&blob, path, move |sent| {
            let _ = tx.send(sent);
        });
        tokio::pin!(upload);
        loop {
            tokio::select! {
                done = &mut upload => break done?,
                Ok(()) = rx.changed() => {
                    let sent = *rx.borrow_and_update();
                    progress(FileProgress::Uploading { sent, total });
                }
            }
        }
    };
    rest.send(&CompleteBlob {
        id: blob.id,
        size: bytes,
    })
    .await?;
    progress(FileProgress::Uploaded { bytes });
    let mut attachment = Attachment::new(file.kind.clone()).with_id(blob.id.to_string());
    attachment.uid = Some(blob.uid);
    attachment.name = Some(name);
    attachment.size = Some(bytes);
    attachment.content_type = Some(file.content_type.clone());
    Ok(attachment)
}
