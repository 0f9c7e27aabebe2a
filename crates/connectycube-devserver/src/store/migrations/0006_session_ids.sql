-- A new session's id is MAX(id) + 1: over an index, not a scan of every session (10,000
-- logins scanned 50 million rows between them, a quarter of the server's CPU).
CREATE INDEX sessions_id ON sessions (id);
