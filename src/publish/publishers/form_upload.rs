//! Uploading a file to the S3 form a platform leases (a presigned `POST`: Pinterest's
//! `upload_url` + `upload_parameters`, Reddit's `args.action` + `args.fields`): the lease's
//! fields, then the file streamed from the media store as the last part, without the
//! account's token (the lease is the authority).

use crate::publish::http::{self, Effect};
use crate::publish::publisher::{Call, Media, PublishError};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Posts `media` to `action` with `fields` before it. A refusal is retryable: a lease that
/// expired or a form S3 turned down is leased again by the next attempt.
pub async fn upload(
    call: &Call<'_>,
    action: &url::Url,
    fields: &[(String, String)],
    media: &Media,
) -> Result<(), PublishError> {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.clone(), v.clone());
    }
    let body = reqwest::Body::wrap_stream(call.media.stream(media).await?);
    let file = Part::stream_with_length(body, media.size)
        .file_name(
            media
                .filename
                .clone()
                .unwrap_or_else(|| "upload".to_owned()),
        )
        .mime_str(&media.content_type)
        .map_err(|e| PublishError::invalid("unsupported_media_type", e.to_string()))?;
    let request = call
        .app
        .http
        .request(Method::POST, action)
        .multipart(form.part("file", file));
    http::send_reading(request, Effect::Harmless, refusal).await?;
    Ok(())
}

/// S3 answers in XML: any refusal of the form is the upload's, and may pass with a new lease.
fn refusal(status: StatusCode, body: &Value, effect: Effect) -> PublishError {
    if status.is_client_error() {
        return PublishError::refused(
            "media_upload_rejected",
            format!(
                "the platform's storage refused the upload (HTTP {})",
                status.as_u16()
            ),
            true,
        );
    }
    http::refusal(status, body, effect)
}

/// A lease's fields as name/value pairs, from a JSON object (Pinterest) or a list of
/// `{name, value}` (Reddit).
pub fn fields(lease: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match lease {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|f| Some((f["name"].as_str()?.to_owned(), text(&f["value"]))))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lease_fields_in_both_shapes() {
        assert_eq!(
            fields(&json!({"key": "a/b", "policy": "p"})),
            [
                ("key".to_owned(), "a/b".to_owned()),
                ("policy".to_owned(), "p".to_owned())
            ]
        );
        assert_eq!(
            fields(&json!([{"name": "key", "value": "k"}, {"value": "nameless"}])),
            [("key".to_owned(), "k".to_owned())]
        );
        assert!(fields(&json!(null)).is_empty());
        assert!(
            refusal(StatusCode::FORBIDDEN, &Value::Null, Effect::Harmless).retryable(),
            "a refused form is leased again"
        );
    }
}
