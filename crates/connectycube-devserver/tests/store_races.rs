//! Store-level races: threads marking one message at once (each marker a read-modify-write of
//! its row) and changing one dialog at once keep every change. Without one transaction per
//! read-modify-write these lose most of their updates.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

use connectycube_devserver::store::{Dialog, NewMessage, Store, StoreError, dialog_type};
use connectycube_protocol::ids::UserId;

const PER_THREAD: u64 = 150;

#[test]
fn markers_from_many_threads_on_one_message_lose_none() {
    let store = Store::in_memory().unwrap();
    let mut d = Dialog::new(1, dialog_type::GROUP, UserId(1));
    d.occupants = vec![UserId(1)];
    store.put_dialog(&d).unwrap();
    // Some history, so a marker that re-read the dialog had a window to lose a write in.
    for i in 0..200 {
        let mut m = NewMessage::new(d.id, UserId(1));
        m.body = Some(format!("m{i}"));
        store.save_message(&m).unwrap();
    }
    let id = store
        .save_message(&NewMessage::new(d.id, UserId(1)))
        .unwrap()
        .id;
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    let user = UserId(1_000 * (t + 1) + i);
                    // Even threads mark delivered (the chat's marker), odd ones read (REST).
                    if t % 2 == 0 {
                        store.mark_message(id, user, false).unwrap();
                    } else {
                        store.mark_read(d.id, Some(&[id]), user).unwrap();
                    }
                }
            });
        }
    });
    let m = store.message(id).unwrap().unwrap();
    // The sender, and every marker of the four threads.
    assert_eq!(m.delivered_ids.len() as u64, 1 + 4 * PER_THREAD);
    assert_eq!(m.read_ids.len() as u64, 1 + 2 * PER_THREAD);
}

#[test]
fn dialog_changes_from_many_threads_lose_none() {
    let store = Store::in_memory().unwrap();
    let mut d = Dialog::new(1, dialog_type::GROUP, UserId(1));
    d.occupants = vec![UserId(1)];
    store.put_dialog(&d).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    store
                        .modify_dialog(d.id, |d| {
                            d.occupants.push(UserId(1_000 * (t + 1) + i));
                            Ok::<_, StoreError>(())
                        })
                        .unwrap();
                }
            });
        }
    });
    let stored = store.dialog(d.id).unwrap().unwrap();
    assert_eq!(stored.occupants.len() as u64, 1 + 4 * PER_THREAD);
}

#[test]
fn a_pairs_private_dialog_made_from_many_threads_is_one_dialog() {
    let store = Store::in_memory().unwrap();
    let pairs = 300u64;
    let made: Vec<Vec<_>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                s.spawn(move || {
                    (0..pairs)
                        .map(|i| {
                            // Either side may write first.
                            let (a, b) = (UserId(1_000 + i), UserId(5_000 + i));
                            let (a, b) = if t % 2 == 0 { (a, b) } else { (b, a) };
                            store.private_dialog(1, a, b).unwrap().id
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for i in 0..pairs as usize {
        assert!(made.iter().all(|m| m[i] == made[0][i]), "pair {i}");
    }
}
