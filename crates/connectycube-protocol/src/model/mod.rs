//! The chat model shared by XMPP and REST: messages, attachments, dialogs.
//!
//! Field names follow the REST JSON of the official server docs, so one type serves both a
//! REST history page and a message received in real time.

mod attachment;
mod dialog;
mod lenient;
mod message;

pub use attachment::{Attachment, AttachmentType};
pub use dialog::{Dialog, DialogPermissions, DialogType, LastMessageStatus};
pub use message::{CustomProperties, Message, ReactionsSummary};
