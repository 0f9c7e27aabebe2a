//! Attachments: upload, attach, send with progress; the receiver's private URL.

use connectycube::FileProgress;
use connectycube::protocol::model::{AttachmentType, Message};

use super::{next_message, two};

#[tokio::test]
async fn send_file_uploads_attaches_sends_and_reports_each_step() {
    let mut t = two().await;
    let (mine, theirs) = t.private().await;
    let path = std::env::temp_dir().join(format!("cc-guide-{}.png", std::process::id()));
    // Three 64 KiB chunks and a bit: progress in bytes between the steps.
    let content: Vec<u8> = b"\x89PNG not really"
        .iter()
        .copied()
        .cycle()
        .take(3 * 64 * 1024 + 100)
        .collect();
    std::fs::write(&path, &content).unwrap();
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
    let total = content.len() as u64;
    let uploading: Vec<u64> = steps
        .iter()
        .filter_map(|p| match p {
            FileProgress::Uploading { sent, total: t } if *t == total => Some(*sent),
            _ => None,
        })
        .collect();
    assert!(!uploading.is_empty(), "byte progress: {steps:?}");
    assert!(uploading.windows(2).all(|w| w[0] < w[1]), "{uploading:?}");
    assert!(uploading.iter().all(|s| *s <= total));
    let rest: Vec<_> = steps
        .iter()
        .filter(|p| !matches!(p, FileProgress::Uploading { .. }))
        .cloned()
        .collect();
    assert_eq!(
        rest,
        [
            FileProgress::Created { uid: uid.clone() },
            FileProgress::Uploaded { bytes: total },
            FileProgress::Sent
        ]
    );
    // Created first, every byte count before Uploaded.
    let first_uploading = steps
        .iter()
        .position(|p| matches!(p, FileProgress::Uploading { .. }));
    let uploaded = steps
        .iter()
        .position(|p| matches!(p, FileProgress::Uploaded { .. }));
    assert!(first_uploading > Some(0) && first_uploading < uploaded);
    let last_uploading = steps
        .iter()
        .rposition(|p| matches!(p, FileProgress::Uploading { .. }));
    assert!(last_uploading < uploaded);
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
    assert_eq!(stored, content, "the file's content is in storage");
}
