//! Misbehaviour of one route's answers, for testing a client against a broken or hostile
//! server ([`RestState::inject_route_fault`]), and a count of the requests each route
//! served ([`RestState::served`]), for testing how many a client makes.

use std::collections::HashMap;
use std::sync::Mutex;

use http::StatusCode;

use super::reply::Reply;
use super::{ApiError, RestState};

/// How an answer misbehaves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestFault {
    /// Every matching item, whatever the request's `limit` (its `skip` still applies): a
    /// server that ignores the page size (the history and dialog lists).
    IgnoreLimit,
    /// `200` with a body that is not JSON.
    MalformedJson,
    /// `200` with a JSON body of this many bytes (an empty page padded with spaces).
    Oversized(usize),
    /// This error status, as [`RestState::fail_next_requests_with`] answers it.
    Status(StatusCode),
}

/// A fault armed for some requests to one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFault {
    route: String,
    fault: RestFault,
    after: u32,
    times: u32,
}

impl RouteFault {
    /// `fault` on the next request to `route`, an endpoint's name as the REST crate declares
    /// it (`"ListMessages"`, `"ListDialogs"`).
    pub fn new(route: &str, fault: RestFault) -> Self {
        Self {
            route: route.to_owned(),
            fault,
            after: 0,
            times: 1,
        }
    }

    /// Lets the first `n` requests to the route through untouched.
    #[must_use]
    pub fn after(mut self, n: u32) -> Self {
        self.after = n;
        self
    }

    /// Misbehaves on `n` requests (then the route answers normally again).
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
}

/// The armed faults and the counts.
#[derive(Debug, Default)]
pub(crate) struct RouteFaults {
    armed: Mutex<Vec<RouteFault>>,
    served: Mutex<HashMap<String, u64>>,
}

/// Faults armed at once, at most (a test arms a few).
const MAX_ARMED: usize = 64;

impl RouteFaults {
    fn arm(&self, fault: RouteFault) {
        if let Ok(mut armed) = self.armed.lock() {
            if armed.len() >= MAX_ARMED {
                armed.remove(0);
            }
            armed.push(fault);
        }
    }

    fn clear(&self) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.clear();
        }
    }

    /// Counts a request to `route` and takes the fault it meets, if any.
    pub(crate) fn on_request(&self, route: &str) -> Option<RestFault> {
        if let Ok(mut served) = self.served.lock() {
            *served.entry(route.to_owned()).or_default() += 1;
        }
        let mut armed = self.armed.lock().ok()?;
        let i = armed.iter().position(|f| f.route == route)?;
        let f = &mut armed[i];
        if f.after > 0 {
            f.after -= 1;
            return None;
        }
        let fault = f.fault.clone();
        f.times = f.times.saturating_sub(1);
        if f.times == 0 {
            armed.remove(i);
        }
        Some(fault)
    }

    fn served(&self, route: &str) -> u64 {
        self.served
            .lock()
            .ok()
            .and_then(|s| s.get(route).copied())
            .unwrap_or(0)
    }
}

/// The answer a fault replaces the route's with; `None` for [`RestFault::IgnoreLimit`],
/// which the route's handler applies.
pub(crate) fn answer(fault: &RestFault) -> Option<Result<Reply, ApiError>> {
    let json = |body: Vec<u8>| Reply::Bytes {
        status: StatusCode::OK,
        content_type: "application/json".into(),
        body,
    };
    match fault {
        RestFault::IgnoreLimit => None,
        RestFault::MalformedJson => Some(Ok(json(b"{\"items\": [{\"_id\": ".to_vec()))),
        RestFault::Oversized(bytes) => {
            let mut body = b"{\"items\": []".to_vec();
            body.resize((*bytes).max(body.len() + 1) - 1, b' ');
            body.push(b'}');
            Some(Ok(json(body)))
        }
        RestFault::Status(status) => Some(Err(ApiError::injected(*status))),
    }
}

impl RestState {
    /// Arms `fault`: the requests it names answer as it says (a malformed or oversized
    /// body, an error status, a page that ignores its limit).
    ///
    /// ```
    /// use connectycube_devserver::rest::{RestFault, RouteFault};
    ///
    /// // The second history request answers a body that is not JSON.
    /// let fault = RouteFault::new("ListMessages", RestFault::MalformedJson).after(1);
    /// # let _ = fault;
    /// ```
    pub fn inject_route_fault(&self, fault: RouteFault) {
        self.route_faults.arm(fault);
    }

    /// Disarms every route fault.
    pub fn clear_route_faults(&self) {
        self.route_faults.clear();
    }

    /// How many requests `route` (an endpoint's name, `"ListMessages"`) was asked since the
    /// server started, faulted ones included.
    pub fn served(&self, route: &str) -> u64 {
        self.route_faults.served(route)
    }
}
