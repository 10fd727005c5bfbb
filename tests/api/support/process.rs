//! `postgate serve` as a real child process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// What the process printed on stdout so far.
    pub stdout: Vec<String>,
    lines: mpsc::Receiver<(bool, String)>,
}

impl ServerProcess {
    /// Starts `cmd serve` on a free port and waits until it says it is listening.
    pub fn start(mut cmd: Command) -> Self {
        if !cmd.get_envs().any(|(k, _)| k == "POSTGATE_LOG") {
            cmd.env("POSTGATE_LOG", "info");
        }
        cmd.arg("serve")
            .env("POSTGATE_LISTEN", "127.0.0.1:0")
            .env("POSTGATE_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn postgate serve");
        let (tx, rx) = mpsc::channel::<(bool, String)>();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send((true, line));
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send((false, line));
            }
        });
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let Ok((is_stdout, line)) = rx.recv_timeout(remaining) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "postgate serve did not start; stderr:\n{}",
                    stderr.join("\n")
                );
            };
            if is_stdout {
                stdout.push(line);
                continue;
            }
            let log: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if log["fields"]["message"] == "Postgate is listening" {
                let addr = log["fields"]["address"]
                    .as_str()
                    .expect("address")
                    .to_owned();
                return Self {
                    child,
                    address: format!("http://{addr}"),
                    stdout,
                    lines: rx,
                };
            }
            stderr.push(line);
        }
    }

    /// Waits for a stdout line containing `needle`; `None` if none comes within `wait`.
    pub fn stdout_line(&mut self, needle: &str, wait: Duration) -> Option<String> {
        if let Some(l) = self.stdout.iter().find(|l| l.contains(needle)) {
            return Some(l.clone());
        }
        let deadline = Instant::now() + wait;
        while let Ok((is_stdout, line)) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if is_stdout {
                self.stdout.push(line.clone());
                if line.contains(needle) {
                    return Some(line);
                }
            }
        }
        None
    }

    /// Every line the process wrote since the last call (stdout and its log).
    pub fn drain_output(&mut self) -> Vec<String> {
        let mut out: Vec<String> = std::mem::take(&mut self.stdout);
        while let Ok((_, line)) = self.lines.recv_timeout(Duration::from_millis(200)) {
            out.push(line);
        }
        out
    }

    /// Kills the process outright (SIGKILL): nothing gets to finish.
    /// The process's resident memory now and at its peak, in bytes (`VmRSS`, `VmHWM`).
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process's status");
        let kib = |field: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("{field} in /proc status"))
        };
        (kib("VmRSS:") * 1024, kib("VmHWM:") * 1024)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the process to finish.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        self.child.wait().expect("wait")
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/uploadposts{path}", self.address)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
