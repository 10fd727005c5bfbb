//! The OpenAPI document: served, 3.1, and listing exactly the routes the app registers; the
//! human docs page served from the binary.

use crate::cases;
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use std::collections::BTreeSet;

cases![
    document_lists_exactly_the_apps_routes,
    docs_page_needs_no_network,
    responses_are_held_to_the_document
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

/// `send` checks every body against the document; this checks the checker.
async fn responses_are_held_to_the_document(app: &TestApp) {
    use crate::support::contract::{matches_template, violations};
    use serde_json::json;
    assert!(matches_template("/a/{id}/b", "/a/x/b"));
    assert!(!matches_template("/a/{id}/b", "/a/x/y/b"));
    assert!(!matches_template("/a/{id}", "/a/"));
    let doc = json!({"components": {"schemas": {"N": {"type": ["integer", "null"]}}}});
    let schema = json!({
        "type": "object",
        "required": ["a", "n"],
        "properties": {
            "a": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
            "n": {"$ref": "#/components/schemas/N"},
            "o": {"oneOf": [{"type": "string"}, {"type": "boolean"}]}
        },
        "additionalProperties": false
    });
    assert!(violations(&doc, &schema, &json!({"a": ["x"], "n": null, "o": true})).is_empty());
    assert_eq!(
        violations(&doc, &schema, &json!({"a": ["z"], "n": 1})).len(),
        1
    );
    assert_eq!(
        violations(
            &doc,
            &schema,
            &json!({"a": [], "n": "1", "o": 2, "extra": 0})
        )
        .len(),
        3
    );
    assert_eq!(
        violations(&doc, &schema, &json!({"a": []})),
        ["$: `n` is missing"]
    );
    // The served document is the one the checker reads, and it types the publishing answers.
    let (_, served) = send(app.client.get(app.url("/api/openapi.json"))).await;
    let ok = &served["paths"]["/api/uploadposts/status"]["get"]["responses"]["200"];
    assert_eq!(
        ok["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/UploadStatus"
    );
}
