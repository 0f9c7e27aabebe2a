//! Attachments: upload, attach, send with progress; the receiver's private URL.

use connectycube::FileProgress;
use connectycube::protocol::model::{AttachmentType, Message};

use super::{next_message, two};

#[tokio::test]
async fn send_file_uploads_attaches_sends_and_reports_each_step() {
    let mut t = two().await;
    let (mine, theirs) = t.private().await;
    let path = std::env::temp_dir().join(format!("cc-guide-{}.png", std::process::id()));
    std::fs::write(&path, b"\x89PNG not really").unwrap();
    let mut steps = Vec::new();
    let sent = mine
        .send_file(
            &path,
            "image/png",
            AttachmentType::Image,
            Message::new("pic"),
            |p| steps.push(p),
        )
        .await
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    let uid = sent.attachments[0].uid.clone().unwrap();
    assert_eq!(
        steps,
        [
            FileProgress::Created { uid: uid.clone() },
            FileProgress::Uploaded { bytes: 15 },
            FileProgress::Sent
        ]
    );
    let got = next_message(&mut t.bob_events).await;
    let attachment = &got.attachments[0];
    assert_eq!(attachment.uid.as_deref(), Some(uid.as_str()));
    assert_eq!(attachment.kind, AttachmentType::Image);
    let url = theirs.private_url(&uid).unwrap();
    let token = t.bob.rest().token().unwrap();
    assert!(
        url.contains(&uid) && url.ends_with(&format!("token={token}")),
        "{url}"
    );
    let stored = t.srv.store().blob_data(&uid).unwrap().unwrap();
    assert_eq!(
        stored, b"\x89PNG not really",
        "the file's content is in storage"
    );
}
