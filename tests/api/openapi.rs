//! The OpenAPI document: served, 3.1, and listing exactly the routes the app registers; the
//! human docs page served from the binary.

use crate::cases;
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use std::collections::BTreeSet;

cases![
    document_lists_exactly_the_apps_routes,
    docs_page_needs_no_network
];

async fn document_lists_exactly_the_apps_routes(app: &TestApp) {
    let (status, doc) = send(app.client.get(app.url("/api/openapi.json"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let registered = postgate::routes::registered_routes();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
    assert!(registered.len() >= 30, "{registered:?}");
    // Every API operation documents the error shape and how it authenticates.
    let create = &doc["paths"]["/api/uploadposts/users"]["post"];
    assert!(create["responses"]["401"].is_object());
    assert!(create["responses"]["409"].is_object());
    assert_eq!(create["security"][0]["apikey"], serde_json::json!([]));
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

async fn docs_page_needs_no_network(app: &TestApp) {
    let page = app.page("/api/docs/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("swagger"), "{}", page.body);
    for external in ["cdn.", "unpkg", "jsdelivr", "googleapis"] {
        assert!(!page.body.contains(external), "{external}");
    }
    let bundle = app.page("/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.body.len() > 100_000);
}
