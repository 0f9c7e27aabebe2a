//! Storage on SQLite.
