//! Throughput and latency of the API and the connect page against a baseline measured in
//! the same run.
//!
//! `cargo bench --bench api` (add `POSTGATE_TEST_POSTGRES_URL=...` for PostgreSQL too).
//! The baseline is `GET /healthz`: the same HTTP stack with no authentication and no
//! database, so each ratio shows what auth + storage cost on this machine, this run.

#[path = "../tests/api/support/mod.rs"]
#[allow(dead_code)]
mod support;

use futures::future::join_all;
use std::time::{Duration, Instant};
use support::{Backend, PG_ENV, TestApp};

const CLIENTS: usize = 16;
/// Requests per scenario under `cargo bench`; `cargo test` runs a quick smoke pass instead.
const REQUESTS: usize = 4_000;
const SMOKE_REQUESTS: usize = 160;

struct Result {
    name: &'static str,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `requests` requests from `CLIENTS` concurrent clients; `make(i)` builds request i.
async fn measure(
    name: &'static str,
    requests: usize,
    make: impl Fn(usize) -> reqwest::RequestBuilder,
) -> Result {
    let make = &make;
    let started = Instant::now();
    let per_client = requests / CLIENTS;
    let latencies: Vec<Duration> = join_all((0..CLIENTS).map(|c| async move {
        let mut own = Vec::with_capacity(per_client);
        for i in 0..per_client {
            let t = Instant::now();
            let resp = make(c * per_client + i).send().await.expect("request");
            assert!(resp.status().is_success(), "{name}: {}", resp.status());
            resp.bytes().await.expect("body");
            own.push(t.elapsed());
        }
        own
    }))
    .await
    .into_iter()
    .flatten()
    .collect();
    let elapsed = started.elapsed();
    let mut sorted = latencies.clone();
    sorted.sort();
    Result {
        name,
        per_second: sorted.len() as f64 / elapsed.as_secs_f64(),
        p50: sorted[sorted.len() / 2],
        p99: sorted[sorted.len() * 99 / 100],
    }
}

/// Median latency of `requests` requests sent one at a time: the server's own time per
/// request plus loopback, without queueing behind other clients.
async fn sequential_p50(requests: usize, make: impl Fn() -> reqwest::RequestBuilder) -> Duration {
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let t = Instant::now();
        let resp = make().send().await.expect("request");
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.bytes().await.expect("body");
        latencies.push(t.elapsed());
    }
    latencies.sort();
    latencies[latencies.len() / 2]
}

async fn run(backend: Backend, requests: usize) {
    // Request limits off: they would answer most of the load 429 (one key, one link).
    let app = TestApp::spawn_without_limits(backend, |s| {
        s.database_pool_size = 8;
        // The production default, not the tests' 100 ms.
        s.oauth_refresh_interval_ms = 30_000;
    })
    .await;
    let (unlimited, key) = app.new_account("unlimited").await;
    for i in 0..99 {
        let req = app
            .with_key(app.client.post(app.api("/users")), &key)
            .json(&serde_json::json!({"username": format!("user-{i}")}));
        assert!(req.send().await.unwrap().status().is_success());
    }
    let get = |path: String| app.with_key(app.client.get(app.api(&path)), &key);
    // A connect page with three connected accounts and a month of posts.
    let token = app
        .profile_with_link("bench-page", serde_json::json!({}))
        .await;
    for (platform, handle) in [("tiktok", "a"), ("instagram", "b"), ("x", "c")] {
        app.insert_connection("bench-page", platform, handle, false)
            .await;
    }
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    for day in 1..=20 {
        let at = format!("{month}-{day:02}T12:00:00");
        app.insert_post("bench-page", "tiktok", "scheduled", &at, "A post")
            .await;
    }
    let page = app.url(&format!("/connect?token={token}"));
    let calendar = app.url(&format!("/connect/calendar?token={token}"));
    // Warm up connections and caches.
    measure("warm-up", requests, |_| app.client.get(app.url("/healthz"))).await;

    let results = vec![
        measure("GET /healthz (baseline)", requests, |_| {
            app.client.get(app.url("/healthz"))
        })
        .await,
        measure("GET /me", requests, |_| get("/me".into())).await,
        measure("GET /users/{username}", requests, |i| {
            get(format!("/users/user-{}", i % 99))
        })
        .await,
        measure("GET /users (100 profiles)", requests, |_| {
            get("/users".into())
        })
        .await,
        measure("POST /users (create)", requests, |i| {
            app.with_key(app.client.post(app.api("/users")), &key)
                .json(&serde_json::json!({"username": format!("new-{i}")}))
        })
        .await,
        measure("POST generate-jwt", requests, |_| {
            app.post(
                "/users/generate-jwt",
                &serde_json::json!({"username": "bench-page"}),
            )
        })
        .await,
        measure("GET validate-jwt (Bearer)", requests, |_| {
            app.client
                .get(app.api("/users/validate-jwt"))
                .header("Authorization", format!("Bearer {token}"))
        })
        .await,
        measure("GET /connect (page)", requests, |_| app.client.get(&page)).await,
        measure("GET /connect/calendar", requests, |_| {
            app.client.get(&calendar)
        })
        .await,
    ];
    let baseline = results[0].per_second;
    println!(
        "\n{} — {CLIENTS} concurrent clients, {requests} requests per scenario",
        backend.name()
    );
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>12}",
        "scenario", "req/s", "p50 ms", "p99 ms", "vs baseline"
    );
    for r in &results {
        println!(
            "{:<28} {:>10.0} {:>9.2} {:>9.2} {:>11.2}x",
            r.name,
            r.per_second,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.per_second / baseline
        );
    }
    webhooks(&app, &unlimited, &key, requests).await;
    connect_flows(&app, &key, requests / 20).await;
    let base = sequential_p50(requests / 4, || app.client.get(app.url("/healthz"))).await;
    let one = sequential_p50(requests / 4, || app.client.get(&page)).await;
    let cal = sequential_p50(requests / 4, || app.client.get(&calendar)).await;
    println!(
        "one client at a time, median: /healthz {:.3} ms, /connect {:.3} ms ({:.2}x), \
         /connect/calendar {:.3} ms ({:.2}x)",
        base.as_secs_f64() * 1e3,
        one.as_secs_f64() * 1e3,
        one.as_secs_f64() / base.as_secs_f64(),
        cal.as_secs_f64() * 1e3,
        cal.as_secs_f64() / base.as_secs_f64(),
    );
    app.stop().await;
}

/// Webhook delivery against a local receiver: `requests` events over 16 profiles, drained by
/// the server's own worker, against the baseline of the bench posting to the same receiver.
async fn webhooks(app: &TestApp, account: &str, key: &str, requests: usize) {
    let receiver = support::receiver::Receiver::start().await;
    let raw = measure("POST to the receiver (baseline)", requests, |_| {
        app.client.post(&receiver.url).body("{}")
    })
    .await;
    let already = receiver.received().len();
    let post = |path: &str, body: serde_json::Value| {
        app.with_key(app.client.post(app.api(path)), key)
            .json(&body)
    };
    post(
        "/users/notifications",
        serde_json::json!({"webhook_url": receiver.url}),
    )
    .send()
    .await
    .unwrap();
    let mut names = Vec::new();
    for i in 0..16 {
        let name = format!("hooked-{i}");
        post("/users", serde_json::json!({"username": name}))
            .send()
            .await
            .unwrap();
        names.push(name);
    }
    let started = Instant::now();
    app.emit_round_robin(account, names, requests).await;
    receiver
        .wait_for_accepted(already + requests, Duration::from_secs(600))
        .await;
    let elapsed = started.elapsed();
    let longest = app.longest_webhook_delay().await;
    let per_second = requests as f64 / elapsed.as_secs_f64();
    println!(
        "webhooks: {requests} events over 16 profiles delivered in {:.2} s: {per_second:.0}/s \
         ({:.2}x the baseline's {:.0} posts/s); longest delay from commit to delivery {} ms",
        elapsed.as_secs_f64(),
        per_second / raw.per_second,
        raw.per_second,
        longest.num_milliseconds()
    );
}

/// One sign-in through the sandbox, as a browser makes it: the API's start, the consent page,
/// the decision, and the callback (code exchange, identity, encrypted storage, webhook
/// event). Four HTTP hops to Postgate, two more from Postgate to the emulator.
async fn one_flow(app: &TestApp, key: &str, profile: &str) {
    let done = app
        .connect_via_api(
            &app.api(""),
            key,
            "x",
            profile,
            support::sandbox::Consent::Allow { person: 0 },
        )
        .await;
    assert_eq!(done.status, reqwest::StatusCode::OK);
}

/// Connecting accounts: the median of one flow at a time, and flows from 16 clients at
/// once (one profile each), against four `GET /healthz` per flow as the baseline.
async fn connect_flows(app: &TestApp, key: &str, flows: usize) {
    let profiles: Vec<String> = (0..CLIENTS).map(|i| format!("flow-{i}")).collect();
    for p in &profiles {
        let req = app
            .with_key(app.client.post(app.api("/users")), key)
            .json(&serde_json::json!({"username": p}));
        assert!(req.send().await.unwrap().status().is_success());
    }
    let mut one = Vec::new();
    let mut base = Vec::new();
    for _ in 0..flows.max(4) {
        let t = Instant::now();
        one_flow(app, key, &profiles[0]).await;
        one.push(t.elapsed());
        let t = Instant::now();
        for _ in 0..4 {
            app.client.get(app.url("/healthz")).send().await.unwrap();
        }
        base.push(t.elapsed());
    }
    one.sort();
    base.sort();
    let (one, base) = (one[one.len() / 2], base[base.len() / 2]);
    let started = Instant::now();
    join_all(profiles.iter().map(|p| async move {
        for _ in 0..flows.max(CLIENTS) / CLIENTS {
            one_flow(app, key, p).await;
        }
    }))
    .await;
    let total = flows.max(CLIENTS) / CLIENTS * CLIENTS;
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    println!(
        "connect flow (start, consent page, decision, callback): median {:.2} ms one at a \
         time ({:.1}x four /healthz, {:.2} ms); {per_second:.0} flows/s from {CLIENTS} clients",
        one.as_secs_f64() * 1e3,
        one.as_secs_f64() / base.as_secs_f64(),
        base.as_secs_f64() * 1e3,
    );
}

fn main() {
    postgate::init_process();
    let requests = if std::env::args().any(|a| a == "--bench") {
        REQUESTS
    } else {
        SMOKE_REQUESTS
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        run(Backend::Sqlite, requests).await;
        if std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty()) {
            run(Backend::Postgres, requests).await;
        } else {
            println!("\n(set {PG_ENV} to measure PostgreSQL too)");
        }
    });
}
