//! The official SDKs' suites in `tests/clients/`, run as child processes against a test
//! server. `scripts/install-clients` installs them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

fn python() -> PathBuf {
    clients_dir().join("python/.venv/bin/python")
}

/// Whether both SDKs are installed.
pub fn available() -> bool {
    python().exists() && clients_dir().join("node/node_modules/upload-post").exists()
}

/// Runs one suite and returns its output; fails the test with the suite's own report.
/// `pages_profile` is a profile with Facebook, LinkedIn, Pinterest and Google Business
/// connected (see `connect_for_sdk`).
pub async fn run_suite(
    language: &str,
    base_url: &str,
    api_key: &str,
    webhook_url: &str,
    pages_profile: &str,
) -> String {
    let mut cmd = match language {
        "python" => {
            let mut c = Command::new(python());
            c.arg(clients_dir().join("python/suite.py"));
            c
        }
        _ => {
            let mut c = Command::new("node");
            c.arg(clients_dir().join("node/suite.mjs"));
            c
        }
    };
    cmd.env("POSTGATE_BASE_URL", base_url)
        .env("POSTGATE_API_KEY", api_key)
        .env("POSTGATE_WEBHOOK_URL", webhook_url)
        .env("POSTGATE_PAGES_PROFILE", pages_profile);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run the SDK suite"))
        .await
        .expect("suite task");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{language} SDK suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
