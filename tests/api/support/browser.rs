//! Headless Chromium for the page tests, through `tests/browser/probe.mjs` (installed by
//! `scripts/install-browser`). The probe reports what it saw; the tests decide.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub const DESKTOP_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like \
                              Gecko) Chrome/131.0.0.0 Safari/537.36";
pub const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, \
                            like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Whether Chromium and the probe's dependencies are installed.
pub fn available() -> bool {
    Path::new(CHROMIUM).exists() && browser_dir().join("node_modules/playwright-core").exists()
}

/// Where screenshots go: `target/screenshots/<name>.png`, for people to look at.
pub fn screenshot(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/screenshots")
        .join(format!("{name}.png"))
        .display()
        .to_string()
}

/// The usual visit: open `url`, report what is there, and save a screenshot named `shot`.
pub fn look(url: &str, shot: &str) -> Value {
    serde_json::json!([
        {"action": "goto", "url": url},
        {"action": "collect"},
        {"action": "screenshot", "path": screenshot(shot)},
    ])
}

/// A desktop visit (1280×800, desktop User-Agent).
pub fn desktop(name: &str, steps: Value) -> Value {
    serde_json::json!({
        "name": name, "viewport": {"width": 1280, "height": 800},
        "user_agent": DESKTOP_UA, "steps": steps,
    })
}

/// A phone visit (360×740, touch, phone User-Agent).
pub fn phone(name: &str, steps: Value) -> Value {
    serde_json::json!({
        "name": name, "viewport": {"width": 360, "height": 740},
        "user_agent": PHONE_UA, "is_mobile": true, "has_touch": true, "steps": steps,
    })
}

/// Runs the visits in one Chromium; returns the probe's report of each, by visit.
pub async fn run(visits: Vec<Value>) -> Vec<Value> {
    let plan = serde_json::json!({ "chromium": CHROMIUM, "visits": visits }).to_string();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("node")
            .arg(browser_dir().join("probe.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run node (scripts/install-browser sets up the browser tests)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(plan.as_bytes())
            .expect("write plan");
        child.wait_with_output().expect("probe output")
    })
    .await
    .expect("probe task");
    assert!(
        out.status.success(),
        "probe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("probe JSON");
    report["visits"].as_array().expect("visits").clone()
}

/// The result of the visit's step `n`, failing on a step error.
pub fn step(visit: &Value, n: usize) -> &Value {
    let s = &visit["steps"][n];
    assert!(
        s.get("error").is_none(),
        "{}: step {n}: {}",
        visit["name"],
        s["error"]
    );
    s
}

/// What every page must be in every visit: no script errors, no CSP violations, nothing
/// fetched from outside, nothing failing to load.
pub fn assert_clean(visit: &Value) {
    for field in [
        "console_errors",
        "csp_violations",
        "csp_messages",
        "external_requests",
        "failed_requests",
    ] {
        assert_eq!(
            visit[field],
            serde_json::json!([]),
            "{}: {field}",
            visit["name"]
        );
    }
}

/// The visible controls of a `collect` result.
pub fn visible_controls(collected: &Value) -> Vec<&Value> {
    collected["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .filter(|c| c["visible"] == true)
        .collect()
}

const LOGO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="180" height="48" viewBox="0 0 180 48"><rect x="2" y="6" width="36" height="36" rx="10" fill="#0f766e"/><path d="M12 32 L20 14 L28 32 Z" fill="#fff"/><text x="48" y="33" font-family="DejaVu Sans, sans-serif" font-size="24" font-weight="700" fill="#0f172a">Acme Inc</text></svg>"##;

const AVATAR_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" fill="#f59e0b"/><circle cx="32" cy="25" r="12" fill="#fff7ed"/><rect x="12" y="42" width="40" height="22" rx="11" fill="#fff7ed"/></svg>"##;

/// A loopback server standing in for a customer's CDN: `/avatar…` paths answer a square
/// avatar, anything else a logo. Returns the logo's URL; avatars are `<origin>/avatar.svg`.
pub fn serve_logo() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 4096];
            let n = std::io::Read::read(&mut stream, &mut request).unwrap_or(0);
            let line = String::from_utf8_lossy(&request[..n]);
            let svg = if line.starts_with("GET /avatar") {
                AVATAR_SVG
            } else {
                LOGO_SVG
            };
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/svg+xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{svg}",
                svg.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{addr}/acme-logo.svg")
}
