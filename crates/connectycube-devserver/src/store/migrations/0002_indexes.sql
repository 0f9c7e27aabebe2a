-- Lookups that must not grow with the history (issue 20): a page of a dialog in date order
-- with ties by id, and the next reaction position (MAX over an index, not a table scan).
DROP INDEX messages_dialog;
CREATE INDEX messages_dialog ON messages (dialog_id, date_sent, id);
CREATE INDEX reactions_position ON reactions (position);
