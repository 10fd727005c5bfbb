//! Driving every route of the app's own route table, for the suites that must cover each one:
//! a route added tomorrow is probed the day it is added.

use super::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every registered route that reads its request (the metrics scrape and the API docs read
/// nothing from it).
pub fn probed_routes() -> Vec<(Method, String)> {
    let routes: Vec<(Method, String)> = postgate::routes::registered_routes()
        .into_iter()
        .filter(|(_, p)| p != "/metrics" && !p.starts_with("/api/docs"))
        .map(|(m, p)| (Method::from_bytes(m.as_bytes()).expect("a method"), p))
        .collect();
    assert!(routes.len() > 50, "the route table is read: {routes:?}");
    routes
}

/// `path` with each `{param}` replaced by `value(param)`, percent-encoded.
pub fn fill(path: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        let name = &rest[open + 1..close - 1];
        out.extend(url::form_urlencoded::byte_serialize(value(name).as_bytes()));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// Sends one request, with `body` as a form to the connect pages and as JSON elsewhere, and
/// fails the test on a 5xx; returns the status and the body's text.
pub async fn probe(
    app: &TestApp,
    method: &Method,
    path: &str,
    auth: &str,
    query: &[(String, String)],
    body: Option<&Value>,
) -> (StatusCode, String) {
    let mut req = app
        .client
        .request(method.clone(), app.url(path))
        .header("Authorization", auth)
        .query(query);
    if let Some(body) = body {
        req = if path.starts_with("/connect") {
            let form: Vec<(String, String)> = body
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect();
            req.form(&form)
        } else {
            req.json(body)
        };
    }
    let resp = req.send().await.expect("the server answers");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    assert!(
        !status.is_server_error(),
        "{method} {path} with query {query:?} and body {body:?} answered {status}: {text}"
    );
    (status, text)
}
