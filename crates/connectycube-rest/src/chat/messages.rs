//! Chat history: list with filters, create, update (body, read, delivered) and delete.

use std::fmt::Display;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::model::{Attachment, CustomProperties, Message};
use serde_json::{Map, Value, json};

use super::filter::{Filter, Sort};
use super::{DeleteResult, Page, join_ids};
use crate::RestError;
use crate::endpoint::{Empty, Endpoint};
use crate::query::{FilterOp, Query};
use crate::route::Metadata;

/// A field messages can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageField {
    /// `_id`
    Id,
    /// `message`: the text.
    Message,
    /// `date_sent`
    DateSent,
    /// `sender_id`
    SenderId,
    /// `recipient_id`
    RecipientId,
    /// `attachments.type`
    AttachmentsType,
    /// `updated_at`
    UpdatedAt,
}

impl MessageField {
    /// The key as the API writes it.
    pub fn key(self) -> &'static str {
        match self {
            Self::Id => "_id",
            Self::Message => "message",
            Self::DateSent => "date_sent",
            Self::SenderId => "sender_id",
            Self::RecipientId => "recipient_id",
            Self::AttachmentsType => "attachments.type",
            Self::UpdatedAt => "updated_at",
        }
    }
}

/// `GET /chat/Message?chat_dialog_id=…`: a page of a dialog's history.
///
/// The server marks the returned messages read unless [`ListMessages::keep_unread`] is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMessages {
    dialog: DialogId,
    filters: Vec<Filter>,
    sort: Option<Sort>,
    limit: Option<u32>,
    skip: Option<u32>,
    mark_as_read: bool,
    preview: bool,
}

impl ListMessages {
    /// The history of `dialog`, oldest first (the server's default order), 100 a page.
    pub fn new(dialog: DialogId) -> Self {
        Self {
            dialog,
            filters: Vec::new(),
            sort: None,
            limit: None,
            skip: None,
            mark_as_read: true,
            preview: false,
        }
    }

    /// `field=value`.
    pub fn eq(mut self, field: MessageField, value: impl Display) -> Self {
        self.filters.push(Filter::eq(field.key(), value));
        self
    }

    /// `field[op]=value` (`lt`, `lte`, `gt`, `gte`, `ne`, `ctn`).
    pub fn filter(mut self, field: MessageField, op: FilterOp, value: impl Display) -> Self {
        self.filters.push(Filter::op(field.key(), op, value));
        self
    }

    /// `field[op]=a,b` (`in`, `nin`, `all`).
    pub fn filter_list<I, V>(mut self, field: MessageField, op: FilterOp, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        self.filters.push(Filter::list(field.key(), op, values));
        self
    }

    /// `sort_asc=field` (the docs sort on `date_sent`).
    pub fn sort_asc(mut self, field: MessageField) -> Self {
        self.sort = Some(Sort::Asc(field.key().into()));
        self
    }

    /// `sort_desc=field`: newest first when sorting on `date_sent`.
    pub fn sort_desc(mut self, field: MessageField) -> Self {
        self.sort = Some(Sort::Desc(field.key().into()));
        self
    }

    /// Page size (server default 100).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Records to skip.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Leaves the returned messages unread (`mark_as_read=0`).
    pub fn keep_unread(mut self) -> Self {
        self.mark_as_read = false;
        self
    }

    /// The last 20 messages of a dialog the user is not in (`preview=1`; the dialog must
    /// allow preview). The server then ignores sort, limit and skip.
    pub fn preview(mut self) -> Self {
        self.preview = true;
        self
    }
}

impl Endpoint for ListMessages {
    type Response = Page<Message>;
    const METADATA: Metadata = Metadata::get("ListMessages", "/chat/Message");
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push("chat_dialog_id", self.dialog);
        for f in &self.filters {
            f.write(&mut q);
        }
        if let Some(s) = &self.sort {
            s.write(&mut q);
        }
        q.push_opt("limit", self.limit).push_opt("skip", self.skip);
        if !self.mark_as_read {
            q.push("mark_as_read", 0);
        }
        if self.preview {
            q.push("preview", 1);
        }
        q
    }
}

/// Where a created message goes: a dialog, or a user (a 1-1 dialog, created if needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// An existing dialog.
    Dialog(DialogId),
    /// A user, for 1-1 chat.
    User(UserId),
    /// A dialog, naming the 1-1 recipient too (as the docs' example does).
    DialogAndUser(DialogId, UserId),
}

/// `POST /chat/Message`: adds a message to the history, and sends it in real time with
/// [`CreateMessage::send_to_chat`].
#[derive(Debug, Clone, PartialEq)]
pub struct CreateMessage {
    target: Target,
    body: Option<String>,
    attachments: Vec<Attachment>,
    custom: CustomProperties,
    send_to_chat: bool,
    markable: bool,
}

impl CreateMessage {
    /// A message to `target` with no text yet.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            body: None,
            attachments: Vec::new(),
            custom: CustomProperties::new(),
            send_to_chat: false,
            markable: false,
        }
    }

    /// The text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.body = Some(text.into());
        self
    }

    /// Attaches a file.
    pub fn attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// A custom parameter, stored beside the known fields. Known field names are ignored
    /// here so a custom parameter cannot overwrite the message itself.
    pub fn custom(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let key = key.into();
        if !RESERVED.contains(&key.as_str()) {
            self.custom.insert(key, value.into());
        }
        self
    }

    /// Also delivers it to the occupants in real time (`send_to_chat=1`).
    pub fn send_to_chat(mut self) -> Self {
        self.send_to_chat = true;
        self
    }

    /// Asks recipients for read/delivered markers (`markable=1`).
    pub fn markable(mut self) -> Self {
        self.markable = true;
        self
    }
}

const RESERVED: &[&str] = &[
    "chat_dialog_id",
    "recipient_id",
    "message",
    "attachments",
    "send_to_chat",
    "markable",
];

impl Endpoint for CreateMessage {
    type Response = Message;
    const METADATA: Metadata = Metadata::post("CreateMessage", "/chat/Message");
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut b: Map<String, Value> = self.custom.clone();
        let (dialog, user) = match self.target {
            Target::Dialog(d) => (Some(d), None),
            Target::User(u) => (None, Some(u)),
            Target::DialogAndUser(d, u) => (Some(d), Some(u)),
        };
        if let Some(d) = dialog {
            b.insert("chat_dialog_id".into(), json!(d));
        }
        if let Some(u) = user {
            b.insert("recipient_id".into(), json!(u));
        }
        if let Some(text) = &self.body {
            b.insert("message".into(), json!(text));
        }
        if !self.attachments.is_empty() {
            // The API reads attachments as an object keyed by index (`attachments[n][type]`
            // in form terms), not as a JSON array.
            // An attachment that does not serialize fails the request: dropping it would send
            // the message without it.
            let indexed = self
                .attachments
                .iter()
                .enumerate()
                .map(|(i, a)| Ok((i.to_string(), serde_json::to_value(a)?)))
                .collect::<Result<Map<String, Value>, serde_json::Error>>()
                .map_err(RestError::Body)?;
            b.insert("attachments".into(), Value::Object(indexed));
        }
        if self.send_to_chat {
            b.insert("send_to_chat".into(), json!("1"));
        }
        if self.markable {
            b.insert("markable".into(), json!("1"));
        }
        Ok(Some(Value::Object(b)))
    }
}

/// Which messages an update applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Which {
    Some(Vec<MessageId>),
    AllInDialog,
}

/// `PUT /chat/Message/{ids}`: edits the text or marks messages read/delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateMessages {
    which: Which,
    dialog: DialogId,
    read: bool,
    delivered: bool,
    body: Option<String>,
}

impl UpdateMessages {
    /// Changes to `ids` of `dialog`.
    pub fn messages(dialog: DialogId, ids: impl IntoIterator<Item = MessageId>) -> Self {
        Self {
            which: Which::Some(ids.into_iter().collect()),
            dialog,
            read: false,
            delivered: false,
            body: None,
        }
    }

    /// Changes to every message of `dialog` (no ids in the path).
    pub fn all_in(dialog: DialogId) -> Self {
        Self {
            which: Which::AllInDialog,
            dialog,
            read: false,
            delivered: false,
            body: None,
        }
    }

    /// Marks them read (`read=1`).
    pub fn read(mut self) -> Self {
        self.read = true;
        self
    }

    /// Marks them delivered (`delivered=1`).
    pub fn delivered(mut self) -> Self {
        self.delivered = true;
        self
    }

    /// Replaces the text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.body = Some(text.into());
        self
    }
}

/// The route without ids (`UpdateMessages::METADATA` names them in the path).
impl UpdateMessages {
    /// `PUT /chat/Message`: every message of the dialog named in the body.
    pub const ALL_IN_DIALOG: Metadata =
        Metadata::put("UpdateMessages::AllInDialog", "/chat/Message");
}

impl Endpoint for UpdateMessages {
    type Response = Empty;
    const METADATA: Metadata = Metadata::put("UpdateMessages", "/chat/Message/{ids}");
    fn metadata(&self) -> Metadata {
        match &self.which {
            Which::Some(_) => Self::METADATA,
            // "It's possible to mark all messages as read / delivered - just don't pass a
            // message id": the dialog in the body then selects them.
            Which::AllInDialog => Self::ALL_IN_DIALOG,
        }
    }
    fn path_params(&self) -> Vec<String> {
        match &self.which {
            Which::Some(ids) => vec![join_ids(ids)],
            Which::AllInDialog => Vec::new(),
        }
    }
    // The docs send the flags as strings (`{"read": "1"}`).
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut b = Map::new();
        b.insert("chat_dialog_id".into(), json!(self.dialog));
        if self.read {
            b.insert("read".into(), json!("1"));
        }
        if self.delivered {
            b.insert("delivered".into(), json!("1"));
        }
        if let Some(text) = &self.body {
            b.insert("message".into(), json!(text));
        }
        Ok(Some(Value::Object(b)))
    }
}

/// `DELETE /chat/Message/{ids}`: removes messages for the current user, or for everyone
/// with `force`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteMessages {
    ids: Vec<MessageId>,
    force: bool,
}

impl DeleteMessages {
    /// Deletes `ids` for the current user only.
    pub fn new(ids: impl IntoIterator<Item = MessageId>) -> Self {
        Self {
            ids: ids.into_iter().collect(),
            force: false,
        }
    }

    /// Deletes for everyone (`force=1`); the server then tells the room over XMPP.
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }
}

impl Endpoint for DeleteMessages {
    type Response = DeleteResult;
    const METADATA: Metadata = Metadata::delete("DeleteMessages", "/chat/Message/{ids}");
    fn path_params(&self) -> Vec<String> {
        vec![join_ids(&self.ids)]
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        if self.force {
            q.push("force", 1);
        }
        q
    }
}
