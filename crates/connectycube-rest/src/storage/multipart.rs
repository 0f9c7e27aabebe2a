//! The few bytes of `multipart/form-data` (RFC 7578) around a streamed file: text fields
//! first, the file part last (S3's POST form ignores fields after the file), so the whole
//! envelope is known before the file is read and the body's length can be declared up front.
//!
//! Written here rather than taken from a crate: it is a few dozen lines with no dependency,
//! and it gives the exact body length before the file is read, which the upload declares in
//! `Content-Length` (S3's POST form expects one rather than a chunked body).

use std::hash::{BuildHasher, Hasher};

/// A form: its boundary, its text fields, and the file part's headers.
#[derive(Debug, Clone)]
pub(crate) struct FormEnvelope {
    boundary: String,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl FormEnvelope {
    /// The envelope for `fields` (in order) and a file part named `file`.
    pub(crate) fn new(fields: &[(String, String)], file_name: &str, content_type: &str) -> Self {
        Self::with_boundary(fresh_boundary(), fields, file_name, content_type)
    }

    pub(crate) fn with_boundary(
        boundary: String,
        fields: &[(String, String)],
        file_name: &str,
        content_type: &str,
    ) -> Self {
        let mut head = Vec::new();
        for (name, value) in fields {
            head.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            head.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                    quote(name)
                )
                .as_bytes(),
            );
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        head.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
                 Content-Type: {}\r\n\r\n",
                quote(file_name),
                header_safe(content_type)
            )
            .as_bytes(),
        );
        let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
        Self {
            boundary,
            head,
            tail,
        }
    }

    /// The `Content-Type` header of the request.
    pub(crate) fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// Everything before the file's bytes.
    pub(crate) fn head(&self) -> &[u8] {
        &self.head
    }

    /// Everything after the file's bytes.
    pub(crate) fn tail(&self) -> &[u8] {
        &self.tail
    }

    /// The body's length for a file of `file_len` bytes.
    pub(crate) fn body_len(&self, file_len: u64) -> u64 {
        self.head.len() as u64 + file_len + self.tail.len() as u64
    }
}

/// A name or file name inside a quoted header parameter, escaped as browsers do (WHATWG
/// "multipart/form-data encoding algorithm"): `"` as `%22`, CR as `%0D`, LF as `%0A`.
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A header value with line breaks removed, so it cannot start a new header.
fn header_safe(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect()
}

/// 32 random hex digits after a fixed prefix: far too unlikely to occur in any file.
fn fresh_boundary() -> String {
    // `RandomState` is seeded from the OS once and varied per instance: random enough for
    // a boundary (not a secret), with no extra dependency.
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0),
        );
        h.finish()
    };
    format!("connectycube-{:016x}{:016x}", word(), word())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_order_then_the_file_part_with_escaped_names() {
        let fields = vec![
            ("key".to_owned(), "abc".to_owned()),
            ("x-amz-date".to_owned(), "20181210T102601Z".to_owned()),
        ];
        let env = FormEnvelope::with_boundary(
            "B0UND".into(),
            &fields,
            "my \"cat\"\r\n.jpeg",
            "image/jpeg\r\nX-Evil: 1",
        );
        let mut body = env.head().to_vec();
        body.extend_from_slice(b"FILE");
        body.extend_from_slice(env.tail());
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            "--B0UND\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nabc\r\n\
             --B0UND\r\nContent-Disposition: form-data; name=\"x-amz-date\"\r\n\r\n\
             20181210T102601Z\r\n\
             --B0UND\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"my %22cat%22%0D%0A.jpeg\"\r\nContent-Type: image/jpegX-Evil: 1\r\n\r\n\
             FILE\r\n--B0UND--\r\n"
        );
        assert_eq!(env.body_len(4), body.len() as u64);
        assert_eq!(env.content_type(), "multipart/form-data; boundary=B0UND");
    }

    #[test]
    fn boundaries_differ_and_are_valid_tokens() {
        let a = fresh_boundary();
        let b = fresh_boundary();
        assert_ne!(a, b);
        // RFC 2046: 1 to 70 characters; ours are letters, digits and '-'.
        assert!(a.len() <= 70);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
