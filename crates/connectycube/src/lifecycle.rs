//! What the client does when the connection changes state: after a new session (not a
//! resumed one) rejoin the rooms and fill the gaps. (The event task tells the subscribers,
//! in order with the stanzas.)

use std::sync::Arc;

use connectycube_transport::session::ConnectionState;
use futures_util::{Stream, StreamExt};

use crate::ChatClient;
use crate::fanout::Hub;

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
    }
}
