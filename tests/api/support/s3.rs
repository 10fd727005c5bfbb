//! A real S3 server for the media store's tests: moto's, from `tests/s3/.venv`
//! (`scripts/install-clients` installs it), started on a free port for one test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn moto_server() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3/.venv/bin/moto_server")
}

pub fn available() -> bool {
    moto_server().exists()
}

/// A running moto server, stopped when dropped.
pub struct S3Server {
    pub endpoint: String,
    child: Child,
}

impl S3Server {
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        let server = Self { endpoint, child };
        let client = reqwest::Client::new();
        super::wait::until(
            Duration::from_secs(30),
            "moto_server to answer",
            async || client.get(&server.endpoint).send().await.is_ok(),
        )
        .await;
        server
    }

    /// Creates a bucket (S3's `CreateBucket`; moto needs no signature).
    pub async fn bucket(&self, name: &str) {
        let resp = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(
            resp.status().is_success(),
            "create bucket: {}",
            resp.status()
        );
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
