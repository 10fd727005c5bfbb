//! Plan limits: 403 past the limit; a downgrade blocks the newest profiles, never deletes.

use crate::support::{TestApp, run_cli, send};
use crate::{assert_wire, cases};
use reqwest::StatusCode;
use serde_json::Value;

cases![
    limit_reached_is_403,
    downgrade_blocks_newest_and_deletes_nothing,
    unlimited_plan_has_no_limit
];

fn blocked_names(list: &Value) -> Vec<String> {
    list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["blocked"] == true)
        .map(|p| p["username"].as_str().unwrap().to_owned())
        .collect()
}

async fn limit_reached_is_403(app: &TestApp) {
    // The default plan allows 10, and the default profile is one of them.
    for i in 1..=9 {
        assert_eq!(
            app.create_profile(&format!("p{i}")).await.0,
            StatusCode::CREATED
        );
    }
    let (status, body) = app.create_profile("p10").await;
    assert_wire!("create_403_limit", status, body);
    let (_, list) = send(app.get("/users")).await;
    assert_eq!(list["profiles"].as_array().unwrap().len(), 10);
    assert!(blocked_names(&list).is_empty());
}

async fn downgrade_blocks_newest_and_deletes_nothing(app: &TestApp) {
    let (account, key) = app.new_account("eleven").await;
    for i in 1..=10 {
        let req = app.post_as(
            &key,
            "/users",
            &serde_json::json!({"username": format!("p{i}")}),
        );
        assert_eq!(send(req).await.0, StatusCode::CREATED);
    }
    let mut cli = app.cli();
    cli.args(["accounts", "set-plan", &account, "three"]);
    let (ok, out, err) = run_cli(cli);
    assert!(ok, "{err}");
    assert!(out.contains("11 profiles, limit 3, 8 blocked"), "{out}");

    let list = send(app.get_as(&key, "/users")).await.1;
    assert_eq!(list["limit"], 3);
    assert_eq!(list["profiles"].as_array().unwrap().len(), 11);
    assert_eq!(
        blocked_names(&list),
        ["p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10"]
    );
    let (_, one) = send(app.get_as(&key, "/users/p10")).await;
    assert_eq!(one["profile"]["blocked"], true);
    let (_, one) = send(app.get_as(&key, "/users/p2")).await;
    assert_eq!(one["profile"]["blocked"], false);
    let (status, body) =
        send(app.post_as(&key, "/users", &serde_json::json!({"username": "new"}))).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::FORBIDDEN, Some("PROFILE_LIMIT_REACHED"))
    );

    // Deleting an older profile lets the next one in line back in.
    let req = app.delete_as(&key, "/users", &serde_json::json!({"username": "p1"}));
    assert_eq!(send(req).await.0, StatusCode::OK);
    let list = send(app.get_as(&key, "/users")).await.1;
    assert_eq!(
        blocked_names(&list),
        ["p4", "p5", "p6", "p7", "p8", "p9", "p10"]
    );

    // An upgrade unblocks everything.
    let mut cli = app.cli();
    cli.args(["accounts", "set-plan", &account, "eleven"]);
    assert!(run_cli(cli).0);
    let list = send(app.get_as(&key, "/users")).await.1;
    assert!(blocked_names(&list).is_empty());
}

async fn unlimited_plan_has_no_limit(app: &TestApp) {
    let (_, key) = app.new_account("unlimited").await;
    for i in 0..15 {
        let req = app.post_as(
            &key,
            "/users",
            &serde_json::json!({"username": format!("u{i}")}),
        );
        assert_eq!(send(req).await.0, StatusCode::CREATED);
    }
    let (_, list) = send(app.get_as(&key, "/users")).await;
    assert!(list["limit"].is_null());
    assert_eq!(list["plan"], "unlimited");
    assert_eq!(list["profiles"].as_array().unwrap().len(), 16);
}
