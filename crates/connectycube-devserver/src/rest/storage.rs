//! `/blobs`: create a file, upload its content through a form that stands in for the S3
//! presigned POST, declare it complete, read, rename, delete, and download it by its public
//! or private (`?token=`) URL (`server-storage.md`).
//!
//! The create answer's `blob_object_access.params` is `{api}/blobs/upload?…&key={uid}&
//! policy={upload key}&success_action_status=201`: the client posts the query's fields and
//! the file as `multipart/form-data` there, as it would to S3.

use http::StatusCode;
use serde_json::{Value, json};

use super::reply::Reply;
use super::request::{Req, as_text, as_u64};
use super::route::{UPLOAD_PATH, session_of, user_of};
use super::{ApiError, RestState, render};
use crate::store::{Blob, NewBlob, User};

/// How long an upload form or download link says it is valid.
const ACCESS_SECS: i64 = 3600;

fn blob_field(req: &Req, k: &str) -> Option<Value> {
    req.body.get("blob").and_then(|b| b.get(k)).cloned()
}

/// The file named by the route's `{id}` as a numeric id, in the user's application.
fn path_blob(st: &RestState, req: &Req, me: &User) -> Result<Blob, ApiError> {
    let id: u64 = req
        .path_param("id")
        .parse()
        .map_err(|_| ApiError::not_found())?;
    st.store
        .blob(id)?
        .filter(|b| b.app_id == me.app_id)
        .ok_or_else(ApiError::not_found)
}

fn owned_blob(st: &RestState, req: &Req, me: &User) -> Result<Blob, ApiError> {
    let b = path_blob(st, req, me)?;
    if b.owner != me.id {
        return Err(ApiError::no_permission());
    }
    Ok(b)
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `POST /blobs`: a file record and the form to upload its content with.
pub(crate) fn create(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let content_type = blob_field(req, "content_type")
        .and_then(|v| as_text(&v))
        .ok_or_else(|| ApiError::required("content_type"))?;
    let name = blob_field(req, "name")
        .and_then(|v| as_text(&v))
        .ok_or_else(|| ApiError::required("name"))?;
    let public = blob_field(req, "public").is_some_and(|v| super::request::is_true(&v));
    let mut new = NewBlob::new(me.app_id, me.id);
    new.content_type = Some(content_type.clone());
    new.name = Some(name);
    new.public = public;
    let b = st.store.create_blob(&new)?;
    let expires = b.created_at + ACCESS_SECS;
    let params = format!(
        "{}{UPLOAD_PATH}?Content-Type={}&Expires={expires}&acl={}&key={}&policy={}&success_action_status=201",
        st.api_url,
        enc(&content_type),
        if public {
            "public-read"
        } else {
            "authenticated-read"
        },
        enc(&b.uid),
        enc(&b.upload_key),
    );
    let v = with_access(&b, expires, "Write", [("params", params)]);
    Ok(Reply::Json(StatusCode::CREATED, json!({ "blob": v })))
}

/// The blob's record with its `blob_object_access` (`kind` `Write` or `Read`, until
/// `expires`), `links` added to the access object.
fn with_access<const N: usize>(
    b: &Blob,
    expires: i64,
    kind: &str,
    links: [(&str, String); N],
) -> Value {
    let mut access = json!({
        "id": b.id,
        "blob_id": b.id,
        "expires": render::time(expires),
        "object_access_type": kind,
    });
    if let Some(obj) = access.as_object_mut() {
        for (k, v) in links {
            obj.insert(k.into(), v.into());
        }
    }
    let mut v = render::blob(b);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("blob_object_access".into(), access);
    }
    v
}

/// S3's XML error, as the storage answers a refused upload.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Reply {
    Reply::Bytes {
        status,
        content_type: "application/xml".into(),
        body: format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>").into_bytes(),
    }
}

/// `POST /blobs/upload` (the presigned form): `key` and `policy` name the file and
/// authorise the upload; the part `file` is its content.
pub(crate) fn upload(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let Some(boundary) = req.content_type.as_deref().and_then(boundary) else {
        return Ok(s3_error(
            StatusCode::BAD_REQUEST,
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
        ));
    };
    let parts = parse_multipart(&req.raw, &boundary);
    let field = |n: &str| {
        parts
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    let (Some(key), Some(policy)) = (field("key"), field("policy")) else {
        return Ok(s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Bucket POST must contain a field named 'key' and 'policy'.",
        ));
    };
    let Some(file) = parts.iter().find(|(k, _)| k == "file").map(|(_, v)| v) else {
        return Ok(s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
        ));
    };
    match st.store.blob_by_uid(&key)? {
        Some(b) if b.upload_key == policy => {}
        _ => {
            return Ok(s3_error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Invalid according to Policy",
            ));
        }
    }
    st.store.put_blob_data(&key, file)?;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><PostResponse><Location>{}/blobs/{key}</Location><Bucket>devserver</Bucket><Key>{key}</Key><ETag>\"{:x}\"</ETag></PostResponse>",
        st.api_url,
        file.len()
    );
    Ok(Reply::Bytes {
        status: StatusCode::CREATED,
        content_type: "application/xml".into(),
        body: body.into_bytes(),
    })
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    content_type.split(';').find_map(|p| {
        let p = p.trim();
        p.strip_prefix("boundary=")
            .map(|b| b.trim_matches('"').to_owned())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The parts of a `multipart/form-data` body (RFC 7578) as (name, content); malformed
/// parts are skipped.
pub(crate) fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delim = format!("--{boundary}").into_bytes();
    let mut out = Vec::new();
    let Some(mut at) = find(body, &delim, 0) else {
        return out;
    };
    // Each part: delimiter, CRLF, headers, CRLF CRLF, content, CRLF, next delimiter.
    while let Some(next) = find(body, &delim, at + delim.len()) {
        let part = &body[at + delim.len()..next];
        at = next;
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = find(part, b"\r\n\r\n", 0) else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let name = headers.lines().find_map(|l| {
            let l = l.trim();
            if !l.to_ascii_lowercase().starts_with("content-disposition") {
                return None;
            }
            l.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix("name=")
                    .map(|n| n.trim_matches('"').to_owned())
            })
        });
        if let Some(name) = name {
            out.push((name, content.to_vec()));
        }
    }
    out
}

/// `PUT /blobs/{id}/complete` with `blob[size]`: the size must be what was uploaded.
pub(crate) fn complete(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let b = owned_blob(st, req, &me)?;
    // `{"blob": {"size": N}}` as documented, or `{"size": N}` as the JS SDK sends it.
    let size = blob_field(req, "size")
        .or_else(|| req.param("size"))
        .and_then(|v| as_u64(&v))
        .ok_or_else(|| ApiError::required("size"))?;
    let uploaded = st.store.blob_data(&b.uid)?.map(|d| d.len() as u64);
    if uploaded != Some(size) {
        return Err(ApiError::invalid(
            "size",
            "does not match the uploaded file",
        ));
    }
    st.store.complete_blob(b.id, size)?;
    Ok(Reply::Empty)
}

/// `GET /blobs`: the user's files, numbered pages.
pub(crate) fn list(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let page = req.number("page")?.unwrap_or(1).max(1) as usize;
    let per_page = req.number("per_page")?.unwrap_or(10).clamp(1, 100) as usize;
    let all = st.store.blobs_of(me.id)?;
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|b| json!({ "blob": render::blob(b) }))
        .collect();
    Ok(Reply::ok(json!({
        "current_page": page,
        "per_page": per_page,
        "total_entries": all.len(),
        "items": items,
    })))
}

/// `GET /blobs/{id}` (the record) or `GET /blobs/{uid}[?token=…]` (the content: public
/// files for anyone, private ones with a session of their application).
pub(crate) fn get(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    if req.path_param("id").bytes().all(|b| b.is_ascii_digit()) {
        let (_, me) = user_of(st, req)?;
        let b = path_blob(st, req, &me)?;
        return Ok(Reply::ok(json!({ "blob": render::blob(&b) })));
    }
    content(st, req, req.path_param("id"))
}

/// `GET /blobs/{uid}/download`: the content, as at `/blobs/{uid}` (the cloud redirects there).
pub(crate) fn download(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    content(st, req, req.path_param("uid"))
}

/// The content of the file `uid`: anyone's when public, else a session of its application's.
fn content(st: &RestState, req: &Req, uid: &str) -> Result<Reply, ApiError> {
    let b = st.store.blob_by_uid(uid)?.ok_or_else(ApiError::not_found)?;
    if !b.public {
        let s = session_of(st, req)?;
        if s.app_id != b.app_id {
            return Err(ApiError::no_permission());
        }
    }
    let data = st
        .store
        .blob_data(&b.uid)?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::Bytes {
        status: StatusCode::OK,
        content_type: b
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into()),
        body: data,
    })
}

/// `GET /blobs/{uid}/object?download_url=1`: the record with a download link.
pub(crate) fn object(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, me) = user_of(st, req)?;
    let b = st
        .store
        .blob_by_uid(req.path_param("uid"))?
        .filter(|b| b.app_id == me.app_id)
        .ok_or_else(ApiError::not_found)?;
    let mut url = format!("{}/blobs/{}", st.api_url, b.uid);
    if !b.public {
        url.push_str(&format!("?token={}", s.token));
    }
    let expires = super::super::store::now() + ACCESS_SECS;
    // The docs spell it `dowload_url`; both spellings are given.
    let v = with_access(
        &b,
        expires,
        "Read",
        [("dowload_url", url.clone()), ("download_url", url)],
    );
    Ok(Reply::ok(json!({ "blob": v })))
}

/// `PUT /blobs/{id}` with `blob[name]`.
pub(crate) fn update(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let b = owned_blob(st, req, &me)?;
    let b = match blob_field(req, "name").and_then(|v| as_text(&v)) {
        Some(name) => st.store.rename_blob(b.id, &name)?,
        None => b,
    };
    Ok(Reply::ok(json!({ "blob": render::blob(&b) })))
}

/// `DELETE /blobs/{id}`.
pub(crate) fn delete(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (_, me) = user_of(st, req)?;
    let b = owned_blob(st, req, &me)?;
    st.store.delete_blob(b.id)?;
    Ok(Reply::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_parts_are_read_by_name() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nabc\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\nContent-Type: text/plain\r\n\r\nhi\r\nthere\r\n--XX--\r\n";
        let parts = parse_multipart(body, "XX");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], ("key".to_owned(), b"abc".to_vec()));
        assert_eq!(parts[1], ("file".to_owned(), b"hi\r\nthere".to_vec()));
        assert!(parse_multipart(b"garbage", "XX").is_empty());
        assert_eq!(
            boundary("multipart/form-data; boundary=\"b1\"").as_deref(),
            Some("b1")
        );
        assert!(boundary("application/json").is_none());
    }
}
