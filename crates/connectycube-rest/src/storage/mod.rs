//! Files (`server-storage.md`, "blobs"): create one, upload its content to the presigned form
//! the API hands back, declare it uploaded, read it, and build its download URLs.
//!
//! [`crate::RestClient::store_file`] runs the whole flow; the upload streams the file from
//! disk, so a 100 MB file never sits in memory.

mod multipart;
pub mod upload;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use url::Url;

use crate::endpoint::{Empty, Endpoint};
use crate::error::RestError;
use crate::query::Query;
use crate::route::Metadata;

pub use upload::UploadForm;

/// A stored file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Blob {
    /// The file id (for complete, read, delete).
    pub id: u64,
    /// The file UID (for download URLs and attachments).
    pub uid: String,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Size in bytes, once declared uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Whether anyone may download it without a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// `complete` once declared uploaded (deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_status: Option<String>,
    /// When it was declared uploaded (deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_completed_at: Option<DateTime<Utc>>,
    /// Where and how to upload or download the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_object_access: Option<BlobObjectAccess>,
    /// Fields the docs do not list, kept as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Upload or download parameters of a file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct BlobObjectAccess {
    /// The access record's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The file id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<u64>,
    /// When the parameters stop working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
    /// `Write` for an upload form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_access_type: Option<String>,
    /// The presigned upload URL, its query holding the form fields (see [`UploadForm`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<String>,
    /// Fields the docs do not list (the download URL among them), kept as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl BlobObjectAccess {
    /// The presigned download URL, when asked for (`download_url=1`).
    pub fn download_url(&self) -> Option<&str> {
        // The docs' example spells the key `dowload_url`: accept both spellings.
        ["download_url", "dowload_url"]
            .iter()
            .find_map(|k| self.other.get(*k).and_then(Value::as_str))
    }
}

/// The API's answer about one file: `{"blob": {...}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlobResponse {
    /// The file.
    pub blob: Blob,
}

/// `POST /blobs`: a new, empty file; the answer carries the upload form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateBlob {
    /// MIME type.
    pub content_type: String,
    /// File name (1 to 100 characters).
    pub name: String,
    /// Downloadable without a session; unset leaves the server default (private).
    pub public: Option<bool>,
}

impl CreateBlob {
    /// A private file named `name` of type `content_type`.
    pub fn new(name: impl Into<String>, content_type: impl Into<String>) -> Self {
        Self {
            content_type: content_type.into(),
            name: name.into(),
            public: None,
        }
    }

    /// Makes the file public (or explicitly private).
    pub fn public(mut self, public: bool) -> Self {
        self.public = Some(public);
        self
    }
}

impl Endpoint for CreateBlob {
    type Response = BlobResponse;
    const METADATA: Metadata = Metadata::post("CreateBlob", "/blobs");
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut blob = json!({"content_type": self.content_type, "name": self.name});
        if let Some(public) = self.public {
            blob["public"] = json!(public);
        }
        Ok(Some(json!({ "blob": blob })))
    }
}

/// `PUT /blobs/{id}/complete`: declares the content uploaded, with its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompleteBlob {
    /// The file id.
    pub id: u64,
    /// The uploaded size in bytes.
    pub size: u64,
}

impl Endpoint for CompleteBlob {
    type Response = Empty;
    const METADATA: Metadata = Metadata::put("CompleteBlob", "/blobs/{id}/complete");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    // The docs send the size as a string (`{"blob": {"size": "347"}}`).
    fn body(&self) -> Result<Option<Value>, RestError> {
        Ok(Some(json!({"blob": {"size": self.size.to_string()}})))
    }
}

/// `GET /blobs/{id}`: a file's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetBlob {
    /// The file id.
    pub id: u64,
}

impl Endpoint for GetBlob {
    type Response = BlobResponse;
    const METADATA: Metadata = Metadata::get("GetBlob", "/blobs/{id}");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
}

/// `GET /blobs/{uid}/object`: a file's record by UID, with a presigned download URL when
/// `download_url` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBlobObject {
    /// The file UID.
    pub uid: String,
    /// Ask for the presigned download URL (`download_url=1`).
    pub download_url: bool,
}

impl GetBlobObject {
    /// `GET /blobs/{uid}/download`: the file's content (the cloud redirects to S3; a public
    /// file needs no session). Declared for servers' route tables: the content is not JSON, so
    /// the client reads it from [`public_url`] or [`private_url`] instead.
    pub const DOWNLOAD: Metadata =
        Metadata::get("GetBlobObject::Download", "/blobs/{uid}/download");
}

impl Endpoint for GetBlobObject {
    type Response = BlobResponse;
    const METADATA: Metadata = Metadata::get("GetBlobObject", "/blobs/{uid}/object");
    fn path_params(&self) -> Vec<String> {
        vec![self.uid.clone()]
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        if self.download_url {
            q.push("download_url", 1);
        }
        q
    }
}

/// `PUT /blobs/{id}` (deprecated): renames a file or changes its type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateBlob {
    /// The file id.
    pub id: u64,
    /// A new name.
    pub name: Option<String>,
    /// A new MIME type.
    pub content_type: Option<String>,
    /// The content will be replaced (`new=1`).
    pub new_content: bool,
}

impl Endpoint for UpdateBlob {
    type Response = BlobResponse;
    const METADATA: Metadata = Metadata::put("UpdateBlob", "/blobs/{id}");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut blob = Map::new();
        if let Some(n) = &self.name {
            blob.insert("name".into(), json!(n));
        }
        if let Some(t) = &self.content_type {
            blob.insert("content_type".into(), json!(t));
        }
        if self.new_content {
            blob.insert("new".into(), json!("1"));
        }
        Ok(Some(json!({ "blob": blob })))
    }
}

/// `DELETE /blobs/{id}`: removes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteBlob {
    /// The file id.
    pub id: u64,
}

impl Endpoint for DeleteBlob {
    type Response = Empty;
    const METADATA: Metadata = Metadata::delete("DeleteBlob", "/blobs/{id}");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
}

/// `GET /blobs` (deprecated): the current user's files, a page at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListBlobs {
    /// The page number, from 1.
    pub page: Option<u32>,
    /// Page size (default 10, at most 100).
    pub per_page: Option<u32>,
}

impl Endpoint for ListBlobs {
    type Response = BlobPage;
    const METADATA: Metadata = Metadata::get("ListBlobs", "/blobs");
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push_opt("page", self.page)
            .push_opt("per_page", self.per_page);
        q
    }
}

/// A page of the numbered list of blobs (items arrive wrapped as `{"blob": {...}}`).
pub type BlobPage = crate::page::NumberedPage<Blob>;

/// `{api}/blobs/{uid}`: where anyone downloads a public file.
///
/// # Errors
/// [`RestError::InvalidRequest`] when `api_url` cannot take a path (`mailto:`...).
pub fn public_url(api_url: &Url, uid: &str) -> Result<Url, RestError> {
    let mut url = api_url.clone();
    url.path_segments_mut()
        .map_err(|()| RestError::InvalidRequest(format!("API URL {api_url} takes no path")))?
        .pop_if_empty()
        .extend(["blobs", uid]);
    url.set_query(None);
    Ok(url)
}

/// `{api}/blobs/{uid}?token={session token}`: where the session's user downloads a private
/// file. The URL carries the token: treat it as the secret it is.
///
/// # Errors
/// As [`public_url`].
pub fn private_url(api_url: &Url, uid: &str, token: &str) -> Result<Url, RestError> {
    let mut url = public_url(api_url, uid)?;
    url.query_pairs_mut().append_pair("token", token);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_urls_take_the_api_base_and_escape_the_uid() {
        let api = Url::parse("https://api.connectycube.com").unwrap();
        assert_eq!(
            public_url(&api, "9ad79a5b8bb1430fbc4bbf7be6215cb700")
                .unwrap()
                .as_str(),
            "https://api.connectycube.com/blobs/9ad79a5b8bb1430fbc4bbf7be6215cb700"
        );
        let own = Url::parse("https://cube.example.org/api/?x=1").unwrap();
        assert_eq!(
            private_url(&own, "a/b c", "t&k=1").unwrap().as_str(),
            "https://cube.example.org/api/blobs/a%2Fb%20c?token=t%26k%3D1"
        );
    }
}
