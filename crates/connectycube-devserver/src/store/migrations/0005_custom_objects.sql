-- Custom objects (issue 20): records of an application's own classes (the guide's
-- moderation reports), fields as JSON.
CREATE TABLE custom_objects (
    id TEXT PRIMARY KEY,
    app_id INTEGER NOT NULL,
    class_name TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    fields TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX custom_objects_class ON custom_objects (app_id, class_name, created_at);
