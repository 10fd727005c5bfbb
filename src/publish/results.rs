//! The per-platform result objects of the wire (publishing reference 1.4, 1.11): what a
//! target's `result` column holds, and the `upload_completed` body built from it.

use super::publisher::{PublishError, Published};
use crate::db::uploads::Job;
use crate::domain::Platform;
use chrono::NaiveDateTime;
use serde_json::{Map, Value, json};

/// `{"success": true, "url", "post_id", …extra, "warnings"}`.
pub fn published(p: &Published) -> Value {
    let mut out = Map::new();
    out.insert("success".into(), true.into());
    out.insert("url".into(), p.url.clone().into());
    out.insert("post_id".into(), p.post_id.clone().into());
    for (k, v) in &p.extra {
        out.insert(k.clone(), v.clone());
    }
    if !p.warnings.is_empty() {
        out.insert("warnings".into(), json!(p.warnings));
    }
    Value::Object(out)
}

/// `{"success": false, "error", "error_code", "error_source", "retryable"}`.
pub fn failed(e: &PublishError, retryable: bool) -> Value {
    json!({
        "success": false,
        "error": e.to_string(),
        "error_code": e.code(),
        "error_source": e.source(),
        "retryable": retryable,
    })
}

/// A failure found before any platform call (`failure_stage: precheck`).
pub fn precheck(code: &str, message: &str, source: &str) -> Value {
    json!({
        "success": false,
        "error": message,
        "error_code": code,
        "error_source": source,
        "retryable": false,
        "failure_stage": "precheck",
    })
}

/// The profile has no account on the platform: Upload-Post's exact skip object.
pub fn skipped(profile_username: &str, platform: Platform) -> Value {
    json!({
        "success": false,
        "skipped": true,
        "skip_reason": "profile_platform_not_configured",
        "error": format!(
            "Profile {profile_username} has no {} account configured",
            capitalised(platform.key())
        ),
        "error_code": "profile_platform_mapping_invalid",
        "failure_stage": "profile_platform_validation",
    })
}

/// Upload-Post writes the platform key with a capital (`Linkedin`, `Google_business`).
fn capitalised(key: &str) -> String {
    let mut chars = key.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The `upload_completed` body (reference 1.11) for one platform of `job`, with
/// `request_id` and `external_id` added.
pub fn completed_event(
    job: &Job,
    user_email: Option<&str>,
    profile_username: &str,
    platform: &str,
    result: &Value,
    at: NaiveDateTime,
) -> Value {
    let r = result;
    json!({
        "event": "upload_completed",
        "job_id": job.id,
        "request_id": job.request_id,
        "external_id": job.external_id,
        "user_email": user_email,
        "profile_username": profile_username,
        "platform": platform,
        "media_type": job.kind,
        "title": job.title,
        "caption": job.caption,
        "result": {
            "success": r["success"].as_bool().unwrap_or(false),
            "url": r.get("url").cloned().unwrap_or(Value::Null),
            "publish_id": r.get("publish_id").cloned().unwrap_or(Value::Null),
            "post_id": r.get("post_id").cloned().unwrap_or(Value::Null),
            "error": r.get("error").cloned().unwrap_or(Value::Null),
            "error_code": r.get("error_code").cloned().unwrap_or(Value::Null),
        },
        // Upload-Post's own style here: naive, with microseconds.
        "created_at": at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_object_is_upload_posts() {
        assert_eq!(
            skipped("olivia", Platform::Linkedin)["error"],
            "Profile olivia has no Linkedin account configured"
        );
    }

    #[test]
    fn results_carry_extras_and_warnings() {
        let mut p = Published {
            post_id: "1".into(),
            url: Some("u".into()),
            ..Default::default()
        };
        p.extra.insert("post_ids".into(), json!(["1", "2"]));
        p.warnings.push("first comment failed".into());
        let v = published(&p);
        assert_eq!(v["post_ids"], json!(["1", "2"]));
        assert_eq!(v["warnings"][0], "first comment failed");
        let e = failed(
            &PublishError::refused("rate_limited", "slow down", true),
            true,
        );
        assert_eq!(e["error_source"], "platform");
        assert_eq!(e["retryable"], true);
    }
}
