-- The chat's offline storage (issue 20): messages for a user with no available session,
-- kept until they next come online, so a restart on the same --db loses none.
CREATE TABLE offline_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    stanza TEXT NOT NULL,
    stored_at INTEGER NOT NULL
);
CREATE INDEX offline_messages_user ON offline_messages (user_id, seq);
