//! Post quotas: atomic reservations (also from several pools, standing for several
//! processes), refunds, periods, the daily-cap count, the upload endpoints' 429s, and
//! `GET /usage` / `/me`.

use crate::support::sandbox::Consent;
use crate::support::wait::{WAIT, until};
use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use postgate::db::schema::{upload_jobs, upload_targets};
use postgate::db::{DatabaseUrl, Db, DbConn, usage};
use postgate::domain::Limit;
use postgate::domain::time;
use postgate::domain::usage::{Period, Usage};
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    reservations_at_the_edge_never_exceed_the_limit,
    a_reservation_that_does_not_fit_takes_nothing,
    refunds_never_go_below_zero,
    periods_roll_over,
    unlimited_plans_are_counted,
    daily_count_has_what_went_out_or_is_on_its_way,
    fifty_uploads_at_the_edge_take_exactly_the_allowance,
    daily_caps_are_checked_at_accept_and_when_a_scheduled_post_runs,
    usage_reports_profiles_and_posts,
    usage_of_an_unlimited_plan,
    me_reports_post_usage,
    usage_is_documented_with_its_schema
];

fn this_month() -> Period {
    Period::containing(time::now())
}

fn month(y: i32, m: u32, d: u32) -> Period {
    Period::containing(
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap(),
    )
}

impl TestApp {
    /// `usage::reserve` for this app's account.
    async fn reserve(&self, period: Period, n: u32, limit: Limit) -> Result<Usage, Usage> {
        let account = self.account_id.clone();
        self.with_db(move |c| usage::reserve(c, &account, &period, n, limit).unwrap())
            .await
            .map_err(|e| e.usage)
    }

    async fn refund(&self, period: Period, n: u32) -> i64 {
        let account = self.account_id.clone();
        self.with_db(move |c| usage::refund(c, &account, &period, n).unwrap())
            .await
    }

    async fn used(&self, period: Period) -> i64 {
        let account = self.account_id.clone();
        self.with_db(move |c| usage::current(c, &account, &period).unwrap())
            .await
    }
}

async fn reservations_at_the_edge_never_exceed_the_limit(app: &TestApp) {
    // Two more pools on the same database stand for two more processes.
    let url = DatabaseUrl::parse(&app.test_db.url).unwrap();
    let pools: Vec<Db> = tokio::task::spawn_blocking(move || {
        (0..2)
            .map(|_| Db::connect(&url, 4, std::time::Duration::from_secs(30)).unwrap())
            .collect()
    })
    .await
    .unwrap();
    let period = this_month();
    let tasks = (0..50).map(|i| {
        let db = if i % 3 == 0 {
            app.db.clone()
        } else {
            pools[i % 2].clone()
        };
        let account = app.account_id.clone();
        tokio::task::spawn_blocking(move || {
            let mut pooled = db.conn().unwrap();
            let conn: &mut DbConn = &mut pooled;
            let reserve = |c: &mut DbConn| usage::reserve(c, &account, &period, 1, Limit::Max(10));
            // Half of them inside a transaction, as the upload engine calls it.
            if i % 2 == 0 {
                conn.transaction(reserve).unwrap()
            } else {
                reserve(conn).unwrap()
            }
        })
    });
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let granted: Vec<i64> = results
        .iter()
        .filter_map(|r| r.ok())
        .map(|u| u.count)
        .collect();
    assert_eq!(granted.len(), 10, "{results:?}");
    let mut counts = granted.clone();
    counts.sort_unstable();
    assert_eq!(counts, (1..=10).collect::<Vec<_>>(), "each credit once");
    for refused in results.iter().filter_map(|r| r.err()) {
        assert_eq!(refused.usage.count, 10);
        assert_eq!(refused.usage.limit, Limit::Max(10));
    }
    assert_eq!(app.used(period).await, 10);
}

async fn a_reservation_that_does_not_fit_takes_nothing(app: &TestApp) {
    let period = this_month();
    let limit = Limit::Max(10);
    assert_eq!(app.reserve(period, 8, limit).await.unwrap().count, 8);
    let refused = app.reserve(period, 3, limit).await.unwrap_err();
    assert_eq!(refused, Usage::new(8, limit, &period));
    assert_eq!(app.used(period).await, 8);
    assert_eq!(app.reserve(period, 2, limit).await.unwrap().count, 10);
    assert_eq!(app.reserve(period, 1, limit).await.unwrap_err().count, 10);
    // A plan with no allowance at all refuses the first post.
    let (other, _) = app.new_account("default").await;
    let refused = app
        .with_db(move |c| usage::reserve(c, &other, &period, 1, Limit::Max(0)).unwrap())
        .await;
    assert_eq!(refused.unwrap_err().usage.count, 0);
}

async fn refunds_never_go_below_zero(app: &TestApp) {
    let period = this_month();
    let limit = Limit::Max(10);
    app.reserve(period, 10, limit).await.unwrap();
    assert_eq!(app.refund(period, 2).await, 8);
    assert_eq!(app.reserve(period, 2, limit).await.unwrap().count, 10);
    assert_eq!(app.refund(period, 4).await, 6);
    assert_eq!(app.refund(period, 50).await, 0);
    assert_eq!(app.used(period).await, 0);
    // A period never reserved in: nothing to give back, nothing stored.
    let empty = period.next();
    assert_eq!(app.refund(empty, 3).await, 0);
    assert_eq!(app.used(empty).await, 0);
}

async fn periods_roll_over(app: &TestApp) {
    let (november, december) = (month(2026, 11, 30), month(2026, 12, 1));
    assert_eq!(november.next(), december);
    let limit = Limit::Max(3);
    app.reserve(november, 3, limit).await.unwrap();
    assert!(app.reserve(november, 1, limit).await.is_err());
    let fresh = app.reserve(december, 1, limit).await.unwrap();
    assert_eq!(fresh, Usage::new(1, limit, &december));
    assert_eq!(
        serde_json::to_value(fresh).unwrap()["last_reset"],
        "2026-12-01T00:00:00.000Z"
    );
    // A job of November cancelled in December gives its credits back to November.
    assert_eq!(app.refund(november, 2).await, 1);
    assert_eq!(app.used(december).await, 1);
}

async fn unlimited_plans_are_counted(app: &TestApp) {
    let period = this_month();
    for _ in 0..3 {
        app.reserve(period, 400, Limit::Unlimited).await.unwrap();
    }
    let usage = app.reserve(period, 1, Limit::Unlimited).await.unwrap();
    assert_eq!((usage.count, usage.limit), (1201, Limit::Unlimited));
    assert_eq!(
        serde_json::to_value(usage).unwrap()["limit"],
        serde_json::Value::Null
    );
}

/// One upload job with one target in `state` to `connection` on `platform`.
#[allow(clippy::too_many_arguments)]
fn insert_target(
    conn: &mut DbConn,
    account_id: &str,
    profile_id: &str,
    platform: &str,
    connection: &str,
    state: &str,
    due_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
) {
    let job = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(upload_jobs::table)
        .values((
            upload_jobs::id.eq(&job),
            upload_jobs::request_id.eq(&job),
            upload_jobs::account_id.eq(account_id),
            upload_jobs::profile_id.eq(profile_id),
            upload_jobs::kind.eq("text"),
            upload_jobs::payload.eq("{}"),
            upload_jobs::is_async.eq(false),
            upload_jobs::state.eq("active"),
            upload_jobs::queued.eq(false),
            upload_jobs::credits.eq(1),
            upload_jobs::created_at.eq(due_at),
        ))
        .execute(conn)
        .unwrap();
    diesel::insert_into(upload_targets::table)
        .values((
            upload_targets::job_id.eq(&job),
            upload_targets::platform.eq(platform),
            upload_targets::state.eq(state),
            upload_targets::connection_id.eq(connection),
            upload_targets::attempts.eq(1),
            upload_targets::due_at.eq(due_at),
            upload_targets::updated_at.eq(finished_at.unwrap_or(due_at)),
            upload_targets::finished_at.eq(finished_at),
            // Held by a worker that is not there: the app's own worker leaves them alone.
            upload_targets::locked_until.eq(Some(time::now() + Duration::days(7))),
        ))
        .execute(conn)
        .unwrap();
}

async fn daily_count_has_what_went_out_or_is_on_its_way(app: &TestApp) {
    let profile_id = app.profile_id("default").await;
    let account = app.account_id.clone();
    let now = time::now();
    let ago = move |hours: i64| now - Duration::hours(hours);
    let (used, other, later) = app
        .with_db(move |c| {
            let mut target =
                |connection: &str, state: &str, due: NaiveDateTime, done: Option<NaiveDateTime>| {
                    insert_target(
                        c,
                        &account,
                        &profile_id,
                        "instagram",
                        connection,
                        state,
                        due,
                        done,
                    )
                };
            // Counted: published in the window, being published, to be retried, due now.
            target("ig-1", "completed", ago(2), Some(ago(1)));
            target("ig-1", "completed", ago(30), Some(ago(23)));
            target("ig-1", "processing", ago(30), None);
            target("ig-1", "retryable", now + Duration::minutes(10), None);
            target("ig-1", "queued", now - Duration::minutes(1), None);
            // Not counted: published before the window, failed, skipped, scheduled later,
            // another account.
            target("ig-1", "completed", ago(26), Some(ago(25)));
            target("ig-1", "failed", ago(1), Some(ago(1)));
            target("ig-1", "skipped", ago(1), Some(ago(1)));
            target("ig-1", "queued", now + Duration::days(2), None);
            target("ig-2", "completed", ago(1), Some(ago(1)));
            (
                usage::used_last_24h(c, "ig-1", now).unwrap(),
                usage::used_last_24h(c, "ig-2", now).unwrap(),
                usage::used_last_24h(c, "ig-1", now + Duration::days(2)).unwrap(),
            )
        })
        .await;
    assert_eq!((used, other), (5, 1));
    // Two days on, what was published has left the window and the scheduled post is due.
    assert_eq!(later, 4);
}

/// `POST /api/upload_text` to X for olivia, urlencoded as the Python SDK sends it.
async fn post_to_x(app: &TestApp, title: &str, extra: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut form = vec![("user", "olivia"), ("platform[]", "x"), ("title", title)];
    form.extend_from_slice(extra);
    send(
        app.client
            .post(app.url("/api/upload_text"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .form(&form),
    )
    .await
}

async fn olivia_on_x(app: &TestApp) {
    let link = app.profile_with_link("olivia", json!({})).await;
    app.connect_on_page(&link, "x", Consent::Allow { person: 0 })
        .await;
}

async fn fifty_uploads_at_the_edge_take_exactly_the_allowance(app: &TestApp) {
    olivia_on_x(app).await;
    // The test plan allows 10 posts a month; each upload to X takes one.
    let titles = (0..50)
        .map(|i| format!("edge post {i}"))
        .collect::<Vec<_>>();
    let answers =
        futures_util::future::join_all(titles.iter().map(|t| post_to_x(app, t, &[]))).await;
    let accepted = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(accepted, 10, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["success"], false);
        assert_eq!(body["usage"]["count"], 10, "{body}");
        assert_eq!(body["usage"]["limit"], 10, "{body}");
    }
    assert_eq!(app.used(this_month()).await, 10);
    let tweets = app
        .sandbox_calls()
        .await
        .into_iter()
        .filter(|(p, e, _)| p == "x" && e == "tweets")
        .count();
    assert_eq!(tweets, 10);
}

async fn daily_caps_are_checked_at_accept_and_when_a_scheduled_post_runs(app: &TestApp) {
    olivia_on_x(app).await;
    // Due in a few seconds: accepted now, checked when it runs.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (status, scheduled) = post_to_x(app, "scheduled", &[("scheduled_date", &at)]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{scheduled}");
    // Then the account reaches X's cap of 50 posts a day.
    let connection = app.connection("olivia", "x").await.id;
    let profile_id = app.profile_id("olivia").await;
    let account = app.account_id.clone();
    app.with_db(move |c| {
        let hour_ago = time::now() - Duration::hours(1);
        for _ in 0..50 {
            insert_target(
                c,
                &account,
                &profile_id,
                "x",
                &connection,
                "completed",
                hour_ago,
                Some(hour_ago),
            );
        }
    })
    .await;
    let (status, body) = post_to_x(app, "one too many", &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["message"], "Post verification failed", "{body}");
    assert_eq!(
        body["violations"],
        json!([{"platform": "x", "type": "hard_cap",
                "message": "Daily cap reached for x: 50/50 in last 24h",
                "used_last_24h": 50, "cap": 50}])
    );
    let request_id = scheduled["request_id"].as_str().unwrap().to_owned();
    let mut report = Value::Null;
    until(WAIT, "the scheduled post to run", async || {
        let (_, body) = send(app.get(&format!("/status?request_id={request_id}"))).await;
        report = body;
        matches!(report["status"].as_str(), Some("completed" | "failed"))
    })
    .await;
    assert_eq!(report["status"], "failed", "{report}");
    let result = &report["results"][0];
    assert_eq!(result["error_code"], "daily_cap_reached", "{report}");
    assert_eq!(result["failure_stage"], "precheck", "{report}");
    let tweets = app
        .sandbox_calls()
        .await
        .into_iter()
        .filter(|(p, e, _)| p == "x" && e == "tweets")
        .count();
    assert_eq!(tweets, 0, "nothing went out past the cap");
}

async fn usage_reports_profiles_and_posts(app: &TestApp) {
    app.create_profile("second").await;
    let period = this_month();
    app.reserve(period, 3, Limit::Max(10)).await.unwrap();
    let (status, body) = send(app.get("/usage")).await;
    assert_eq!(body["posts"]["period"], period.key());
    assert_eq!(
        body["posts"]["last_reset"],
        time::rfc3339_millis(period.last_reset())
    );
    assert_eq!(
        body["posts"]["next_reset"],
        time::rfc3339_millis(period.next_reset())
    );
    assert_wire!("usage_200", status, body, {
        ".body.posts.period" => "[period]",
        ".body.posts.last_reset" => "[period_start]",
        ".body.posts.next_reset" => "[next_period_start]",
    });
    // Only the current period is shown.
    app.reserve(period.next(), 5, Limit::Max(10)).await.unwrap();
    assert_eq!(send(app.get("/usage")).await.1["posts"]["used"], 3);
}

async fn usage_of_an_unlimited_plan(app: &TestApp) {
    let (_, key) = app.new_account("unlimited").await;
    let (status, body) = send(app.get_as(&key, "/usage")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["plan"], "unlimited");
    assert_eq!(
        body["profiles"],
        serde_json::json!({"used": 1, "limit": null})
    );
    assert_eq!(body["posts"]["used"], 0);
    assert!(body["posts"]["allowance"].is_null());
}

async fn me_reports_post_usage(app: &TestApp) {
    let period = this_month();
    app.reserve(period, 2, Limit::Max(10)).await.unwrap();
    let (status, body) = send(app.get("/me")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["usage"],
        serde_json::json!({"profiles": 1, "posts": 2})
    );
    assert_eq!(
        body["api_usage"],
        serde_json::json!({"count": 2, "limit": 10,
                           "last_reset": time::rfc3339_millis(period.last_reset())})
    );
}

async fn usage_is_documented_with_its_schema(app: &TestApp) {
    let (_, doc) = send(app.client.get(app.url("/api/openapi.json"))).await;
    let ok = &doc["paths"]["/api/uploadposts/usage"]["get"]["responses"]["200"];
    let reference = ok["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .expect("a typed schema");
    let name = reference.rsplit('/').next().unwrap();
    let schemas = &doc["components"]["schemas"];
    let properties = |name: &str| -> Vec<String> {
        let mut keys: Vec<String> = schemas[name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema {name}: {}", schemas[name]))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(properties(name), ["plan", "posts", "profiles", "success"]);
    assert_eq!(
        properties("PostsUsed"),
        ["allowance", "last_reset", "next_reset", "period", "used"]
    );
}
