//! Storage endpoints against `server-storage.md`, and the whole store flow over loopback: the
//! API (replayed fixtures) and an upload form server that checks the multipart body.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use connectycube_fixtures::http;
use connectycube_rest::endpoint::Endpoint;
use connectycube_rest::storage::{
    CompleteBlob, CreateBlob, DeleteBlob, GetBlob, GetBlobObject, ListBlobs, UpdateBlob, UploadForm,
};
use connectycube_rest::{RestClient, RestConfig, RestError};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use support::replay::Replay;
use tokio::net::TcpListener;

#[test]
fn create_complete_get_update_delete_list() {
    let f = http("storage/create");
    let e = CreateBlob::new("cat.jpeg", "image/jpeg");
    support::assert_request(&e, &f);
    let blob = support::decode::<CreateBlob>(&f).blob;
    assert_eq!((blob.id, blob.size), (46919, None));
    let form = UploadForm::of(&blob).unwrap();
    assert_eq!(form.url.as_str(), "https://s3.amazonaws.com/cb-shared-s3");
    assert_eq!(form.fields.len(), 10);
    assert_eq!(form.fields[3], ("key".into(), blob.uid.clone()));
    assert_eq!(
        e.public(true).body().unwrap().unwrap()["blob"]["public"],
        serde_json::json!(true)
    );

    let f = http("storage/complete");
    support::assert_request(&CompleteBlob { id: 111, size: 347 }, &f);
    support::decode::<CompleteBlob>(&f);

    let f = http("storage/get");
    support::assert_request(&GetBlob { id: 8049 }, &f);
    let blob = support::decode::<GetBlob>(&f).blob;
    assert_eq!(
        (blob.size, blob.public, blob.name.as_deref()),
        (Some(70980), Some(true), Some("Mixed_Pets.jpg"))
    );

    let f = http("storage/get-object");
    let e = GetBlobObject {
        uid: "789AFF0737033E93E179BD7491169D6043B0".into(),
        download_url: true,
    };
    support::assert_request(&e, &f);
    let access = support::decode::<GetBlobObject>(&f)
        .blob
        .blob_object_access
        .unwrap();
    assert!(
        access
            .download_url()
            .unwrap()
            .starts_with("https://cb-shared-s3.s3.amazonaws.com/789AFF")
    );

    let f = http("storage/update");
    let e = UpdateBlob {
        id: 111,
        name: Some("My photo".into()),
        ..UpdateBlob::default()
    };
    support::assert_request(&e, &f);
    assert_eq!(
        support::decode::<UpdateBlob>(&f)
            .blob
            .blob_status
            .as_deref(),
        Some("complete")
    );

    support::assert_request(&DeleteBlob { id: 111 }, &http("storage/delete"));
    let f = http("storage/list");
    support::assert_request(&ListBlobs::default(), &f);
    let page = support::decode::<ListBlobs>(&f);
    assert_eq!(page.items[0].name.as_deref(), Some("Pets.jpg"));
    assert_eq!(page.total_entries, Some(1));
}

/// What the upload form server saw.
#[derive(Default)]
struct Upload {
    content_type: String,
    content_length: Option<u64>,
    chunked: bool,
    frames: usize,
    body: Vec<u8>,
}

/// A loopback stand-in for the S3 form: records the upload, answers `status`.
async fn form_server(status: u16) -> (String, Arc<Mutex<Upload>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb-shared-s3", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Upload>> = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let s = s.clone();
            let service = service_fn(move |req: Request<Incoming>| {
                let s = s.clone();
                async move {
                    let header = |n| req.headers().get(n).map(|v| v.to_str().unwrap().to_owned());
                    let mut up = Upload {
                        content_type: header("content-type").unwrap_or_default(),
                        content_length: header("content-length").map(|v| v.parse().unwrap()),
                        chunked: header("transfer-encoding").is_some(),
                        ..Upload::default()
                    };
                    let mut body = req.into_body();
                    while let Some(frame) = body.frame().await {
                        if let Ok(data) = frame.unwrap().into_data() {
                            up.frames += 1;
                            up.body.extend_from_slice(&data);
                        }
                    }
                    *s.lock().unwrap() = up;
                    let xml = "<PostResponse><Key>k</Key></PostResponse>";
                    Ok::<_, Infallible>(
                        Response::builder()
                            .status(status)
                            .body(Full::new(Bytes::from(xml)))
                            .unwrap(),
                    )
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (url, seen)
}

/// The parts of a multipart body: (headers, content), checking the framing on the way.
fn parts(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delim = format!("\r\n--{boundary}");
    let mut rest = body
        .strip_prefix(format!("--{boundary}").as_bytes())
        .expect("starts with the boundary")
        .strip_suffix(b"--\r\n")
        .expect("ends with the closing boundary");
    let mut out = Vec::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after a boundary");
        let end = rest
            .windows(delim.len())
            .position(|w| w == delim.as_bytes())
            .unwrap_or(rest.len());
        let part = &rest[..end];
        let split = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let headers = String::from_utf8(part[..split].to_vec()).unwrap();
        out.push((headers, part[split + 4..].to_vec()));
        rest = &rest[(end + delim.len()).min(rest.len())..];
    }
    out
}

fn temp_file(name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("cc-storage-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let content: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
    let path = dir.join(name);
    std::fs::write(&path, &content).unwrap();
    (path, content)
}

async fn client(replay: &Replay) -> RestClient {
    let mut config = RestConfig::new().with_api_url(&replay.url).unwrap();
    config.allow_plain_http = true;
    config.upload_timeout = Duration::from_secs(30);
    let client = RestClient::new(config).unwrap();
    client.set_token(Some("token-1".into()));
    client
}

#[tokio::test]
async fn store_file_creates_streams_the_form_and_completes() {
    let (form_url, seen) = form_server(201).await;
    let (path, content) = temp_file("cat.jpeg", 6 * 1024 * 1024 + 11);
    let replay = Replay::start().await;
    let client = client(&replay).await;

    // The API answers the documented creation, its form pointed at the loopback server.
    let mut create = http("storage/create");
    let access = &mut create.response.body["blob"]["blob_object_access"];
    let params = access["params"].as_str().unwrap().to_owned();
    let documented = UploadForm::from_params(&params).unwrap();
    let query = params.split_once('?').unwrap().1;
    access["params"] = format!("{form_url}?{query}").into();
    let mut complete = http("storage/complete");
    complete.request.path = "/blobs/46919/complete".into();
    complete.request.body = Some(serde_json::json!({"blob": {"size": content.len().to_string()}}));
    replay.expect(create).expect(complete);

    let blob = client
        .store_file(&path, &CreateBlob::new("cat.jpeg", "image/jpeg"))
        .await
        .unwrap();
    replay.assert_done();
    assert_eq!(blob.size, Some(content.len() as u64));

    let up = seen.lock().unwrap();
    let boundary = up
        .content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    assert_eq!(
        up.content_length,
        Some(up.body.len() as u64),
        "size declared"
    );
    assert!(!up.chunked, "a declared length, not chunks");
    assert!(up.frames > 1, "arrived in {} frames", up.frames);
    let parts = parts(&up.body, boundary);
    assert_eq!(parts.len(), documented.fields.len() + 1);
    for ((headers, value), (name, want)) in parts.iter().zip(&documented.fields) {
        assert_eq!(
            headers,
            &format!("Content-Disposition: form-data; name=\"{name}\"")
        );
        assert_eq!(String::from_utf8_lossy(value), *want);
    }
    let (headers, data) = parts.last().unwrap();
    assert_eq!(
        headers,
        "Content-Disposition: form-data; name=\"file\"; filename=\"cat.jpeg\"\r\n\
         Content-Type: image/jpeg"
    );
    assert!(data == &content, "the file's bytes come last, unchanged");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_refused_upload_or_a_missing_file_is_a_typed_error() {
    let (form_url, _) = form_server(403).await;
    let replay = Replay::start().await;
    let client = client(&replay).await;
    let form = UploadForm::from_params(&format!("{form_url}?key=k")).unwrap();
    let (path, _) = temp_file("small.txt", 10);
    let err = client
        .upload_to_form(&form, &path, "small.txt", "text/plain")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RestError::Http { status: 403, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("PostResponse"), "{err}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();

    let missing = std::env::temp_dir().join("cc-storage-does-not-exist.bin");
    let err = client
        .upload_to_form(&form, &missing, "x", "text/plain")
        .await
        .unwrap_err();
    assert!(matches!(err, RestError::File { .. }), "{err:?}");
}

#[tokio::test]
async fn download_urls_use_the_api_and_the_session_token() {
    let replay = Replay::start().await;
    let client = client(&replay).await;
    let uid = "9ad79a5b8bb1430fbc4bbf7be6215cb700";
    assert_eq!(
        client.public_url(uid).unwrap().as_str(),
        format!("{}blobs/{uid}", replay.url)
    );
    assert_eq!(
        client.private_url(uid).unwrap().as_str(),
        format!("{}blobs/{uid}?token=token-1", replay.url)
    );
    client.set_token(None);
    assert!(matches!(
        client.private_url(uid),
        Err(RestError::InvalidRequest(_))
    ));
}
