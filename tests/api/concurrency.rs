//! The plan limit and username uniqueness hold under parallel requests, also across two
//! `postgate` processes sharing one database.

use crate::cases;
use crate::support::process::ServerProcess;
use crate::support::{TestApp, send};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

cases![
    parallel_creates_respect_the_limit,
    parallel_creates_of_one_name_make_one,
    two_processes_share_the_rules,
    requests_racing_a_profile_deletion_are_never_a_5xx
];

/// Fires one create per `(base_url, username)` at once and counts the statuses.
async fn create_all(app: &TestApp, key: &str, targets: &[(String, String)]) -> Vec<StatusCode> {
    join_all(targets.iter().map(|(base, name)| {
        let req = app.with_key(
            app.client
                .post(format!("{base}/users"))
                .json(&json!({"username": name})),
            key,
        );
        async move { send(req).await.0 }
    }))
    .await
}

fn count(statuses: &[StatusCode], wanted: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == wanted).count()
}

async fn profile_count(app: &TestApp, key: &str) -> usize {
    let (_, list) = send(app.get_as(key, "/users")).await;
    list["profiles"].as_array().unwrap().len()
}

async fn parallel_creates_respect_the_limit(app: &TestApp) {
    // "eleven" = the default profile + 10 free slots.
    let (_, key) = app.new_account("eleven").await;
    let targets: Vec<_> = (0..50).map(|i| (app.api(""), format!("c{i}"))).collect();
    let statuses = create_all(app, &key, &targets).await;
    assert_eq!(count(&statuses, StatusCode::CREATED), 10, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::FORBIDDEN), 40, "{statuses:?}");
    assert_eq!(profile_count(app, &key).await, 11);
}

async fn parallel_creates_of_one_name_make_one(app: &TestApp) {
    let targets: Vec<_> = (0..20).map(|_| (app.api(""), "same".to_owned())).collect();
    let statuses = create_all(app, &app.api_key, &targets).await;
    assert_eq!(count(&statuses, StatusCode::CREATED), 1, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::CONFLICT), 19, "{statuses:?}");
    assert_eq!(profile_count(app, &app.api_key).await, 2);
}

async fn two_processes_share_the_rules(app: &TestApp) {
    let (a, b) = tokio::task::spawn_blocking({
        let (ca, cb) = (app.cli(), app.cli());
        move || {
            let a = std::thread::spawn(move || ServerProcess::start(ca));
            let b = ServerProcess::start(cb);
            (a.join().unwrap(), b)
        }
    })
    .await
    .unwrap();
    let (_, key) = app.new_account("eleven").await;
    let bases = [a.api(""), b.api("")];
    let targets: Vec<_> = (0..50)
        .map(|i| (bases[i % 2].clone(), format!("c{i}")))
        .collect();
    let statuses = create_all(app, &key, &targets).await;
    assert_eq!(count(&statuses, StatusCode::CREATED), 10, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::FORBIDDEN), 40, "{statuses:?}");

    let (_, key) = app.new_account("default").await;
    let targets: Vec<_> = (0..20)
        .map(|i| (bases[i % 2].clone(), "same".to_owned()))
        .collect();
    let statuses = create_all(app, &key, &targets).await;
    assert_eq!(count(&statuses, StatusCode::CREATED), 1, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::CONFLICT), 19, "{statuses:?}");
    assert_eq!(profile_count(app, &key).await, 2);
}

/// Writes under a profile while it is being deleted: each answers as if it came first (2xx)
/// or last (404), never with the database's foreign-key error.
async fn requests_racing_a_profile_deletion_are_never_a_5xx(app: &TestApp) {
    let app = &TestApp::spawn_with(app.test_db.backend, |raw| raw.rate_limit_per_minute = 0).await;
    for round in 0..15 {
        let name = format!("racer{round}");
        assert_eq!(app.create_profile(&name).await.0, StatusCode::CREATED);
        let writes = [
            app.post("/users/generate-jwt", &json!({"username": name})),
            app.post(
                "/users/profile-webhook",
                &json!({"username": name, "webhook_url": "https://example.com/hook"}),
            ),
            app.post(
                "/users/generate-jwt",
                &json!({"username": name, "platforms": ["x"]}),
            ),
            app.client
                .post(app.url("/api/upload_text"))
                .header("Authorization", format!("Apikey {}", app.api_key))
                .form(&[
                    ("user", name.as_str()),
                    ("platform[]", "x"),
                    ("title", "hi"),
                ]),
            app.delete("/users", &json!({"username": name})),
        ];
        let answers = join_all(writes.into_iter().map(|req| async move {
            let resp = req.send().await.expect("answer");
            (resp.status(), resp.text().await.unwrap_or_default())
        }))
        .await;
        for (status, body) in answers {
            assert!(!status.is_server_error(), "round {round}: {status} {body}");
        }
    }
}
