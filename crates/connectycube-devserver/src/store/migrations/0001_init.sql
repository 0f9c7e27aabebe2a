-- The first schema: everything the REST and chat halves keep.
-- Times are unix seconds (UTC); lists and free-form objects are JSON text.

CREATE TABLE apps (
    id INTEGER PRIMARY KEY,
    auth_key TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL,
    login TEXT,
    email TEXT,
    password TEXT,
    full_name TEXT,
    phone TEXT,
    website TEXT,
    external_user_id INTEGER,
    facebook_id TEXT,
    twitter_id TEXT,
    blob_id INTEGER,
    custom_data TEXT,
    avatar TEXT,
    user_tags TEXT,
    timezone INTEGER,
    is_guest INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_request_at INTEGER
);
CREATE UNIQUE INDEX users_login ON users (app_id, login);
CREATE UNIQUE INDEX users_email ON users (app_id, email);

CREATE TABLE sessions (
    token TEXT PRIMARY KEY,
    id INTEGER NOT NULL,
    app_id INTEGER NOT NULL,
    user_id INTEGER,
    ts INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE dialogs (
    id TEXT PRIMARY KEY,
    app_id INTEGER NOT NULL,
    type INTEGER NOT NULL,
    name TEXT,
    description TEXT,
    photo TEXT,
    user_id INTEGER NOT NULL,
    extensions TEXT,
    permissions TEXT,
    pinned_messages_ids TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_message TEXT,
    last_message_date_sent INTEGER,
    last_message_id TEXT,
    last_message_user_id INTEGER,
    -- The private dialog's pair, 'low-high', so there is one per pair.
    pair TEXT UNIQUE
);

-- Who belongs to a dialog and how: 'occupant', 'admin' or 'subscriber' (public dialogs).
CREATE TABLE dialog_members (
    dialog_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (dialog_id, user_id, role)
);
CREATE INDEX dialog_members_user ON dialog_members (user_id);

-- Dialogs a user deleted for themselves (private dialogs stay for the other side).
CREATE TABLE dialog_hidden (
    dialog_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (dialog_id, user_id)
);

CREATE TABLE notification_settings (
    dialog_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (dialog_id, user_id)
);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    dialog_id TEXT NOT NULL,
    sender_id INTEGER NOT NULL,
    recipient_id INTEGER,
    body TEXT,
    date_sent INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    custom TEXT NOT NULL DEFAULT '{}',
    read_ids TEXT NOT NULL DEFAULT '[]',
    delivered_ids TEXT NOT NULL DEFAULT '[]',
    deleted_for TEXT NOT NULL DEFAULT '[]',
    edited INTEGER NOT NULL DEFAULT 0,
    markable INTEGER NOT NULL DEFAULT 0,
    views_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_dialog ON messages (dialog_id, date_sent);

CREATE TABLE reactions (
    message_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    reaction TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, reaction)
);

CREATE TABLE blobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    app_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    content_type TEXT,
    name TEXT,
    size INTEGER,
    public INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    upload_key TEXT NOT NULL,
    data BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    completed_at INTEGER
);

CREATE TABLE privacy_lists (
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    items TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, name)
);

CREATE TABLE last_activity (
    user_id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL
);
