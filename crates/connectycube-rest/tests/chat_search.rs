//! Global search: the documented exchange and every documented limit, checked before sending.

mod support;

use chrono::{TimeZone, Utc};
use connectycube_fixtures::http;
use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_protocol::model::DialogType;
use connectycube_rest::chat::search::{GlobalSearch, SearchError};
use connectycube_rest::endpoint::Endpoint;

#[test]
fn global_search() {
    let f = http("search/global");
    let e = GlobalSearch::builder("lorem").limit(3).build().unwrap();
    support::assert_request(&e, &f);
    let r = support::decode::<GlobalSearch>(&f);
    assert_eq!(r.dialogs.len(), 1);
    assert_eq!(r.dialogs[0].kind, DialogType::Private);
    assert_eq!(r.dialogs[0].xmpp_room_jid, None);
    assert_eq!(r.messages.len(), 2);
    assert!(
        r.messages
            .iter()
            .all(|m| m.body.as_deref().unwrap().contains("lorem"))
    );
    assert_eq!(r.messages[1].sender_id, Some(UserId(2172)));
    assert!(r.users.is_empty());
}

#[test]
fn text_must_be_longer_than_four_characters() {
    assert_eq!(
        GlobalSearch::builder("lore").build(),
        Err(SearchError::TextTooShort { chars: 4 })
    );
    // Characters, not bytes: four emoji are still four.
    assert_eq!(
        GlobalSearch::builder("🚀🚀🚀🚀").build(),
        Err(SearchError::TextTooShort { chars: 4 })
    );
    assert!(GlobalSearch::builder("lorem").build().is_ok());
}

#[test]
fn at_most_ten_dialogs() {
    let ids: Vec<DialogId> = (0..11).map(|_| DialogId::generate()).collect();
    assert_eq!(
        GlobalSearch::builder("lorem").dialogs(ids.clone()).build(),
        Err(SearchError::TooManyDialogs { count: 11 })
    );
    let ok = GlobalSearch::builder("lorem")
        .dialogs(ids[..10].to_vec())
        .build()
        .unwrap();
    let joined = ok
        .query()
        .pairs()
        .find(|(k, _)| *k == "chat_dialog_ids")
        .unwrap()
        .1;
    assert_eq!(joined.split(',').count(), 10);
}

#[test]
fn dates_come_in_pairs_at_most_three_months_apart() {
    let start = Utc.with_ymd_and_hms(2016, 3, 23, 17, 0, 42).unwrap();
    let end = Utc.with_ymd_and_hms(2016, 1, 23, 17, 0, 42).unwrap();
    assert_eq!(
        GlobalSearch::builder("lorem").start_date(start).build(),
        Err(SearchError::MissingEndDate)
    );
    assert_eq!(
        GlobalSearch::builder("lorem").end_date(end).build(),
        Err(SearchError::MissingStartDate)
    );
    assert_eq!(
        GlobalSearch::builder("lorem").between(end, start).build(),
        Err(SearchError::EndAfterStart)
    );
    let too_old = Utc.with_ymd_and_hms(2015, 12, 23, 17, 0, 41).unwrap();
    assert_eq!(
        GlobalSearch::builder("lorem")
            .between(start, too_old)
            .build(),
        Err(SearchError::WindowTooWide)
    );
    let edge = Utc.with_ymd_and_hms(2015, 12, 23, 17, 0, 42).unwrap();
    assert!(
        GlobalSearch::builder("lorem")
            .between(start, edge)
            .build()
            .is_ok()
    );

    let e = GlobalSearch::builder("lorem ipsum")
        .between(start, end)
        .build()
        .unwrap();
    assert_eq!(
        e.query().encode(),
        "search_text=lorem%20ipsum&start_date=2016-03-23T17%3A00%3A42Z\
         &end_date=2016-01-23T17%3A00%3A42Z"
    );
}

#[test]
fn limit_at_most_one_hundred() {
    assert_eq!(
        GlobalSearch::builder("lorem").limit(101).build(),
        Err(SearchError::LimitTooHigh { limit: 101 })
    );
    assert!(GlobalSearch::builder("lorem").limit(100).build().is_ok());
    let msg = SearchError::LimitTooHigh { limit: 101 }.to_string();
    assert!(msg.contains("100") && msg.contains("101"), "{msg}");
}
