//! Query strings as the ConnectyCube API reads them: bracketed operator keys
//! (`updated_at[gt]=…`), comma-joined lists (`type[in]=2,3`), everything else percent-encoded.

use std::fmt::{self, Display, Write};

/// A search operator of the REST filters (`field[op]=value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilterOp {
    /// `lt`: less than.
    Lt,
    /// `lte`: less than or equal.
    Lte,
    /// `gt`: greater than.
    Gt,
    /// `gte`: greater than or equal.
    Gte,
    /// `ne`: not equal.
    Ne,
    /// `in`: one of a list.
    In,
    /// `nin`: none of a list.
    Nin,
    /// `all`: contains all of a list.
    All,
    /// `ctn`: contains a substring.
    Ctn,
    /// `start_with`: starts with a prefix (user lists).
    StartWith,
}

impl FilterOp {
    /// The operator as written inside the brackets.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Ne => "ne",
            Self::In => "in",
            Self::Nin => "nin",
            Self::All => "all",
            Self::Ctn => "ctn",
            Self::StartWith => "start_with",
        }
    }

    /// Whether the operator takes a list of values.
    pub fn takes_list(self) -> bool {
        matches!(self, Self::In | Self::Nin | Self::All)
    }
}

/// An ordered list of query parameters, already in the API's key shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`.
    pub fn push(&mut self, key: impl Into<String>, value: impl Display) -> &mut Self {
        self.pairs.push((key.into(), value.to_string()));
        self
    }

    /// Adds `key=value` when `value` is set.
    pub fn push_opt<V: Display>(&mut self, key: &str, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.push(key, v);
        }
        self
    }

    /// Adds `key=a,b,c`; each item is encoded apart, so a comma inside an item stays escaped.
    pub fn push_list<I, V>(&mut self, key: impl Into<String>, values: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        let joined = values
            .into_iter()
            .map(|v| encode(&v.to_string(), b""))
            .collect::<Vec<_>>()
            .join(",");
        self.pairs.push((key.into(), RAW_MARK.to_owned() + &joined));
        self
    }

    /// Adds `key=a&key=b&...`: one pair per value, the array form (`id[in][]=1&id[in][]=2`)
    /// that the users API reads.
    pub fn push_each<I, V>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        for v in values {
            self.push(key, v);
        }
        self
    }

    /// Adds `field[op]=value`.
    pub fn filter(&mut self, field: &str, op: FilterOp, value: impl Display) -> &mut Self {
        self.push(format!("{field}[{}]", op.as_str()), value)
    }

    /// Adds `field[op]=a,b,c` for the list operators.
    pub fn filter_list<I, V>(&mut self, field: &str, op: FilterOp, values: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        self.push_list(format!("{field}[{}]", op.as_str()), values)
    }

    /// The parameters as (key, decoded value) pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, String)> {
        self.pairs
            .iter()
            .map(|(k, v)| match v.strip_prefix(RAW_MARK) {
                Some(raw) => (k.as_str(), decode_list(raw)),
                None => (k.as_str(), v.clone()),
            })
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The encoded query string, without the leading `?`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(&encode(k, b"[]"));
            out.push('=');
            match v.strip_prefix(RAW_MARK) {
                Some(raw) => out.push_str(raw),
                None => out.push_str(&encode(v, b"")),
            }
        }
        out
    }
}

/// Marks a value that is already encoded (a joined list). NUL never occurs in a real value.
const RAW_MARK: &str = "\0";

fn decode_list(raw: &str) -> String {
    raw.split(',')
        .map(percent_decode)
        .collect::<Vec<_>>()
        .join(",")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes one path parameter (a file UID, a comma-joined list of ids): RFC 3986's
/// unreserved characters and the comma (a sub-delimiter, legal in a segment) stay as they are.
pub(crate) fn encode_path_param(s: &str) -> String {
    encode(s, b",")
}

/// Percent-encodes all but RFC 3986's unreserved characters and the bytes in `also`.
fn encode(s: &str, also: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || also.contains(&b);
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_stay_lists_join_and_reserved_characters_escape() {
        let mut q = Query::new();
        q.filter_list("type", FilterOp::In, [2, 3])
            .filter("updated_at", FilterOp::Gt, 1544452627)
            .push("search_text", "a&b=c d,é")
            .push_list("chat_dialog_ids", ["x,y", "z"]);
        assert_eq!(
            q.encode(),
            "type[in]=2,3&updated_at[gt]=1544452627&search_text=a%26b%3Dc%20d%2C%C3%A9\
             &chat_dialog_ids=x%2Cy,z"
        );
    }

    #[test]
    fn array_keys_repeat_one_value_each() {
        let mut q = Query::new();
        q.push_each("id[in][]", [52671, 51943])
            .filter("full_name", FilterOp::StartWith, "hunter");
        assert_eq!(
            q.encode(),
            "id[in][]=52671&id[in][]=51943&full_name[start_with]=hunter"
        );
    }

    #[test]
    fn pairs_give_decoded_values() {
        let mut q = Query::new();
        q.push_list("ids", ["a b", "c"]).push("limit", 10);
        let pairs: Vec<_> = q.pairs().collect();
        assert_eq!(
            pairs,
            vec![("ids", "a b,c".to_owned()), ("limit", "10".to_owned())]
        );
    }
}
