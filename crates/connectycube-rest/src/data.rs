//! Custom objects (`/data/{class}`): records of an application's own tables, as the guide's
//! moderation section uses them (`UserReports`, `MessageReports`): create, list, delete.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::RestError;
use crate::endpoint::{Empty, Endpoint};
use crate::query::Query;
use crate::route::Metadata;

/// One record of a custom class: its id, owner and fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The record id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The user who created it.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// When it was created (Unix seconds, as the API answers).
    #[serde(default)]
    pub created_at: Option<Value>,
    /// When it last changed.
    #[serde(default)]
    pub updated_at: Option<Value>,
    /// The class's own fields (and any the answer has beyond the above).
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// `POST /data/{class}`: creates a record with `fields`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRecord {
    /// The class (table) name.
    pub class: String,
    /// The fields.
    pub fields: Map<String, Value>,
}

impl Endpoint for CreateRecord {
    type Response = Record;
    const METADATA: Metadata = Metadata::post("CreateRecord", "/data/{class}");
    fn path_params(&self) -> Vec<String> {
        vec![self.class.clone()]
    }
    fn body(&self) -> Result<Option<Value>, RestError> {
        Ok(Some(Value::Object(self.fields.clone())))
    }
}

/// `GET /data/{class}`: records, filtered by field equality, newest last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRecords {
    /// The class (table) name.
    pub class: String,
    /// `field=value` filters.
    pub equal: Vec<(String, String)>,
    /// The page size.
    pub limit: Option<u32>,
    /// How many to skip.
    pub skip: Option<u32>,
}

/// A page of records.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RecordList {
    /// The class.
    pub class_name: String,
    /// How many were skipped.
    #[serde(default)]
    pub skip: u64,
    /// The page size.
    #[serde(default)]
    pub limit: u64,
    /// The records.
    pub items: Vec<Record>,
}

impl Endpoint for ListRecords {
    type Response = RecordList;
    const METADATA: Metadata = Metadata::get("ListRecords", "/data/{class}");
    fn path_params(&self) -> Vec<String> {
        vec![self.class.clone()]
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        for (k, v) in &self.equal {
            q.push(k, v);
        }
        if let Some(l) = self.limit {
            q.push("limit", l);
        }
        if let Some(s) = self.skip {
            q.push("skip", s);
        }
        q
    }
}

/// `DELETE /data/{class}/{id}`: deletes one of the user's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecord {
    /// The class (table) name.
    pub class: String,
    /// The record id.
    pub id: String,
}

impl Endpoint for DeleteRecord {
    type Response = Empty;
    const METADATA: Metadata = Metadata::delete("DeleteRecord", "/data/{class}/{id}");
    fn path_params(&self) -> Vec<String> {
        vec![self.class.clone(), self.id.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_keeps_its_own_fields_beside_the_standard_ones() {
        let r: Record = serde_json::from_value(json!({
            "_id": "5e1", "_parent_id": null, "user_id": 7, "created_at": 1, "updated_at": 1,
            "reportedUserId": 45, "reason": "spam"
        }))
        .unwrap();
        assert_eq!((r.id.as_str(), r.user_id), ("5e1", Some(7)));
        assert_eq!(r.fields["reportedUserId"], 45);
        let list = ListRecords {
            class: "UserReports".into(),
            equal: vec![("reason".into(), "spam".into())],
            ..ListRecords::default()
        };
        assert_eq!(list.path(), "/data/UserReports");
    }
}
