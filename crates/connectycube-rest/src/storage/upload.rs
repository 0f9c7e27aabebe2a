//! Uploading a file's content to the presigned form of [`super::CreateBlob`]'s answer, read
//! from disk a chunk at a time, and the whole create → upload → complete flow.
//!
//! The form lives on another host (S3), so this is no [`crate::endpoint::Endpoint`]: it is a
//! multipart POST whose body is a stream, sent once and never retried (the stream cannot be
//! replayed, and a POST is not safe to repeat).

use std::fmt;
use std::path::Path;

use bytes::Bytes;
use futures_util::{StreamExt, future, stream};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;
use url::Url;

use super::multipart::FormEnvelope;
use super::{Blob, CompleteBlob, CreateBlob};
use crate::error::{ApiErrors, RestError};
use crate::{RestClient, client};

/// The body of an upload: the form envelope around the file's chunks.
pub(crate) type UploadBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// How much of the file is read (and held) at once.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Where to upload a file and the form fields that authorise it, read from
/// `blob_object_access.params` (a URL whose query holds the fields, in order).
#[derive(Clone, PartialEq, Eq)]
pub struct UploadForm {
    /// The form's address, without the query.
    pub url: Url,
    /// The fields to send before the file, in the order given.
    pub fields: Vec<(String, String)>,
}

impl fmt::Debug for UploadForm {
    // The policy and signature authorise an upload: show only the field names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("UploadForm")
            .field("url", &self.url.as_str())
            .field("fields", &names)
            .finish()
    }
}

impl UploadForm {
    /// Reads the presigned `params` URL.
    ///
    /// # Errors
    /// [`RestError::InvalidRequest`] when `params` is not an absolute URL.
    pub fn from_params(params: &str) -> Result<Self, RestError> {
        let mut url = Url::parse(params)
            .map_err(|e| RestError::InvalidRequest(format!("upload params are no URL: {e}")))?;
        let fields = url.query_pairs().into_owned().collect();
        url.set_query(None);
        url.set_fragment(None);
        Ok(Self { url, fields })
    }

    /// The upload form of a just-created file.
    ///
    /// # Errors
    /// [`RestError::InvalidRequest`] when the file carries no upload parameters.
    pub fn of(blob: &Blob) -> Result<Self, RestError> {
        let params = blob
            .blob_object_access
            .as_ref()
            .and_then(|a| a.params.as_deref())
            .ok_or_else(|| {
                RestError::InvalidRequest(format!("file {} has no upload parameters", blob.id))
            })?;
        Self::from_params(params)
    }
}

/// The envelope followed by the file's first `len` bytes, a chunk at a time, then the end.
///
/// `on_sent` hears the file bytes handed to the connection so far, chunk by chunk (the
/// envelope's few hundred bytes are not counted: the caller knows the file's size).
pub(crate) fn form_body(
    envelope: &FormEnvelope,
    file: tokio::fs::File,
    len: u64,
    mut on_sent: impl FnMut(u64) + Send + 'static,
) -> UploadBody {
    let frame = |b: &[u8]| {
        stream::once(future::ready(Ok::<_, std::io::Error>(Frame::data(
            Bytes::copy_from_slice(b),
        ))))
    };
    // `take` keeps the body at the declared length if the file grows meanwhile; if it
    // shrinks, hyper sees the body end early and fails the request.
    let mut sent = 0u64;
    let content = ReaderStream::with_capacity(file.take(len), CHUNK).map(move |r| {
        if let Ok(chunk) = &r {
            sent += chunk.len() as u64;
            on_sent(sent);
        }
        r.map(Frame::data)
    });
    let frames = frame(envelope.head())
        .chain(content)
        .chain(frame(envelope.tail()));
    StreamBody::new(frames).boxed_unsync()
}

/// The file an upload sends, and how the form names it.
struct Upload<'a> {
    path: &'a Path,
    file_name: &'a str,
    content_type: &'a str,
}

fn file_error(path: &Path, e: std::io::Error) -> RestError {
    RestError::File {
        path: path.to_path_buf(),
        source: e,
    }
}

impl RestClient {
    /// Uploads the file at `path` as the content of `blob` (just created, see [`CreateBlob`]),
    /// streaming it from disk with its length declared; answers the size sent.
    ///
    /// # Errors
    /// [`RestError::File`] when the file cannot be read, [`RestError::Http`] when the storage
    /// refuses the upload (its XML error in `errors`), timeout or connection failures.
    pub async fn upload_file(&self, blob: &Blob, path: impl AsRef<Path>) -> Result<u64, RestError> {
        self.upload_file_with_progress(blob, path, |_| {}).await
    }

    /// As [`RestClient::upload_file`], telling `on_sent` how many of the file's bytes went to
    /// the connection so far, after each chunk of up to 64 KiB (for a progress bar).
    ///
    /// # Errors
    /// As [`RestClient::upload_file`].
    pub async fn upload_file_with_progress(
        &self,
        blob: &Blob,
        path: impl AsRef<Path>,
        on_sent: impl FnMut(u64) + Send + 'static,
    ) -> Result<u64, RestError> {
        let form = UploadForm::of(blob)?;
        let name = blob.name.as_deref().unwrap_or("file");
        let content_type = blob
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        let file = Upload {
            path: path.as_ref(),
            file_name: name,
            content_type,
        };
        self.upload_counted(&form, file, on_sent).await
    }

    /// Uploads the file at `path` to `form` as the part `file` named `file_name`.
    ///
    /// # Errors
    /// As [`RestClient::upload_file`].
    pub async fn upload_to_form(
        &self,
        form: &UploadForm,
        path: &Path,
        file_name: &str,
        content_type: &str,
    ) -> Result<u64, RestError> {
        let file = Upload {
            path,
            file_name,
            content_type,
        };
        self.upload_counted(form, file, |_| {}).await
    }

    async fn upload_counted(
        &self,
        form: &UploadForm,
        upload: Upload<'_>,
        on_sent: impl FnMut(u64) + Send + 'static,
    ) -> Result<u64, RestError> {
        let Upload {
            path,
            file_name,
            content_type,
        } = upload;
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| file_error(path, e))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| file_error(path, e))?
            .len();
        let envelope = FormEnvelope::new(&form.fields, file_name, content_type);
        let request = Request::builder()
            .method(Method::POST)
            .uri(form.url.as_str())
            .header(CONTENT_TYPE, envelope.content_type())
            .header(CONTENT_LENGTH, envelope.body_len(len))
            .body(form_body(&envelope, file, len, on_sent))
            .map_err(|e| RestError::InvalidRequest(e.to_string()))?;
        let timeout = self.config().upload_timeout;
        let limit = self.config().max_response_bytes;
        let exchange = async {
            let response = self
                .upload_http()
                .request(request)
                .await
                .map_err(RestError::connection)?;
            let status = response.status();
            Ok::<_, RestError>((status, client::read_body(response, limit).await?))
        };
        let (status, body) = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| RestError::Timeout(timeout))??;
        if !status.is_success() {
            // The storage host's Retry-After is not read: uploads are not retried by status.
            return Err(RestError::Http {
                status: status.as_u16(),
                errors: ApiErrors::parse(&body),
                retry_after: None,
            });
        }
        tracing::debug!(bytes = len, %status, "file uploaded");
        Ok(len)
    }

    /// Stores the file at `path`: creates the file record, uploads the content, declares it
    /// uploaded with its size, and answers the record (with that size).
    ///
    /// # Errors
    /// As [`RestClient::send`] and [`RestClient::upload_file`].
    pub async fn store_file(
        &self,
        path: impl AsRef<Path>,
        create: &CreateBlob,
    ) -> Result<Blob, RestError> {
        let mut blob = self.send(create).await?.blob;
        let size = self.upload_file(&blob, path).await?;
        self.send(&CompleteBlob { id: blob.id, size }).await?;
        blob.size = Some(size);
        Ok(blob)
    }

    /// `{api}/blobs/{uid}`: where anyone downloads a public file.
    ///
    /// # Errors
    /// As [`super::public_url`].
    pub fn public_url(&self, uid: &str) -> Result<Url, RestError> {
        super::public_url(&self.config().api_url, uid)
    }

    /// `{api}/blobs/{uid}?token=…` with the current session token: where the session's
    /// user downloads a private file. The URL carries the token: keep it out of logs.
    ///
    /// # Errors
    /// [`RestError::InvalidRequest`] when there is no session token.
    pub fn private_url(&self, uid: &str) -> Result<Url, RestError> {
        let token = self.token().ok_or_else(|| {
            RestError::InvalidRequest("no session token for a private URL".into())
        })?;
        super::private_url(&self.config().api_url, uid, &token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_params_give_the_form_in_order() {
        let form = UploadForm::from_params(
            "https://s3.amazonaws.com/cb-shared-s3?Content-Type=image%2Fjpeg\
             &Expires=Mon%2C%2010%20Dec%202018%2011%3A26%3A01%20GMT&acl=public-read&key=k1\
             &policy=eyJ%3D&success_action_status=201",
        )
        .unwrap();
        assert_eq!(form.url.as_str(), "https://s3.amazonaws.com/cb-shared-s3");
        let names: Vec<_> = form.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "Expires",
                "acl",
                "key",
                "policy",
                "success_action_status"
            ]
        );
        assert_eq!(form.fields[1].1, "Mon, 10 Dec 2018 11:26:01 GMT");
        assert_eq!(form.fields[4].1, "eyJ=");
        assert!(!format!("{form:?}").contains("eyJ"), "{form:?}");
        assert!(UploadForm::from_params("not a url").is_err());
    }

    #[tokio::test]
    async fn the_body_streams_the_file_in_bounded_chunks() {
        let dir = std::env::temp_dir().join(format!("cc-upload-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.bin");
        let content: Vec<u8> = (0..5 * 1024 * 1024 + 7).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let env = FormEnvelope::new(&[("key".into(), "v".into())], "big.bin", "x/y");
        let file = tokio::fs::File::open(&path).await.unwrap();
        let counts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = counts.clone();
        let mut body = form_body(&env, file, content.len() as u64, move |sent| {
            seen.lock().unwrap().push(sent);
        });
        let (mut frames, mut largest, mut all) = (0usize, 0usize, Vec::new());
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            frames += 1;
            largest = largest.max(data.len());
            all.extend_from_slice(&data);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(largest <= CHUNK, "a frame held {largest} bytes");
        assert!(frames > content.len() / CHUNK, "{frames} frames");
        assert_eq!(all.len() as u64, env.body_len(content.len() as u64));
        assert!(all.starts_with(env.head()) && all.ends_with(env.tail()));
        assert!(all[env.head().len()..all.len() - env.tail().len()] == content[..]);
        // One count per file chunk, rising to the file's length.
        let counts = counts.lock().unwrap();
        assert_eq!(counts.len(), frames - 2);
        assert!(counts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(counts.last().copied(), Some(content.len() as u64));
    }
}
