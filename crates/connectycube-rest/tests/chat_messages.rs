//! Message, unread, reaction and system-message endpoints against the documented exchanges.

mod support;

use connectycube_fixtures::http;
use connectycube_protocol::ids::{DialogId, MessageId, UserId};
use connectycube_protocol::model::{Attachment, AttachmentType};
use connectycube_rest::chat::messages::{
    CreateMessage, DeleteMessages, ListMessages, MessageField, Target, UpdateMessages,
};
use connectycube_rest::chat::reactions::{ListReactions, UpdateReactions};
use connectycube_rest::chat::system::SendSystemMessage;
use connectycube_rest::chat::unread::UnreadCount;
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::query::FilterOp;
use serde_json::json;

fn dialog(id: &str) -> DialogId {
    id.parse().unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn message(id: &str) -> MessageId {
    id.parse().unwrap_or_else(|e| panic!("{id}: {e}"))
}

#[test]
fn list_messages() {
    let f = http("messages/list");
    let e = ListMessages::new(dialog("5c093376e588ce6856f873fe"));
    support::assert_request(&e, &f);
    let page = support::decode::<ListMessages>(&f);
    assert_eq!(page.limit, Some(1000));
    assert_eq!(page.total_entries, None);
    let [first, second] = &page.items[..] else {
        panic!("two messages")
    };
    assert_eq!(first.body.as_deref(), Some("What's the price of it?"));
    assert_eq!(first.reactions, None);
    assert_eq!(first.recipient_id, None);
    assert_eq!(second.id, message("5c094687e588ce59fff87425"));
    assert_eq!(second.sender_id, Some(UserId(29085)));
    assert_eq!(second.read_ids, vec![UserId(29085), UserId(29086)]);
    let r = second.reactions.as_ref().unwrap();
    assert_eq!(r.own, ["👍", "👌"]);
    assert_eq!(r.total["🚧"], 5);
    assert!(first.custom.is_empty() && second.custom.is_empty());
}

#[test]
fn every_filter_field_operator_and_option_encodes() {
    let e = ListMessages::new(dialog("5c093376e588ce6856f873fe"))
        .eq(MessageField::RecipientId, 546)
        .filter(MessageField::SenderId, FilterOp::Lt, 132)
        .filter(MessageField::DateSent, FilterOp::Gte, 1544111746)
        .filter(MessageField::UpdatedAt, FilterOp::Lte, 1544111751)
        .filter(MessageField::Message, FilterOp::Ctn, "price?")
        .filter(MessageField::Id, FilterOp::Ne, "5c094682e588ce59fff87424")
        .filter_list(
            MessageField::AttachmentsType,
            FilterOp::In,
            ["image", "video"],
        )
        .filter_list(MessageField::SenderId, FilterOp::Nin, [1, 2])
        .filter_list(MessageField::Id, FilterOp::All, ["a"])
        .filter(MessageField::DateSent, FilterOp::Gt, 1)
        .sort_desc(MessageField::DateSent)
        .limit(50)
        .skip(30)
        .keep_unread();
    assert_eq!(
        e.query().encode(),
        "chat_dialog_id=5c093376e588ce6856f873fe&recipient_id=546&sender_id[lt]=132\
         &date_sent[gte]=1544111746&updated_at[lte]=1544111751&message[ctn]=price%3F\
         &_id[ne]=5c094682e588ce59fff87424&attachments.type[in]=image,video&sender_id[nin]=1,2\
         &_id[all]=a&date_sent[gt]=1&sort_desc=date_sent&limit=50&skip=30&mark_as_read=0"
    );
    let preview = ListMessages::new(dialog("5c093376e588ce6856f873fe"))
        .sort_asc(MessageField::DateSent)
        .preview();
    assert_eq!(
        preview.query().encode(),
        "chat_dialog_id=5c093376e588ce6856f873fe&sort_asc=date_sent&preview=1"
    );
}

#[test]
fn create_message_with_indexed_attachments() {
    let f = http("messages/create");
    let e = CreateMessage::new(Target::DialogAndUser(
        dialog("5c094c0ce588ce6856f87422"),
        UserId(29086),
    ))
    .text("where are you?")
    .attachment(Attachment::new("image").with_id("3004"))
    .attachment(Attachment::new("image").with_id("24504"));
    support::assert_request(&e, &f);
    assert!(!e.idempotent());
    let m = support::decode::<CreateMessage>(&f);
    assert_eq!(m.id, message("5c094e30e588ce59fff87431"));
    assert_eq!(m.attachments.len(), 2);
    assert_eq!(m.attachments[1].kind, AttachmentType::Image);
    assert_eq!(m.attachments[1].id.as_deref(), Some("24504"));
    assert_eq!(m.recipient_id, Some(UserId(29086)));
    assert_eq!(m.date_sent, Some(1544113712));
}

#[test]
fn create_message_sent_to_chat_with_custom_parameters() {
    let f = http("messages/create-custom");
    let e = CreateMessage::new(Target::Dialog(dialog("5bec0186e588ce7ff1c0ad0a")))
        .text("Hi! How are you doing?")
        .attachment(Attachment::new("image").with_id("654645"))
        .attachment(Attachment::new("video").with_id("654646"))
        .custom("country", "USA")
        .custom("message", "a custom key cannot replace the text")
        .send_to_chat()
        .markable();
    support::assert_request(&e, &f);
    let m = support::decode::<CreateMessage>(&f);
    assert_eq!(m.custom["country"], "USA");
    assert_eq!(m.attachments[1].kind, AttachmentType::Video);
}

#[test]
fn create_message_to_a_user() {
    let e = CreateMessage::new(Target::User(UserId(4377))).text("hi");
    assert_eq!(
        e.body().unwrap(),
        Some(json!({"recipient_id": 4377, "message": "hi"}))
    );
}

#[test]
fn update_message() {
    let f = http("messages/update");
    let e = UpdateMessages::messages(
        dialog("5c094c0ce588ce6856f87422"),
        [message("5c094e30e588ce59fff87431")],
    )
    .read();
    support::assert_request(&e, &f);
    support::decode::<UpdateMessages>(&f);
}

#[test]
fn update_many_or_all_messages() {
    let d = dialog("5c094c0ce588ce6856f87422");
    let many = UpdateMessages::messages(
        d,
        [
            message("5c094687e588ce59fff87425"),
            message("5c094682e588ce59fff87424"),
        ],
    )
    .delivered()
    .text("Morning");
    support::assert_request(&many, &http("messages/update-many"));
    let all = UpdateMessages::all_in(d).read();
    support::assert_request(&all, &http("messages/update-all"));
    assert!(all.idempotent());
}

#[test]
fn delete_messages() {
    let f = http("messages/delete");
    let e = DeleteMessages::new([
        message("5c094687e588ce59fff87425"),
        message("5c094682e588ce59fff87424"),
    ]);
    support::assert_request(&e, &f);
    let r = support::decode::<DeleteMessages>(&f);
    assert_eq!(r.deleted, ["5c094687e588ce59fff87425"]);
    assert_eq!(r.not_found, ["5c094682e588ce59fff87424"]);
    assert_eq!(r.wrong_permissions, ["5c094682e588ce59fff87423"]);
    let forced = e.force();
    support::assert_request(&forced, &http("messages/delete-force"));
    assert_eq!(forced.query().encode(), "force=1");
}

#[test]
fn unread_counts() {
    let f = http("messages/unread");
    let e = UnreadCount::for_dialogs([
        dialog("5c093376e588ce6856f873fe"),
        dialog("53aadc78535c127f15009b6c"),
    ]);
    support::assert_request(&e, &f);
    let c = support::decode::<UnreadCount>(&f);
    assert_eq!(c.total, 5);
    assert_eq!(c.get(dialog("53aadc78535c127f15009b6c")), Some(3));
    assert_eq!(c.per_dialog["76ok0l3e989c12a0e45432a7"], 2);
    assert_eq!(c.per_dialog.len(), 2, "total is not a dialog");
    assert!(UnreadCount::total().query().is_empty());
    assert!(serde_json::from_str::<connectycube_rest::chat::unread::UnreadCounts>("{}").is_err());
}

#[test]
fn system_message() {
    let f = http("messages/system");
    let e = SendSystemMessage::new(UserId(29086))
        .param("needToUpdatePhotosStories", "1")
        .param("friendId", "90675")
        .param("userExt", json!({"name": "Smith"}))
        .param("nickname", "Awesome_smith")
        .param("recipientId", 1);
    support::assert_request(&e, &f);
    let sent = support::decode::<SendSystemMessage>(&f);
    assert_eq!(sent.message_id, message("641307a86e010326b51594dc"));
    assert_eq!(sent.recipient_id, UserId(29086));
    assert_eq!(sent.extension_params["userExt"]["name"], "Smith");
    assert_eq!(sent.extension_params.len(), 4);
}

#[test]
fn reactions_update_and_list() {
    let id = message("5c094687e588ce59fff87425");
    let f = http("messages/reactions-update");
    let e = UpdateReactions::replace(id, "👎", "👍");
    support::assert_request(&e, &f);
    support::decode::<UpdateReactions>(&f);
    assert_eq!(
        UpdateReactions::add(id, "🚀").body().unwrap(),
        Some(json!({"add": "🚀"}))
    );
    assert_eq!(
        UpdateReactions::remove(id, "🚀").body().unwrap(),
        Some(json!({"remove": "🚀"}))
    );

    let f = http("messages/reactions-list");
    support::assert_request(&ListReactions { id }, &f);
    let r = support::decode::<ListReactions>(&f);
    assert_eq!(
        r.users_of("👎"),
        [UserId(67456), UserId(5687), UserId(9736)]
    );
    assert_eq!(r.users_of("🚀"), [UserId(9736)]);
    assert!(r.users_of("🎉").is_empty());
}
