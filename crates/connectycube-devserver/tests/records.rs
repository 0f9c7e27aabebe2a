//! Custom objects through `connectycube-rest`'s typed endpoints: a report is created, found
//! by a field, refused to a bad class name, and deleted by its author only.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

mod kit;

use connectycube_rest::RestError;
use connectycube_rest::data::{CreateRecord, DeleteRecord, ListRecords};
use kit::{rest, server};
use serde_json::{Map, json};

fn fields(v: serde_json::Value) -> Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn records_are_created_listed_by_field_and_deleted_by_their_author() {
    let srv = server(&["ann", "bob"]).await;
    let (ann, ann_id, _) = rest(&srv, "ann").await;
    let (bob, bob_id, _) = rest(&srv, "bob").await;
    let create = CreateRecord {
        class: "UserReports".into(),
        fields: fields(json!({"reportedUserId": ann_id.0, "reason": "spam"})),
    };
    let made = bob.send(&create).await.unwrap();
    assert_eq!(made.user_id, Some(bob_id.0));
    assert_eq!(made.fields["reason"], "spam");
    let found = ann
        .send(&ListRecords {
            class: "UserReports".into(),
            equal: vec![("reason".into(), "spam".into())],
            ..ListRecords::default()
        })
        .await
        .unwrap();
    assert_eq!(found.items, std::slice::from_ref(&made));

    let bad = CreateRecord {
        class: "no/such class".into(),
        fields: Map::new(),
    };
    assert!(matches!(
        bob.send(&bad).await,
        Err(RestError::Http {
            status: 422 | 404,
            ..
        })
    ));
    let delete = DeleteRecord {
        class: "UserReports".into(),
        id: made.id.clone(),
    };
    assert!(matches!(
        ann.send(&delete).await,
        Err(RestError::Http { status: 403, .. })
    ));
    bob.send(&delete).await.unwrap();
    let left = bob
        .send(&ListRecords {
            class: "UserReports".into(),
            ..ListRecords::default()
        })
        .await
        .unwrap();
    assert!(left.items.is_empty());
}
