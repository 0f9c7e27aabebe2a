//! The documented list operators over JSON records: `field=v`, `field[op]=v` with lt, lte,
//! gt, gte, ne, in, nin, all, ctn; `sort_asc` / `sort_desc`; `limit` and `skip`.
//!
//! Filters run over the answer's JSON, so a field filters exactly as the client reads it:
//! `extensions[location]` and `attachments.type` are paths into it; a list field matches
//! when one of its items does.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

use super::ApiError;

const OPS: &[&str] = &[
    "lt",
    "lte",
    "gt",
    "gte",
    "ne",
    "in",
    "nin",
    "all",
    "ctn",
    "or",
    "start_with",
];

/// One filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    path: Vec<String>,
    op: String,
    value: String,
}

/// Filters, sort and page of a list request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListQuery {
    filters: Vec<Filter>,
    sort: Option<(Vec<String>, bool)>,
    /// The page size.
    pub limit: usize,
    /// How many to skip.
    pub skip: usize,
}

/// `extensions[location]` → `["extensions", "location"]`; `attachments.type` → two too.
fn field_path(field: &str) -> Vec<String> {
    field
        .replace(']', "")
        .split(['[', '.'])
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ListQuery {
    /// Reads `query`, skipping the `reserved` keys (they are not field filters); `limit`
    /// defaults to `default_limit` and is capped at `max_limit`.
    pub(crate) fn parse(
        query: &BTreeMap<String, String>,
        reserved: &[&str],
        default_limit: usize,
        max_limit: usize,
    ) -> Result<Self, ApiError> {
        let num = |k: &str, d: usize| -> Result<usize, ApiError> {
            match query.get(k) {
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| ApiError::invalid(k, "is not a number")),
                None => Ok(d),
            }
        };
        let mut filters = Vec::new();
        for (key, value) in query {
            let key = key.strip_suffix("[]").unwrap_or(key);
            if ["limit", "skip", "offset", "sort_asc", "sort_desc", "count"].contains(&key)
                || reserved.contains(&key)
            {
                continue;
            }
            let (field, op) = match key.rsplit_once('[') {
                Some((f, rest)) if OPS.contains(&rest.trim_end_matches(']')) => {
                    (f, rest.trim_end_matches(']'))
                }
                _ => (key, "eq"),
            };
            filters.push(Filter {
                path: field_path(field),
                op: op.to_owned(),
                value: value.clone(),
            });
        }
        let sort = match (query.get("sort_asc"), query.get("sort_desc")) {
            (_, Some(f)) => Some((field_path(f), true)),
            (Some(f), None) => Some((field_path(f), false)),
            (None, None) => None,
        };
        Ok(Self {
            filters,
            sort,
            limit: num("limit", default_limit)?.min(max_limit),
            skip: num("skip", num("offset", 0)?)?,
        })
    }

    /// No page size when `on` (a test's [`super::RestFault::IgnoreLimit`]): every match
    /// after `skip`.
    pub(crate) fn unlimited(mut self, on: bool) -> Self {
        if on {
            self.limit = usize::MAX;
        }
        self
    }

    /// The filters' fields and operators (`("id", "in")`), for endpoints that require some.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (String, &str)> {
        self.filters
            .iter()
            .map(|f| (f.path.join("."), f.op.as_str()))
    }

    /// Whether a sort was asked for.
    pub(crate) fn has_sort(&self) -> bool {
        self.sort.is_some()
    }

    /// The same request as a page SQL can read (`date_sent` bounds and sort only), or
    /// `None` when another filter or sort needs the records in memory.
    pub(crate) fn history_page(&self) -> Option<crate::store::PageQuery> {
        let date = ["date_sent".to_owned()];
        let mut q = crate::store::PageQuery {
            skip: self.skip,
            limit: self.limit,
            ..crate::store::PageQuery::default()
        };
        match &self.sort {
            None => {}
            Some((path, desc)) if path[..] == date => q.newest_first = *desc,
            Some(_) => return None,
        }
        for f in &self.filters {
            if f.path[..] != date {
                return None;
            }
            let v: i64 = f.value.trim().parse().ok()?;
            // Whole seconds: `lt x` is `lte x-1`, `gt x` is `gte x+1`.
            let (from, to) = match f.op.as_str() {
                "gt" => (Some(v.saturating_add(1)), None),
                "gte" => (Some(v), None),
                "lt" => (None, Some(v.saturating_sub(1))),
                "lte" => (None, Some(v)),
                _ => return None,
            };
            if let Some(from) = from {
                q.from = Some(q.from.map_or(from, |old| old.max(from)));
            }
            if let Some(to) = to {
                q.to = Some(q.to.map_or(to, |old| old.min(to)));
            }
        }
        Some(q)
    }

    /// Keeps the records every filter matches, sorted as asked; answers how many matched
    /// (before paging) and the page.
    pub(crate) fn apply(&self, mut items: Vec<Value>) -> (usize, Vec<Value>) {
        items.retain(|v| self.filters.iter().all(|f| f.matches(v)));
        if let Some((path, desc)) = &self.sort {
            // Records come oldest first; a descending sort keeps ties newest first, as the
            // SQL page of a history does (`date_sent DESC, id DESC`).
            if *desc {
                items.reverse();
            }
            items.sort_by(|a, b| {
                let o = cmp_values(first(a, path), first(b, path));
                if *desc { o.reverse() } else { o }
            });
        }
        let total = items.len();
        let page = items.into_iter().skip(self.skip).take(self.limit).collect();
        (total, page)
    }
}

/// Every value at `path`, lists flattened.
fn values_at<'a>(v: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let Some((head, rest)) = path.split_first() else {
        return match v {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
    };
    match v {
        Value::Object(m) => m.get(head).map(|x| values_at(x, rest)).unwrap_or_default(),
        Value::Array(items) => items.iter().flat_map(|x| values_at(x, path)).collect(),
        _ => Vec::new(),
    }
}

fn first<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    values_at(v, path).into_iter().next()
}

fn cmp_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// An ISO time (`2018-12-06T09:21:41Z`) as unix seconds.
fn iso_seconds(s: &str) -> Option<f64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp() as f64)
}

/// How a stored value compares with a filter's text: numbers as numbers, times as times
/// (unix seconds or ISO on either side), the rest as text.
fn compare(v: &Value, s: &str) -> Option<Ordering> {
    let num = s.trim().parse::<f64>().ok().or_else(|| iso_seconds(s));
    match v {
        Value::Number(n) => n.as_f64()?.partial_cmp(&num?),
        Value::String(t) => match (iso_seconds(t), num) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => Some(t.as_str().cmp(s)),
        },
        Value::Bool(b) => Some(b.cmp(&(s == "1" || s.eq_ignore_ascii_case("true")))),
        _ => None,
    }
}

impl Filter {
    fn matches(&self, record: &Value) -> bool {
        let vals = values_at(record, &self.path);
        let eq = |v: &Value, s: &str| compare(v, s) == Some(Ordering::Equal);
        let list: Vec<&str> = self.value.split(',').map(str::trim).collect();
        let any = |f: &dyn Fn(&Value) -> bool| vals.iter().any(|v| f(v));
        match self.op.as_str() {
            "eq" => any(&|v| eq(v, &self.value)),
            "ne" => !any(&|v| eq(v, &self.value)),
            "lt" => any(&|v| compare(v, &self.value) == Some(Ordering::Less)),
            "lte" => any(&|v| compare(v, &self.value).is_some_and(|o| o != Ordering::Greater)),
            "gt" => any(&|v| compare(v, &self.value) == Some(Ordering::Greater)),
            "gte" => any(&|v| compare(v, &self.value).is_some_and(|o| o != Ordering::Less)),
            "in" | "or" => any(&|v| list.iter().any(|s| eq(v, s))),
            "nin" => !any(&|v| list.iter().any(|s| eq(v, s))),
            "all" => list.iter().all(|s| vals.iter().any(|v| eq(v, s))),
            "ctn" => any(&|v| v.as_str().is_some_and(|t| t.contains(self.value.as_str()))),
            "start_with" => any(&|v| {
                v.as_str()
                    .is_some_and(|t| t.starts_with(self.value.as_str()))
            }),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(pairs: &[(&str, &str)]) -> ListQuery {
        let m = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ListQuery::parse(&m, &["chat_dialog_id"], 100, 100).unwrap()
    }

    fn items() -> Vec<Value> {
        vec![
            json!({"id": 1, "name": "alpha", "t": "2018-12-06T09:21:41Z", "ext": {"k": "x"}, "occ": [1, 2], "att": [{"type": "image"}]}),
            json!({"id": 2, "name": "beta", "t": "2019-12-06T09:21:41Z", "ext": null, "occ": [2, 3], "att": []}),
            json!({"id": 3, "name": "gamma", "t": "2020-12-06T09:21:41Z", "occ": [3], "att": [{"type": "video"}]}),
        ]
    }

    fn ids(q: &ListQuery) -> Vec<u64> {
        q.apply(items())
            .1
            .iter()
            .map(|v| v["id"].as_u64().unwrap())
            .collect()
    }

    #[test]
    fn operators_filter_numbers_texts_times_and_lists() {
        assert_eq!(ids(&q(&[("id[gt]", "1")])), vec![2, 3]);
        assert_eq!(ids(&q(&[("id[lte]", "2")])), vec![1, 2]);
        assert_eq!(ids(&q(&[("id[in][]", "1,3")])), vec![1, 3]);
        assert_eq!(ids(&q(&[("id[nin]", "1,3")])), vec![2]);
        assert_eq!(ids(&q(&[("name[ctn]", "amm")])), vec![3]);
        assert_eq!(ids(&q(&[("name[ne]", "beta")])), vec![1, 3]);
        assert_eq!(ids(&q(&[("t[gt]", "2019-01-01T00:00:00Z")])), vec![2, 3]);
        assert_eq!(ids(&q(&[("t[lt]", "1546300800")])), vec![1]);
        assert_eq!(ids(&q(&[("ext[k]", "x")])), vec![1]);
        assert_eq!(ids(&q(&[("occ", "2")])), vec![1, 2]);
        assert_eq!(ids(&q(&[("occ[all]", "2,3")])), vec![2]);
        assert_eq!(ids(&q(&[("att.type", "video")])), vec![3]);
        assert_eq!(ids(&q(&[("chat_dialog_id", "ignored")])), vec![1, 2, 3]);
    }

    #[test]
    fn sort_limit_and_skip() {
        assert_eq!(ids(&q(&[("sort_desc", "id")])), vec![3, 2, 1]);
        assert_eq!(ids(&q(&[("sort_asc", "name"), ("limit", "2")])), vec![1, 2]);
        assert_eq!(ids(&q(&[("skip", "1"), ("limit", "1")])), vec![2]);
        let (total, page) = q(&[("limit", "1")]).apply(items());
        assert_eq!((total, page.len()), (3, 1));
    }

    #[test]
    fn date_bounds_and_date_sorts_become_a_sql_page_and_nothing_else_does() {
        let page = q(&[
            ("date_sent[gt]", "10"),
            ("date_sent[lte]", "20"),
            ("sort_desc", "date_sent"),
            ("limit", "5"),
            ("skip", "2"),
        ])
        .history_page()
        .unwrap();
        assert_eq!(
            (page.from, page.to, page.newest_first),
            (Some(11), Some(20), true)
        );
        assert_eq!((page.skip, page.limit), (2, 5));
        assert!(q(&[("sender_id", "3")]).history_page().is_none());
        assert!(q(&[("sort_asc", "message")]).history_page().is_none());
        assert!(q(&[("date_sent[ne]", "3")]).history_page().is_none());
    }

    #[test]
    fn a_bad_limit_is_a_422() {
        let m = [("limit".to_owned(), "x".to_owned())].into_iter().collect();
        let e = ListQuery::parse(&m, &[], 100, 100).unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
    }
}
