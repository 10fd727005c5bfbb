//! Snapshots of the wire format: status and body, with values that change every run redacted.

use super::TestApp;
use serde_json::Value;

/// `assert_wire!("name", status, body)`, or with more redactions for this response:
/// `assert_wire!("name", status, body, {".body.state" => "[state]"})`.
#[macro_export]
macro_rules! assert_wire {
    ($name:expr, $status:expr, $body:expr) => {
        $crate::assert_wire!($name, $status, $body, {})
    };
    ($name:expr, $status:expr, $body:expr, { $($selector:expr => $replacement:expr),* $(,)? }) => {
        $crate::assert_json_wire!(
            $name,
            serde_json::json!({"status": $status.as_u16(), "body": $body}),
            { $($selector => $replacement),* }
        )
    };
}

/// A JSON document Postgate sends (a response, a webhook body) against its snapshot, with
/// the redactions every document shares and `{...}` more.
#[macro_export]
macro_rules! assert_json_wire {
    ($name:expr, $value:expr, { $($selector:expr => $replacement:expr),* $(,)? }) => {
        // One folder for every module's snapshots, nested modules included.
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/snapshots"),
        }, {
            insta::assert_json_snapshot!(
                $name,
                $value,
                {
                    ".**.created_at" => "[timestamp]",
                    ".body.profile.id" => "[public_id]",
                    ".body.profiles[].id" => "[public_id]",
                    ".body.account.id" => "[account_id]",
                    $($selector => $replacement,)*
                }
            )
        })
    };
}

impl TestApp {
    /// `body` with this server's address (a new port every run) written as `[server]`, for
    /// URLs the server builds from it, such as the emulator's pictures.
    pub fn scrub(&self, body: &Value) -> Value {
        match body {
            Value::String(s) => Value::String(s.replace(&self.address, "[server]")),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.scrub(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.scrub(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}
