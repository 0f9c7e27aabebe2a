//! System messages over chat.

use connectycube::protocol::event::ChatEvent;
use connectycube::protocol::model::CustomProperties;

use super::support::wait;
use super::two;

#[tokio::test]
async fn a_system_message_arrives_with_its_parameters_and_sender() {
    let mut t = two().await;
    let mut props = CustomProperties::new();
    props.insert("custom_param_1".into(), "value 1".into());
    t.alice
        .chat()
        .send_system_message(t.bob.user(), props.clone())
        .await
        .unwrap();
    let got = wait(&mut t.bob_events, |e| match e {
        ChatEvent::System(s) => Some((s.envelope.from.clone(), s.payload)),
        _ => None,
    })
    .await
    .unwrap();
    assert_eq!(got.1.properties(), &props);
    let from = got.0.unwrap();
    assert_eq!(
        connectycube::protocol::address::user_id_of(&from).unwrap(),
        t.alice.user()
    );
}
