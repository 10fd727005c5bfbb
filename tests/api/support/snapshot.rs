//! Snapshots of the wire format: status and body, with values that change every run redacted.

/// `assert_wire!("name", status, body)`
#[macro_export]
macro_rules! assert_wire {
    ($name:expr, $status:expr, $body:expr) => {
        insta::assert_json_snapshot!(
            $name,
            serde_json::json!({"status": $status.as_u16(), "body": $body}),
            {
                ".**.created_at" => "[timestamp]",
                ".body.profile.id" => "[public_id]",
                ".body.profiles[].id" => "[public_id]",
                ".body.account.id" => "[account_id]",
            }
        )
    };
}
