//! `/api/uploadposts/users`: create, list, read, delete.

use crate::support::{TestApp, send, usernames};
use crate::{assert_wire, cases};
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    create_returns_201_with_the_profile,
    create_twice_is_409,
    create_refuses_bad_usernames,
    create_refuses_bad_bodies,
    create_is_lenient_about_content_type_and_unknown_fields,
    create_stores_name_external_id_and_metadata,
    list_returns_plan_limit_and_every_profile,
    list_pages_on_request,
    get_one_returns_the_profile,
    get_one_unknown_is_404,
    get_one_decodes_percent_encoded_names,
    delete_removes_the_profile,
    delete_errors,
    tenants_never_see_each_other,
];

async fn create_returns_201_with_the_profile(app: &TestApp) {
    let (status, body) = app.create_profile("u123").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["profile"]["social_accounts"]["tiktok"], "");
    assert_eq!(
        body["profile"]["social_accounts"]
            .as_object()
            .unwrap()
            .len(),
        11
    );
    let created_at = body["profile"]["created_at"].as_str().unwrap();
    assert!(created_at.ends_with(" GMT"), "{created_at}");
    assert_eq!(body["profile"]["id"].as_str().unwrap().len(), 11);
    assert_wire!("create_201", status, body);
}

async fn create_twice_is_409(app: &TestApp) {
    assert_eq!(app.create_profile("dup").await.0, StatusCode::CREATED);
    let (status, body) = app.create_profile("dup").await;
    assert_wire!("create_409", status, body);
    // Case-sensitive: a different name.
    assert_eq!(app.create_profile("Dup").await.0, StatusCode::CREATED);
}

async fn create_refuses_bad_usernames(app: &TestApp) {
    let long = "x".repeat(101);
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "username is required"),
        (json!({"username": null}), "username is required"),
        (json!({"username": ""}), "must not be empty"),
        (json!({"username": 42}), "must be a string"),
        (json!({"username": ["a"]}), "must be a string"),
        (json!({"username": {"a": 1}}), "must be a string"),
        (json!({"username": true}), "must be a string"),
        (json!({"username": long}), "at most 100"),
        (json!({"username": " padded"}), "whitespace"),
        (json!({"username": "tab\t"}), "whitespace"),
        (json!({"username": "a\u{1b}[31mb"}), "control"),
        (json!({"username": "a\u{202e}b"}), "control"),
        (json!({"username": "a/b"}), "'/'"),
        (json!({"username": "generate-jwt"}), "reserved"),
        (json!({"username": "preferences"}), "reserved"),
        (json!({"username": ".."}), "reserved"),
    ];
    for (body, needle) in cases {
        let (status, resp) = send(app.post("/users", &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(resp["success"], false);
        assert_eq!(resp["error_code"], "INVALID_USERNAME", "{body}");
        let message = resp["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    // NUL is refused for every member before any field is read.
    let (status, resp) = send(app.post("/users", &json!({"username": "a\u{0}b"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(resp["error_code"], "INVALID_TEXT");
    assert_eq!(resp["message"], "username must not contain NUL bytes");
    let (status, body) = send(app.post("/users", &json!({}))).await;
    assert_wire!("create_400_missing_username", status, body);
    // Exactly 100 characters (not bytes) is fine.
    assert_eq!(
        app.create_profile(&"é".repeat(100)).await.0,
        StatusCode::CREATED
    );
    // Nothing half-written: only the default profile and the one above exist.
    let (_, list) = send(app.get("/users")).await;
    assert_eq!(list["profiles"].as_array().unwrap().len(), 2);
}

async fn create_refuses_bad_bodies(app: &TestApp) {
    let raw = |body: Vec<u8>| {
        app.with_key(app.client.post(app.api("/users")), &app.api_key)
            .header("Content-Type", "application/json")
            .body(body)
    };
    let (status, body) = send(raw(b"{\"username\": ".to_vec())).await;
    assert_wire!("create_400_invalid_json", status, body);
    let (status, body) = send(raw(b"[\"u1\"]".to_vec())).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_JSON"))
    );
    let (status, body) = send(raw(vec![0xff, 0xfe, 0x00])).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_JSON"))
    );
    // No body at all reads as an empty object.
    let (status, body) = send(raw(Vec::new())).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_USERNAME"))
    );
    // Huge bodies are refused before they are read.
    let huge = format!("{{\"username\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let (status, body) = send(raw(huge.into_bytes())).await;
    assert_wire!("create_413", status, body);
    // Also when streamed without a Content-Length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 4096])).collect();
    let stream = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let (status, _) = send(
        app.with_key(app.client.post(app.api("/users")), &app.api_key)
            .body(stream),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

async fn create_is_lenient_about_content_type_and_unknown_fields(app: &TestApp) {
    for (i, content_type) in ["text/plain", "application/x-www-form-urlencoded", ""]
        .iter()
        .enumerate()
    {
        let mut req = app
            .with_key(app.client.post(app.api("/users")), &app.api_key)
            .body(format!(
                "{{\"username\": \"ct{i}\", \"unknown_field\": [1, 2]}}"
            ));
        if !content_type.is_empty() {
            req = req.header("Content-Type", *content_type);
        }
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::CREATED, "{content_type}: {body}");
        assert_eq!(body["profile"]["username"], format!("ct{i}"));
        assert!(body["profile"].get("unknown_field").is_none());
    }
}

async fn create_stores_name_external_id_and_metadata(app: &TestApp) {
    let metadata = json!({"tier": "gold", "a": [1, 2.5, {"deep": null}], "0": true});
    let (status, body) = send(app.post(
        "/users",
        &json!({"username": "ext", "name": "Alice's Brand", "external_id": "user-42", "metadata": metadata}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_wire!("create_201_extensions", status, body);
    let (_, got) = send(app.get("/users/ext")).await;
    // Returned exactly as stored, key order included.
    assert_eq!(
        serde_json::to_string(&got["profile"]["metadata"]).unwrap(),
        serde_json::to_string(&metadata).unwrap()
    );
    let (status, body) = send(app.post(
        "/users",
        &json!({"username": "ext2", "external_id": "user-42"}),
    ))
    .await;
    assert_wire!("create_409_external_id", status, body);
    let (status, body) = send(app.post("/users", &json!({"username": "x", "metadata": 1}))).await;
    assert_wire!("create_400_invalid_field", status, body);
    for (field, value) in [
        ("metadata", json!([1])),
        ("metadata", json!("text")),
        ("metadata", json!({"big": "x".repeat(17 * 1024)})),
        ("name", json!(7)),
        ("name", json!("")),
        ("external_id", json!("x".repeat(256))),
    ] {
        let (status, body) =
            send(app.post("/users", &json!({"username": "bad-field", field: value}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}");
        assert_eq!(body["error_code"], "INVALID_FIELD");
        assert!(body["message"].as_str().unwrap().contains(field));
    }
    assert_eq!(
        send(app.get("/users/bad-field")).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn list_returns_plan_limit_and_every_profile(app: &TestApp) {
    app.create_profile("alice").await;
    app.create_profile("bob").await;
    let (status, body) = send(app.get("/users")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(usernames(&body), ["default", "alice", "bob"]);
    assert_wire!("list_200", status, body);
}

async fn list_pages_on_request(app: &TestApp) {
    for name in ["p1", "p2", "p3", "p4"] {
        app.create_profile(name).await;
    }
    let page = |q: &'static str| async move { send(app.get(&format!("/users?{q}"))).await };
    let (status, body) = page("page=2&per_page=2").await;
    assert_wire!("list_200_paged", status, body);
    assert_eq!(usernames(&body), ["p2", "p3"]);
    assert_eq!(
        (
            body["page"].as_i64(),
            body["per_page"].as_i64(),
            body["total"].as_i64()
        ),
        (Some(2), Some(2), Some(5))
    );
    assert_eq!(
        page("page=9").await.1["profiles"].as_array().unwrap().len(),
        0
    );
    for bad in [
        "page=0",
        "page=-1",
        "per_page=0",
        "per_page=1001",
        "page=x",
        "per_page=1e3",
    ] {
        let (status, body) = page(bad).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_QUERY")),
            "{bad}"
        );
    }
    let (status, body) = page("per_page=0").await;
    assert_wire!("list_400_invalid_query", status, body);
    // Unknown parameters are ignored, as are pagination-free lists.
    assert!(page("foo=bar").await.1.get("page").is_none());
}

async fn get_one_returns_the_profile(app: &TestApp) {
    app.create_profile("carol").await;
    let (status, body) = send(app.get("/users/carol")).await;
    assert_wire!("get_200", status, body);
}

async fn get_one_unknown_is_404(app: &TestApp) {
    let (status, body) = send(app.get("/users/nobody")).await;
    assert_wire!("get_404", status, body);
    // Names that can never exist are simply not found.
    assert_eq!(send(app.get("/users/%20x")).await.0, StatusCode::NOT_FOUND);
}

async fn get_one_decodes_percent_encoded_names(app: &TestApp) {
    for name in ["José García", "a+b", "50%", "who?", "x#y", "名前"] {
        assert_eq!(
            app.create_profile(name).await.0,
            StatusCode::CREATED,
            "{name}"
        );
        let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
            .collect::<String>()
            .replace('+', "%20");
        let (status, body) = send(app.get(&format!("/users/{encoded}"))).await;
        assert_eq!(status, StatusCode::OK, "{name} as {encoded}");
        assert_eq!(body["profile"]["username"], name);
    }
}

async fn delete_removes_the_profile(app: &TestApp) {
    app.create_profile("gone").await;
    let (status, body) = send(app.delete("/users", &json!({"username": "gone"}))).await;
    assert_wire!("delete_200", status, body);
    assert_eq!(send(app.get("/users/gone")).await.0, StatusCode::NOT_FOUND);
    let (status, body) = send(app.delete("/users", &json!({"username": "gone"}))).await;
    assert_wire!("delete_404", status, body);
    // The name is free again.
    assert_eq!(app.create_profile("gone").await.0, StatusCode::CREATED);
}

async fn delete_errors(app: &TestApp) {
    let (status, body) = send(app.delete("/users", &json!({}))).await;
    assert_wire!("delete_400", status, body);
    let (status, body) = send(app.delete("/users", &json!({"username": 5}))).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_USERNAME"))
    );
    let (status, body) = send(app.delete("/users", &json!({"username": "default"}))).await;
    assert_wire!("delete_409_default", status, body);
    assert_eq!(send(app.get("/users/default")).await.0, StatusCode::OK);
}

async fn tenants_never_see_each_other(app: &TestApp) {
    let (_, other_key) = app.new_account("default").await;
    app.create_profile("mine").await;
    assert_eq!(
        send(app.get_as(&other_key, "/users/mine")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = send(app.delete_as(&other_key, "/users", &json!({"username": "mine"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = send(app.get_as(&other_key, "/users")).await;
    assert_eq!(usernames(&list), ["default"]);
    // The same username is free in another account.
    let (status, _) = send(app.post_as(&other_key, "/users", &json!({"username": "mine"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(send(app.get("/users/mine")).await.0, StatusCode::OK);
}
