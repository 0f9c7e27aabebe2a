//! Doors for the criterion benches in `benches/` to the crate-private delivery filter and
//! event hub. Behind the `bench-internals` feature, hidden from the docs: not an API.

use std::sync::Arc;

use connectycube_protocol::event::ChatEvent;

use crate::delivery::{Counters, DeliveryFilter, Verdict};
use crate::events::Received;
use crate::fanout::{Event, EventFilter, Hub, Subscription};
use crate::{DeliverySettings, DeliveryStats};

/// The client's duplicate and order filter with default settings.
#[derive(Debug)]
pub struct FilterBench {
    filter: DeliveryFilter,
    counters: Arc<Counters>,
}

impl Default for FilterBench {
    fn default() -> Self {
        let counters = Arc::new(Counters::default());
        let filter = DeliveryFilter::new(DeliverySettings::default(), counters.clone());
        Self { filter, counters }
    }
}

impl FilterBench {
    /// Feeds `event` to the filter; whether it would be shown.
    pub fn admit(&mut self, event: &ChatEvent) -> bool {
        matches!(self.filter.admit(event), Verdict::Show { .. })
    }

    /// What the filter counted so far.
    pub fn stats(&self) -> DeliveryStats {
        self.counters.snapshot()
    }
}

/// The client's event hub.
#[derive(Debug)]
pub struct HubBench(Arc<Hub>);

impl HubBench {
    /// A hub whose subscriptions queue `capacity` events each.
    pub fn new(capacity: usize) -> Self {
        Self(Arc::new(Hub::new(capacity)))
    }

    /// A subscription to every kind of event.
    pub fn subscribe(&self) -> Subscription {
        self.0.subscribe(EventFilter::ALL, false)
    }

    /// Hands `event` to every subscription (stored once, shared).
    pub fn publish(&self, event: Event) {
        // Only lagging subscriptions here: publishing never waits.
        let _ = futures_util::FutureExt::now_or_never(self.0.publish(event));
    }
}

/// `event` as the hub publishes it (live, in order).
pub fn chat_event(event: ChatEvent) -> Event {
    Event::Chat(Received {
        event,
        out_of_order: false,
        from_history: false,
    })
}
