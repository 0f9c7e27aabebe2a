//! Join outcomes from room presences, and what a new session rejoins (no server).

use connectycube_protocol::classify_xml;

use super::*;

const DIALOG: &str = "5c093376e588ce6856f873fe";

fn dialog() -> DialogId {
    DIALOG.parse().unwrap()
}

fn self_presence(kind: Option<&str>, codes: &[&str]) -> String {
    let kind = kind.map(|k| format!(" type='{k}'")).unwrap_or_default();
    let codes: String = codes
        .iter()
        .map(|c| format!("<status code='{c}'/>"))
        .collect();
    format!(
        "<presence xmlns='jabber:client'{kind} from='105_{DIALOG}@muc.chat.connectycube.com/29086'
           to='29086-105@chat.connectycube.com/a'>
           <x xmlns='http://jabber.org/protocol/muc#user'>
           <item affiliation='member' role='participant'/>{codes}</x></presence>"
    )
}

#[tokio::test]
async fn the_rooms_own_presence_completes_the_join() {
    let rooms = Rooms::default();
    let outcome = rooms.expect_join(dialog());
    // Another occupant's presence does not count.
    let other = classify_xml(&self_presence(None, &[]).replace("/29086'", "/29085'")).unwrap();
    rooms.on_event(&other);
    assert!(!rooms.is_joined(dialog()));
    rooms.on_event(&classify_xml(&self_presence(None, &["110"])).unwrap());
    assert!(outcome.await.unwrap().is_ok());
    assert!(rooms.is_joined(dialog()));
}

#[tokio::test]
async fn an_error_presence_fails_the_join_with_the_rooms_condition() {
    let rooms = Rooms::default();
    let outcome = rooms.expect_join(dialog());
    let error: Element = format!(
        "<presence xmlns='jabber:client' type='error'
           from='105_{DIALOG}@muc.chat.connectycube.com/29086' to='29086-105@chat.connectycube.com/a'>
           <error code='407' type='auth'>
           <registration-required xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
    )
    .parse()
    .unwrap();
    rooms.on_stanza(&error);
    let Err(JoinError::Refused { dialog: d, error }) = outcome.await.unwrap() else {
        panic!("not refused")
    };
    assert_eq!(d, dialog());
    assert_eq!(error.condition.as_deref(), Some("registration-required"));
    assert!(rooms.wanted().is_empty(), "a refused room is not rejoined");
}

#[test]
fn a_new_session_rejoins_every_wanted_room_until_left_or_kicked() {
    let rooms = Rooms::default();
    assert!(rooms.want(dialog()), "first want: send the join");
    assert!(!rooms.want(dialog()), "already under way");
    rooms.on_event(&classify_xml(&self_presence(None, &["110"])).unwrap());
    assert_eq!(rooms.new_session(), [dialog()]);
    assert!(!rooms.is_joined(dialog()), "a new session is in no room");
    rooms.on_event(&classify_xml(&self_presence(None, &["110"])).unwrap());
    let kicked = self_presence(Some("unavailable"), &["301", "110"]);
    rooms.on_event(&classify_xml(&kicked).unwrap());
    assert!(rooms.new_session().is_empty());
}

#[tokio::test]
async fn a_drop_leaves_the_room_pending_until_resumed_rejoined_or_closed() {
    let rooms = Rooms::default();
    let joined = rooms.expect_join(dialog());
    let own = classify_xml(&self_presence(None, &["110"])).unwrap();
    rooms.on_event(&own);
    joined.await.unwrap().unwrap();
    assert!(rooms.settled(dialog()).is_none(), "nothing to wait for");

    // Resumed: still in the room.
    rooms.went_offline();
    assert!(!rooms.is_joined(dialog()));
    let settled = rooms.settled(dialog()).unwrap();
    rooms.resumed();
    assert!(settled.await.unwrap().is_ok());
    assert!(rooms.is_joined(dialog()));

    // A new session: pending until the rejoin's self-presence.
    rooms.went_offline();
    assert_eq!(rooms.new_session(), [dialog()]);
    let settled = rooms.settled(dialog()).unwrap();
    rooms.on_event(&own);
    assert!(settled.await.unwrap().is_ok());
    assert!(rooms.is_joined(dialog()));

    // Given up: the waiting joins fail at once, and nothing counts as joined.
    rooms.went_offline();
    let settled = rooms.settled(dialog()).unwrap();
    rooms.closed();
    assert!(matches!(
        settled.await.unwrap(),
        Err(JoinError::Send(SendError::Closed))
    ));
    assert!(!rooms.is_joined(dialog()) && rooms.settled(dialog()).is_none());
}
