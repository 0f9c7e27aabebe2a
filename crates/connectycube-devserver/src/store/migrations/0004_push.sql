-- Push notifications (issue 20): device subscriptions, the events users create, and every
-- push the cloud would have delivered to a subscribed device (events and chat alerts), so a
-- test can see what a phone would have been told.
CREATE TABLE push_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    environment TEXT NOT NULL,
    token TEXT,
    bundle_identifier TEXT,
    platform TEXT NOT NULL,
    udid TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

CREATE TABLE push_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    message TEXT NOT NULL,
    push_type TEXT,
    environment TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE push_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    subscription_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    source TEXT NOT NULL,
    event_id INTEGER,
    sender_id INTEGER,
    message_id TEXT,
    dialog_id TEXT,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_deliveries_user ON push_deliveries (user_id, id);
