//! Schema fuzzing: schemathesis (pinned in tests/fuzz) generates requests from the served
//! OpenAPI document against a live server, with a fixed seed and a bounded number of examples
//! per operation. It must find no 5xx, no response that violates the document, no crash.

use crate::cases;
use crate::support::TestApp;
use std::path::Path;
use std::process::Command;

cases![schemathesis_finds_nothing];

/// Examples per operation and phase; with ~30 operations this is a few thousand requests.
const EXAMPLES: &str = "30";

pub fn available() -> bool {
    schemathesis().exists()
}

fn schemathesis() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/.venv/bin/schemathesis")
}

async fn schemathesis_finds_nothing(app: &TestApp) {
    // Limits off: the fuzzer sends thousands of requests, many with bad keys. Metrics on:
    // every documented route is served.
    let app = TestApp::spawn_without_limits(app.test_db.backend, |raw| raw.metrics = true).await;
    // schemathesis keeps a cache in its working directory: give it one of its own.
    let workdir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(schemathesis());
    cmd.current_dir(workdir.path())
        .args(["run", &app.url("/api/openapi.json")])
        .args([
            "--header",
            &format!("Authorization: Apikey {}", app.api_key),
        ])
        .args(["--seed", "20261124", "--max-examples", EXAMPLES])
        .args(["--checks", "all"])
        // Two checks are left out, both for a reason outside the server:
        // - positive_data_acceptance: the document describes shapes, not every rule the
        //   parsers enforce (username characters, URL schemes, "exactly one of"), so a
        //   schema-valid body may rightly get a 400;
        // - ensure_resource_availability: profiles are addressed by a body field, which the
        //   stateful phase links by guesswork (seen: it created one username and deleted
        //   another, then reported the 404).
        .args([
            "--exclude-checks",
            "positive_data_acceptance,ensure_resource_availability",
        ])
        .env("NO_COLOR", "1");
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run schemathesis"))
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{report}");
    app.stop().await;
}
