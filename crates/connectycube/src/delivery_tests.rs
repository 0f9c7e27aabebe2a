//! The duplicate and order filter over classified stanzas (no server).

use connectycube_protocol::classify_xml;
use connectycube_protocol::ids::ObjectId;

use super::*;

const DIALOG: &str = "5c093376e588ce6856f873fe";

/// An id of sending process `process` with counter `counter`.
fn id(process: u8, counter: u32) -> String {
    ObjectId::from_parts(1_700_000_000, [process; 5], counter).to_string()
}

fn message(id: &str, dialog: &str) -> ChatEvent {
    classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{id}" from="29085-105@chat.connectycube.com/phone"
             to="29086-105@chat.connectycube.com" type="chat"><body>hi</body>
           <extraParams xmlns="jabber:client"><dialog_id>{dialog}</dialog_id></extraParams>
           <markable xmlns="urn:xmpp:chat-markers:0"/></message>"#
    ))
    .unwrap()
}

fn marker(kind: &str, of: &str, from: &str) -> ChatEvent {
    classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{}" from="{from}@chat.connectycube.com/a"
             to="29086-105@chat.connectycube.com" type="chat">
           <{kind} xmlns="urn:xmpp:chat-markers:0" id="{of}"/>
           <extraParams xmlns="jabber:client"><dialog_id>{DIALOG}</dialog_id></extraParams>
           </message>"#,
        id(9, 1)
    ))
    .unwrap()
}

fn edit(stanza: &str, of: &str, body: &str) -> ChatEvent {
    classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{stanza}" from="29085-105@chat.connectycube.com/a"
             to="29086-105@chat.connectycube.com" type="chat"><body>{body}</body>
           <replace id="{of}" xmlns="urn:xmpp:message-correct:0"/>
           <extraParams xmlns="jabber:client"><dialog_id>{DIALOG}</dialog_id></extraParams>
           </message>"#
    ))
    .unwrap()
}

fn delete(of: &str) -> ChatEvent {
    classify_xml(&format!(
        r#"<message xmlns="jabber:client" id="{}" from="29085-105@chat.connectycube.com/a"
             to="29086-105@chat.connectycube.com" type="chat">
           <remove id="{of}" xmlns="urn:xmpp:message-delete:0"/>
           <extraParams xmlns="jabber:client"><dialog_id>{DIALOG}</dialog_id></extraParams>
           </message>"#,
        id(8, 1)
    ))
    .unwrap()
}

fn filter(settings: DeliverySettings) -> (DeliveryFilter, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    (DeliveryFilter::new(settings, counters.clone()), counters)
}

const SHOW: Verdict = Verdict::Show {
    out_of_order: false,
};

#[test]
fn a_replayed_message_marker_edit_or_delete_is_dropped_and_counted() {
    let (mut f, counters) = filter(DeliverySettings::default());
    let m = id(1, 10);
    let events = [
        message(&m, DIALOG),
        marker("received", &m, "29085-105"),
        marker("displayed", &m, "29085-105"),
        edit(&id(1, 11), &m, "fixed"),
        delete(&m),
    ];
    for e in &events {
        assert_eq!(f.admit(e), SHOW, "{}", e.kind());
    }
    // The server replays them all (after a resumption, or as offline storage).
    for e in &events {
        assert_eq!(f.admit(e), Verdict::Duplicate, "{}", e.kind());
    }
    assert_eq!(counters.snapshot().duplicates_dropped, 5);
}

#[test]
fn the_same_id_is_not_a_duplicate_of_another_kind_sender_or_dialog() {
    let (mut f, _) = filter(DeliverySettings::default());
    let m = id(1, 10);
    assert_eq!(f.admit(&message(&m, DIALOG)), SHOW);
    // Every occupant marks the same message: each marker counts.
    assert_eq!(f.admit(&marker("received", &m, "1-105")), SHOW);
    assert_eq!(f.admit(&marker("received", &m, "2-105")), SHOW);
    // Two edits of one message are two events.
    assert_eq!(f.admit(&edit(&id(1, 11), &m, "a")), SHOW);
    assert_eq!(f.admit(&edit(&id(1, 12), &m, "b")), SHOW);
    assert_eq!(f.admit(&message(&m, "5c093376e588ce6856f873ff")), SHOW);
}

#[test]
fn memory_is_a_bounded_window_per_dialog() {
    let settings = DeliverySettings::default().with_dedupe_window(4);
    let (mut f, _) = filter(settings);
    let first = id(1, 1);
    assert_eq!(f.admit(&message(&first, DIALOG)), SHOW);
    for c in 2..=4 {
        f.admit(&message(&id(1, c), DIALOG));
    }
    assert_eq!(f.admit(&message(&first, DIALOG)), Verdict::Duplicate);
    f.admit(&message(&id(1, 5), DIALOG));
    f.admit(&message(&id(1, 6), DIALOG));
    // Pushed out of the id window; the sender's counter window still knows it.
    assert_eq!(f.admit(&message(&first, DIALOG)), Verdict::Duplicate);
    // A marker has no counter window: pushed out, it is shown again.
    let m = marker("received", &first, "29085-105");
    assert_eq!(f.admit(&m), SHOW);
    for c in 10..20 {
        f.admit(&message(&id(1, c), DIALOG));
    }
    assert_eq!(f.admit(&m), SHOW, "forgotten");
    assert!(
        f.dialogs
            .values()
            .all(|d| d.order.len() <= 4 && d.seen.len() <= 4)
    );
}

#[test]
fn dialogs_beyond_the_limit_forget_the_least_recently_used() {
    let settings = DeliverySettings::default().with_max_dialogs(2);
    let (mut f, _) = filter(settings);
    let dialogs = [id(7, 1), id(7, 2), id(7, 3)];
    let m = id(1, 1);
    f.admit(&message(&m, &dialogs[0]));
    f.admit(&message(&m, &dialogs[1]));
    f.admit(&message(&m, &dialogs[2]));
    assert_eq!(f.dialogs.len(), 2);
    assert_eq!(f.admit(&message(&m, &dialogs[2])), Verdict::Duplicate);
    assert_eq!(f.admit(&message(&m, &dialogs[0])), SHOW, "forgotten");
}

#[test]
fn an_older_id_from_the_same_process_is_flagged_out_of_order() {
    let (mut f, counters) = filter(DeliverySettings::default());
    assert_eq!(f.admit(&message(&id(1, 10), DIALOG)), SHOW);
    assert_eq!(f.admit(&message(&id(1, 12), DIALOG)), SHOW);
    assert_eq!(
        f.admit(&message(&id(1, 11), DIALOG)),
        Verdict::Show { out_of_order: true }
    );
    // Another process's ids say nothing about this one's order.
    assert_eq!(f.admit(&message(&id(2, 1), DIALOG)), SHOW);
    assert_eq!(f.admit(&message(&id(1, 13), DIALOG)), SHOW);
    assert_eq!(counters.snapshot().out_of_order, 1);
}

#[test]
fn the_counter_wraps_without_false_alarms() {
    let (mut f, _) = filter(DeliverySettings::default());
    assert_eq!(f.admit(&message(&id(1, 0x00ff_fffe), DIALOG)), SHOW);
    assert_eq!(f.admit(&message(&id(1, 0x00ff_ffff), DIALOG)), SHOW);
    assert_eq!(f.admit(&message(&id(1, 0), DIALOG)), SHOW);
    assert_eq!(
        f.admit(&message(&id(1, 0x00ff_ffff - 5), DIALOG)),
        Verdict::Show { out_of_order: true }
    );
}

#[test]
fn typing_and_presences_always_pass() {
    let (mut f, counters) = filter(DeliverySettings::default());
    let typing = classify_xml(
        r#"<message xmlns="jabber:client" from="29085-105@chat.connectycube.com/a" type="chat">
           <composing xmlns="http://jabber.org/protocol/chatstates"/></message>"#,
    )
    .unwrap();
    assert_eq!(f.admit(&typing), SHOW);
    assert_eq!(f.admit(&typing), SHOW);
    assert_eq!(counters.snapshot(), DeliveryStats::default());
}

#[test]
fn thousands_of_copies_rerouted_after_a_closed_session_are_all_dropped() {
    let (mut f, counters) = filter(DeliverySettings::default());
    let ids: Vec<String> = (0..6_000).map(|c| id(1, c)).collect();
    for m in &ids {
        assert_eq!(f.admit(&message(m, DIALOG)), SHOW);
    }
    // ejabberd routes a closed session's queue (up to max_ack_queue, 5,000) again.
    for m in &ids[500..] {
        assert_eq!(f.admit(&message(m, DIALOG)), Verdict::Duplicate);
    }
    assert_eq!(counters.snapshot().duplicates_dropped, 5_500);
}
