//! Search filters shared by dialog and message lists: `field=value`, `field[op]=value`,
//! `field[op]=a,b` and the `sort_asc`/`sort_desc` sorter.

use std::fmt::Display;

use crate::query::{FilterOp, Query};

/// One condition on a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    field: String,
    op: Option<FilterOp>,
    value: FilterValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FilterValue {
    One(String),
    Many(Vec<String>),
}

impl Filter {
    /// `field=value`: exact match.
    pub(crate) fn eq(field: impl Into<String>, value: impl Display) -> Self {
        Self {
            field: field.into(),
            op: None,
            value: FilterValue::One(value.to_string()),
        }
    }

    /// `field[op]=value` for a one-value operator (`lt`, `gte`, `ne`, `ctn`...).
    pub(crate) fn op(field: impl Into<String>, op: FilterOp, value: impl Display) -> Self {
        Self {
            field: field.into(),
            op: Some(op),
            value: FilterValue::One(value.to_string()),
        }
    }

    /// `field[op]=a,b,c` for the list operators (`in`, `nin`, `all`).
    pub(crate) fn list<I, V>(field: impl Into<String>, op: FilterOp, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        Self {
            field: field.into(),
            op: Some(op),
            value: FilterValue::Many(values.into_iter().map(|v| v.to_string()).collect()),
        }
    }

    /// Adds the condition to `query`.
    pub(crate) fn write(&self, query: &mut Query) {
        match (&self.op, &self.value) {
            (None, FilterValue::One(v)) => {
                query.push(self.field.clone(), v);
            }
            (None, FilterValue::Many(vs)) => {
                query.push_list(self.field.clone(), vs);
            }
            (Some(op), FilterValue::One(v)) => {
                query.filter(&self.field, *op, v);
            }
            (Some(op), FilterValue::Many(vs)) => {
                query.filter_list(&self.field, *op, vs);
            }
        }
    }
}

/// The order of a list: `sort_asc=field` or `sort_desc=field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sort {
    /// Ascending by the field.
    Asc(String),
    /// Descending by the field.
    Desc(String),
}

impl Sort {
    pub(crate) fn write(&self, query: &mut Query) {
        match self {
            Self::Asc(f) => query.push("sort_asc", f),
            Self::Desc(f) => query.push("sort_desc", f),
        };
    }
}
