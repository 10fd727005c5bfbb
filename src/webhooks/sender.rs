//! One webhook attempt over HTTP, signed as Upload-Post signs them, to public addresses only
//! (unless the operator allows private ones), through the guard in `outbound`.

use crate::db::outbox::{Delivery, Outcome};
use crate::domain::webhooks::signature;
use crate::outbound::{self, Guarded};
use chrono::NaiveDateTime;
use std::time::Duration;

pub const USER_AGENT: &str = "Upload-Post-Webhooks/1.0";

#[derive(Clone)]
pub struct Sender {
    /// No redirects: a receiver that moved must be configured again.
    guarded: Guarded,
}

impl Sender {
    pub fn new(timeout: Duration, allow_private: bool) -> anyhow::Result<Self> {
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(USER_AGENT);
        Ok(Self {
            guarded: Guarded::new(builder, 0, allow_private)?,
        })
    }

    /// Sends the delivery once, signed with `secret`. A 2xx is success; anything else,
    /// including a redirect, is a failure.
    pub async fn attempt(&self, d: &Delivery, secret: &str, now: NaiveDateTime) -> Attempt {
        let Ok(url) = url::Url::parse(&d.target_url) else {
            return Attempt::not_sent("the target URL is not valid");
        };
        if self.guarded.check(&url).is_err() {
            return Attempt::not_sent("the target is not a public address");
        }
        let timestamp = now.and_utc().timestamp();
        let request = self
            .guarded
            .client()
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-Upload-Post-Timestamp", timestamp.to_string())
            .header("X-Upload-Post-Event", &d.event)
            .header("X-Upload-Post-Delivery", &d.id)
            .header(
                "X-Upload-Post-Signature",
                signature(secret, timestamp, &d.body),
            )
            .body(d.body.clone());
        match request.send().await {
            Ok(resp) => {
                let status = resp.status();
                let body = read_start(resp).await;
                let error = (!status.is_success()).then(|| {
                    let said = body.trim();
                    if said.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        format!("HTTP {status}: {said}")
                    }
                });
                Attempt {
                    status: Some(i32::from(status.as_u16())),
                    error,
                }
            }
            Err(e) => Attempt::not_sent(&outbound::describe(&e)),
        }
    }
}

/// How much of a receiver's answer is read: enough to keep the connection reusable for
/// small answers and to quote an error, never an unbounded download.
const READ_AT_MOST: usize = 16 * 1024;
/// How much of it the delivery log quotes.
const QUOTE_CHARS: usize = 200;

/// The start of the answer's body as text, for the delivery log.
async fn read_start(mut resp: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < READ_AT_MOST {
        match resp.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(QUOTE_CHARS)
        .collect()
}

/// What an attempt came to, before retry policy.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status: Option<i32>,
    pub error: Option<String>,
}

impl Attempt {
    /// No answer: the request was not sent, or failed before an answer.
    pub fn not_sent(why: &str) -> Self {
        Self {
            status: None,
            error: Some(why.to_owned()),
        }
    }

    pub fn outcome(self, retry_at: impl FnOnce() -> Option<NaiveDateTime>) -> Outcome {
        match (self.status, self.error) {
            (Some(status), None) => Outcome::Delivered { status },
            (status, error) => Outcome::Failed {
                status,
                error: error.unwrap_or_else(|| "failed".to_owned()),
                retry_at: retry_at(),
            },
        }
    }
}
