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

/// Runs the suite `script` (`suite`, `everywhere`) of an SDK with the `POSTGATE_*`
/// variables it reads (`env`: names without the prefix) and returns its output; fails the
/// test with the suite's own report.
pub async fn run_suite(
    language: &str,
    script: &str,
    base_url: &str,
    api_key: &str,
    env: &[(&str, &str)],
) -> String {
    let mut cmd = match language {
        "python" => {
            let mut c = Command::new(python());
            c.arg(clients_dir().join(format!("python/{script}.py")));
            c
        }
        _ => {
            let mut c = Command::new("node");
            c.arg(clients_dir().join(format!("node/{script}.mjs")));
            c
        }
    };
    cmd.env("POSTGATE_BASE_URL", base_url)
        .env("POSTGATE_API_KEY", api_key);
    for (name, value) in env {
        cmd.env(format!("POSTGATE_{name}"), value);
    }
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
