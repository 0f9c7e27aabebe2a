//! The route declarations themselves: every documented exchange resolves to exactly one, no two
//! overlap, patterns fill and match back, and a server gets 404/405 from them.

#![allow(clippy::unwrap_used)]

use connectycube_fixtures::http_all;
use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_rest::chat::dialogs::{DeleteDialogs, ListDialogs};
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::route::{self, Lookup};
use connectycube_rest::storage::GetBlobObject;
use connectycube_rest::users::{FindUser, UserKey};
use connectycube_rest::{Metadata, ROUTES};
use http::Method;

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

#[test]
fn every_fixture_resolves_to_exactly_one_declaration() {
    let all = http_all();
    assert!(all.len() >= 64, "only {} fixtures", all.len());
    let mut bad = Vec::new();
    for (name, f) in &all {
        let method: Method = f.request.method.parse().unwrap();
        let path = segments(&f.request.path);
        match route::candidates(&method, &path, |k| f.request.query.contains_key(k)) {
            Ok(found) if found.len() == 1 => {}
            other => bad.push(format!(
                "{name}: {} {} -> {other:?}",
                method, f.request.path
            )),
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn no_two_declarations_overlap() {
    for (i, a) in ROUTES.iter().enumerate() {
        for b in &ROUTES[..i] {
            assert_ne!(a.name, b.name, "name declared twice");
            let same =
                a.method == b.method && a.path.eq_ignore_ascii_case(b.path) && a.flag == b.flag;
            assert!(!same, "{} and {} are one route", a.name, b.name);
        }
    }
}

#[test]
fn a_filled_pattern_matches_back_with_its_parameters() {
    for r in ROUTES {
        let n = r.path.matches('{').count();
        let values: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        let path = r.fill(&values);
        let params = r.matches(&r.method, &path);
        let got: Vec<&str> = params
            .as_ref()
            .map(|p| p.values().collect())
            .unwrap_or_default();
        assert_eq!(got, values, "{} from {path}", r.name);
    }
}

#[test]
fn parameters_are_percent_encoded_but_id_lists_keep_their_commas() {
    let e = GetBlobObject {
        uid: "a b/c".into(),
        download_url: false,
    };
    assert_eq!(e.path(), "/blobs/a%20b%2Fc/object");
    let a: DialogId = "5c093376e588ce6856f873fe".parse().unwrap();
    let b: DialogId = "5c093376e588ce6856f873ff".parse().unwrap();
    let e = DeleteDialogs::new([a, b]);
    assert_eq!(
        e.path(),
        "/chat/Dialog/5c093376e588ce6856f873fe,5c093376e588ce6856f873ff"
    );
}

#[test]
fn literal_segments_win_over_parameters_and_flags_pick_the_route() {
    let by_login = route::lookup(&Method::GET, &segments("/users/by_login"), |_| false);
    assert!(matches!(by_login, Lookup::Found(r, _) if *r == FindUser::BY_LOGIN));
    let by_id = route::lookup(&Method::GET, &segments("/users/42"), |_| false);
    match by_id {
        Lookup::Found(r, p) => {
            assert_eq!(*r, FindUser(UserKey::Id(UserId(42))).metadata());
            assert_eq!(p.get("id"), Some("42"));
        }
        other => panic!("{other:?}"),
    }
    let list = route::lookup(&Method::GET, &segments("/chat/dialog"), |_| false);
    assert!(matches!(list, Lookup::Found(r, _) if r.name == "ListDialogs"));
    let count = route::lookup(&Method::GET, &segments("/chat/Dialog"), |k| k == "count");
    assert!(matches!(count, Lookup::Found(r, _) if r.name == "CountDialogs"));
    assert_eq!(
        ListDialogs::new().count().metadata().flag,
        Some("count"),
        "the count is told apart by its query"
    );
}

#[test]
fn unknown_paths_and_wrong_methods_are_told_apart() {
    let none = route::lookup(&Method::GET, &segments("/nowhere"), |_| false);
    assert_eq!(none, Lookup::NotFound);
    let wrong = route::lookup(&Method::PATCH, &segments("/chat/Dialog"), |_| false);
    assert_eq!(wrong, Lookup::WrongMethod);
    let post: &Metadata = ROUTES.iter().find(|r| r.name == "CreateDialog").unwrap();
    assert!(post.matches(&Method::GET, "/chat/Dialog").is_none());
    assert!(post.matches(&Method::POST, "/chat/dialog").is_some());
}
