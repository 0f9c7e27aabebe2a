//! Every dialog and message in the chat fixtures' responses decodes into the model and
//! encodes back with every value it carried: nothing the server sends is dropped.

use connectycube_fixtures::http_all;
use connectycube_protocol::model::{Dialog, Message};
use serde_json::Value;

/// Whether `after` holds every value of `before`. A null, an empty list and (for user ids)
/// a 0 mean "none" on the wire, so they may come back absent.
fn assert_kept(before: &Value, after: &Value, at: &str) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, v) in b {
                let none = v.is_null()
                    || v.as_array().is_some_and(Vec::is_empty)
                    || (k.ends_with("_id") && v.as_u64() == Some(0));
                match a.get(k) {
                    Some(w) => assert_kept(v, w, &format!("{at}.{k}")),
                    None => assert!(none, "{at}.{k} = {v} was dropped"),
                }
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            assert_eq!(b.len(), a.len(), "{at}: list length");
            for (i, (v, w)) in b.iter().zip(a).enumerate() {
                assert_kept(v, w, &format!("{at}[{i}]"));
            }
        }
        (b, a) => assert_eq!(b, a, "{at}"),
    }
}

fn encode<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or_else(|e| panic!("encode: {e}"))
}

fn walk(v: &Value, at: &str, seen: &mut usize) {
    match v {
        Value::Object(o) if o.contains_key("xmpp_room_jid") => {
            let d: Dialog = serde_json::from_value(v.clone())
                .unwrap_or_else(|e| panic!("{at}: not a dialog: {e}"));
            assert_kept(v, &encode(&d), at);
            *seen += 1;
        }
        Value::Object(o) if o.contains_key("chat_dialog_id") && o.contains_key("date_sent") => {
            let m: Message = serde_json::from_value(v.clone())
                .unwrap_or_else(|e| panic!("{at}: not a message: {e}"));
            assert_kept(v, &encode(&m), at);
            *seen += 1;
        }
        Value::Object(o) => o
            .iter()
            .for_each(|(k, w)| walk(w, &format!("{at}.{k}"), seen)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, w)| walk(w, &format!("{at}[{i}]"), seen)),
        _ => {}
    }
}

#[test]
fn documented_dialogs_and_messages_round_trip_without_loss() {
    let mut seen = 0;
    for (name, f) in http_all() {
        if ["dialogs/", "messages/", "search/"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            walk(&f.response.body, &name, &mut seen);
        }
    }
    // 7 dialog answers + 1 searched dialog; 2 listed, 2 created and 2 searched messages.
    assert_eq!(seen, 14, "every documented dialog and message was checked");
}
