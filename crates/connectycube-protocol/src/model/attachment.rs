//! File attachments of a message.

use serde::{Deserialize, Serialize};

use super::lenient;

/// What an attachment holds. The API allows any string; unknown ones are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum AttachmentType {
    /// `image`
    Image,
    /// `video`
    Video,
    /// `audio`
    Audio,
    /// `file`
    File,
    /// Any other value, kept as sent.
    Other(String),
}

impl AttachmentType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::File => "file",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for AttachmentType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "image" => Self::Image,
            "video" => Self::Video,
            "audio" => Self::Audio,
            "file" => Self::File,
            _ => Self::Other(s),
        }
    }
}

impl From<&str> for AttachmentType {
    fn from(s: &str) -> Self {
        Self::from(s.to_owned())
    }
}

impl From<AttachmentType> for String {
    fn from(t: AttachmentType) -> Self {
        match t {
            AttachmentType::Other(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

/// A file attached to a message: in ConnectyCube storage (`id`/`uid`) or on the web (`url`).
///
/// Every field but `type` is optional on the wire, in XMPP attributes and REST JSON alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// What the file is.
    #[serde(rename = "type")]
    pub kind: AttachmentType,
    /// The storage file id or UID.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub id: Option<String>,
    /// The storage file UID, when the API gives it apart from `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// A link to the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The size in bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub size: Option<u64>,
    /// The MIME type.
    #[serde(
        default,
        rename = "content-type",
        alias = "content_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub content_type: Option<String>,
    /// Width in pixels (images, video).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub width: Option<u64>,
    /// Height in pixels (images, video).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub height: Option<u64>,
    /// Duration in seconds (audio, video).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub duration: Option<u64>,
    /// Free-form data, such as a thumbnail or a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl Attachment {
    /// An attachment of `kind` with nothing else set.
    pub fn new(kind: impl Into<AttachmentType>) -> Self {
        Self {
            kind: kind.into(),
            id: None,
            uid: None,
            url: None,
            name: None,
            size: None,
            content_type: None,
            width: None,
            height: None,
            duration: None,
            data: None,
        }
    }

    /// Sets the storage file id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the link.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_numbers_written_as_strings_and_unknown_types() {
        let a: Attachment =
            serde_json::from_str(r#"{"type":"sticker","id":3004,"size":"1024","width":""}"#)
                .unwrap();
        assert_eq!(a.kind, AttachmentType::Other("sticker".into()));
        assert_eq!(a.id.as_deref(), Some("3004"));
        assert_eq!(a.size, Some(1024));
        assert_eq!(a.width, None);
    }

    #[test]
    fn encodes_only_what_is_set() {
        let a = Attachment::new("image").with_id("654645");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"type":"image","id":"654645"}"#
        );
    }

    #[test]
    fn bad_number_is_an_error() {
        assert!(serde_json::from_str::<Attachment>(r#"{"type":"image","size":"big"}"#).is_err());
    }
}
