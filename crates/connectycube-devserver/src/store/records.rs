//! Custom objects: records of an application's own classes (`/data/{class}`), fields kept as
//! JSON. Any class name is accepted (the cloud wants it created in the dashboard first).

use super::Cached;
use connectycube_protocol::ids::{ObjectId, UserId};
use rusqlite::{OptionalExtension, Row, params};
use serde_json::{Map, Value};

use super::{Store, StoreError, from_json, now, to_json};

/// One stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomRecord {
    /// Its id (an object id).
    pub id: String,
    /// Its class.
    pub class_name: String,
    /// Who created it.
    pub user: UserId,
    /// Its fields.
    pub fields: Map<String, Value>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

fn record_row(r: &Row<'_>) -> rusqlite::Result<CustomRecord> {
    Ok(CustomRecord {
        id: r.get(0)?,
        class_name: r.get(1)?,
        user: UserId(r.get(2)?),
        fields: from_json(&r.get::<_, String>(3)?)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

const COLUMNS: &str = "id, class_name, user_id, fields, created_at, updated_at";

impl Store {
    /// Creates a record of `class` in `app_id` by `user`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn create_record(
        &self,
        app_id: u64,
        class: &str,
        user: UserId,
        fields: &Map<String, Value>,
    ) -> Result<CustomRecord, StoreError> {
        let t = now();
        let r = CustomRecord {
            id: ObjectId::generate().to_string(),
            class_name: class.to_owned(),
            user,
            fields: fields.clone(),
            created_at: t,
            updated_at: t,
        };
        self.with(|c| {
            c.execute_cached(
                "INSERT INTO custom_objects (id, app_id, class_name, user_id, fields, created_at,
                   updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![r.id, app_id, class, user.0, to_json(&r.fields), t],
            )
        })?;
        Ok(r)
    }

    /// The records of `class` in `app_id`, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails or a stored record does not parse.
    pub fn records(&self, app_id: u64, class: &str) -> Result<Vec<CustomRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM custom_objects WHERE app_id = ?1 AND class_name = ?2
                 ORDER BY created_at, id"
            ))?
            .query_map(params![app_id, class], record_row)?
            .collect()
        })
    }

    /// The record `id` of `class` in `app_id`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn record(
        &self,
        app_id: u64,
        class: &str,
        id: &str,
    ) -> Result<Option<CustomRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM custom_objects WHERE app_id = ?1 AND class_name = ?2
                 AND id = ?3"
            ))?
            .query_row(params![app_id, class, id], record_row)
            .optional()
        })
    }

    /// Deletes record `id`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such record.
    pub fn delete_record(&self, id: &str) -> Result<(), StoreError> {
        let n =
            self.with(|c| c.execute_cached("DELETE FROM custom_objects WHERE id = ?1", [id]))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
