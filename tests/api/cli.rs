//! The `postgate` command line, run as a real process against the test's database.

use crate::cases;
use crate::support::process::ServerProcess;
use crate::support::{TestApp, TestDb, run_cli, send};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

cases![
    accounts_create_prints_one_json_object,
    accounts_list_and_set_plan,
    cli_errors_are_clear,
    keys_work_while_a_server_runs,
    first_run_prints_a_working_key_once,
    bad_configuration_is_refused_clearly,
    commands_exit_cleanly_every_time,
    serve_stops_gracefully_on_sigterm,
    sigterm_finishes_in_flight_requests_within_the_shutdown_timeout,
    printed_links_use_the_public_url,
    healthcheck_exits_0_only_when_the_server_is_ready,
];

async fn accounts_create_prints_one_json_object(app: &TestApp) {
    let mut cli = app.cli();
    cli.args([
        "accounts", "create", "--name", "Acme", "--plan", "basic", "--json",
    ]);
    let (ok, out, err) = run_cli(cli);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("exactly one JSON object");
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["account_id", "api_key", "plan"]);
    assert_eq!(v["plan"], "basic");
    let key = v["api_key"].as_str().unwrap();
    let (status, me) = send(app.get_as(key, "/me")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["plan"], "Basic");
    assert_eq!(me["account"]["id"], v["account_id"]);
    assert_eq!(me["account"]["name"], "Acme");
    // The new account has its default profile.
    let (_, list) = send(app.get_as(key, "/users")).await;
    assert_eq!(list["profiles"][0]["username"], "default");
    assert_eq!(list["profiles"][0]["is_default"], true);
    assert_eq!(list["limit"], 25);

    let mut cli = app.cli();
    cli.args(["accounts", "create", "--name", "Plain"]);
    let (ok, out, _) = run_cli(cli);
    assert!(ok);
    assert!(out.contains("API key (shown only once"), "{out}");
}

async fn accounts_list_and_set_plan(app: &TestApp) {
    let mut cli = app.cli();
    cli.args(["accounts", "list", "--json"]);
    let (ok, out, err) = run_cli(cli);
    assert!(ok, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let row = rows
        .iter()
        .find(|r| r["account_id"] == app.account_id.as_str())
        .unwrap();
    assert_eq!(
        (
            row["plan"].as_str(),
            row["profiles"].as_i64(),
            row["active_keys"].as_i64()
        ),
        (Some("default"), Some(1), Some(1))
    );
    assert_eq!(row["profile_limit"], 10);

    let mut cli = app.cli();
    cli.args(["accounts", "set-plan", &app.account_id, "professional"]);
    let (ok, out, err) = run_cli(cli);
    assert!(ok, "{err}");
    assert!(out.contains("now on plan professional"), "{out}");
    let (_, list) = send(app.get("/users")).await;
    assert_eq!(
        (list["plan"].as_str(), list["limit"].as_i64()),
        (Some("professional"), Some(100))
    );

    let mut cli = app.cli();
    cli.args(["accounts", "list"]);
    let (ok, out, _) = run_cli(cli);
    assert!(
        ok && out.contains(&app.account_id) && out.contains("professional"),
        "{out}"
    );
}

async fn cli_errors_are_clear(app: &TestApp) {
    let cases: [(&[&str], &str); 5] = [
        (
            &["accounts", "create", "--name", "x", "--plan", "gold"],
            "unknown plan \"gold\"",
        ),
        (
            &["accounts", "create", "--name", "  "],
            "--name must not be empty",
        ),
        (
            &["accounts", "set-plan", "no-such-id", "basic"],
            "no account with id no-such-id",
        ),
        (
            &["keys", "create", "no-such-id"],
            "no account with id no-such-id",
        ),
        (
            &["keys", "revoke", "pgk_nothing"],
            "no key with prefix pgk_nothing",
        ),
    ];
    for (args, needle) in cases {
        let mut cli = app.cli();
        cli.args(args);
        let (ok, _, err) = run_cli(cli);
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

async fn keys_work_while_a_server_runs(app: &TestApp) {
    let server = tokio::task::spawn_blocking({
        let cmd = app.cli();
        move || ServerProcess::start(cmd)
    })
    .await
    .unwrap();
    let mut cli = app.cli();
    cli.args(["keys", "create", &app.account_id, "--json"]);
    let (ok, out, err) = run_cli(cli);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let key = v["api_key"].as_str().unwrap().to_owned();
    let prefix = v["prefix"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&prefix));
    let me = |key: String| app.with_key(app.client.get(server.api("/me")), &key);
    assert_eq!(send(me(key.clone())).await.0, StatusCode::OK);

    let mut cli = app.cli();
    cli.args(["keys", "list", "--account", &app.account_id, "--json"]);
    let (ok, out, _) = run_cli(cli);
    assert!(ok);
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 2);
    let row = rows
        .iter()
        .find(|r| r["prefix"] == prefix.as_str())
        .unwrap();
    assert!(row["last_used_at"].is_string(), "{row}");
    assert!(row["revoked_at"].is_null());
    // Only prefixes are listed, never a key.
    assert!(!out.contains(&key) && !out.contains(&app.api_key));

    let mut cli = app.cli();
    cli.args(["keys", "revoke", &prefix]);
    let (ok, out, err) = run_cli(cli);
    assert!(ok, "{err}");
    assert!(out.contains("Revoked"), "{out}");
    assert_eq!(send(me(key.clone())).await.0, StatusCode::UNAUTHORIZED);
    // The account's other key still works; revoking twice is harmless.
    assert_eq!(send(me(app.api_key.clone())).await.0, StatusCode::OK);
    let mut cli = app.cli();
    cli.args(["keys", "revoke", &prefix]);
    let (ok, out, _) = run_cli(cli);
    assert!(ok && out.contains("already revoked"), "{out}");
}

async fn first_run_prints_a_working_key_once(app: &TestApp) {
    // A database nobody has used yet, and two servers starting on it at once.
    let fresh = TestDb::new(app.test_db.backend);
    let command = || {
        let mut cmd = app.cli();
        cmd.env("POSTGATE_DATABASE_URL", &fresh.url);
        cmd
    };
    let (c1, c2, c3) = (command(), command(), command());
    let (mut first, mut second) = tokio::task::spawn_blocking(move || {
        let a = std::thread::spawn(move || ServerProcess::start(c1));
        let b = ServerProcess::start(c2);
        (a.join().unwrap(), b)
    })
    .await
    .unwrap();
    let wait = Duration::from_secs(3);
    let curls: Vec<String> = [&mut first, &mut second]
        .into_iter()
        .filter_map(|s| s.stdout_line("curl -H", wait))
        .collect();
    assert_eq!(
        curls.len(),
        1,
        "exactly one process creates the first account: {curls:?}"
    );
    let curl = &curls[0];
    let key = curl
        .split("Apikey ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    let url = curl.split_whitespace().last().unwrap();
    assert!(url.ends_with("/api/uploadposts/me"), "{curl}");
    let (status, body) = send(
        app.client
            .get(url)
            .header("Authorization", format!("Apikey {key}")),
    )
    .await;
    assert_eq!(
        (status, body["plan"].as_str()),
        (StatusCode::OK, Some("Default"))
    );
    drop((first, second, command));

    // Restarting prints no new key, and the old one still works.
    let mut again = tokio::task::spawn_blocking(move || ServerProcess::start(c3))
        .await
        .unwrap();
    assert_eq!(
        again.stdout_line("Apikey", Duration::from_millis(500)),
        None
    );
    let me = app
        .client
        .get(again.api("/me"))
        .header("Authorization", format!("Apikey {key}"));
    assert_eq!(send(me).await.0, StatusCode::OK);
}

async fn bad_configuration_is_refused_clearly(app: &TestApp) {
    let config = app.test_db.dir.path().join("postgate.toml");
    // (environment, arguments, what the error must mention)
    type Attempt<'a> = (Vec<(&'a str, String)>, Vec<&'a str>, &'a str);
    let attempts: Vec<Attempt> = vec![
        (
            vec![("POSTGATE_LISTEN", "localhost".into())],
            vec!["serve"],
            "listen",
        ),
        (
            vec![("POSTGATE_LISEN", "127.0.0.1:1".into())],
            vec!["migrate"],
            "lisen",
        ),
        (
            vec![("POSTGATE_DATABASE_URL", "mysql://db/x".into())],
            vec!["migrate"],
            "unsupported scheme",
        ),
        (
            vec![("POSTGATE_DEFAULT_PLAN", "gold".into())],
            vec!["migrate"],
            "default_plan",
        ),
        (
            vec![("POSTGATE_PLANS__BASIC__PROFILES", "lots".into())],
            vec!["migrate"],
            "unlimited",
        ),
        (
            vec![],
            vec!["--config", "/nonexistent/postgate.toml", "migrate"],
            "postgate.toml",
        ),
        (
            vec![(
                "POSTGATE_DATABASE_URL",
                "postgres://nobody@127.0.0.1:1/x".into(),
            )],
            vec!["migrate"],
            "cannot connect",
        ),
    ];
    for (env, args, needle) in attempts {
        let mut cli = app.cli();
        cli.envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(&args);
        let (ok, _, err) = run_cli(cli);
        assert!(!ok, "{env:?} {args:?} should fail");
        assert!(err.contains(needle), "{env:?} {args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A valid file is used, and environment variables override it.
    std::fs::write(
        &config,
        "default_plan = \"gold\"\n[plans.gold]\nprofiles = 2\n",
    )
    .unwrap();
    let mut cli = app.cli();
    cli.args([
        "--config",
        config.to_str().unwrap(),
        "accounts",
        "create",
        "--name",
        "g",
        "--json",
    ]);
    let (ok, out, err) = run_cli(cli);
    assert!(ok, "{err}");
    assert!(out.contains("\"plan\":\"gold\""), "{out}");
}

/// Regression: on PostgreSQL, OpenSSL's exit-time cleanup used to race a pool thread still
/// opening a TLS connection, killing about one command in eight with SIGSEGV.
async fn commands_exit_cleanly_every_time(app: &TestApp) {
    for _ in 0..25 {
        let mut cli = app.cli();
        cli.args(["accounts", "list", "--json"]);
        let (ok, out, err) = run_cli(cli);
        assert!(ok, "{err}");
        assert!(out.starts_with('['), "{out}");
    }
}

async fn serve_stops_gracefully_on_sigterm(app: &TestApp) {
    let mut server = tokio::task::spawn_blocking({
        let cmd = app.cli();
        move || ServerProcess::start(cmd)
    })
    .await
    .unwrap();
    let me = app
        .client
        .get(server.api("/me"))
        .header("Authorization", format!("Apikey {}", app.api_key));
    assert_eq!(send(me).await.0, StatusCode::OK);
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "{status}");
}

/// A request body that arrives in `chunks` pieces, one every `every`; `started` fires once
/// the first piece is sent (the connection is open). `None` chunks: it never ends.
fn trickled(
    body: &'static [u8],
    chunks: Option<usize>,
    every: Duration,
    started: tokio::sync::oneshot::Sender<()>,
) -> reqwest::Body {
    let size = body.len().div_ceil(chunks.unwrap_or(body.len()));
    let mut pieces: Vec<&'static [u8]> = body.chunks(size).collect();
    if chunks.is_none() {
        pieces.truncate(1);
    }
    let endless = chunks.is_none();
    let stream = futures::stream::unfold(
        (pieces.into_iter(), Some(started)),
        move |(mut pieces, started)| async move {
            let Some(piece) = pieces.next() else {
                if endless {
                    std::future::pending::<()>().await;
                }
                return None;
            };
            match started {
                Some(started) => drop(started.send(())),
                None => tokio::time::sleep(every).await,
            }
            Some((Ok::<_, std::io::Error>(piece), (pieces, None)))
        },
    );
    reqwest::Body::wrap_stream(stream)
}

async fn sigterm_finishes_in_flight_requests_within_the_shutdown_timeout(app: &TestApp) {
    const BOUND: Duration = Duration::from_secs(4);
    let mut cmd = app.cli();
    cmd.env(
        "POSTGATE_SHUTDOWN_TIMEOUT_SECONDS",
        BOUND.as_secs().to_string(),
    );
    let mut server = tokio::task::spawn_blocking(move || ServerProcess::start(cmd))
        .await
        .unwrap();
    let post = |body| {
        app.client
            .post(server.api("/users"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .header("Content-Type", "application/json")
            .body(body)
    };
    // One request whose body takes about two seconds, and one whose body never ends.
    let (slow_started, slow_open) = tokio::sync::oneshot::channel();
    let slow = post(trickled(
        br#"{"username": "finished-after-sigterm"}"#,
        Some(6),
        Duration::from_millis(400),
        slow_started,
    ))
    .send();
    let (stalled_started, stalled_open) = tokio::sync::oneshot::channel();
    let stalled = post(trickled(
        br#"{"username": "never-finished"}"#,
        None,
        Duration::ZERO,
        stalled_started,
    ))
    .send();
    let slow = tokio::spawn(slow);
    let stalled = tokio::spawn(stalled);
    slow_open.await.unwrap();
    stalled_open.await.unwrap();
    // Both connections are taken by the server before the signal.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = tokio::task::spawn_blocking(move || {
        let sent = std::time::Instant::now();
        let status = server.terminate();
        (status, sent.elapsed())
    });
    let slow = slow
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(slow.status(), StatusCode::CREATED);
    let created: Value = slow.json().await.unwrap();
    assert_eq!(
        created["profile"]["username"], "finished-after-sigterm",
        "{created}"
    );
    let (status, took) = stopped.await.unwrap();
    assert!(status.success(), "{status}");
    // The stalled request held the stop for the whole bound, and not longer.
    assert!(took >= BOUND - Duration::from_millis(500), "{took:?}");
    assert!(took < BOUND + Duration::from_secs(3), "{took:?}");
    let stalled = stalled.await.unwrap();
    assert!(
        !stalled.is_ok_and(|r| r.status().is_success()),
        "the stalled request was never completed"
    );
}

async fn printed_links_use_the_public_url(app: &TestApp) {
    let fresh = TestDb::new(app.test_db.backend);
    let mut cmd = app.cli();
    cmd.env("POSTGATE_DATABASE_URL", &fresh.url)
        .env("POSTGATE_PUBLIC_URL", "https://connect.example.com");
    let mut server = tokio::task::spawn_blocking(move || ServerProcess::start(cmd))
        .await
        .unwrap();
    let curl = server
        .stdout_line("curl -H", Duration::from_secs(3))
        .expect("curl line");
    assert!(
        curl.ends_with(" https://connect.example.com/api/uploadposts/me"),
        "{curl}"
    );
    // The banner still says where the server actually listens.
    assert!(
        server.stdout.iter().any(|l| l.contains(&server.address)),
        "{:?}",
        server.stdout
    );
}

async fn healthcheck_exits_0_only_when_the_server_is_ready(app: &TestApp) {
    let exit = |configure: &dyn Fn(&mut std::process::Command)| {
        let mut cmd = app.cli();
        cmd.arg("healthcheck");
        configure(&mut cmd);
        let out = cmd.output().expect("run postgate healthcheck");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let address = app.address.clone();
    // Explicitly, and from the listen address as a container sets it.
    let (code, out, err) = exit(&|c| {
        c.args(["--url", &address]);
    });
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("/readyz answered 200"), "{out}");
    let listen = address.trim_start_matches("http://").to_owned();
    let (code, _, err) = exit(&|c| {
        c.env("POSTGATE_LISTEN", &listen);
    });
    assert_eq!(code, Some(0), "{err}");
    // A server that answers, but not 200.
    let (code, _, err) = exit(&|c| {
        c.args(["--url", &format!("{address}/elsewhere/")]);
    });
    assert_eq!(code, Some(1));
    assert!(err.contains("answered 404"), "{err}");
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (code, _, err) = exit(&|c| {
        c.args(["--url", &format!("http://127.0.0.1:{port}")]);
    });
    assert_eq!(code, Some(1));
    assert!(err.contains("did not answer"), "{err}");
}
