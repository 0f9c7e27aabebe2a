//! The gap filler's decisions without a server: how much of a page it keeps, which dialogs
//! it asks for their history, what it remembers.

#![allow(clippy::unwrap_used)]

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::ids::{AppId, MessageId, ObjectId, UserId};
use connectycube_protocol::model::{Dialog, Message};

use super::changed::{Changed, Last, older_from_here};
use super::history::page_of;
use super::*;

fn dialog(n: u32) -> DialogId {
    DialogId(ObjectId::from_parts(1_700_000_000, [7; 5], n))
}

fn message(n: u32, date_sent: i64) -> Message {
    let mut m = Message::new(format!("m{n}"));
    m.id = MessageId(ObjectId::from_parts(1_700_000_000, [1; 5], n));
    m.date_sent = Some(date_sent);
    m.sender_id = Some(UserId(2));
    m
}

fn me() -> Me {
    Me {
        domain: ChatDomain::new("chat.example.com", AppId(1)),
        user: UserId(1),
    }
}

fn listed(d: DialogId, date_sent: Option<i64>, id: Option<MessageId>) -> Dialog {
    serde_json::from_value(serde_json::json!({
        "_id": d.to_string(),
        "type": 2,
        "last_message_date_sent": date_sent,
        "last_message_id": id.map(|i| i.to_string()),
    }))
    .unwrap()
}

#[test]
fn a_page_keeps_no_more_than_asked_and_a_flood_reads_as_more() {
    let page = |n: u32| (0..n).map(|i| message(i, 100)).collect::<Vec<_>>();
    // A server that ignores the limit: what was asked is kept, and more follow.
    let (kept, more) = page_of(page(5_000), 100);
    assert_eq!((kept.len(), more), (100, true));
    assert_eq!(
        kept[99].body.as_deref(),
        Some("m99"),
        "the first ones, in order"
    );
    // The one asked beyond the page says more follow; a short page is the end.
    assert!(page_of(page(101), 100).1);
    let (kept, more) = page_of(page(100), 100);
    assert_eq!((kept.len(), more), (100, false));
    assert_eq!(page_of(page(3), 100).0.len(), 3);
}

#[test]
fn only_dialogs_whose_last_message_was_not_shown_are_asked_for_their_history() {
    let seen_id = message(1, 1_000).id;
    let target = |n, last_id| Target {
        dialog: dialog(n),
        since: 1_000,
        group: true,
        last_id,
    };
    let mut changed = Changed::default();
    changed.note(&[
        listed(dialog(1), Some(1_000), Some(seen_id)),
        listed(dialog(2), Some(1_005), Some(message(2, 1_005).id)),
        listed(dialog(3), None, None),
        listed(dialog(4), Some(900), Some(message(4, 900).id)),
        listed(dialog(5), Some(1_000), Some(message(5, 1_000).id)),
    ]);
    changed.whole = true;
    assert!(
        !changed.may_have_news(&target(1, Some(seen_id))),
        "last one shown"
    );
    assert!(
        changed.may_have_news(&target(1, None)),
        "same second, id unknown"
    );
    assert!(changed.may_have_news(&target(2, Some(seen_id))), "newer");
    assert!(
        !changed.may_have_news(&target(3, None)),
        "no message at all"
    );
    assert!(
        !changed.may_have_news(&target(4, None)),
        "older than the since-time"
    );
    assert!(
        changed.may_have_news(&target(5, Some(seen_id))),
        "same second, another one"
    );
    assert!(
        !changed.may_have_news(&target(6, None)),
        "not updated since"
    );
    changed.whole = false;
    assert!(
        changed.may_have_news(&target(6, None)),
        "the list was cut short"
    );
    assert_eq!(
        changed.listed.get(&dialog(3)),
        Some(&Last::default()),
        "listed without a message"
    );
}

#[test]
fn the_list_is_read_no_further_than_the_first_dialog_older_than_the_gap() {
    let page = |times: &[Option<i64>]| -> Vec<Dialog> {
        (0u32..)
            .zip(times)
            .map(|(n, t)| listed(dialog(n), *t, None))
            .collect()
    };
    assert!(older_from_here(
        &page(&[Some(30), None, Some(20), Some(5)]),
        10
    ));
    assert!(
        !older_from_here(&page(&[Some(30), Some(20)]), 10),
        "may go on"
    );
    assert!(
        !older_from_here(&page(&[Some(5), Some(30), Some(1)]), 10),
        "not sorted"
    );
    assert!(
        !older_from_here(&page(&[Some(30), None]), 10),
        "no time at the end"
    );
}

#[tokio::test]
async fn the_newest_message_shown_is_remembered_per_dialog_within_the_bound() {
    let (fill, _rx) = GapFill::new();
    let me = me();
    fill.seen(&me.event(dialog(0), true, message(2, 200)));
    fill.seen(&me.event(dialog(0), true, message(1, 100)));
    assert_eq!(
        lock(&fill.last_seen)[&dialog(0)],
        200,
        "an older one changes nothing"
    );
    assert_eq!(lock(&fill.last_id)[&dialog(0)], message(2, 200).id);
    for n in 1..=u32::try_from(MAX_DIALOGS).unwrap() {
        fill.seen(&me.event(dialog(n), false, message(n, 1_000 + i64::from(n))));
    }
    let seen = lock(&fill.last_seen).clone();
    let ids = lock(&fill.last_id).clone();
    assert_eq!(seen.len(), MAX_DIALOGS);
    assert!(!seen.contains_key(&dialog(0)), "the least recent went");
    assert!(
        ids.keys().all(|d| seen.contains_key(d)),
        "ids go with their dialog"
    );
}

/// A date ahead of the clock (a sender's skewed clock, a forged date) counts as now: the
/// next fill still covers what others send after it.
#[tokio::test]
async fn a_date_from_the_future_does_not_move_the_since_time_past_now() {
    let (fill, _rx) = GapFill::new();
    let before = unix_now();
    fill.seen(&me().event(dialog(1), true, message(1, i64::MAX)));
    let since = lock(&fill.last_seen)[&dialog(1)];
    assert!((before..=unix_now()).contains(&since), "{since}");
}

#[tokio::test]
async fn joined_rooms_never_seen_are_filled_from_when_the_connection_was_lost() {
    let (fill, _rx) = GapFill::new();
    fill.seen(&me().event(dialog(1), false, message(1, 500)));
    *lock(&fill.offline_since) = Some(900);
    let targets = fill.plan(&[dialog(2)]);
    let since: Vec<(DialogId, i64, bool)> = targets
        .iter()
        .map(|t| (t.dialog, t.since, t.group))
        .collect();
    assert_eq!(since, [(dialog(2), 900, true), (dialog(1), 500, false)]);
    assert_eq!(targets[1].last_id, Some(message(1, 500).id));
}
