//! `GET /users`, the deprecated v1 list: its own filter syntax
//! (`filter[]={type} {field} {operator} {value}`) and sorter (`order={asc|desc} {type} {field}`).
//! Apps must turn it on in the admin panel; [`super::ListUsers`] (`/users/v2`) replaces it.

use std::fmt::{self, Display};

use super::UserPage;
use crate::endpoint::Endpoint;
use crate::query::Query;
use crate::route::Metadata;

/// The type a v1 filter or sorter compares a field as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueType {
    /// `number`
    Number,
    /// `string`
    String,
    /// `date` (`yyyy-mm-dd` or `yyyy.mm.dd`)
    Date,
    /// `integer` (the docs' sorter example uses it)
    Integer,
}

impl ValueType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::String => "string",
            Self::Date => "date",
            Self::Integer => "integer",
        }
    }
}

/// A v1 filter operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum V1Op {
    /// `gt`
    Gt,
    /// `lt`
    Lt,
    /// `ge`
    Ge,
    /// `le`
    Le,
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `between`: two values, comma-separated.
    Between,
    /// `in`: values, comma-separated.
    In,
}

impl V1Op {
    fn as_str(self) -> &'static str {
        match self {
            Self::Gt => "gt",
            Self::Lt => "lt",
            Self::Ge => "ge",
            Self::Le => "le",
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Between => "between",
            Self::In => "in",
        }
    }
}

/// One `filter[]` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
struct V1Filter {
    kind: ValueType,
    field: String,
    op: V1Op,
    value: String,
}

impl Display for V1Filter {
    // The docs write the parts joined by `+`, form encoding for spaces: spaces it is, and the
    // query encoder escapes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, op) = (self.kind.as_str(), self.op.as_str());
        write!(f, "{kind} {} {op} {}", self.field, self.value)
    }
}

/// `GET /users` (deprecated): users by v1 filters, a page at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUsersV1 {
    filters: Vec<V1Filter>,
    order: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

impl ListUsersV1 {
    /// Every user (10 a page).
    pub fn new() -> Self {
        Self::default()
    }

    /// `filter[]={kind} {field} {op} {value}` (any field but `custom_data`).
    pub fn filter(mut self, kind: ValueType, field: &str, op: V1Op, value: impl Display) -> Self {
        self.filters.push(V1Filter {
            kind,
            field: field.to_owned(),
            op,
            value: value.to_string(),
        });
        self
    }

    /// `filter[]=… in a,b` or `… between a,b`.
    pub fn filter_list<I, V>(self, kind: ValueType, field: &str, op: V1Op, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        let joined: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
        self.filter(kind, field, op, joined.join(","))
    }

    /// `order=asc {kind} {field}`.
    pub fn order_asc(mut self, kind: ValueType, field: &str) -> Self {
        self.order = Some(format!("asc {} {field}", kind.as_str()));
        self
    }

    /// `order=desc {kind} {field}`.
    pub fn order_desc(mut self, kind: ValueType, field: &str) -> Self {
        self.order = Some(format!("desc {} {field}", kind.as_str()));
        self
    }

    /// The page number, from 1.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Page size (default 10, at most 100).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }
}

impl Endpoint for ListUsersV1 {
    type Response = UserPage;
    const METADATA: Metadata = Metadata::get("ListUsersV1", "/users");
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push_each("filter[]", &self.filters)
            .push_opt("order", self.order.as_deref())
            .push_opt("page", self.page)
            .push_opt("per_page", self.per_page);
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_order_take_the_documented_shape() {
        let e = ListUsersV1::new()
            .filter(ValueType::Number, "id", V1Op::Gt, 51946)
            .filter_list(ValueType::Number, "id", V1Op::In, [51943, 51946])
            .order_desc(ValueType::String, "full_name")
            .per_page(7);
        assert_eq!(
            e.query().encode(),
            "filter[]=number%20id%20gt%2051946&filter[]=number%20id%20in%2051943%2C51946\
             &order=desc%20string%20full_name&per_page=7"
        );
    }
}
