//! The upload endpoints end to end: real request bodies as the SDKs send them, the engine
//! publishing to the sandbox's emulators, and what status, history and webhooks report.

use crate::cases;
use crate::support::sandbox::Consent;
use crate::support::wait::{WAIT, until};
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

cases![
    text_goes_out_to_every_connected_platform,
    async_uploads_are_polled_to_completion,
    photos_are_sniffed_stored_and_published,
    scheduled_and_queued_uploads_wait_for_their_time,
    a_repeated_key_makes_one_job,
    an_upload_with_no_connected_platform_is_refused,
    bad_requests_are_json_4xx,
    each_platform_reports_upload_completed_once,
    a_rate_limited_platform_is_retried_until_it_publishes,
    scheduled_posts_are_listed_moved_edited_and_cancelled,
    a_profile_link_sees_and_edits_only_its_own_schedule,
    failed_platforms_are_retried_and_posts_unpublished,
    the_calendar_shows_published_and_scheduled_posts,
    media_is_kept_while_an_upload_may_need_it,
    bluesky_options_arrive_from_the_upload_form,
    options_not_acted_on_are_named_in_warnings,
];

const PNG: &[u8] = include_bytes!("../fixtures/media/pixel.png");

/// A profile with X and Bluesky connected through the sandbox; its connect link.
pub(crate) async fn olivia(app: &TestApp) -> String {
    let link = app.profile_with_link("olivia", json!({})).await;
    app.connect_on_page(&link, "x", Consent::Allow { person: 0 })
        .await;
    app.connect_on_page(&link, "bluesky", Consent::Allow { person: 0 })
        .await;
    link
}

/// `POST /api/<endpoint>` urlencoded, as the Python SDK sends it when there is no file.
pub(crate) async fn upload_form(
    app: &TestApp,
    endpoint: &str,
    pairs: &[(&str, &str)],
) -> (StatusCode, Value) {
    send(
        app.client
            .post(app.url(&format!("/api/{endpoint}")))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .form(pairs),
    )
    .await
}

async fn status_of(app: &TestApp, request_id: &str) -> Value {
    let (status, body) = send(app.get(&format!("/status?request_id={request_id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Polls status as the n8n node does: until `success` is true or the status is final.
async fn poll_until_final(app: &TestApp, request_id: &str) -> Value {
    let mut last = Value::Null;
    until(WAIT, "the upload to finish", async || {
        last = status_of(app, request_id).await;
        let done = matches!(last["status"].as_str(), Some("completed" | "failed"));
        if !done {
            assert!(
                last.get("success").is_none(),
                "success before the end: {last}"
            );
        }
        done
    })
    .await;
    last
}

async fn text_goes_out_to_every_connected_platform(app: &TestApp) {
    olivia(app).await;
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "x"),
            ("platform[]", "bluesky"),
            ("platform[]", "linkedin"),
            ("title", "Launch day <3"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    for p in ["x", "bluesky"] {
        let r = &body["results"][p];
        assert_eq!(r["success"], true, "{p}: {body}");
        let url = r["url"].as_str().expect("a post url");
        let page = app
            .client
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Launch day &#60;3"),
            "{p} page shows the text escaped"
        );
    }
    let linkedin = &body["results"]["linkedin"];
    assert_eq!(linkedin["skipped"], true);
    assert_eq!(linkedin["error_code"], "profile_platform_mapping_invalid");
    assert_eq!(
        linkedin["error"],
        "Profile olivia has no Linkedin account configured"
    );
    assert_eq!(
        body["usage"]["count"], 2,
        "one credit per platform that went out"
    );
    let request_id = body["request_id"].as_str().unwrap();
    let report = status_of(app, request_id).await;
    assert_eq!(report["status"], "completed");
    assert_eq!(report["success"], true);
    assert_eq!(
        (report["completed"].clone(), report["total"].clone()),
        (json!(3), json!(3))
    );
    assert_eq!(report["skipped"], 1);
    let (status, history) = send(app.get("/history?limit=20")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["total"], 3, "one row per platform: {history}");
    let rows = history["history"].as_array().unwrap();
    assert!(
        rows.iter()
            .all(|r| r["request_id"] == request_id && r["media_type"] == "text")
    );
    assert_eq!(rows.iter().filter(|r| r["success"] == true).count(), 2);
    let (_, only_x) = send(app.get("/history?platform=x&status=success")).await;
    assert_eq!(only_x["total"], 1, "{only_x}");
}

async fn async_uploads_are_polled_to_completion(app: &TestApp) {
    olivia(app).await;
    // The npm SDK and n8n always send multipart.
    let form = Form::new()
        .text("user", "olivia")
        .text("platform[]", "bluesky")
        .text("title", "In the background")
        .text("async_upload", "true");
    let (status, body) = send(
        app.client
            .post(app.url("/api/upload_text"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .multipart(form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["message"],
        "Upload initiated successfully in background."
    );
    assert_eq!(body["total_platforms"], 1);
    let report = poll_until_final(app, body["request_id"].as_str().unwrap()).await;
    assert_eq!(report["success"], true, "{report}");
    assert_eq!(report["results"][0]["platform"], "bluesky");
    assert_eq!(report["results"][0]["status"], "completed");
    assert!(report["results"][0]["post_url"].is_string());
    let (_, by_job) = send(app.get(&format!(
        "/status?job_id={}",
        body["job_id"].as_str().unwrap()
    )))
    .await;
    assert_eq!(by_job["job_id"], body["job_id"]);
}

async fn photos_are_sniffed_stored_and_published(app: &TestApp) {
    olivia(app).await;
    // The Python SDK's file parts carry no content type; n8n names them upload.bin.
    let form = Form::new()
        .text("user", "olivia")
        .text("platform[]", "x")
        .text("title", "A pixel")
        .part(
            "photos[]",
            Part::bytes(PNG.to_vec()).file_name("upload.bin"),
        );
    let (status, body) = send(
        app.client
            .post(app.url("/api/upload_photos"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .multipart(form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["results"]["x"]["url"].as_str().expect("published");
    let page = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/_media/"), "the post shows its image");
    let (_, history) = send(app.get("/history")).await;
    assert_eq!(history["history"][0]["media_type"], "photo");
    assert_eq!(history["history"][0]["media_size_bytes"], PNG.len());
    // Not an image: refused before anything is published.
    let form = Form::new()
        .text("user", "olivia")
        .text("platform[]", "x")
        .part(
            "photos[]",
            Part::bytes(b"just text".to_vec()).file_name("a.png"),
        );
    let (status, body) = send(
        app.client
            .post(app.url("/api/upload_photos"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .multipart(form),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_eq!(body["success"], false);
}

async fn scheduled_and_queued_uploads_wait_for_their_time(app: &TestApp) {
    olivia(app).await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "x"),
            ("title", "Later"),
            ("scheduled_date", &at),
            ("timezone", "Europe/Berlin"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let date = body["scheduled_date"].as_str().unwrap();
    assert!(date.ends_with('Z'), "{date}");
    let report = status_of(app, body["request_id"].as_str().unwrap()).await;
    assert_eq!(report["status"], "pending");
    assert!(report.get("success").is_none());
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "x"),
            ("title", "Queued"),
            ("add_to_queue", "true"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["message"], "Post added to queue");
    assert!(body["queue_slot"].as_str().unwrap().ends_with("+00:00"));
    let calls = app.sandbox_calls().await;
    assert!(
        !calls.iter().any(|(p, e, _)| p == "x" && e == "tweets"),
        "nothing was published yet: {calls:?}"
    );
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "x"),
            ("title", "Past"),
            ("scheduled_date", "2020-01-01T00:00:00Z"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

async fn a_repeated_key_makes_one_job(app: &TestApp) {
    olivia(app).await;
    let requests = (0..50).map(|_| {
        send(
            app.client
                .post(app.url("/api/upload_text"))
                .header("Authorization", format!("Apikey {}", app.api_key))
                .header("Idempotency-Key", "launch-1")
                .form(&[
                    ("user", "olivia"),
                    ("platform[]", "bluesky"),
                    ("title", "Once"),
                ]),
        )
    });
    let answers = futures::future::join_all(requests).await;
    let mut jobs: Vec<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::OK, "{body}");
            body["job_id"].as_str().unwrap().to_owned()
        })
        .collect();
    jobs.dedup();
    assert_eq!(jobs.len(), 1, "every repeat answers with the first job");
    poll_until_final(app, answers[0].1["request_id"].as_str().unwrap()).await;
    let creates = app
        .sandbox_calls()
        .await
        .into_iter()
        .filter(|(p, e, _)| p == "bluesky" && e == "create_record")
        .count();
    assert_eq!(creates, 1, "published once");
}

async fn an_upload_with_no_connected_platform_is_refused(app: &TestApp) {
    assert_eq!(app.create_profile("nobody").await.0, StatusCode::CREATED);
    let form = Form::new()
        .text("user", "nobody")
        .text("platform[]", "x")
        .part("photos[]", Part::bytes(PNG.to_vec()).file_name("pixel.png"));
    let (status, body) = send(
        app.client
            .post(app.url("/api/upload_photos"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .multipart(form),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["invalid_platforms"]["x"].is_string(), "{body}");
    let stored: i64 = app
        .with_db(|c| {
            use diesel::prelude::*;
            postgate::db::schema::media_objects::table
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(stored, 0, "the refused upload's photo is not kept");
    let (_, usage) = send(app.get("/usage")).await;
    assert_eq!(usage["posts"]["used"], 0, "no credit taken: {usage}");
}

async fn bad_requests_are_json_4xx(app: &TestApp) {
    olivia(app).await;
    let cases: [(&[(&str, &str)], StatusCode); 4] = [
        (
            &[("platform[]", "x"), ("title", "t")],
            StatusCode::BAD_REQUEST,
        ),
        (
            &[
                ("user", "olivia"),
                ("platform[]", "myspace"),
                ("title", "t"),
            ],
            StatusCode::BAD_REQUEST,
        ),
        (
            &[("user", "ghost"), ("platform[]", "x"), ("title", "t")],
            StatusCode::NOT_FOUND,
        ),
        (
            &[("user", "olivia"), ("platform[]", "x")],
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (pairs, expected) in cases {
        let (status, body) = upload_form(app, "upload_text", pairs).await;
        assert_eq!(status, expected, "{pairs:?}: {body}");
        assert_eq!(body["success"], false);
        assert!(body["message"].is_string());
    }
    let (status, body) = send(app.get("/status")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "request_id or job_id is required");
    let (status, body) = send(app.get("/status?request_id=nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        (body["status"].clone(), body["request_id"].clone()),
        (json!("not_found"), json!("nope"))
    );
    let (status, body) = send(app.get("/history?limit=0")).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("Invalid limit"))
    );
    let (status, _) = send(
        app.client
            .post(app.url("/api/upload_text"))
            .header("Authorization", "Apikey wrong")
            .form(&[("user", "olivia")]),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn each_platform_reports_upload_completed_once(app: &TestApp) {
    olivia(app).await;
    let receiver = app.receiving_webhooks().await;
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "x"),
            ("platform[]", "linkedin"),
            ("title", "Hooked"),
            ("external_id", "campaign-7"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = receiver.wait_for_accepted(2, WAIT).await;
    let mut platforms: Vec<String> = events
        .iter()
        .map(|e| {
            let e = e.json();
            assert_eq!(e["event"], "upload_completed");
            assert_eq!(e["request_id"], body["request_id"]);
            assert_eq!(e["external_id"], "campaign-7");
            assert_eq!(e["profile_username"], "olivia");
            e["platform"].as_str().unwrap().to_owned()
        })
        .collect();
    platforms.sort_unstable();
    assert_eq!(platforms, ["linkedin", "x"]);
    // A later event proves the earlier ones were all sent: nothing else came for them.
    let (_, other) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "bluesky"),
            ("title", "Next"),
        ],
    )
    .await;
    assert_eq!(other["success"], true, "{other}");
    let all = receiver.wait_for_accepted(3, WAIT).await;
    assert_eq!(all.len(), 3, "once per platform per upload");
}

async fn a_rate_limited_platform_is_retried_until_it_publishes(app: &TestApp) {
    olivia(app).await;
    app.sandbox_control(json!({"platform": "x", "endpoint": "tweets", "faults": ["rate_limited"]}))
        .await;
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "x"),
            ("title", "Eventually"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"]["x"]["retryable"], true, "{body}");
    let report = poll_until_final(app, body["request_id"].as_str().unwrap()).await;
    assert_eq!(report["success"], true, "{report}");
    assert_eq!(report["results"][0]["attempts"], 2);
}

/// Schedules a text post to X for `user` in `hours`; its job id.
async fn schedule(app: &TestApp, user: &str, title: &str, hours: i64) -> String {
    let at = (chrono::Utc::now() + chrono::Duration::hours(hours))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", user),
            ("platform[]", "x"),
            ("title", title),
            ("scheduled_date", &at),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["job_id"].as_str().unwrap().to_owned()
}

async fn scheduled_posts_are_listed_moved_edited_and_cancelled(app: &TestApp) {
    olivia(app).await;
    let first = schedule(app, "olivia", "First", 2).await;
    let second = schedule(app, "olivia", "Second", 3).await;
    let (status, list) = send(app.get("/schedule")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 2);
    let posts = list["scheduled_posts"].as_array().unwrap();
    assert_eq!(posts[0]["job_id"], first.as_str(), "soonest first");
    assert_eq!(posts[0]["platforms"], json!(["x"]));
    assert_eq!(posts[0]["post_type"], "text");
    assert_eq!(posts[0]["profile_username"], "olivia");
    // n8n edits with POST; the SDKs with PATCH.
    let later = (chrono::Utc::now() + chrono::Duration::hours(5))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let (status, edited) = send(app.post(
        &format!("/schedule/{first}"),
        &json!({"scheduled_date": later, "timezone": "UTC"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert!(edited["scheduled_date"].as_str().unwrap().ends_with('Z'));
    let (status, edited) = send(
        app.client
            .patch(app.api(&format!("/schedule/{second}")))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .json(&json!({"title": "Second, edited"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["title"], "Second, edited");
    let (status, body) = send(app.post(&format!("/schedule/{second}"), &json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, list) = send(app.get("/schedule")).await;
    assert_eq!(
        list["scheduled_posts"][0]["job_id"],
        second.as_str(),
        "the moved one is later now"
    );
    let (status, cancelled) = send(app.delete(&format!("/schedule/{first}"), &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["credits_refunded"], 1);
    let (status, again) = send(app.delete(&format!("/schedule/{first}"), &json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    let (status, missing) = send(app.delete("/schedule/job_nope", &json!({}))).await;
    assert_eq!(
        (status, missing["error"].clone()),
        (StatusCode::NOT_FOUND, json!("Job not found"))
    );
    let (_, list) = send(app.get("/schedule")).await;
    assert_eq!(list["total"], 1);
    let (_, usage) = send(app.get("/usage")).await;
    assert_eq!(
        usage["posts"]["used"], 1,
        "the cancelled post's credit came back: {usage}"
    );
}

async fn a_profile_link_sees_and_edits_only_its_own_schedule(app: &TestApp) {
    olivia(app).await;
    let mine = schedule(app, "olivia", "Mine", 2).await;
    let link = app.profile_with_link("noah", json!({})).await;
    app.connect_on_page(&link, "x", Consent::Allow { person: 1 })
        .await;
    let theirs = schedule(app, "noah", "Theirs", 2).await;
    let as_link = |req: reqwest::RequestBuilder| req.bearer_auth(&link);
    let (status, list) = send(as_link(app.client.get(app.api("/schedule")))).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["scheduled_posts"][0]["job_id"], theirs.as_str());
    let (status, _) = send(as_link(
        app.client.delete(app.api(&format!("/schedule/{mine}"))),
    ))
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another profile's job is not there"
    );
    let readonly = app
        .link_token("noah", json!({"readonly_calendar": true}))
        .await;
    let (status, body) = send(
        app.client
            .delete(app.api(&format!("/schedule/{theirs}")))
            .bearer_auth(&readonly),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error_code"], "READONLY_CALENDAR");
    let (status, _) = send(as_link(
        app.client.delete(app.api(&format!("/schedule/{theirs}"))),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
}

async fn failed_platforms_are_retried_and_posts_unpublished(app: &TestApp) {
    olivia(app).await;
    // Rate limited on every attempt it is allowed: X fails for good, Bluesky goes out.
    app.sandbox_control(json!({"platform": "x", "endpoint": "tweets",
        "faults": ["rate_limited", "rate_limited", "rate_limited", "rate_limited", "rate_limited"]}))
    .await;
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "x"),
            ("platform[]", "bluesky"),
            ("title", "Try again"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let request_id = body["request_id"].as_str().unwrap().to_owned();
    let report = poll_until_final(app, &request_id).await;
    assert_eq!(report["failed"], 1, "{report}");
    let (status, retried) =
        send(app.post("/posts/retry", &json!({"request_id": request_id}))).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["message"], "Failed platforms re-enqueued for retry");
    let report = poll_until_final(app, &request_id).await;
    assert_eq!(report["failed"], 0, "{report}");
    let (status, again) = send(app.post("/posts/retry", &json!({"request_id": request_id}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (status, _) = send(app.post("/posts/retry", &json!({"job_id": "job_nope"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let x = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["platform"] == "x")
        .unwrap()
        .clone();
    let (status, deleted) = send(app.post(
        "/posts/unpublish",
        &json!({"user": "olivia", "platform": "x", "post_id": x["platform_post_id"]}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["message"], "Post deleted successfully");
    let page = app
        .client
        .get(x["post_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND, "the post is gone");
    let (status, body) = send(app.post(
        "/posts/unpublish",
        &json!({"user": "olivia", "platform": "linkedin", "post_id": "urn:li:share:1"}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

async fn the_calendar_shows_published_and_scheduled_posts(app: &TestApp) {
    let link = olivia(app).await;
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "bluesky"),
            ("title", "Went out today"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = schedule(app, "olivia", "Coming soon", 1).await;
    let page = app.page(&format!("/connect/calendar?token={link}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Went out today"), "{}", page.body);
    assert!(page.body.contains("Coming soon"));
    assert!(page.body.contains(&format!("data-post=\"{job}\"")));
}

/// `POST /api/upload_photos` of the fixture to `platforms` for olivia; the answer.
async fn upload_pixel(app: &TestApp, platforms: &[&str], extra: &[(&str, &str)]) -> Value {
    let mut form = Form::new().text("user", "olivia").text("title", "A pixel");
    for p in platforms {
        form = form.text("platform[]", p.to_string());
    }
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    let form = form.part("photos[]", Part::bytes(PNG.to_vec()).file_name("p.png"));
    let (status, body) = send(
        app.client
            .post(app.url("/api/upload_photos"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .multipart(form),
    )
    .await;
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// The media rows of the upload `request_id`: `(id, expires_at)`, `None` for a row gone.
async fn media_of(
    app: &TestApp,
    request_id: &str,
) -> Vec<(String, Option<Option<chrono::NaiveDateTime>>)> {
    use diesel::prelude::*;
    use postgate::db::schema::{upload_jobs, upload_media};
    let request_id = request_id.to_owned();
    app.with_db(move |c| {
        let ids: Vec<String> = upload_media::table
            .inner_join(upload_jobs::table)
            .filter(upload_jobs::request_id.eq(&request_id))
            .select(upload_media::media_id)
            .load(c)
            .unwrap();
        ids.into_iter()
            .map(|id| {
                let row = postgate::db::media::find(c, &id).unwrap();
                (id, row.map(|r| r.expires_at))
            })
            .collect()
    })
    .await
}

async fn media_is_kept_while_an_upload_may_need_it(app: &TestApp) {
    // Retries wait for a worker: with none, a retried upload stays open.
    let app = &TestApp::spawn_with(app.test_db.backend, |raw| raw.publishing_worker = false).await;
    let link = olivia(app).await;
    app.sandbox_control(
        json!({"platform": "x", "endpoint": "tweets", "faults": ["token_revoked"]}),
    )
    .await;
    let body = upload_pixel(app, &["x", "bluesky"], &[]).await;
    assert_eq!(body["results"]["x"]["success"], false, "{body}");
    let request_id = body["request_id"].as_str().unwrap().to_owned();
    // Done: kept a week (for a retry), then the sweeper's.
    let media = media_of(app, &request_id).await;
    assert_eq!(media.len(), 1);
    let expires = media[0].1.expect("kept").expect("released");
    let week = chrono::Utc::now().naive_utc() + chrono::Duration::hours(168);
    assert!((expires - week).num_minutes().abs() <= 5, "{expires}");
    // Retried: held again until the job is done.
    let (status, retried) =
        send(app.post("/posts/retry", &json!({"request_id": request_id}))).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(media_of(app, &request_id).await[0].1, Some(None));
    // Cancelled, through the API or the calendar: deleted at once, file and row.
    let files = || crate::media::media_files(app).len();
    let before = files();
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let by_api = upload_pixel(app, &["x"], &[("scheduled_date", &in_an_hour)]).await;
    let by_page = upload_pixel(app, &["bluesky"], &[("scheduled_date", &in_an_hour)]).await;
    assert_eq!(files(), before + 2);
    let (status, cancelled) = send(app.delete(
        &format!("/schedule/{}", by_api["job_id"].as_str().unwrap()),
        &json!({}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    let page = app.page(&format!("/connect/calendar?token={link}")).await;
    let done = app
        .post_form(
            "/connect/calendar/cancel",
            &[
                ("token", link.as_str()),
                ("csrf", page.csrf().as_str()),
                ("post_id", by_page["job_id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    for answer in [&by_api, &by_page] {
        let media = media_of(app, answer["request_id"].as_str().unwrap()).await;
        assert_eq!(media.len(), 1);
        assert_eq!(media[0].1, None, "the row is gone");
    }
    assert_eq!(files(), before);
    app.stop().await;
}

async fn bluesky_options_arrive_from_the_upload_form(app: &TestApp) {
    olivia(app).await;
    let fields = [
        ("user", "olivia"),
        ("platform[]", "bluesky"),
        ("title", "Gated launch"),
        ("bluesky_link_url", "https://example.com/launch"),
        ("bluesky_reply_settings", "mentioned,followers"),
        ("bluesky_quote_settings", "disabled"),
        ("bluesky_labels", "graphic-media"),
    ];
    let (status, body) = upload_form(app, "upload_text", &fields).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["results"]["bluesky"];
    assert_eq!(result["success"], true, "{body}");
    let uri = result["post_id"].as_str().expect("the post's at:// URI");
    let value = crate::publishing::bluesky::record(app, uri).await["value"].clone();
    assert_eq!(
        value["embed"]["external"]["uri"],
        "https://example.com/launch"
    );
    assert_eq!(value["labels"]["values"], json!([{"val": "graphic-media"}]));
    let gate =
        crate::publishing::bluesky::record(app, &uri.replace(".post/", ".threadgate/")).await;
    assert_eq!(
        gate["value"]["allow"],
        json!([
            {"$type": "app.bsky.feed.threadgate#mentionRule"},
            {"$type": "app.bsky.feed.threadgate#followerRule"},
        ])
    );
    let gate = crate::publishing::bluesky::record(app, &uri.replace(".post/", ".postgate/")).await;
    assert_eq!(gate["value"]["post"], uri);

    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "bluesky"),
            ("title", "Badly gated"),
            ("bluesky_threadgate", "friends"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["results"]["bluesky"];
    assert_eq!(
        (
            result["success"].clone(),
            result["error_code"].clone(),
            result["failure_stage"].clone()
        ),
        (json!(false), json!("invalid_field"), json!("precheck")),
        "{body}"
    );
    let posts = app
        .sandbox_calls()
        .await
        .iter()
        .filter(|c| c.0 == "bluesky" && c.1 == "create_record")
        .count();
    assert_eq!(
        posts, 3,
        "the first upload's post and gates, nothing of the second"
    );
}

async fn options_not_acted_on_are_named_in_warnings(app: &TestApp) {
    let link = app.profile_with_link("lee", json!({})).await;
    app.connect_on_page(&link, "linkedin", Consent::Allow { person: 0 })
        .await;
    let (status, body) = upload_form(
        app,
        "upload_text",
        &[
            ("user", "lee"),
            ("platform[]", "linkedin"),
            ("title", "Hiring"),
            ("linkedin_thumbnail_alt_text", "A chart"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["results"]["linkedin"];
    assert_eq!(result["success"], true, "{body}");
    assert_eq!(
        result["warnings"],
        json!(["linkedin_thumbnail_alt_text is not supported by Postgate yet and was ignored"])
    );
    let report = status_of(app, body["request_id"].as_str().unwrap()).await;
    assert_eq!(report["results"][0]["warnings"], result["warnings"]);
}
