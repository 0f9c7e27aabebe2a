//! Dialog endpoints against the documented exchanges of `server-chat.md`.

mod support;

use connectycube_fixtures::http;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::model::{DialogPermissions, DialogType, LastMessageStatus};
use connectycube_rest::chat::dialogs::{
    ClearHistory, CreateDialog, DeleteDialogs, DialogCount, DialogField, ListDialogs, Subscribe,
    Unsubscribe, UpdateDialog,
};
use connectycube_rest::chat::notifications::{GetNotifications, UpdateNotifications};
use connectycube_rest::chat::occupants::{ListOccupants, UpdateAdmins};
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::query::FilterOp;
use serde_json::json;

fn dialog(id: &str) -> DialogId {
    id.parse().unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn extensions(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        other => panic!("extensions are an object, not {other}"),
    }
}

#[test]
fn list_dialogs() {
    let f = http("dialogs/list");
    support::assert_request(&ListDialogs::new(), &f);
    let page = support::decode::<ListDialogs>(&f);
    assert_eq!(page.total_entries, Some(4));
    assert_eq!((page.skip, page.limit), (Some(0), Some(100)));
    let d = &page.items[0];
    assert_eq!(d.id, dialog("5c094c0ce588ce6856f87422"));
    assert_eq!(d.kind, DialogType::Group);
    assert_eq!(d.name.as_deref(), Some("hello kitty"));
    assert_eq!(d.admins_ids, vec![UserId(29085)]);
    assert_eq!(d.last_message_status, Some(LastMessageStatus::Sent));
    assert_eq!(d.last_message_date_sent, Some(1544452627));
    assert_eq!(d.unread_messages_count, Some(1));
    assert_eq!(
        d.pinned_messages_ids,
        vec!["5c0e7a13e588ce6b6f3ebf80".parse::<MessageId>().unwrap()]
    );
}

#[test]
fn list_dialogs_by_extension() {
    let f = http("dialogs/list-by-extension");
    let e = ListDialogs::new().eq(DialogField::Extension("location".into()), "Sunbar");
    support::assert_request(&e, &f);
    let page = support::decode::<ListDialogs>(&f);
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        page.items[0].extensions.as_ref().unwrap()["location"],
        "Sun bar"
    );
}

#[test]
fn operator_filters_sort_and_paging_encode_as_the_api_reads_them() {
    let e = ListDialogs::new()
        .types([DialogType::Group, DialogType::Private])
        .filter(DialogField::UpdatedAt, FilterOp::Gt, 1544452627)
        .filter(DialogField::Name, FilterOp::Ctn, "kitty & co")
        .filter_list(DialogField::Id, FilterOp::Nin, ["5c094c0ce588ce6856f87422"])
        .sort_desc(DialogField::LastMessageDateSent)
        .limit(70)
        .skip(20);
    assert_eq!(
        e.query().encode(),
        "type[in]=2,3&updated_at[gt]=1544452627&name[ctn]=kitty%20%26%20co\
         &_id[nin]=5c094c0ce588ce6856f87422&sort_desc=last_message_date_sent&limit=70&skip=20"
    );
}

#[test]
fn count_keeps_the_filters_and_reads_the_count() {
    let e = ListDialogs::new().types([DialogType::Public]).count();
    assert_eq!(e.path(), "/chat/Dialog");
    assert_eq!(e.query().encode(), "type[in]=4&count=1");
    let nested: DialogCount = serde_json::from_str(r#"{"items":{"count":7}}"#).unwrap();
    let flat: DialogCount = serde_json::from_str(r#"{"count":7}"#).unwrap();
    assert_eq!((nested.count, flat.count), (7, 7));
    assert!(serde_json::from_str::<DialogCount>(r#"{"items":[]}"#).is_err());
}

#[test]
fn create_group_with_extensions_and_permissions() {
    let f = http("dialogs/create-with-extensions");
    let e = CreateDialog::group("Night party", [UserId(29085), UserId(29087)])
        .extensions(extensions(
            json!({"location": "Sun bar", "unknown_field": "will be ignored"}),
        ))
        .permissions(DialogPermissions {
            allow_preview: Some(true),
        });
    support::assert_request(&e, &f);
    assert!(!e.idempotent(), "creating twice makes two dialogs");
    let d = support::decode::<CreateDialog>(&f);
    assert_eq!(d.kind, DialogType::Group);
    assert_eq!(d.occupants_ids, vec![UserId(29085), UserId(29087)]);
    assert_eq!(
        d.extensions.as_ref().unwrap().len(),
        1,
        "the server drops unknown_field"
    );
    assert_eq!(d.permissions.unwrap().allow_preview, Some(true));
}

#[test]
fn create_private_and_public() {
    let private = CreateDialog::private(UserId(29086));
    assert_eq!(
        private.body().unwrap(),
        Some(json!({"type": 3, "occupants_ids": [29086]}))
    );
    let public = CreateDialog::public("News")
        .description("good news")
        .photo("news.png")
        .admins([UserId(5)]);
    assert_eq!(
        public.body().unwrap(),
        Some(
            json!({"type": 4, "name": "News", "description": "good news",
                    "photo": "news.png", "admins_ids": [5]})
        )
    );
}

#[test]
fn update_dialog() {
    let f = http("dialogs/update");
    let e = UpdateDialog::new(dialog("5c123f75e588ce063e43f541"))
        .name("Crossfit2")
        .add_occupants([UserId(29088)])
        .pin(["5c123fdce588ce064043f53a".parse().unwrap()])
        .photo("gym2.jpeg")
        .permissions(DialogPermissions {
            allow_preview: Some(false),
        });
    support::assert_request(&e, &f);
    let d = support::decode::<UpdateDialog>(&f);
    assert_eq!(d.occupants_ids.len(), 4);
    assert_eq!(d.photo.as_deref(), Some("gym2.jpeg"));
    assert_eq!(d.last_message_status, Some(LastMessageStatus::Read));
}

#[test]
fn update_dialog_extensions() {
    let f = http("dialogs/update-extensions");
    let e = UpdateDialog::new(dialog("5c091060e588ce59fdf873dd")).extensions(extensions(
        json!({"location": "Sun bar", "unknown_field": "will be ignored"}),
    ));
    support::assert_request(&e, &f);
    let d = support::decode::<UpdateDialog>(&f);
    assert_eq!(d.extensions.unwrap()["location"], "Sun bar");
}

#[test]
fn update_removals_and_extension_reset() {
    let e = UpdateDialog::new(dialog("5c123f75e588ce063e43f541"))
        .remove_occupants([UserId(1)])
        .remove_admins([UserId(2)])
        .unpin(["5c123fdce588ce064043f53a".parse().unwrap()])
        .add_admins([UserId(3)])
        .description("d")
        .reset_extensions();
    assert_eq!(
        e.body().unwrap(),
        Some(json!({
            "description": "d", "extensions": null,
            "push_all": {"admins_ids": [3]},
            "pull_all": {"occupants_ids": [1], "pinned_messages_ids": ["5c123fdce588ce064043f53a"],
                         "admins_ids": [2]}
        }))
    );
}

#[test]
fn delete_one_dialog() {
    let f = http("dialogs/delete");
    let e = DeleteDialogs::new([dialog("5c091060e588ce59fdf873dc")]);
    support::assert_request(&e, &f);
    assert!(support::decode::<DeleteDialogs>(&f).all_deleted());
    assert_eq!(e.force().query().encode(), "force=1");
}

#[test]
fn delete_many_dialogs() {
    let f = http("dialogs/delete-many");
    let e = DeleteDialogs::new([
        dialog("5c091060e588ce59fdf873dc"),
        dialog("5c093376e588ce6856f873fe"),
    ]);
    support::assert_request(&e, &f);
    let r = support::decode::<DeleteDialogs>(&f);
    assert_eq!(r.deleted, ["23thnu15e4b077ddd43e7db7"]);
    assert_eq!(r.not_found, ["499abe15e4b077ddd43e7b5h"]);
    assert_eq!(r.wrong_permissions, ["5e394e7bca8bf410bc8017b0"]);
    assert!(!r.all_deleted());
}

#[test]
fn clear_history() {
    let f = http("dialogs/clear-history");
    let e = ClearHistory::new(dialog("5c091060e588ce59fdf873dc"));
    support::assert_request(&e, &f);
    support::decode::<ClearHistory>(&f);
    assert_eq!(e.force().query().encode(), "force=1");
}

#[test]
fn subscribe_and_unsubscribe_public() {
    let id = dialog("5c091822e588ce6856f873de");
    let f = http("dialogs/subscribe");
    support::assert_request(&Subscribe { id }, &f);
    let d = support::decode::<Subscribe>(&f);
    assert_eq!(d.kind, DialogType::Public);
    assert_eq!(d.occupants_count, Some(2));
    assert!(d.occupants_ids.is_empty());
    assert_eq!(d.unread_messages_count, None);
    let f = http("dialogs/unsubscribe");
    support::assert_request(&Unsubscribe { id }, &f);
    support::decode::<Unsubscribe>(&f);
}

#[test]
fn add_admins() {
    let f = http("dialogs/admins-add");
    let e = UpdateAdmins::add(dialog("5c093376e588ce6856f873fe"), [UserId(29087)]);
    support::assert_request(&e, &f);
    let d = support::decode::<UpdateAdmins>(&f);
    assert_eq!(d.admins_ids, vec![UserId(29087)]);
    assert_eq!(d.last_message_status, Some(LastMessageStatus::Delivered));
    let remove = UpdateAdmins::remove(dialog("5c093376e588ce6856f873fe"), [UserId(29087)]);
    assert_eq!(
        remove.body().unwrap(),
        Some(json!({"pull_all": {"admins_ids": [29087]}}))
    );
}

#[test]
fn notification_settings() {
    let id = dialog("5c093376e588ce6856f873fe");
    let f = http("dialogs/notifications-update");
    support::assert_request(&UpdateNotifications { id, enabled: false }, &f);
    assert!(!support::decode::<UpdateNotifications>(&f).enabled);
    let on = UpdateNotifications { id, enabled: true };
    assert_eq!(on.body().unwrap(), Some(json!({"enabled": "1"})));

    let f = http("dialogs/notifications-get");
    support::assert_request(&GetNotifications { id }, &f);
    assert!(!support::decode::<GetNotifications>(&f).enabled);
    let f = http("dialogs/notifications-get-enabled");
    assert!(support::decode::<GetNotifications>(&f).enabled);
}

#[test]
fn public_dialog_occupants() {
    let f = http("dialogs/occupants");
    let e = ListOccupants::new(dialog("5c093376e588ce6856f873fe"));
    support::assert_request(&e, &f);
    let page = support::decode::<ListOccupants>(&f);
    assert_eq!(page.items.len(), 2);
    let gabby = &page.items[1];
    assert_eq!(gabby.id, UserId(51946));
    assert_eq!(gabby.login.as_deref(), Some("gabby"));
    assert_eq!(
        gabby.custom_data.as_deref(),
        Some("Responsible for signing documents")
    );
    assert_eq!(gabby.other["user_tags"], "vip,accountant");
    assert_eq!(page.items[0].other["external_user_id"], 52691165);
    assert_eq!(e.limit(70).skip(20).query().encode(), "limit=70&skip=20");
}
