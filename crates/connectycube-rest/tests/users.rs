//! User endpoints against the documented exchanges of `server-users.md`, the user model kept
//! losslessly, and sign up through the client with its `CB-AuthKey`.

#![allow(clippy::unwrap_used)]

mod support;

use connectycube_fixtures::{http, http_all};
use connectycube_protocol::ids::UserId;
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::query::FilterOp;
use connectycube_rest::users::v1::ValueType;
use connectycube_rest::users::{
    DeleteUser, FindUser, ListUsers, ListUsersV1, ResetPassword, SearchUsers, SignUp, UpdateUser,
    User, UserField, UserFields, UserKey,
};
use connectycube_rest::{RestClient, RestConfig};
use serde_json::Value;
use support::replay::Replay;

fn dacia() -> UserFields {
    UserFields::new()
        .login("Dacia")
        .password("petU4or!")
        .email("dacia_k@domain.com")
        .facebook_id("91234409")
        .twitter_id("83510562734")
        .full_name("Dacia Kail ")
        .phone("+6110797757")
        .timezone(180)
}

#[test]
fn sign_up() {
    let f = http("users/sign-up");
    let e = SignUp::new("29WfrNWdvkhmX6V", dacia());
    support::assert_request(&e, &f);
    assert!(!e.idempotent());
    let u = support::decode::<SignUp>(&f).user;
    assert_eq!(u.id, UserId(51941));
    assert_eq!(u.timezone, Some(180));
    assert_eq!(u.facebook_id.as_deref(), Some("91234409"));
    assert_eq!(u.custom_data, None);
}

#[test]
fn list_by_ids_with_filters() {
    let f = http("users/list");
    let e = ListUsers::new()
        .ids([UserId(52671), UserId(51943)])
        .eq(UserField::Phone, "5464579797975")
        .filter(
            UserField::LastRequestAt,
            FilterOp::Gt,
            "2018-12-06T09:21:41Z",
        )
        .sort_desc(UserField::Id)
        .limit(10);
    support::assert_request(&e, &f);
    assert_eq!(
        e.query().encode(),
        "id[in][]=52671&id[in][]=51943&phone=5464579797975\
         &last_request_at[gt]=2018-12-06T09%3A21%3A41Z&sort_desc=id&limit=10"
    );
    let page = support::decode::<ListUsers>(&f);
    assert_eq!((page.total_entries, page.limit), (Some(1), Some(10)));
    assert_eq!(page.items[0].login.as_deref(), Some("smithguest18"));
    assert_eq!(page.items[0].email, None);
}

#[test]
fn every_documented_list_operator_encodes() {
    let e = ListUsers::new()
        .filter(UserField::FullName, FilterOp::StartWith, "hunter")
        .filter_list(UserField::UserTags, FilterOp::Nin, ["vip"])
        .filter(UserField::CreatedAt, FilterOp::Lt, 1690886495)
        .filter(UserField::UpdatedAt, FilterOp::Lte, "2018-12-06")
        .sort_asc(UserField::CreatedAt)
        .offset(50);
    assert_eq!(
        e.query().encode(),
        "full_name[start_with]=hunter&user_tags[nin][]=vip&created_at[lt]=1690886495\
         &updated_at[lte]=2018-12-06&sort_asc=created_at&offset=50"
    );
}

#[test]
fn deprecated_v1_list() {
    let f = http("users/list-v1");
    let e = ListUsersV1::new().order_asc(ValueType::String, "login");
    support::assert_request(&e, &f);
    let page = support::decode::<ListUsersV1>(&f);
    assert_eq!(page.total_entries, Some(3));
    let logins: Vec<_> = page
        .items
        .iter()
        .filter_map(|u| u.login.as_deref())
        .collect();
    assert_eq!(logins, ["Dacia", "gabby", "ppavalli"]);
}

#[test]
fn find_one_user_by_each_key() {
    let cases = [
        ("users/get-by-id", UserKey::Id(UserId(51946)), 51946),
        ("users/get-by-login", UserKey::Login("Dacia".into()), 51941),
        (
            "users/get-by-email",
            UserKey::Email("dacia_k@domain.com".into()),
            51941,
        ),
        (
            "users/get-by-facebook-id",
            UserKey::FacebookId("95610574".into()),
            51946,
        ),
        (
            "users/get-by-twitter-id",
            UserKey::TwitterId("83510562734".into()),
            51941,
        ),
        (
            "users/get-by-external-id",
            UserKey::External(52691165),
            51941,
        ),
    ];
    for (name, key, id) in cases {
        let f = http(name);
        let e = FindUser(key);
        support::assert_request(&e, &f);
        assert_eq!(
            support::decode::<FindUser>(&f).user.id,
            UserId(id),
            "{name}"
        );
    }
    let u = support::decode::<FindUser>(&http("users/get-by-external-id")).user;
    assert_eq!(u.external_user_id, Some(52691165));
}

#[test]
fn search_by_full_name_and_tags() {
    let f = http("users/get-by-full-name");
    let e = SearchUsers::full_name("Gabrielle Corcoran");
    support::assert_request(&e, &f);
    assert_eq!(e.query().encode(), "full_name=Gabrielle%20Corcoran");
    let page = support::decode::<SearchUsers>(&f);
    assert_eq!((page.current_page, page.per_page), (Some(1), Some(10)));
    assert_eq!(page.items[0].tags(), ["vip", "accountant"]);
    assert_eq!(
        page.items[0].custom_data_text(),
        Some("Responsible for signing documents")
    );

    let f = http("users/get-by-tags");
    let e = SearchUsers::tags(["accountant"]);
    support::assert_request(&e, &f);
    let page = support::decode::<SearchUsers>(&f);
    assert_eq!(page.total_entries, Some(2));
    let ids: Vec<_> = page.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [UserId(51943), UserId(51946)]);
    assert_eq!(
        SearchUsers::tags(["a", "b"])
            .page(2)
            .per_page(5)
            .query()
            .encode(),
        "tags=a,b&page=2&per_page=5"
    );
}

#[test]
fn update_delete_and_reset() {
    let f = http("users/update");
    let e = UpdateUser {
        id: UserId(51943),
        fields: UserFields::new()
            .email("pallavi.purushottam@yahoo.com")
            .website("pavalli.com.au"),
    };
    support::assert_request(&e, &f);
    let u = support::decode::<UpdateUser>(&f).user;
    assert_eq!(u.website.as_deref(), Some("http://pavalli.com.au"));

    let f = http("users/delete");
    support::assert_request(&DeleteUser::Id(UserId(51959)), &f);
    support::decode::<DeleteUser>(&f);
    let f = http("users/delete-by-external-id");
    support::assert_request(&DeleteUser::External(52691165), &f);
    let f = http("users/reset-password");
    let e = ResetPassword {
        email: "dacia_k@domain.com".into(),
    };
    support::assert_request(&e, &f);
    assert_eq!(e.query().encode(), "email=dacia_k%40domain.com");
}

/// Whether `after` holds every value of `before` (a null may come back absent).
fn assert_kept(before: &Value, after: &Value, at: &str) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, v) in b {
                match a.get(k) {
                    Some(w) => assert_kept(v, w, &format!("{at}.{k}")),
                    None => assert!(v.is_null(), "{at}.{k} = {v} was dropped"),
                }
            }
        }
        (b, a) => assert_eq!(b, a, "{at}"),
    }
}

fn users_in(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(o) if o.contains_key("login") && o.contains_key("id") => out.push(v.clone()),
        Value::Object(o) => o.values().for_each(|v| users_in(v, out)),
        Value::Array(a) => a.iter().for_each(|v| users_in(v, out)),
        _ => {}
    }
}

#[test]
fn every_documented_user_round_trips_without_loss() {
    let mut users = Vec::new();
    for (name, f) in http_all() {
        if name.starts_with("users/") || name.starts_with("session/") {
            users_in(&f.response.body, &mut users);
        }
    }
    assert!(users.len() >= 15, "found {} users", users.len());
    for before in users {
        let user: User = serde_json::from_value(before.clone()).unwrap();
        let after = serde_json::to_value(&user).unwrap();
        assert_kept(&before, &after, &format!("user {}", user.id));
    }
}

#[tokio::test]
async fn sign_up_sends_the_auth_key_and_no_token() {
    let replay = Replay::start().await;
    let mut config = RestConfig::new().with_api_url(&replay.url).unwrap();
    config.allow_plain_http = true;
    let client = RestClient::new(config).unwrap();
    client.set_token(Some("app-session".into()));
    replay.expect(http("users/sign-up"));
    let user = client
        .send(&SignUp::new("29WfrNWdvkhmX6V", dacia()))
        .await
        .unwrap()
        .user;
    assert_eq!(user.login.as_deref(), Some("Dacia"));
    replay.assert_done();
    let seen = replay.seen.lock().unwrap();
    assert_eq!(seen.auth_keys, [Some("29WfrNWdvkhmX6V".to_owned())]);
    assert_eq!(seen.tokens, [None]);
}
