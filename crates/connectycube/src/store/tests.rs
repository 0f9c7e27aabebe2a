//! Both stores pass the same tests; the file store's own (schema, damage, restart) follow.

use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_protocol::model::{Dialog, DialogType, Message};
#[allow(unused_imports)]
use std::str::FromStr as _;

use super::*;

const ME: UserId = UserId(1);
const BOB: UserId = UserId(2);

fn caps(messages: usize, dialogs: usize) -> Caps {
    Caps {
        messages_per_dialog: messages,
        dialogs,
    }
}

fn dialog(n: u8, activity: i64) -> Dialog {
    let json = format!(
        r#"{{"_id":"{:024x}","type":3,"occupants_ids":[1,2],"last_message_date_sent":{activity}}}"#,
        n
    );
    let d: Dialog = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.kind, DialogType::Private);
    d
}

fn message(dialog: DialogId, from: UserId, at: i64, text: &str) -> Message {
    let mut m = Message::new(text);
    m.dialog_id = Some(dialog);
    m.sender_id = Some(from);
    m.date_sent = Some(at);
    m
}

#[cfg(feature = "sqlite")]
fn temp_path(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "cc-store-{}-{n}-{name}.sqlite3",
        std::process::id()
    ))
}

fn stores(messages: usize, dialogs: usize) -> Vec<Box<dyn Backend>> {
    vec![
        Box::new(memory::MemoryStore::new(caps(messages, dialogs))),
        #[cfg(feature = "sqlite")]
        Box::new(
            sqlite::SqliteStore::open(&temp_path("same"), caps(messages, dialogs))
                .unwrap_or_else(|e| panic!("{e}")),
        ),
    ]
}

type R = Result<(), StoreError>;

#[test]
fn dialogs_come_back_newest_first_and_the_oldest_are_evicted() -> R {
    for store in stores(10, 2) {
        store.put_dialogs(ME, &[dialog(1, 100), dialog(2, 300)])?;
        store.put_dialogs(ME, &[dialog(3, 200)])?;
        let kept: Vec<i64> = store
            .dialogs(ME, 10)?
            .iter()
            .filter_map(|d| d.last_message_date_sent)
            .collect();
        assert_eq!(kept, [300, 200], "{store:?}");
        assert!(store.dialogs(BOB, 10)?.is_empty(), "per owner");
    }
    Ok(())
}

#[test]
fn messages_are_kept_in_time_order_bounded_per_dialog() -> R {
    for store in stores(3, 10) {
        let d = dialog(1, 1).id;
        let batch: Vec<_> = [5, 1, 4, 2, 3]
            .iter()
            .map(|&t| (message(d, BOB, t, &t.to_string()), LocalStatus::Sent))
            .collect();
        store.put_messages(ME, &batch)?;
        let kept: Vec<i64> = store
            .messages(ME, d, 10)?
            .iter()
            .filter_map(|(m, _)| m.date_sent)
            .collect();
        assert_eq!(kept, [3, 4, 5], "the oldest went first: {store:?}");
        let last_two: Vec<i64> = store
            .messages(ME, d, 2)?
            .iter()
            .filter_map(|(m, _)| m.date_sent)
            .collect();
        assert_eq!(last_two, [4, 5]);
        assert_eq!(store.last_seen(ME)?, [(d, 5, batch[0].0.id)]);
        assert!(
            store.shown_before(ME, batch[0].0.id)?,
            "kept (5): {store:?}"
        );
        assert!(!store.shown_before(ME, batch[1].0.id)?, "evicted (1)");
        assert!(!store.shown_before(BOB, batch[0].0.id)?, "per owner");
    }
    Ok(())
}

/// A peer names a message's dialog: messages for ever new dialog ids keep at most
/// `max_dialogs` dialogs' worth, the quietest going first.
#[test]
fn messages_in_ever_new_dialogs_stay_bounded() -> R {
    for store in stores(10, 3) {
        let ids: Vec<DialogId> = (1..=50).map(|n| dialog(n, 0).id).collect();
        for (t, d) in ids.iter().enumerate() {
            let at = i64::try_from(t).unwrap_or(0);
            store.put_messages(ME, &[(message(*d, BOB, at, "spam"), LocalStatus::Sent)])?;
        }
        let kept: Vec<usize> = ids
            .iter()
            .map(|d| store.messages(ME, *d, 10).map(|m| m.len()))
            .collect::<Result<_, _>>()?;
        assert_eq!(kept.iter().sum::<usize>(), 3, "{store:?}");
        assert_eq!(&kept[47..], [1, 1, 1], "the newest three stay");
        assert_eq!(store.last_seen(ME)?.len(), 3);
    }
    Ok(())
}

#[test]
fn statuses_only_move_forward_and_flags_survive() -> R {
    for store in stores(10, 10) {
        let d = dialog(1, 1).id;
        let mut m = message(d, ME, 10, "mine");
        m.silent = true;
        let send = QueuedSend {
            message: m.clone(),
            target: SendTarget::User(BOB),
            status: LocalStatus::Queued,
            upload: None,
        };
        store.enqueue(ME, &send)?;
        store.enqueue(ME, &send)?;
        assert_eq!(
            store.queued(ME)?,
            std::slice::from_ref(&send),
            "once: {store:?}"
        );
        assert!(
            store.set_status(ME, m.id, &LocalStatus::Read)?.is_some(),
            "changed"
        );
        assert!(
            store.set_status(ME, m.id, &LocalStatus::Sent)?.is_none(),
            "not back"
        );
        let kept = store.messages(ME, d, 10)?;
        assert_eq!(
            kept[0].1,
            LocalStatus::Read,
            "a late ack does not undo the read"
        );
        assert!(kept[0].0.silent && kept[0].0.markable);
        assert!(
            store.last_seen(ME)?.is_empty(),
            "our own messages are not 'seen'"
        );
        assert!(
            !store.shown_before(ME, m.id)?,
            "a room echoes our own back: not a repeat"
        );
        store.dequeue(ME, m.id)?;
        assert!(store.queued(ME)?.is_empty());
    }
    Ok(())
}

#[test]
fn the_queue_keeps_send_order_whatever_settles_first() -> R {
    for store in stores(10, 10) {
        let d = dialog(1, 1).id;
        let sends: Vec<QueuedSend> = (0..5)
            .map(|i| QueuedSend {
                message: message(d, ME, 10 + i, &format!("m{i}")),
                target: SendTarget::User(BOB),
                status: LocalStatus::Queued,
                upload: None,
            })
            .collect();
        for send in &sends {
            store.enqueue(ME, send)?;
        }
        // Acks settle out of order (a room's reflection can come before a 1-1 ack).
        store.dequeue(ME, sends[2].message.id)?;
        store.dequeue(ME, sends[0].message.id)?;
        store.enqueue(ME, &sends[3])?;
        let left: Vec<_> = store
            .queued(ME)?
            .into_iter()
            .map(|q| q.message.id)
            .collect();
        let want: Vec<_> = [1, 3, 4].iter().map(|&i| sends[i].message.id).collect();
        assert_eq!(left, want, "in send order, each once: {store:?}");
        store.set_status(ME, sends[4].message.id, &LocalStatus::Failed("no".into()))?;
        assert_eq!(
            store.queued(ME)?[2].status,
            LocalStatus::Failed("no".into())
        );
    }
    Ok(())
}

#[test]
fn a_failed_send_can_be_edited_and_requeued() -> R {
    for store in stores(10, 10) {
        let d = dialog(1, 1).id;
        let mut send = QueuedSend {
            message: message(d, ME, 10, "typo"),
            target: SendTarget::Room(d),
            status: LocalStatus::Queued,
            upload: Some(PendingUpload {
                path: "/tmp/cat.jpg".into(),
                content_type: "image/jpeg".into(),
                kind: connectycube_protocol::model::AttachmentType::Image,
            }),
        };
        store.enqueue(ME, &send)?;
        store.set_status(ME, send.message.id, &LocalStatus::Failed("bounced".into()))?;
        assert_eq!(
            store.queued(ME)?[0].status,
            LocalStatus::Failed("bounced".into())
        );
        assert_eq!(
            store.queued(ME)?[0].upload,
            send.upload,
            "the pending upload is kept"
        );
        send.message.body = Some("fixed".into());
        send.upload = None;
        assert!(store.requeue(ME, &send)?);
        assert_eq!(store.queued(ME)?[0].upload, None, "uploaded");
        let queued = store.queued(ME)?;
        assert_eq!(
            (queued[0].message.body.as_deref(), &queued[0].status),
            (Some("fixed"), &LocalStatus::Queued)
        );
        assert_eq!(
            store.messages(ME, d, 1)?[0].0.body.as_deref(),
            Some("fixed")
        );
        let react = |m: &mut Message| m.body = Some("edited".into());
        assert!(store.update_message(ME, send.message.id, &react)?);
        assert_eq!(
            store.messages(ME, d, 1)?[0].0.body.as_deref(),
            Some("edited")
        );
        assert!(
            !store.update_message(BOB, send.message.id, &react)?,
            "per owner"
        );
        store.remove_message(ME, send.message.id)?;
        assert!(store.messages(ME, d, 1)?.is_empty(), "deleted");
    }
    Ok(())
}

#[test]
fn identities_map_to_users() -> R {
    for store in stores(10, 10) {
        assert_eq!(store.user_of("login:ann")?, None);
        store.set_user_of("login:ann", ME)?;
        assert_eq!(store.user_of("login:ann")?, Some(ME));
    }
    Ok(())
}

#[cfg(feature = "sqlite")]
mod file {
    use super::*;

    fn open(path: &std::path::Path) -> Result<sqlite::SqliteStore, StoreError> {
        sqlite::SqliteStore::open(path, caps(10, 10))
    }

    #[test]
    fn what_was_written_is_there_after_reopening() -> R {
        let path = temp_path("reopen");
        let d = dialog(1, 1).id;
        let m = message(d, BOB, 7, "kept");
        {
            let store = open(&path)?;
            store.put_dialogs(ME, &[dialog(1, 7)])?;
            store.put_messages(ME, &[(m.clone(), LocalStatus::Sent)])?;
        }
        let store = open(&path)?;
        assert_eq!(store.dialogs(ME, 10)?.len(), 1);
        assert_eq!(store.messages(ME, d, 10)?, [(m, LocalStatus::Sent)]);
        Ok(())
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_alone() -> R {
        let path = temp_path("newer");
        drop(open(&path)?);
        let conn = rusqlite::Connection::open(&path)?;
        conn.pragma_update(None, "user_version", 99)?;
        drop(conn);
        match open(&path) {
            Err(StoreError::NewerVersion {
                found: 99,
                supported: 1,
                ..
            }) => {}
            other => panic!("expected NewerVersion, got {other:?}"),
        }
        let conn = rusqlite::Connection::open(&path)?;
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        assert_eq!(v, 99, "not wiped");
        Ok(())
    }

    #[test]
    fn a_damaged_or_foreign_file_is_a_typed_error() -> R {
        let garbage = temp_path("garbage");
        std::fs::write(&garbage, vec![0x5a; 8192]).map_err(|e| StoreError::Corrupt {
            path: garbage.clone(),
            reason: e.to_string(),
        })?;
        assert!(
            matches!(open(&garbage), Err(StoreError::Corrupt { .. })),
            "not SQLite"
        );
        let foreign = temp_path("foreign");
        rusqlite::Connection::open(&foreign)?.execute_batch("CREATE TABLE notes (t TEXT)")?;
        let err = open(&foreign).err();
        assert!(matches!(err, Some(StoreError::Corrupt { .. })), "{err:?}");
        Ok(())
    }

    #[test]
    fn migrations_run_once_each_in_order() -> R {
        let path = temp_path("steps");
        let mut conn = rusqlite::Connection::open(&path)?;
        let steps = ["CREATE TABLE a (x)", "INSERT INTO a VALUES (1)"];
        schema::migrate(&mut conn, &path, &steps[..1])?;
        schema::migrate(&mut conn, &path, &steps)?;
        schema::migrate(&mut conn, &path, &steps)?;
        let rows: i64 = conn.query_row("SELECT count(*) FROM a", [], |r| r.get(0))?;
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        assert_eq!((rows, v), (1, 2), "the second step ran once");
        Ok(())
    }
}
