//! `<attachment type='…' …/>` inside `extraParams`: a file or location sent with a message.

use xso::{AsXml, FromXml};

use super::ns;
use crate::model::Attachment;

/// The wire form of [`Attachment`]; every attribute is optional. Numbers are kept as text here
/// and read when converted to an [`Attachment`], where one that does not parse is left out (and
/// logged) rather than losing the message.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = ns::JABBER_CLIENT, name = "attachment")]
pub struct AttachmentElement {
    /// `type`: image, video, audio, location, file or anything else (empty when missing).
    #[xml(attribute(name = "type", default))]
    pub kind: String,
    /// `id`: a storage file id.
    #[xml(attribute(default))]
    pub id: Option<String>,
    /// `uid`: a storage file UID.
    #[xml(attribute(default))]
    pub uid: Option<String>,
    /// `url`: a link.
    #[xml(attribute(default))]
    pub url: Option<String>,
    /// `name`: the file name.
    #[xml(attribute(default))]
    pub name: Option<String>,
    /// `size` in bytes.
    #[xml(attribute(default))]
    pub size: Option<String>,
    /// `content-type`: the MIME type.
    #[xml(attribute(name = "content-type", default))]
    pub content_type: Option<String>,
    /// `width` in pixels.
    #[xml(attribute(default))]
    pub width: Option<String>,
    /// `height` in pixels.
    #[xml(attribute(default))]
    pub height: Option<String>,
    /// `duration` in seconds.
    #[xml(attribute(default))]
    pub duration: Option<String>,
    /// `data`: free-form, e.g. a location as JSON.
    #[xml(attribute(default))]
    pub data: Option<String>,
}

/// An attachment's numeric attribute; one that is not a number is dropped with a warning (the
/// borrowed reader uses the same rule, so both readers agree).
pub(crate) fn number(field: &'static str, value: Option<&str>) -> Option<u64> {
    let value = value?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            let value: String = value.chars().take(64).collect();
            tracing::warn!(
                field,
                value,
                "ignored an attachment attribute that is not a number"
            );
            None
        }
    }
}

impl From<AttachmentElement> for Attachment {
    fn from(e: AttachmentElement) -> Self {
        let mut a = Attachment::new(e.kind);
        a.id = e.id;
        a.uid = e.uid;
        a.url = e.url;
        a.name = e.name;
        a.size = number("size", e.size.as_deref());
        a.content_type = e.content_type;
        a.width = number("width", e.width.as_deref());
        a.height = number("height", e.height.as_deref());
        a.duration = number("duration", e.duration.as_deref());
        a.data = e.data;
        a
    }
}

impl From<&Attachment> for AttachmentElement {
    fn from(a: &Attachment) -> Self {
        Self {
            kind: a.kind.as_str().to_owned(),
            id: a.id.clone(),
            uid: a.uid.clone(),
            url: a.url.clone(),
            name: a.name.clone(),
            size: a.size.map(|n| n.to_string()),
            content_type: a.content_type.clone(),
            width: a.width.map(|n| n.to_string()),
            height: a.height.map(|n| n.to_string()),
            duration: a.duration.map(|n| n.to_string()),
            data: a.data.clone(),
        }
    }
}

impl Attachment {
    /// The `<attachment/>` element, built directly (the same tree as via
    /// [`AttachmentElement`], without xso's event round trip).
    pub(crate) fn to_element(&self) -> minidom::Element {
        use super::tree::set_attr;
        let mut e = minidom::Element::bare("attachment", ns::JABBER_CLIENT);
        set_attr(&mut e, "type", self.kind.as_str());
        set_attr(&mut e, "id", self.id.as_deref());
        set_attr(&mut e, "uid", self.uid.as_deref());
        set_attr(&mut e, "url", self.url.as_deref());
        set_attr(&mut e, "name", self.name.as_deref());
        set_attr(&mut e, "size", self.size);
        set_attr(&mut e, "content-type", self.content_type.as_deref());
        set_attr(&mut e, "width", self.width);
        set_attr(&mut e, "height", self.height);
        set_attr(&mut e, "duration", self.duration);
        set_attr(&mut e, "data", self.data.as_deref());
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AttachmentType;
    use minidom::Element;

    #[test]
    fn parses_the_documented_location_attachment() {
        let e: Element = r#"<attachment xmlns="jabber:client" type="location" data="{&quot;lat&quot;:50.01383403152402,&quot;lng&quot;:36.22868299484253}"></attachment>"#
            .parse()
            .unwrap();
        let a = Attachment::from(AttachmentElement::try_from(e).unwrap());
        assert_eq!(a.kind, AttachmentType::Other("location".into()));
        assert_eq!(
            a.data.as_deref(),
            Some(r#"{"lat":50.01383403152402,"lng":36.22868299484253}"#)
        );
    }

    #[test]
    fn a_bad_number_or_an_unknown_type_keeps_the_attachment() {
        let e: Element = r#"<attachment xmlns="jabber:client" type="sticker" width="wide" height="20" url="u"/>"#
            .parse()
            .unwrap();
        let a = Attachment::from(AttachmentElement::try_from(e).unwrap());
        assert_eq!(a.kind, AttachmentType::Other("sticker".into()));
        assert_eq!(
            (a.width, a.height, a.url.as_deref()),
            (None, Some(20), Some("u"))
        );
        let untyped: Element = r#"<attachment xmlns="jabber:client" id="7"/>"#.parse().unwrap();
        let a = Attachment::from(AttachmentElement::try_from(untyped).unwrap());
        assert_eq!((a.kind.as_str(), a.id.as_deref()), ("", Some("7")));
    }

    #[test]
    fn round_trips_every_attribute() {
        let mut a = Attachment::new("image")
            .with_id("123123")
            .with_url("https://x/y.png");
        a.uid = Some("u".into());
        a.name = Some("y.png".into());
        a.size = Some(10);
        a.content_type = Some("image/png".into());
        a.width = Some(640);
        a.height = Some(480);
        a.duration = Some(0);
        a.data = Some("<&'\">".into());
        let e = Element::from(AttachmentElement::from(&a));
        assert_eq!(a.to_element(), e, "direct and xso builds agree");
        assert_eq!(Attachment::from(AttachmentElement::try_from(e).unwrap()), a);
        let bare = Attachment::new("");
        assert_eq!(
            bare.to_element(),
            Element::from(AttachmentElement::from(&bare))
        );
    }
}
