//! The API writes some numbers as strings (`"size": "1024"`, `"recipient_id": "4377"`); accept both.

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    Num(u64),
    Float(f64),
    Str(String),
}

/// An optional non-negative number written as a number, a numeric string, null or "".
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(Some(n)),
        Some(NumOrStr::Float(f)) if f >= 0.0 && f.fract() == 0.0 => Ok(Some(f as u64)),
        Some(NumOrStr::Float(f)) => Err(serde::de::Error::custom(format!(
            "expected a whole number, got {f}"
        ))),
        Some(NumOrStr::Str(s)) if s.is_empty() => Ok(None),
        Some(NumOrStr::Str(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got `{s}`"))),
    }
}

/// An optional string written as a string or a number (`"id": 3004`).
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<NumOrStr>::deserialize(d)? {
        None => None,
        Some(NumOrStr::Num(n)) => Some(n.to_string()),
        Some(NumOrStr::Float(f)) => Some(f.to_string()),
        Some(NumOrStr::Str(s)) => Some(s),
    })
}

/// A list that the API may send as `null`.
pub(crate) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}
