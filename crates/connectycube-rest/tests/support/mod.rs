//! Checks an endpoint value against a documented exchange in `fixtures/http/`.

#![allow(dead_code, clippy::unwrap_used)]

pub mod replay;

use std::collections::BTreeMap;

use connectycube_fixtures::HttpFixture;
use connectycube_rest::endpoint::Endpoint;

/// Asserts that `endpoint` builds exactly the fixture's request (method, path, query, body).
#[track_caller]
pub fn assert_request<E: Endpoint>(endpoint: &E, fixture: &HttpFixture) {
    let req = &fixture.request;
    assert_eq!(
        endpoint.method().as_str(),
        req.method,
        "method ({})",
        fixture.doc
    );
    assert_eq!(endpoint.path(), req.path, "path ({})", fixture.doc);
    let query = query_map(endpoint.query().pairs());
    assert_eq!(query, req.query, "query ({})", fixture.doc);
    assert_eq!(endpoint.body().unwrap(), req.body, "body ({})", fixture.doc);
}

/// Query pairs as the fixtures write them: a map, a repeated key's values comma-joined
/// (`id[in][]=1&id[in][]=2` is `"id[in][]": "1,2"`).
pub fn query_map<K: Into<String>>(
    pairs: impl Iterator<Item = (K, String)>,
) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k.into())
            .and_modify(|old| {
                old.push(',');
                old.push_str(&v);
            })
            .or_insert(v);
    }
    map
}

/// Decodes the fixture's response body into the endpoint's response type.
#[track_caller]
pub fn decode<E: Endpoint>(fixture: &HttpFixture) -> E::Response {
    let bytes = fixture.response.body_bytes();
    let bytes = if bytes.is_empty() {
        b"null".to_vec()
    } else {
        bytes
    };
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("response of {} does not decode: {e}", fixture.doc))
}
