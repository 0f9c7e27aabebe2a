//! The documented rules the replay's shape check cannot see: limits (5 admins, search
//! text and window, 10 search dialogs), permissions (roles), one private dialog per pair,
//! list filters and counts, and input that must not break the server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

mod support;

use connectycube_devserver::store::NewUser;
use connectycube_devserver::{DevServer, DevServerConfig};
use connectycube_protocol::ids::UserId;
use serde_json::{Value, json};

struct World {
    srv: DevServer,
    tokens: Vec<String>,
    ids: Vec<u64>,
}

/// A devserver with `n` users, each with a session.
async fn world(n: usize) -> World {
    let srv = DevServer::start(DevServerConfig::default()).await.unwrap();
    let (mut tokens, mut ids) = (Vec::new(), Vec::new());
    for i in 0..n {
        let new = NewUser {
            login: Some(format!("u{i}")),
            password: Some("password1".into()),
            full_name: Some(format!("User {i}")),
            ..NewUser::default()
        };
        let u = srv.store().create_user(srv.app_id(), &new).unwrap();
        let s = srv
            .store()
            .create_session(srv.app_id(), Some(u.id), 0, 3600)
            .unwrap();
        tokens.push(s.token);
        ids.push(u.id.0);
    }
    World { srv, tokens, ids }
}

impl World {
    async fn call(
        &self,
        who: usize,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let headers = [
            ("cb-token", self.tokens[who].as_str()),
            ("content-type", "application/json"),
        ];
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let a = support::send(self.srv.api_addr(), method, path, &headers, bytes).await;
        (a.status, a.json())
    }

    async fn group(&self, owner: usize, others: &[usize]) -> String {
        let occupants: Vec<u64> = others.iter().map(|i| self.ids[*i]).collect();
        let body = json!({"type": 2, "name": "g", "occupants_ids": occupants});
        let (status, d) = self.call(owner, "POST", "/chat/Dialog", Some(body)).await;
        assert_eq!(status, 200, "{d}");
        d["_id"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn a_private_dialog_is_created_once_per_pair() {
    let w = world(2).await;
    let a = w
        .call(
            0,
            "POST",
            "/chat/Dialog",
            Some(json!({"type": 3, "occupants_ids": [w.ids[1]]})),
        )
        .await;
    let b = w
        .call(
            1,
            "POST",
            "/chat/Dialog",
            Some(json!({"type": 3, "occupants_ids": w.ids[0].to_string()})),
        )
        .await;
    assert_eq!((a.0, b.0), (200, 200));
    assert_eq!(a.1["_id"], b.1["_id"]);
    assert!(
        a.1["xmpp_room_jid"].is_null(),
        "a private dialog has no room"
    );
    // Messaging a user by id lands in the same dialog.
    let (_, m) = w
        .call(
            0,
            "POST",
            "/chat/Message",
            Some(json!({"recipient_id": w.ids[1], "message": "hi"})),
        )
        .await;
    assert_eq!(m["chat_dialog_id"], a.1["_id"]);
    assert_eq!(m["recipient_id"], w.ids[1]);
}

#[tokio::test]
async fn only_the_owner_manages_admins_and_at_most_five() {
    let w = world(8).await;
    let d = w.group(0, &[1, 2, 3, 4, 5, 6, 7]).await;
    let path = format!("/chat/Dialog/{d}/admins");
    let by_occupant = w
        .call(
            1,
            "PUT",
            &path,
            Some(json!({"push_all": {"admins_ids": [w.ids[2]]}})),
        )
        .await;
    assert_eq!(by_occupant.0, 403);
    let five: Vec<u64> = w.ids[1..6].to_vec();
    let ok = w
        .call(
            0,
            "PUT",
            &path,
            Some(json!({"push_all": {"admins_ids": five}})),
        )
        .await;
    assert_eq!(ok.0, 200);
    assert_eq!(ok.1["admins_ids"].as_array().unwrap().len(), 5);
    let sixth = w
        .call(
            0,
            "PUT",
            &path,
            Some(json!({"push_all": {"admins_ids": [w.ids[6]]}})),
        )
        .await;
    assert_eq!(sixth.0, 422);
    assert!(sixth.1["errors"]["admins_ids"].is_array());
    // An admin may remove occupants; a plain occupant may not.
    let upd = format!("/chat/Dialog/{d}");
    let by_plain = w
        .call(
            7,
            "PUT",
            &upd,
            Some(json!({"pull_all": {"occupants_ids": [w.ids[6]]}})),
        )
        .await;
    assert_eq!(by_plain.0, 403);
    let by_admin = w
        .call(
            1,
            "PUT",
            &upd,
            Some(json!({"pull_all": {"occupants_ids": [w.ids[6]]}})),
        )
        .await;
    assert_eq!(by_admin.0, 200);
    assert!(
        !by_admin.1["occupants_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(w.ids[6]))
    );
}

#[tokio::test]
async fn deleting_without_force_leaves_the_group_and_force_needs_the_owner() {
    let w = world(3).await;
    let d = w.group(0, &[1, 2]).await;
    let path = format!("/chat/Dialog/{d}");
    assert_eq!(
        w.call(1, "DELETE", &format!("{path}?force=1"), None)
            .await
            .0,
        403
    );
    assert_eq!(w.call(1, "DELETE", &path, None).await.0, 200);
    let (_, listed) = w.call(1, "GET", "/chat/Dialog", None).await;
    assert_eq!(listed["total_entries"], 0, "left the group");
    let (_, still) = w.call(2, "GET", "/chat/Dialog", None).await;
    assert_eq!(still["total_entries"], 1, "the others keep it");
    assert_eq!(
        w.call(0, "DELETE", &format!("{path}?force=1"), None)
            .await
            .0,
        200
    );
    let (_, gone) = w.call(2, "GET", "/chat/Dialog", None).await;
    assert_eq!(gone["total_entries"], 0);
}

#[tokio::test]
async fn dialog_lists_filter_sort_page_and_count() {
    let w = world(2).await;
    for name in ["alpha", "beta", "gamma"] {
        let body = json!({"type": 2, "name": name, "occupants_ids": [w.ids[1]]});
        assert_eq!(w.call(0, "POST", "/chat/Dialog", Some(body)).await.0, 200);
    }
    let public = json!({"type": 4, "name": "public one"});
    assert_eq!(w.call(0, "POST", "/chat/Dialog", Some(public)).await.0, 200);
    let (_, groups) = w
        .call(
            0,
            "GET",
            "/chat/Dialog?type=2&sort_asc=name&limit=2&skip=1",
            None,
        )
        .await;
    let names: Vec<&str> = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["beta", "gamma"]);
    assert_eq!(groups["total_entries"], 3);
    let (_, count) = w
        .call(0, "GET", "/chat/Dialog?type[in]=2,4&count=1", None)
        .await;
    assert_eq!(count["items"]["count"], 4);
    let (_, ctn) = w.call(0, "GET", "/chat/Dialog?name[ctn]=mm", None).await;
    assert_eq!(ctn["items"][0]["name"], "gamma");
}

#[tokio::test]
async fn search_keeps_its_documented_limits() {
    let w = world(2).await;
    let d = w.group(0, &[1]).await;
    let body = json!({"chat_dialog_id": d, "message": "lorem ipsum"});
    assert_eq!(w.call(0, "POST", "/chat/Message", Some(body)).await.0, 200);
    assert_eq!(
        w.call(1, "GET", "/chat/search?search_text=lore", None)
            .await
            .0,
        422
    );
    let ids = vec![d.clone(); 11].join(",");
    let too_many = w
        .call(
            1,
            "GET",
            &format!("/chat/search?search_text=lorem&chat_dialog_ids={ids}"),
            None,
        )
        .await;
    assert_eq!(too_many.0, 422);
    let wide = "/chat/search?search_text=lorem&start_date=2024-06-01T00:00:00Z&end_date=2024-01-01T00:00:00Z";
    assert_eq!(w.call(1, "GET", wide, None).await.0, 422);
    let no_end = "/chat/search?search_text=lorem&start_date=2024-06-01T00:00:00Z";
    assert_eq!(w.call(1, "GET", no_end, None).await.0, 422);
    let (status, found) = w
        .call(1, "GET", "/chat/search?search_text=lorem&limit=500", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["results"]["messages"][0]["message"], "lorem ipsum");
    let (_, other_case) = w
        .call(1, "GET", "/chat/search?search_text=LOREM", None)
        .await;
    assert!(
        other_case["results"]["messages"]
            .as_array()
            .unwrap()
            .is_empty(),
        "case sensitive"
    );
}

#[tokio::test]
async fn only_the_sender_edits_and_read_marks_follow_the_reader() {
    let w = world(4).await;
    let d = w.group(0, &[1, 2]).await;
    let (_, m) = w
        .call(
            0,
            "POST",
            "/chat/Message",
            Some(json!({"chat_dialog_id": d, "message": "v1"})),
        )
        .await;
    let id = m["_id"].as_str().unwrap();
    let path = format!("/chat/Message/{id}");
    w.call(
        1,
        "PUT",
        &path,
        Some(json!({"chat_dialog_id": d, "message": "hacked"})),
    )
    .await;
    w.call(
        0,
        "PUT",
        &path,
        Some(json!({"chat_dialog_id": d, "message": "v2"})),
    )
    .await;
    w.call(
        1,
        "PUT",
        &path,
        Some(json!({"chat_dialog_id": d, "read": "1"})),
    )
    .await;
    let stored = w.srv.store().message(id.parse().unwrap()).unwrap().unwrap();
    assert_eq!(stored.body.as_deref(), Some("v2"));
    assert!(stored.edited);
    assert!(stored.read_ids.contains(&UserId(w.ids[1])));
    assert!(!stored.read_ids.contains(&UserId(w.ids[2])));
    let (_, unread) = w
        .call(
            2,
            "GET",
            &format!("/chat/Message/unread?chat_dialog_ids={d}"),
            None,
        )
        .await;
    assert_eq!(
        (unread["total"].clone(), unread[d.as_str()].clone()),
        (json!(1), json!(1))
    );
    // A stranger reads nothing of the dialog.
    let (status, _) = w
        .call(3, "GET", &format!("/chat/Message?chat_dialog_id={d}"), None)
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn users_v2_needs_a_primary_filter_and_paging_never_overflows() {
    let w = world(3).await;
    assert_eq!(
        w.call(
            0,
            "GET",
            "/users/v2?created_at[gt]=2020-01-01T00:00:00Z",
            None
        )
        .await
        .0,
        422
    );
    let (status, found) = w
        .call(0, "GET", "/users/v2?login[start_with]=u1", None)
        .await;
    assert_eq!(status, 422, "start_with needs 4 characters: {found}");
    let (status, found) = w
        .call(
            0,
            "GET",
            &format!("/users/v2?id[in][]={},{}", w.ids[0], w.ids[2]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["total_entries"], 2);
    let huge = format!("/users?page={}&per_page=100", u64::MAX);
    let (status, page) = w.call(0, "GET", &huge, None).await;
    assert_eq!(status, 200);
    assert!(page["items"].as_array().unwrap().is_empty());
    let (status, _) = w.call(0, "GET", "/users?per_page=abc", None).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn many_clients_at_once_are_all_served() {
    let w = std::sync::Arc::new(world(2).await);
    let d = w.group(0, &[1]).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let w = w.clone();
        let d = d.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"chat_dialog_id": d, "message": format!("m{i}")});
            w.call(i % 2, "POST", "/chat/Message", Some(body)).await.0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let (_, history) = w
        .call(
            1,
            "GET",
            &format!("/chat/Message?chat_dialog_id={d}&limit=100"),
            None,
        )
        .await;
    assert_eq!(history["items"].as_array().unwrap().len(), 64);
}

#[tokio::test]
async fn users_v1_filters_sort_and_page() {
    let w = world(4).await;
    let (ids, first) = (&w.ids, w.ids[0]);
    let call = |q: String| {
        let w = &w;
        async move { w.call(0, "GET", &format!("/users?{q}"), None).await }
    };
    let logins = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["user"]["login"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, gt) = call(format!(
        "filter[]=number+id+gt+{first}&order=desc+string+login"
    ))
    .await;
    assert_eq!(logins(&gt), ["u3", "u2", "u1"]);
    let (_, between) = call(format!("filter[]=number+id+between+{},{}", ids[1], ids[2])).await;
    assert_eq!(logins(&between), ["u1", "u2"]);
    let (_, inn) = call(format!(
        "filter[]=number+id+in+{},{}&per_page=1&page=2",
        ids[0], ids[3]
    ))
    .await;
    assert_eq!(
        (logins(&inn), inn["total_entries"].clone()),
        (vec!["u3".to_owned()], json!(2))
    );
    let (status, _) = call("filter[]=number+id+sideways+1".into()).await;
    assert_eq!(status, 422);
}
