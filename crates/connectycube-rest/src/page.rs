//! The page shape of the older list endpoints (users v1, files): numbered pages whose items
//! each come wrapped in an object named after their kind (`{"user": {...}}`, `{"blob": {...}}`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// A numbered page; the items arrive wrapped and are unwrapped here.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct NumberedPage<T> {
    /// The page number, from 1.
    #[serde(default)]
    pub current_page: Option<u64>,
    /// The page size the server applied.
    #[serde(default)]
    pub per_page: Option<u64>,
    /// How many records there are, over all pages.
    #[serde(default)]
    pub total_entries: Option<u64>,
    /// The records of this page.
    #[serde(default = "Vec::new", deserialize_with = "unwrap_items")]
    pub items: Vec<T>,
}

/// Each item is a one-key object whose key names the kind; the kind is known from the
/// endpoint, so only the value is kept.
fn unwrap_items<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let wrapped = Option::<Vec<BTreeMap<String, T>>>::deserialize(d)?.unwrap_or_default();
    Ok(wrapped
        .into_iter()
        .flat_map(BTreeMap::into_values)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_items_are_unwrapped_and_null_is_empty() {
        let page: NumberedPage<u32> = serde_json::from_str(
            r#"{"current_page":2,"per_page":10,"total_entries":12,"items":[{"n":1},{"n":2}]}"#,
        )
        .unwrap();
        assert_eq!((page.current_page, page.items), (Some(2), vec![1, 2]));
        let empty: NumberedPage<u32> = serde_json::from_str(r#"{"items":null}"#).unwrap();
        assert!(empty.items.is_empty());
        assert!(serde_json::from_str::<NumberedPage<u32>>(r#"{"items":[{"n":"x"}]}"#).is_err());
    }
}
