//! What the client does when the connection changes state: tell every subscriber, and after
//! a new session (not a resumed one) rejoin the rooms and fill the gaps.

use std::sync::Arc;

use connectycube_transport::session::ConnectionState;
use futures_util::{Stream, StreamExt};

use crate::ChatClient;
use crate::fanout::{Event, Hub};

/// Runs until the states end or the hub ends (the client's event task is gone).
pub(crate) async fn run<S>(states: S, hub: Arc<Hub>, client: ChatClient)
where
    S: Stream<Item = ConnectionState>,
{
    let mut states = std::pin::pin!(states);
    loop {
        let state = tokio::select! {
            s = states.next() => s,
            () = hub.ended() => None,
        };
        let Some(state) = state else { return };
        match state {
            ConnectionState::Reconnecting => client.went_offline(),
            ConnectionState::Resumed => client.resumed(),
            ConnectionState::ForceClosed | ConnectionState::Closed => client.closed(),
            ConnectionState::NewSession => {
                client.rejoin();
                client.fill_gaps();
            }
            _ => {}
        }
        hub.publish(&Event::State(state));
    }
}
