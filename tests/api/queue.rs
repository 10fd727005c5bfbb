//! `/api/uploadposts/queue/*`: settings (defaults, partial updates, validation), the preview
//! of queued jobs, the next free slot and slots marked full by hand.

use crate::cases;
use crate::support::{TestApp, send};
use chrono::{DateTime, Duration, Timelike, Utc};
use diesel::prelude::*;
use postgate::db::schema::{upload_jobs, upload_targets};
use postgate::db::{DbConn, accounts, profiles, queue};
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    settings_start_at_upload_posts_defaults,
    settings_change_only_what_is_sent,
    invalid_settings_are_refused_with_json_400s,
    preview_shows_queued_jobs_in_their_slots,
    next_slot_skips_full_and_manually_full_slots,
    slot_full_checks_the_slot,
    a_profile_link_sees_only_its_profile,
    concurrent_queued_uploads_take_distinct_slots,
];

/// A job queued for `at` on `platforms`, written straight into `upload_jobs` as the upload
/// engine writes one, in `state` (`scheduled`, or `cancelled`).
fn insert_job_row(
    conn: &mut DbConn,
    account_id: &str,
    profile_id: &str,
    at: DateTime<Utc>,
    title: &str,
    platforms: &[String],
    state: &str,
) -> QueryResult<String> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = Utc::now().naive_utc();
    diesel::insert_into(upload_jobs::table)
        .values((
            upload_jobs::id.eq(&id),
            upload_jobs::request_id.eq(&id),
            upload_jobs::account_id.eq(account_id),
            upload_jobs::profile_id.eq(profile_id),
            upload_jobs::kind.eq("text"),
            upload_jobs::title.eq(title),
            upload_jobs::payload.eq("{}"),
            upload_jobs::is_async.eq(true),
            upload_jobs::state.eq(state),
            upload_jobs::scheduled_for.eq(at.naive_utc()),
            upload_jobs::queued.eq(true),
            upload_jobs::credits.eq(platforms.len() as i32),
            upload_jobs::created_at.eq(now),
        ))
        .execute(conn)?;
    for platform in platforms {
        diesel::insert_into(upload_targets::table)
            .values((
                upload_targets::job_id.eq(&id),
                upload_targets::platform.eq(platform),
                upload_targets::state.eq("queued"),
                upload_targets::attempts.eq(0),
                upload_targets::due_at.eq(at.naive_utc()),
                upload_targets::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(id)
}

/// The id of one of the test account's profiles.
async fn profile_id(app: &TestApp, username: &str) -> String {
    let db = app.db.clone();
    let account_id = app.account_id.clone();
    let username = postgate::domain::Username::parse(username).unwrap();
    tokio::task::spawn_blocking(move || {
        profiles::find(&mut db.conn().unwrap(), &account_id, &username)
            .unwrap()
            .expect("profile")
            .id
    })
    .await
    .unwrap()
}

async fn insert_job(
    app: &TestApp,
    profile: &str,
    at: DateTime<Utc>,
    title: &str,
    platforms: &[&str],
    state: &str,
) -> String {
    let profile_id = profile_id(app, profile).await;
    let db = app.db.clone();
    let account_id = app.account_id.clone();
    let (title, state) = (title.to_owned(), state.to_owned());
    let platforms: Vec<String> = platforms.iter().map(|p| p.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let conn = &mut db.conn().unwrap();
        insert_job_row(
            conn,
            &account_id,
            &profile_id,
            at,
            &title,
            &platforms,
            &state,
        )
        .unwrap()
    })
    .await
    .unwrap()
}

async fn post_settings(app: &TestApp, body: Value) -> (StatusCode, Value) {
    send(app.post("/queue/settings", &body)).await
}

/// A UTC queue with one slot a day, two hours after now's hour: its slots are at least an
/// hour away, so none passes while a test runs.
async fn daily_utc_queue(app: &TestApp, profile: &str, max: u32) -> u32 {
    let hour = (Utc::now() + Duration::hours(2)).hour();
    let (status, body) = post_settings(
        app,
        json!({
            "profile_username": profile, "timezone": "UTC",
            "slots": [{"hour": hour}], "max_posts_per_slot": max,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    hour
}

fn at(text: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.as_str().expect("a datetime"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

async fn next_slot(app: &TestApp, profile: &str) -> Value {
    let (status, body) =
        send(app.get(&format!("/queue/next-slot?profile_username={profile}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["next_slot"].clone()
}

async fn settings_start_at_upload_posts_defaults(app: &TestApp) {
    let defaults = json!({
        "timezone": "America/New_York",
        "slots": [{"hour": 9, "minute": 0}, {"hour": 12, "minute": 0}, {"hour": 17, "minute": 0}],
        "days_of_week": [0, 1, 2, 3, 4, 5, 6],
        "max_posts_per_slot": 1,
        "full_slots": [],
    });
    // Without a profile: the account's default one (the MCP server sends none).
    let (status, body) = send(app.get("/queue/settings")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true, "queue_settings": defaults}));
    app.create_profile("shop").await;
    let (_, body) = send(app.get("/queue/settings?profile_username=shop")).await;
    assert_eq!(body["queue_settings"], defaults);
    let (status, body) = send(app.get("/queue/settings?profile=nobody")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "PROFILE_NOT_FOUND");
    assert_eq!(body["success"], false);
    // Another account's profile is no profile of ours.
    let (_, other_key) = app.new_account("default").await;
    let (status, _) = send(app.get_as(&other_key, "/queue/settings?profile_username=shop")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(app.client.get(app.api("/queue/settings"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn settings_change_only_what_is_sent(app: &TestApp) {
    app.create_profile("shop").await;
    let (status, body) = post_settings(
        app,
        json!({"profile_username": "shop", "max_posts_per_slot": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["queue_settings"]["max_posts_per_slot"], 3);
    assert_eq!(body["queue_settings"]["timezone"], "America/New_York");
    let (_, body) = post_settings(
        app,
        json!({
            "profile": "shop", "timezone": "europe/berlin",
            "slots": [{"hour": 18, "minute": 30}, {"hour": 8}], "days_of_week": [4, 0, 2],
        }),
    )
    .await;
    let want = json!({
        "timezone": "Europe/Berlin",
        "slots": [{"hour": 8, "minute": 0}, {"hour": 18, "minute": 30}],
        "days_of_week": [0, 2, 4],
        "max_posts_per_slot": 3,
        "full_slots": [],
    });
    assert_eq!(body["queue_settings"], want);
    let (_, body) = send(app.get("/queue/settings?profile_username=shop")).await;
    assert_eq!(body["queue_settings"], want);
    // An empty body changes nothing; other profiles keep their own settings.
    let (_, body) = post_settings(app, json!({"profile_username": "shop"})).await;
    assert_eq!(body["queue_settings"], want);
    let (_, body) = send(app.get("/queue/settings")).await;
    assert_eq!(body["queue_settings"]["timezone"], "America/New_York");
}

async fn invalid_settings_are_refused_with_json_400s(app: &TestApp) {
    for (body, field) in [
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"slots": []}), "slots"),
        (json!({"slots": [{"hour": 24, "minute": 0}]}), "slots"),
        (
            json!({"slots": [{"hour": 9}, {"hour": 9, "minute": 0}]}),
            "slots",
        ),
        (
            json!({"slots": (0..25).map(|i| json!({"hour": i % 24, "minute": i})).collect::<Vec<_>>()}),
            "slots",
        ),
        (json!({"days_of_week": [7]}), "days_of_week"),
        (json!({"days_of_week": []}), "days_of_week"),
        (json!({"max_posts_per_slot": 0}), "max_posts_per_slot"),
        (json!({"max_posts_per_slot": 101}), "max_posts_per_slot"),
    ] {
        let (status, resp) = post_settings(app, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(resp["success"], false);
        assert_eq!(resp["error_code"], "INVALID_FIELD");
        assert!(
            resp["message"].as_str().unwrap().contains(field),
            "{body}: {resp}"
        );
    }
    let (status, resp) = send(
        app.client
            .post(app.api("/queue/settings"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .body("[1]"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(resp["error_code"], "INVALID_JSON");
    // Nothing was changed by the refused bodies.
    let (_, body) = send(app.get("/queue/settings")).await;
    assert_eq!(body["queue_settings"]["max_posts_per_slot"], 1);
    assert_eq!(body["queue_settings"]["timezone"], "America/New_York");
}

async fn preview_shows_queued_jobs_in_their_slots(app: &TestApp) {
    let hour = daily_utc_queue(app, "default", 2).await;
    let (status, body) = send(app.get("/queue/preview?profile_username=default&days=3")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let slots = body["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3, "{body}");
    assert_eq!(body["timezone"], "UTC");
    let first = at(&slots[0]["datetime_utc"]);
    assert_eq!(first.hour(), hour);
    assert!(
        slots[0]["datetime_utc"]
            .as_str()
            .unwrap()
            .ends_with(":00:00+00:00")
    );
    assert_eq!(slots[0]["datetime_local"], slots[0]["datetime_utc"]);
    let second = at(&slots[1]["datetime_utc"]);
    assert_eq!(second - first, Duration::days(1));

    let job = insert_job(
        app,
        "default",
        first,
        "Hello",
        &["x", "linkedin"],
        "scheduled",
    )
    .await;
    insert_job(app, "default", first, "Gone", &["x"], "cancelled").await;
    let full_a = insert_job(app, "default", second, "A", &["threads"], "scheduled").await;
    let full_b = insert_job(app, "default", second, "B", &["x"], "scheduled").await;
    // Another profile's job is not in this queue.
    app.create_profile("other").await;
    insert_job(app, "other", first, "Other", &["x"], "scheduled").await;

    let (_, body) = send(app.get("/queue/preview?profile=default&count=2")).await;
    let slots = body["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 2);
    assert_eq!(
        slots[0],
        json!({
            "datetime_utc": slots[0]["datetime_utc"],
            "datetime_local": slots[0]["datetime_local"],
            "available": true,
            "post_count": 1,
            "max_posts_per_slot": 2,
            "is_full": false,
            "manually_full": false,
            "scheduled_posts": [{"job_id": job, "title": "Hello", "platforms": ["linkedin", "x"]}],
        })
    );
    assert_eq!(slots[1]["post_count"], 2);
    assert_eq!(slots[1]["is_full"], true);
    assert_eq!(slots[1]["available"], false);
    let mut listed: Vec<&str> = slots[1]["scheduled_posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["job_id"].as_str().unwrap())
        .collect();
    listed.sort();
    let mut want = [full_a.as_str(), full_b.as_str()];
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(
        body["next_available"]["datetime_utc"],
        slots[0]["datetime_utc"]
    );
    assert_eq!(body["next_available"]["timezone"], "UTC");

    // The window is bounded.
    for query in ["days=0", "days=61", "count=0", "count=201", "days=x"] {
        let (status, body) = send(app.get(&format!("/queue/preview?{query}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error_code"], "INVALID_FIELD");
    }
    // The default window is a week of daily slots.
    let (_, body) = send(app.get("/queue/preview")).await;
    assert_eq!(body["slots"].as_array().unwrap().len(), 7);
}

async fn next_slot_skips_full_and_manually_full_slots(app: &TestApp) {
    daily_utc_queue(app, "default", 1).await;
    let (_, preview) = send(app.get("/queue/preview?count=3")).await;
    let slot = |i: usize| preview["slots"][i]["datetime_utc"].clone();
    let next = next_slot(app, "default").await;
    assert_eq!(next["datetime_utc"], slot(0));
    assert_eq!(next["datetime_local"], slot(0));
    assert_eq!(next["timezone"], "UTC");

    insert_job(app, "default", at(&slot(0)), "Taken", &["x"], "scheduled").await;
    assert_eq!(next_slot(app, "default").await["datetime_utc"], slot(1));

    let (status, body) = send(app.post(
        "/queue/slot-full",
        &json!({"profile_username": "default", "slot_datetime": slot(1)}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["manually_full"], true);
    assert_eq!(body["slot_datetime"], slot(1));
    // Marking twice is harmless.
    let (status, _) = send(app.post("/queue/slot-full", &json!({"slot_datetime": slot(1)}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(next_slot(app, "default").await["datetime_utc"], slot(2));

    let (_, settings) = send(app.get("/queue/settings")).await;
    assert_eq!(settings["queue_settings"]["full_slots"], json!([slot(1)]));
    let (_, preview_now) = send(app.get("/queue/preview?count=3")).await;
    assert_eq!(preview_now["slots"][1]["manually_full"], true);
    assert_eq!(preview_now["slots"][1]["is_full"], false);
    assert_eq!(preview_now["slots"][1]["available"], false);
    assert_eq!(preview_now["next_available"]["datetime_utc"], slot(2));

    // A larger limit makes room in the taken slot again.
    post_settings(app, json!({"max_posts_per_slot": 2})).await;
    assert_eq!(next_slot(app, "default").await["datetime_utc"], slot(0));
    post_settings(app, json!({"max_posts_per_slot": 1})).await;

    // Freed through DELETE with the slot in the query.
    let path = format!(
        "/queue/slot-full?profile_username=default&slot_datetime={}",
        slot(1).as_str().unwrap().replace('+', "%2B")
    );
    let (status, body) = send(app.with_key(app.client.delete(app.api(&path)), &app.api_key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["manually_full"], false);
    assert_eq!(next_slot(app, "default").await["datetime_utc"], slot(1));

    // POST with full=false frees too.
    send(app.post("/queue/slot-full", &json!({"slot_datetime": slot(2)}))).await;
    send(app.post(
        "/queue/slot-full",
        &json!({"slot_datetime": slot(1), "full": "true"}),
    ))
    .await;
    assert_eq!(
        next_slot(app, "default").await["datetime_utc"],
        at_day(&slot(2), 1)
    );
    let (_, body) = send(app.post(
        "/queue/slot-full",
        &json!({"slot_datetime": slot(1), "full": false}),
    ))
    .await;
    assert_eq!(body["manually_full"], false);
    assert_eq!(next_slot(app, "default").await["datetime_utc"], slot(1));
}

/// The queue's `+00:00` text of `slot` moved by `days`.
fn at_day(slot: &Value, days: i64) -> Value {
    let t = at(slot) + Duration::days(days);
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string().into()
}

async fn slot_full_checks_the_slot(app: &TestApp) {
    daily_utc_queue(app, "default", 1).await;
    let (_, preview) = send(app.get("/queue/preview?count=1")).await;
    let slot = preview["slots"][0]["datetime_utc"].clone();
    let off_slot = at(&slot) + Duration::minutes(1);
    let past = at(&slot) - Duration::days(2);
    for body in [
        json!({}),
        json!({"slot_datetime": ""}),
        json!({"slot_datetime": "soon"}),
        json!({"slot_datetime": off_slot.to_rfc3339()}),
        json!({"slot_datetime": past.to_rfc3339()}),
        json!({"slot_datetime": at_day(&slot, 400)}),
        json!({"slot_datetime": slot, "full": "perhaps"}),
    ] {
        let (status, resp) = send(app.post("/queue/slot-full", &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {resp}");
        assert_eq!(resp["error_code"], "INVALID_FIELD");
        assert_eq!(resp["success"], false);
    }
    let (status, _) = send(app.post(
        "/queue/slot-full",
        &json!({"profile_username": "ghost", "slot_datetime": slot}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The same instant written with another offset, or without one (UTC), is the same slot.
    let berlin = at(&slot).with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap());
    let (status, body) = send(app.post(
        "/queue/slot-full",
        &json!({"slot_datetime": berlin.to_rfc3339()}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["slot_datetime"], slot);
    let naive = at(&slot).format("%Y-%m-%dT%H:%M:%S").to_string();
    let (status, body) =
        send(app.delete("/queue/slot-full", &json!({"slot_datetime": naive}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, settings) = send(app.get("/queue/settings")).await;
    assert_eq!(settings["queue_settings"]["full_slots"], json!([]));
    let (status, _) = send(app.delete("/queue/slot-full", &json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn a_profile_link_sees_only_its_profile(app: &TestApp) {
    app.create_profile("mine").await;
    post_settings(
        app,
        json!({"profile_username": "mine", "max_posts_per_slot": 4}),
    )
    .await;
    let token = app.link_token("mine", json!({})).await;
    let bearer =
        |req: reqwest::RequestBuilder| req.header("Authorization", format!("Bearer {token}"));
    // The link's profile, whatever the query names.
    let (status, body) = send(bearer(
        app.client
            .get(app.api("/queue/settings?profile_username=default")),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["queue_settings"]["max_posts_per_slot"], 4);
    let readonly = app
        .link_token("mine", json!({"readonly_calendar": true}))
        .await;
    let (status, body) = send(
        app.client
            .post(app.api("/queue/settings"))
            .header("Authorization", format!("Bearer {readonly}"))
            .json(&json!({"max_posts_per_slot": 5})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error_code"], "READONLY_CALENDAR");
}

/// What the upload engine does for `add_to_queue`: lock the account, ask for the next free
/// slot and insert the job, in one transaction. Run at once from several connections, no two
/// take the last place of one slot (without the lock, PostgreSQL gives two the same slot).
async fn concurrent_queued_uploads_take_distinct_slots(app: &TestApp) {
    daily_utc_queue(app, "default", 1).await;
    let profile_id = profile_id(app, "default").await;
    let uploads = (0..3).map(|i| {
        let db = app.db.clone();
        let (account_id, profile_id) = (app.account_id.clone(), profile_id.clone());
        tokio::task::spawn_blocking(move || {
            let conn = &mut db.conn().unwrap();
            conn.transaction(|conn| {
                accounts::lock(conn, &account_id)?;
                let settings = queue::settings(conn, &profile_id)?;
                let slot = queue::next_free_slot(conn, &profile_id, &settings, Utc::now(), None)?
                    .expect("a free slot");
                let platforms = ["x".to_owned()];
                insert_job_row(
                    conn,
                    &account_id,
                    &profile_id,
                    slot,
                    &format!("post {i}"),
                    &platforms,
                    "scheduled",
                )?;
                QueryResult::Ok(slot)
            })
            .unwrap()
        })
    });
    let mut slots: Vec<DateTime<Utc>> = futures::future::join_all(uploads)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    slots.sort();
    let (_, preview) = send(app.get("/queue/preview?count=4")).await;
    let listed: Vec<DateTime<Utc>> = (0..3)
        .map(|i| at(&preview["slots"][i]["datetime_utc"]))
        .collect();
    assert_eq!(slots, listed);
    assert_eq!(
        preview["next_available"]["datetime_utc"],
        preview["slots"][3]["datetime_utc"]
    );
}
