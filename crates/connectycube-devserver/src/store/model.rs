//! The records the store keeps. Times are unix seconds (UTC).

use std::fmt;

use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An application: its id and auth key.
#[derive(Clone, PartialEq, Eq)]
pub struct App {
    /// The application id.
    pub id: u64,
    /// The auth key (a secret: not in Debug).
    pub auth_key: String,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("id", &self.id)
            .field("auth_key", &"<redacted>")
            .finish()
    }
}

/// A user's profile (the password is kept apart, see [`NewUser`]).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// The user id.
    pub id: UserId,
    /// The application the user belongs to.
    pub app_id: u64,
    /// The login.
    pub login: Option<String>,
    /// The email.
    pub email: Option<String>,
    /// The full name.
    pub full_name: Option<String>,
    /// The phone.
    pub phone: Option<String>,
    /// The website.
    pub website: Option<String>,
    /// The id in an external system.
    pub external_user_id: Option<u64>,
    /// The Facebook id.
    pub facebook_id: Option<String>,
    /// The Twitter id.
    pub twitter_id: Option<String>,
    /// The avatar's blob id.
    pub blob_id: Option<u64>,
    /// Free-form data.
    pub custom_data: Option<String>,
    /// The avatar URL or uid.
    pub avatar: Option<String>,
    /// Comma-joined tags.
    pub user_tags: Option<String>,
    /// Minutes from UTC.
    pub timezone: Option<i64>,
    /// A temporary guest user.
    pub is_guest: bool,
    /// Created.
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
    /// Last API request.
    pub last_request_at: Option<i64>,
}

/// A user to create (or the fields to change: `None` keeps a field).
#[derive(Clone, Default, PartialEq)]
pub struct NewUser {
    /// A fixed id (seeding); `None` takes the next free one.
    pub id: Option<UserId>,
    /// The login.
    pub login: Option<String>,
    /// The email.
    pub email: Option<String>,
    /// The password (a secret: not in Debug).
    pub password: Option<String>,
    /// The full name.
    pub full_name: Option<String>,
    /// The phone.
    pub phone: Option<String>,
    /// The website.
    pub website: Option<String>,
    /// The id in an external system.
    pub external_user_id: Option<u64>,
    /// The Facebook id.
    pub facebook_id: Option<String>,
    /// The Twitter id.
    pub twitter_id: Option<String>,
    /// The avatar's blob id.
    pub blob_id: Option<u64>,
    /// Free-form data.
    pub custom_data: Option<String>,
    /// The avatar.
    pub avatar: Option<String>,
    /// Comma-joined tags.
    pub user_tags: Option<String>,
    /// Minutes from UTC.
    pub timezone: Option<i64>,
    /// A guest user.
    pub is_guest: bool,
    /// A fixed last-request time (seeding).
    pub last_request_at: Option<i64>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A REST session: application-only, or with a user.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id.
    pub id: u64,
    /// The token (a secret: not in Debug).
    pub token: String,
    /// The application.
    pub app_id: u64,
    /// The user, once one logged in.
    pub user_id: Option<UserId>,
    /// The timestamp the client sent.
    pub ts: i64,
    /// Created.
    pub created_at: i64,
    /// Last used.
    pub updated_at: i64,
    /// When it expires unless used again.
    pub expires_at: i64,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("token", &"<redacted>")
            .field("app_id", &self.app_id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Dialog types as the docs number them.
pub mod dialog_type {
    /// Everyone in the application.
    pub const BROADCAST: u8 = 1;
    /// A group of occupants.
    pub const GROUP: u8 = 2;
    /// Two users.
    pub const PRIVATE: u8 = 3;
    /// Anyone who subscribes.
    pub const PUBLIC: u8 = 4;
}

/// A chat dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    /// The dialog id.
    pub id: DialogId,
    /// The application.
    pub app_id: u64,
    /// 1 broadcast, 2 group, 3 private, 4 public (see [`dialog_type`]).
    pub kind: u8,
    /// The name.
    pub name: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The photo.
    pub photo: Option<String>,
    /// The creator (super admin).
    pub owner: UserId,
    /// The occupants, in the order they joined.
    pub occupants: Vec<UserId>,
    /// The admins.
    pub admins: Vec<UserId>,
    /// The subscribers of a public dialog.
    pub subscribers: Vec<UserId>,
    /// Pinned message ids.
    pub pinned: Vec<String>,
    /// Custom fields (string values).
    pub extensions: Option<Map<String, Value>>,
    /// Permissions (`allow_preview`).
    pub permissions: Option<Map<String, Value>>,
    /// Created.
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
    /// The last message's text.
    pub last_message: Option<String>,
    /// The last message's `date_sent`.
    pub last_message_date_sent: Option<i64>,
    /// The last message's id.
    pub last_message_id: Option<MessageId>,
    /// The last message's sender.
    pub last_message_user_id: Option<UserId>,
}

impl Dialog {
    /// A new dialog of `kind` by `owner`, created now, with a fresh id.
    pub fn new(app_id: u64, kind: u8, owner: UserId) -> Self {
        let now = super::now();
        Self {
            id: DialogId::generate(),
            app_id,
            kind,
            name: None,
            description: None,
            photo: None,
            owner,
            occupants: Vec::new(),
            admins: Vec::new(),
            subscribers: Vec::new(),
            pinned: Vec::new(),
            extensions: None,
            permissions: None,
            created_at: now,
            updated_at: now,
            last_message: None,
            last_message_date_sent: None,
            last_message_id: None,
            last_message_user_id: None,
        }
    }

    /// Whether `user` may read and write in the dialog (occupant, subscriber, or anyone for
    /// a broadcast).
    pub fn is_member(&self, user: UserId) -> bool {
        match self.kind {
            dialog_type::BROADCAST => true,
            dialog_type::PUBLIC => {
                self.subscribers.contains(&user) || self.owner == user || self.is_admin(user)
            }
            _ => self.occupants.contains(&user),
        }
    }

    /// Whether `user` is the owner or an admin.
    pub fn is_admin(&self, user: UserId) -> bool {
        self.owner == user || self.admins.contains(&user)
    }

    /// Who receives what is posted: occupants, or subscribers of a public dialog.
    pub fn audience(&self) -> Vec<UserId> {
        match self.kind {
            dialog_type::PUBLIC => {
                let mut all = self.subscribers.clone();
                for u in std::iter::once(self.owner).chain(self.admins.iter().copied()) {
                    if !all.contains(&u) {
                        all.push(u);
                    }
                }
                all
            }
            _ => self.occupants.clone(),
        }
    }

    /// The other user of a private dialog.
    pub fn opponent(&self, me: UserId) -> Option<UserId> {
        self.occupants.iter().copied().find(|u| *u != me)
    }
}

/// A stored chat message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The message id (the chat message's id when it came over chat).
    pub id: MessageId,
    /// The dialog.
    pub dialog_id: DialogId,
    /// The sender.
    pub sender_id: UserId,
    /// The recipient (private dialogs), if any.
    pub recipient_id: Option<UserId>,
    /// The text.
    pub body: Option<String>,
    /// When it was sent (unix seconds).
    pub date_sent: i64,
    /// Stored.
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
    /// Attachment objects (`type`, `id`, `url`, …).
    pub attachments: Vec<Value>,
    /// Custom properties.
    pub custom: Map<String, Value>,
    /// Who read it.
    pub read_ids: Vec<UserId>,
    /// Who received it.
    pub delivered_ids: Vec<UserId>,
    /// Who deleted it for themselves.
    pub deleted_for: Vec<UserId>,
    /// Whether the body was edited.
    pub edited: bool,
    /// Whether the receiver should send markers.
    pub markable: bool,
    /// Views (broadcast and public dialogs).
    pub views_count: u64,
}

/// A message to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// A fixed id (a chat message's own id); `None` makes a fresh one.
    pub id: Option<MessageId>,
    /// The dialog.
    pub dialog_id: DialogId,
    /// The sender.
    pub sender_id: UserId,
    /// The recipient, if any.
    pub recipient_id: Option<UserId>,
    /// The text.
    pub body: Option<String>,
    /// When it was sent; `None` is now.
    pub date_sent: Option<i64>,
    /// Attachments.
    pub attachments: Vec<Value>,
    /// Custom properties.
    pub custom: Map<String, Value>,
    /// Whether the receiver should send markers.
    pub markable: bool,
}

impl NewMessage {
    /// A message from `sender_id` in `dialog_id`, sent now, with a fresh id.
    pub fn new(dialog_id: DialogId, sender_id: UserId) -> Self {
        Self {
            id: None,
            dialog_id,
            sender_id,
            recipient_id: None,
            body: None,
            date_sent: None,
            attachments: Vec::new(),
            custom: Map::new(),
            markable: false,
        }
    }
}

/// What [`crate::store::Store::save_message`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedMessage {
    /// The stored message's id.
    pub id: MessageId,
    /// Its `date_sent`.
    pub date_sent: i64,
}

/// A file in storage.
#[derive(Clone, PartialEq)]
pub struct Blob {
    /// The numeric id.
    pub id: u64,
    /// The uid (download name).
    pub uid: String,
    /// The application.
    pub app_id: u64,
    /// Who created it.
    pub owner: UserId,
    /// Its content type.
    pub content_type: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Its size once complete.
    pub size: Option<u64>,
    /// Whether anyone may download it.
    pub public: bool,
    /// `complete` once declared uploaded.
    pub status: Option<String>,
    /// The secret the upload form carries (not in Debug).
    pub upload_key: String,
    /// Created.
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
    /// Declared complete.
    pub completed_at: Option<i64>,
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blob")
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("owner", &self.owner)
            .field("size", &self.size)
            .field("public", &self.public)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A file record to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlob {
    /// A fixed id (seeding); `None` takes the next free one.
    pub id: Option<u64>,
    /// A fixed uid (seeding); `None` makes a fresh one.
    pub uid: Option<String>,
    /// The application.
    pub app_id: u64,
    /// Who creates it.
    pub owner: UserId,
    /// Its content type.
    pub content_type: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Whether anyone may download it.
    pub public: bool,
}

impl NewBlob {
    /// A private file of `owner` in `app_id`, no name or type yet.
    pub fn new(app_id: u64, owner: UserId) -> Self {
        Self {
            id: None,
            uid: None,
            app_id,
            owner,
            content_type: None,
            name: None,
            public: false,
        }
    }
}

/// One item of a privacy list (XEP-0016), kept as the chat half parsed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyItem {
    /// `jid`, `group` or `subscription`; `None` matches everyone.
    #[serde(default)]
    pub kind: Option<String>,
    /// The value matched (a JID for `jid`).
    #[serde(default)]
    pub value: Option<String>,
    /// `true` allows, `false` denies.
    pub allow: bool,
    /// The order (lower first).
    pub order: u32,
    /// The stanzas it applies to (`message`, `presence-in`, `presence-out`, `iq`); empty is all.
    #[serde(default)]
    pub stanzas: Vec<String>,
}

/// A named privacy list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyList {
    /// The name.
    pub name: String,
    /// The items, by order.
    pub items: Vec<PrivacyItem>,
}

impl From<&connectycube_protocol::iq::privacy::Item> for PrivacyItem {
    fn from(i: &connectycube_protocol::iq::privacy::Item) -> Self {
        let flags = [
            (i.message, "message"),
            (i.presence_in, "presence-in"),
            (i.presence_out, "presence-out"),
            (i.iq, "iq"),
        ];
        Self {
            kind: i.kind.clone(),
            value: i.value.clone(),
            allow: i.action == "allow",
            order: i.order,
            stanzas: flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| (*n).to_owned())
                .collect(),
        }
    }
}

impl From<&PrivacyItem> for connectycube_protocol::iq::privacy::Item {
    fn from(i: &PrivacyItem) -> Self {
        let has = |n: &str| i.stanzas.iter().any(|s| s == n);
        Self {
            kind: i.kind.clone(),
            value: i.value.clone(),
            action: if i.allow { "allow" } else { "deny" }.to_owned(),
            order: i.order,
            message: has("message"),
            presence_in: has("presence-in"),
            presence_out: has("presence-out"),
            iq: has("iq"),
        }
    }
}
