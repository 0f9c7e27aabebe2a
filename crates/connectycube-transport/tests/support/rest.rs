//! The devserver's REST API, the way an app drives the cloud: where an ejabberd test uses
//! ejabberdctl (create a room), the devserver run makes the REST call that has the same effect.
//! A hand-written HTTP/1.1 exchange on loopback, so the transport gains no HTTP client.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one request (`Connection: close`) and returns the status and the JSON body.
pub async fn call(
    api_url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let authority = api_url.strip_prefix("http://").expect("an http:// API URL");
    let authority = authority.trim_end_matches('/');
    let body = body.to_string();
    let token = token.map_or_else(String::new, |t| format!("CB-Token: {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n{token}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(authority).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_owned()
    };
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    };
    (status, json)
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn unchunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// A user session token for test user `user` (login `user{id}`, password `pass{id}`, as
/// xtask seeds them).
pub async fn user_token(api_url: &str, auth_key: &str, app_id: u32, user: u32) -> String {
    let body = json!({
        "application_id": app_id,
        "auth_key": auth_key,
        "user": {"login": format!("user{user}"), "password": format!("pass{user}")},
    });
    let (status, answer) = call(api_url, "POST", "/session", None, &body).await;
    assert_eq!(status, 201, "{answer}");
    answer["session"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {answer}"))
        .to_owned()
}

/// Creates a group dialog owned by the token's user with `others` as occupants; returns its id.
pub async fn create_group_dialog(api_url: &str, token: &str, others: &[u32], name: &str) -> String {
    let occupants: Vec<String> = others.iter().map(u32::to_string).collect();
    let body = json!({"type": 2, "name": name, "occupants_ids": occupants.join(",")});
    let (status, answer) = call(api_url, "POST", "/chat/Dialog", Some(token), &body).await;
    assert!(status == 200 || status == 201, "{status}: {answer}");
    answer["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no _id in {answer}"))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_body_is_reassembled() {
        assert_eq!(unchunk("4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n"), "{\"a\":1}");
    }
}
