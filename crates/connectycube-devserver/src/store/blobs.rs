//! Files: their records and (once uploaded) their bytes.

use super::Cached;
use connectycube_protocol::ids::UserId;
use rusqlite::{OptionalExtension, Row, params};

use super::{Blob, NewBlob, Store, StoreError, now, random_hex};

const COLUMNS: &str = "id, uid, app_id, user_id, content_type, name, size, public, status, \
     upload_key, created_at, updated_at, completed_at";

fn blob_row(r: &Row<'_>) -> rusqlite::Result<Blob> {
    Ok(Blob {
        id: r.get(0)?,
        uid: r.get(1)?,
        app_id: r.get(2)?,
        owner: UserId(r.get(3)?),
        content_type: r.get(4)?,
        name: r.get(5)?,
        size: r.get(6)?,
        public: r.get(7)?,
        status: r.get(8)?,
        upload_key: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        completed_at: r.get(12)?,
    })
}

impl Store {
    /// A new file record of `owner` (no content yet), with a fresh uid and upload key; with
    /// `id` when given (seeding).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn create_blob(&self, new: &NewBlob) -> Result<Blob, StoreError> {
        let t = now();
        let uid = new.uid.clone().unwrap_or_else(|| random_hex(17));
        let id: u64 = self.with(|c| {
            c.query_row_cached(
                "INSERT INTO blobs (id, uid, app_id, user_id, content_type, name, public,
                   upload_key, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) RETURNING id",
                params![
                    new.id,
                    uid,
                    new.app_id,
                    new.owner.0,
                    new.content_type,
                    new.name,
                    new.public,
                    random_hex(16),
                    t
                ],
                |r| r.get(0),
            )
        })?;
        self.blob(id)?.ok_or(StoreError::NotFound)
    }

    /// The file `id`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn blob(&self, id: u64) -> Result<Option<Blob>, StoreError> {
        self.with(|c| {
            c.query_row_cached(
                &format!("SELECT {COLUMNS} FROM blobs WHERE id = ?1"),
                [id],
                blob_row,
            )
            .optional()
        })
    }

    /// The file with `uid`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn blob_by_uid(&self, uid: &str) -> Result<Option<Blob>, StoreError> {
        self.with(|c| {
            c.query_row_cached(
                &format!("SELECT {COLUMNS} FROM blobs WHERE uid = ?1"),
                [uid],
                blob_row,
            )
            .optional()
        })
    }

    /// The files of `owner`, by id.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn blobs_of(&self, owner: UserId) -> Result<Vec<Blob>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM blobs WHERE user_id = ?1 ORDER BY id"
            ))?;
            st.query_map([owner.0], blob_row)?.collect()
        })
    }

    /// Stores the uploaded content of the file with `uid`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such file.
    pub fn put_blob_data(&self, uid: &str, data: &[u8]) -> Result<(), StoreError> {
        let n = self.with(|c| {
            c.execute_cached(
                "UPDATE blobs SET data = ?2, updated_at = ?3 WHERE uid = ?1",
                params![uid, data, now()],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The uploaded content of the file with `uid`, if any.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn blob_data(&self, uid: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let v: Option<Option<Vec<u8>>> = self.with(|c| {
            c.query_row_cached("SELECT data FROM blobs WHERE uid = ?1", [uid], |r| r.get(0))
                .optional()
        })?;
        Ok(v.flatten())
    }

    /// Declares file `id` uploaded with `size` bytes.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such file.
    pub fn complete_blob(&self, id: u64, size: u64) -> Result<(), StoreError> {
        let t = now();
        let n = self.with(|c| {
            c.execute_cached(
                "UPDATE blobs SET size = ?2, status = 'complete', completed_at = ?3,
                   updated_at = ?3 WHERE id = ?1",
                params![id, size, t],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Renames file `id`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such file.
    pub fn rename_blob(&self, id: u64, name: &str) -> Result<Blob, StoreError> {
        let n = self.with(|c| {
            c.execute_cached(
                "UPDATE blobs SET name = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, name, now()],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.blob(id)?.ok_or(StoreError::NotFound)
    }

    /// Deletes file `id` and its content.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such file.
    pub fn delete_blob(&self, id: u64) -> Result<(), StoreError> {
        let n = self.with(|c| c.execute_cached("DELETE FROM blobs WHERE id = ?1", [id]))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_created_uploaded_completed_and_deleted() {
        let s = Store::in_memory().unwrap();
        let mut new = NewBlob::new(1, UserId(5));
        new.content_type = Some("text/plain".into());
        new.name = Some("a.txt".into());
        let b = s.create_blob(&new).unwrap();
        assert_eq!(b.uid.len(), 34);
        assert!(s.blob_data(&b.uid).unwrap().is_none());
        s.put_blob_data(&b.uid, b"hello").unwrap();
        s.complete_blob(b.id, 5).unwrap();
        let b2 = s.blob_by_uid(&b.uid).unwrap().unwrap();
        assert_eq!((b2.size, b2.status.as_deref()), (Some(5), Some("complete")));
        assert_eq!(s.blob_data(&b.uid).unwrap().unwrap(), b"hello");
        assert_eq!(s.blobs_of(UserId(5)).unwrap().len(), 1);
        s.delete_blob(b.id).unwrap();
        assert!(s.blob(b.id).unwrap().is_none());
        assert!(matches!(s.delete_blob(b.id), Err(StoreError::NotFound)));
    }
}
