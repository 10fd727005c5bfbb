//! `Authorization: Apikey <key>` on every API endpoint.

use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use reqwest::StatusCode;

cases![
    missing_or_wrong_keys_are_401,
    scheme_is_case_insensitive,
    revoked_keys_stop_working
];

async fn missing_or_wrong_keys_are_401(app: &TestApp) {
    let (status, body) = send(app.client.get(app.api("/users"))).await;
    assert_wire!("auth_401_missing", status, body);
    let (status, body) = send(app.get_as("pgk_wrong", "/users")).await;
    assert_wire!("auth_401_invalid", status, body);
    for header in ["Bearer ", "Basic abc", "Apikey", "garbage", "Apikey a b"] {
        let bearer = header.replace("Bearer ", &format!("Bearer {}", app.api_key));
        let (status, body) = send(
            app.client
                .get(app.api("/me"))
                .header("Authorization", bearer),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(body["success"], false);
    }
    // Every endpoint, every method.
    for (method, path) in [
        ("GET", "/me"),
        ("POST", "/users"),
        ("DELETE", "/users"),
        ("GET", "/users/default"),
    ] {
        let req = app.client.request(method.parse().unwrap(), app.api(path));
        assert_eq!(
            send(req).await.0,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
}

async fn scheme_is_case_insensitive(app: &TestApp) {
    for scheme in ["Apikey", "ApiKey", "APIKEY", "apikey"] {
        let req = app
            .client
            .get(app.api("/me"))
            .header("Authorization", format!("{scheme} {}", app.api_key));
        assert_eq!(send(req).await.0, StatusCode::OK, "{scheme}");
    }
    let req = app
        .client
        .get(app.api("/me"))
        .header("Authorization", format!("  Apikey   {}  ", app.api_key));
    assert_eq!(send(req).await.0, StatusCode::OK);
}

async fn revoked_keys_stop_working(app: &TestApp) {
    let db = app.db.clone();
    let prefix = app.api_key[..12].to_owned();
    let outcome = tokio::task::spawn_blocking(move || {
        postgate::db::api_keys::revoke(&mut db.conn().unwrap(), &prefix)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(matches!(
        outcome,
        postgate::db::api_keys::RevokeOutcome::Revoked { .. }
    ));
    let (status, body) = send(app.get("/me")).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Invalid API key"))
    );
}
