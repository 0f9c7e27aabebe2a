//! `<extraParams xmlns='jabber:client'>`: ConnectyCube's bag of message parameters.
//!
//! Known children (`save_to_history`, `date_sent`, `dialog_id`, `silent`, `moduleIdentifier`,
//! `attachment`) are typed; every other child is a custom property, and a child with children of
//! its own is a nested object. On the wire every leaf is text, so custom values come back as
//! JSON strings; numbers and booleans are written as their text, arrays as repeated siblings.
//!
//! A known child whose value this SDK cannot read (a `dialog_id` that is no ObjectId, as the
//! official JS SDK sends for some dialogs, a `date_sent` that is no number) does not lose the
//! message: the typed field stays empty, the value is kept as sent among the custom properties
//! under the child's own name (so the stanza is rebuilt as it came), and a warning is logged.

use minidom::Element;
use xso::{AsXml, FromXml};

use super::attachment::AttachmentElement;
use super::{BuildError, ns};
use crate::ids::DialogId;
use crate::model::{Attachment, CustomProperties};

/// The wire form of `extraParams`, as the xso derive reads and writes it.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = ns::JABBER_CLIENT, name = "extraParams")]
pub struct ExtraParamsElement {
    /// `<save_to_history>`: `1` keeps the message in REST history.
    #[xml(extract(default, name = "save_to_history", fields(text(type_ = String))))]
    pub save_to_history: Option<String>,
    /// `<date_sent>`: Unix seconds.
    #[xml(extract(default, name = "date_sent", fields(text(type_ = String))))]
    pub date_sent: Option<String>,
    /// `<dialog_id>`: added by the server on delivery.
    #[xml(extract(default, name = "dialog_id", fields(text(type_ = String))))]
    pub dialog_id: Option<String>,
    /// `<silent>`: `1` suppresses push notifications.
    #[xml(extract(default, name = "silent", fields(text(type_ = String))))]
    pub silent: Option<String>,
    /// `<moduleIdentifier>`: `SystemNotifications` on system messages.
    #[xml(extract(default, name = "moduleIdentifier", fields(text(type_ = String))))]
    pub module_identifier: Option<String>,
    /// `<attachment/>`s, any number.
    #[xml(child(n = ..))]
    pub attachments: Vec<AttachmentElement>,
    /// Everything else: custom properties.
    #[xml(element(n = ..))]
    pub custom: Vec<Element>,
}

/// The `moduleIdentifier` of system messages.
pub const SYSTEM_NOTIFICATIONS: &str = "SystemNotifications";

/// `extraParams` as typed values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtraParams {
    /// Keep in REST history.
    pub save_to_history: Option<bool>,
    /// When the message was sent, in Unix seconds.
    pub date_sent: Option<i64>,
    /// The dialog.
    pub dialog_id: Option<DialogId>,
    /// No push notification for offline users.
    pub silent: Option<bool>,
    /// Which module the message is for (`SystemNotifications`).
    pub module_identifier: Option<String>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Custom properties.
    pub custom: CustomProperties,
}

/// A known `extraParams` child with a value this SDK cannot read. Reading keeps such values as
/// custom properties instead of failing; this type names them in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("extraParams <{field}> has a bad value `{value}`")]
pub struct BadParam {
    /// The child element.
    pub field: &'static str,
    /// Its text, cut to 64 characters.
    pub value: String,
}

fn bad(field: &'static str, value: &str) -> BadParam {
    BadParam {
        field,
        value: value.chars().take(64).collect(),
    }
}

fn flag(field: &'static str, v: Option<&str>) -> Result<Option<bool>, BadParam> {
    v.map(|s| match s.trim() {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        _ => Err(bad(field, s)),
    })
    .transpose()
}

fn dialog_id(v: Option<&str>) -> Result<Option<DialogId>, BadParam> {
    match v {
        Some(s) if !s.trim().is_empty() => {
            s.trim().parse().map(Some).map_err(|_| bad("dialog_id", s))
        }
        _ => Ok(None),
    }
}

/// Above this, a `date_sent` is in milliseconds: the Flutter guide sends milliseconds while the
/// server docs say seconds (the docs win on the wire); 1e11 seconds is the year 5138.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

fn date_sent(v: Option<&str>) -> Result<Option<i64>, BadParam> {
    let Some(s) = v else { return Ok(None) };
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let n = match t.parse::<i64>() {
        Ok(n) => n,
        // Some clients write fractional seconds; keep the whole seconds.
        Err(_) => match t.parse::<f64>() {
            Ok(f) if f.is_finite() && f.abs() < 1e17 => f.trunc() as i64,
            _ => return Err(bad("date_sent", s)),
        },
    };
    // `unsigned_abs`: a peer's i64::MIN has no `abs` (a panic in debug builds).
    let magnitude = n.unsigned_abs();
    if magnitude >= MILLIS_THRESHOLD.unsigned_abs() * 1000 {
        // Past the year 5138 even in milliseconds: no date, and no reading of it that writes
        // back to itself (a thousandth of it would read as milliseconds again). Kept raw.
        return Err(bad("date_sent", s));
    }
    Ok(Some(if magnitude >= MILLIS_THRESHOLD.unsigned_abs() {
        n / 1000
    } else {
        n
    }))
}

/// The texts of the known single children, however they were read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KnownTexts<'a> {
    pub save_to_history: Option<&'a str>,
    pub date_sent: Option<&'a str>,
    pub dialog_id: Option<&'a str>,
    pub silent: Option<&'a str>,
}

/// Typed `extraParams` from what the xso derive or the borrowed reader found: one conversion, so
/// both readers agree on every value. An unreadable known value becomes a custom property.
pub(crate) fn assemble<'c>(
    known: KnownTexts<'_>,
    module_identifier: Option<String>,
    attachments: Vec<Attachment>,
    custom: impl IntoIterator<Item = &'c Element>,
) -> ExtraParams {
    let mut props = CustomProperties::new();
    for child in custom {
        insert_property(&mut props, child.name(), element_to_value(child));
    }
    assemble_props(known, module_identifier, attachments, props)
}

/// As [`assemble`], with the custom properties already read (in document order, each through
/// [`insert_property`]): the event reader builds them without elements.
pub(crate) fn assemble_props(
    known: KnownTexts<'_>,
    module_identifier: Option<String>,
    attachments: Vec<Attachment>,
    mut props: CustomProperties,
) -> ExtraParams {
    let p = &mut props;
    let save_to_history = keep(
        p,
        "save_to_history",
        known.save_to_history,
        flag("save_to_history", known.save_to_history),
    );
    let date_sent = keep(p, "date_sent", known.date_sent, date_sent(known.date_sent));
    let dialog_id = keep(p, "dialog_id", known.dialog_id, dialog_id(known.dialog_id));
    let silent = keep(p, "silent", known.silent, flag("silent", known.silent));
    ExtraParams {
        save_to_history,
        date_sent,
        dialog_id,
        silent,
        module_identifier,
        attachments,
        custom: props,
    }
}

/// The typed value, or (for a value that does not read) `None` with the text kept in `props`.
fn keep<T>(
    props: &mut CustomProperties,
    field: &'static str,
    raw: Option<&str>,
    result: Result<Option<T>, BadParam>,
) -> Option<T> {
    result.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "kept an unreadable extraParams value as a custom property");
        let raw = raw.unwrap_or_default().to_owned();
        insert_property(props, field, serde_json::Value::String(raw));
        None
    })
}

impl TryFrom<ExtraParamsElement> for ExtraParams {
    type Error = BadParam;

    fn try_from(e: ExtraParamsElement) -> Result<Self, BadParam> {
        let known = KnownTexts {
            save_to_history: e.save_to_history.as_deref(),
            date_sent: e.date_sent.as_deref(),
            dialog_id: e.dialog_id.as_deref(),
            silent: e.silent.as_deref(),
        };
        let attachments = e.attachments.into_iter().map(Attachment::from).collect();
        Ok(assemble(known, e.module_identifier, attachments, &e.custom))
    }
}

impl ExtraParams {
    /// Parses an `extraParams` element.
    ///
    /// # Errors
    /// [`super::ParseError`] when the element is not `extraParams` or has a shape xso refuses
    /// (a repeated known child, text in the wrong place); unreadable values are not errors.
    pub fn from_element(e: Element) -> Result<Self, super::ParseError> {
        Ok(Self::try_from(ExtraParamsElement::try_from(e)?)?)
    }

    /// Whether nothing is set (then the element is left out of a stanza).
    pub fn is_empty(&self) -> bool {
        self.borrowed().is_empty()
    }

    /// The wire form.
    ///
    /// # Errors
    /// [`BuildError`] when a custom property name is not an XML name or a value holds characters
    /// XML cannot carry.
    pub fn to_element(&self) -> Result<Element, BuildError> {
        self.borrowed().to_element()
    }

    pub(crate) fn borrowed(&self) -> ExtraRef<'_> {
        ExtraRef {
            save_to_history: self.save_to_history,
            date_sent: self.date_sent,
            dialog_id: self.dialog_id,
            silent: self.silent,
            module_identifier: self.module_identifier.as_deref(),
            attachments: &self.attachments,
            custom: &self.custom,
        }
    }
}

/// [`ExtraParams`] borrowed from elsewhere (a [`crate::model::Message`]), to build without copies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExtraRef<'a> {
    pub save_to_history: Option<bool>,
    pub date_sent: Option<i64>,
    pub dialog_id: Option<DialogId>,
    pub silent: Option<bool>,
    pub module_identifier: Option<&'a str>,
    pub attachments: &'a [Attachment],
    pub custom: &'a CustomProperties,
}

fn bool_text(b: bool) -> String {
    if b { "1" } else { "0" }.to_owned()
}

impl<'a> ExtraRef<'a> {
    pub(crate) fn is_empty(self) -> bool {
        self.save_to_history.is_none()
            && self.date_sent.is_none()
            && self.dialog_id.is_none()
            && self.silent.is_none()
            && self.module_identifier.is_none()
            && self.attachments.is_empty()
            && self.custom.is_empty()
    }

    /// The element, built directly: the same tree as [`ExtraParamsElement`] gives via xso.
    pub(crate) fn to_element(self) -> Result<Element, BuildError> {
        let custom = self.custom_elements()?;
        let module = self.checked_module()?;
        let mut e = Element::bare("extraParams", ns::JABBER_CLIENT);
        let known = [
            ("save_to_history", self.save_to_history.map(bool_text)),
            ("date_sent", self.date_sent.map(|n| n.to_string())),
            ("dialog_id", self.dialog_id.map(|d| d.to_string())),
            ("silent", self.silent.map(bool_text)),
            ("moduleIdentifier", module.map(str::to_owned)),
        ];
        for (name, text) in known {
            if let Some(text) = text {
                e.append_child(super::tree::leaf(name, ns::JABBER_CLIENT, text));
            }
        }
        for a in self.attachments {
            e.append_child(a.to_element());
        }
        for c in custom {
            e.append_child(c);
        }
        Ok(e)
    }

    fn checked_module(self) -> Result<Option<&'a str>, BuildError> {
        if let Some(m) = self.module_identifier {
            super::check_text("moduleIdentifier", m)?;
        }
        Ok(self.module_identifier)
    }

    fn custom_elements(self) -> Result<Vec<Element>, BuildError> {
        let mut custom = Vec::with_capacity(self.custom.len());
        for (k, v) in self.custom {
            value_to_elements(k, v, 0, &mut custom)?;
        }
        Ok(custom)
    }

    /// The element via the xso derive: the reference [`Self::to_element`] is tested against.
    #[cfg(test)]
    pub(crate) fn to_element_by_schema(self) -> Result<Element, BuildError> {
        let bool_text = |b: Option<bool>| b.map(bool_text);
        let custom = self.custom_elements()?;
        self.checked_module()?;
        Ok(Element::from(ExtraParamsElement {
            save_to_history: bool_text(self.save_to_history),
            date_sent: self.date_sent.map(|n| n.to_string()),
            dialog_id: self.dialog_id.map(|d| d.to_string()),
            silent: bool_text(self.silent),
            module_identifier: self.module_identifier.map(str::to_owned),
            attachments: self
                .attachments
                .iter()
                .map(AttachmentElement::from)
                .collect(),
            custom,
        }))
    }
}

/// Repeated names become an array, as [`value_to_elements`] writes arrays.
pub(crate) fn insert_property(map: &mut CustomProperties, key: &str, value: serde_json::Value) {
    use serde_json::Value;
    match map.get_mut(key) {
        None => {
            map.insert(key.to_owned(), value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

fn element_to_value(e: &Element) -> serde_json::Value {
    if e.children().next().is_none() {
        return serde_json::Value::String(e.text());
    }
    let mut map = CustomProperties::new();
    for child in e.children() {
        insert_property(&mut map, child.name(), element_to_value(child));
    }
    serde_json::Value::Object(map)
}

/// The deepest custom property written (a nested object or array is one level): a value the
/// app built may nest without end, and writing recurses once per level.
pub(crate) const MAX_PROPERTY_DEPTH: usize = 64;

fn value_to_elements(
    key: &str,
    value: &serde_json::Value,
    depth: usize,
    out: &mut Vec<Element>,
) -> Result<(), BuildError> {
    use serde_json::Value;
    if <&xso::exports::rxml::NcNameStr>::try_from(key).is_err() {
        return Err(BuildError::PropertyName(key.chars().take(64).collect()));
    }
    if depth > MAX_PROPERTY_DEPTH {
        return Err(BuildError::TooDeep(key.chars().take(64).collect()));
    }
    let mut e = Element::bare(key, ns::JABBER_CLIENT);
    match value {
        Value::Null => {}
        Value::String(s) => {
            super::check_text(key, s)?;
            e.append_text(s.as_str());
        }
        Value::Bool(b) => e.append_text(b.to_string()),
        Value::Number(n) => e.append_text(n.to_string()),
        Value::Array(items) => {
            for item in items {
                value_to_elements(key, item, depth + 1, out)?;
            }
            return Ok(());
        }
        Value::Object(map) => {
            let mut children = Vec::with_capacity(map.len());
            for (k, v) in map {
                value_to_elements(k, v, depth + 1, &mut children)?;
            }
            for c in children {
                e.append_child(c);
            }
        }
    }
    out.push(e);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(xml: &str) -> ExtraParams {
        ExtraParams::from_element(xml.parse().unwrap()).unwrap()
    }

    #[test]
    fn reads_known_and_custom_children() {
        let p = parse(
            "<extraParams xmlns='jabber:client'><save_to_history>1</save_to_history>\
             <date_sent>1409146118</date_sent><dialog_id>54789d40535c12b1a5001172</dialog_id>\
             <silent>0</silent><attachment type='image' id='1'/><attachment type='video'/>\
             <country>USA</country><meta><a><b>1</b></a><c/></meta></extraParams>",
        );
        assert_eq!(p.save_to_history, Some(true));
        assert_eq!(p.silent, Some(false));
        assert_eq!(p.date_sent, Some(1409146118));
        assert_eq!(p.attachments.len(), 2);
        assert_eq!(
            serde_json::Value::Object(p.custom.clone()),
            json!({"country": "USA", "meta": {"a": {"b": "1"}, "c": ""}})
        );
        assert_eq!(
            ExtraParams::from_element(p.to_element().unwrap()).unwrap(),
            p
        );
    }

    #[test]
    fn direct_build_equals_the_xso_build() {
        let mut p = parse(
            "<extraParams xmlns='jabber:client'><save_to_history>1</save_to_history>\
             <date_sent>1409146118</date_sent><dialog_id>54789d40535c12b1a5001172</dialog_id>\
             <silent>0</silent><moduleIdentifier></moduleIdentifier>\
             <attachment type='image' id='1' size='5' data='&lt;x'/><attachment type=''/>\
             <country>USA</country><meta><a><b>1</b></a><c/></meta></extraParams>",
        );
        p.custom.insert("tags".into(), json!(["a", "", {"k": "v"}]));
        p.custom.insert("none".into(), serde_json::Value::Null);
        p.custom.insert("n".into(), json!(1.5));
        for q in [p, ExtraParams::default()] {
            let r = q.borrowed();
            assert_eq!(
                r.to_element().unwrap(),
                r.to_element_by_schema().unwrap(),
                "{q:?}"
            );
        }
    }

    #[test]
    fn milliseconds_become_seconds() {
        let p = parse(
            "<extraParams xmlns='jabber:client'><date_sent>1409146118123</date_sent></extraParams>",
        );
        assert_eq!(p.date_sent, Some(1409146118));
    }

    #[test]
    fn the_most_negative_date_does_not_panic() {
        let p = parse(
            "<extraParams xmlns='jabber:client'><date_sent>-9223372036854775808</date_sent></extraParams>",
        );
        assert_eq!(p.date_sent, None, "no date: kept raw");
        assert_eq!(p.custom["date_sent"], "-9223372036854775808");
    }

    /// Found by the fuzz target: a value a thousandth of which still reads as milliseconds
    /// changed on every round trip. Such a value is no date and is kept raw, which writes back
    /// to itself.
    #[test]
    fn a_date_beyond_milliseconds_is_kept_raw_and_round_trips() {
        for raw in ["150914611809146118", "100000000000000", "-100000000000000"] {
            let xml = format!(
                "<extraParams xmlns='jabber:client'><date_sent>{raw}</date_sent></extraParams>"
            );
            let p = parse(&xml);
            assert_eq!((p.date_sent, &p.custom["date_sent"]), (None, &json!(raw)));
            assert_eq!(parse(&String::from(&p.to_element().unwrap())), p);
        }
        let ms = parse(
            "<extraParams xmlns='jabber:client'><date_sent>99999999999999</date_sent></extraParams>",
        );
        assert_eq!(ms.date_sent, Some(99_999_999_999));
        assert_eq!(parse(&String::from(&ms.to_element().unwrap())), ms);
    }

    #[test]
    fn bad_known_values_are_kept_raw_as_custom_properties() {
        for (field, value) in [
            ("date_sent", "yesterday"),
            ("dialog_id", "nope"),
            ("dialog_id", "chat_1001_1002"),
            ("silent", "maybe"),
            ("save_to_history", "often"),
        ] {
            let xml = format!(
                "<extraParams xmlns='jabber:client'><{field}>{value}</{field}><country>USA</country></extraParams>"
            );
            let p = parse(&xml);
            assert_eq!(p.custom[field], json!(value), "{xml}");
            assert_eq!(p.custom["country"], json!("USA"), "{xml}");
            assert!(
                p.dialog_id.is_none() && p.date_sent.is_none() && p.silent.is_none(),
                "{p:?}"
            );
            // Written back as it came, it reads back the same.
            assert_eq!(parse(&String::from(&p.to_element().unwrap())), p);
        }
    }

    #[test]
    fn arrays_are_repeated_siblings_and_numbers_text() {
        let mut p = ExtraParams::default();
        p.custom.insert("tag".into(), json!(["a", "b"]));
        p.custom.insert("n".into(), json!(5));
        let back = ExtraParams::from_element(p.to_element().unwrap()).unwrap();
        assert_eq!(back.custom["tag"], json!(["a", "b"]));
        assert_eq!(back.custom["n"], json!("5"));
    }

    #[test]
    fn bad_property_names_are_build_errors() {
        let mut p = ExtraParams::default();
        p.custom.insert("has space".into(), json!("x"));
        assert!(matches!(p.to_element(), Err(BuildError::PropertyName(_))));
        let mut p = ExtraParams::default();
        p.custom.insert("ok".into(), json!("nul\u{0}"));
        assert!(matches!(p.to_element(), Err(BuildError::Text { .. })));
    }
}
