//! Amazon S3's browser-form upload (a presigned `POST`), as platforms that lease S3 space
//! for media use it: Pinterest's video uploads (`upload_url` + `upload_parameters`) and
//! Reddit's media assets (`args.action` + `args.fields`). The platform's emulator leases an
//! upload (`lease`); the client posts a multipart form of the lease's fields with the file
//! last, and the file is streamed to disk as it arrives, never held whole.
//!
//! As S3 does, the form's `policy` must carry the signature it was issued with and the key
//! it was issued for; the file must be the last part; a lease takes one upload.

use super::super::{Down, Fault, Sandbox};
use super::meta::sniff_image;
use crate::db::sandbox::{self as state, Media};
use crate::domain::{Platform, time};
use actix_multipart::{Field, Multipart};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Where leased uploads are posted: `/sandbox/<platform>/_s3/<bucket>`.
pub const ROUTE: &str = "/sandbox/{platform}/_s3/{bucket}";
/// The name its calls are logged and scripted under (`TestApp::faults(p, "media_upload", …)`).
pub const ENDPOINT: &str = "media_upload";
/// A media row leased and waiting for its bytes, then holding them.
pub const LEASED: &str = "leased";
pub const UPLOADED: &str = "uploaded";
/// Largest upload taken (Pinterest's video limit is 2 GB).
const MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Longest text field of the form.
const MAX_FIELD_BYTES: usize = 8 * 1024;
const MAX_FIELDS: usize = 32;

/// A leased upload: where to post, and the form fields to send before the file.
pub struct Lease {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// What a platform leases an upload for.
pub struct Asset<'a> {
    pub platform: Platform,
    pub person: usize,
    /// The platform's id of the media, which the upload's key starts with.
    pub id: &'a str,
    pub bucket: &'a str,
    pub filename: &'a str,
    /// The type the client declared (the stored one is sniffed from the bytes).
    pub content_type: &'a str,
    /// S3 answers 201 with an XML body when the form asks (`success_action_status`), else 204.
    pub answer_created: bool,
    /// The platform emulator's own keys kept with the row (`fail`, …).
    pub upload: Value,
}

/// Records a leased upload of `asset` and answers the form that uploads it.
pub async fn lease(sandbox: &Sandbox, asset: Asset<'_>) -> Result<Lease, Down> {
    let key = format!("{}/{}", asset.id, asset.filename);
    let expiration = time::rfc3339(time::now() + chrono::Duration::hours(1));
    let policy = STANDARD.encode(
        json!({"expiration": expiration, "conditions": [
            {"bucket": asset.bucket}, {"key": key},
            ["content-length-range", 0, MAX_BYTES]]})
        .to_string(),
    );
    let mut upload = asset.upload;
    upload["key"] = key.clone().into();
    let row = Media {
        platform: asset.platform.key().to_owned(),
        person: super::person_id(asset.person),
        id: asset.id.to_owned(),
        content_type: asset.content_type.to_owned(),
        size: 0,
        alt_text: None,
        created_at: time::now(),
        state: LEASED.to_owned(),
        upload: upload.to_string(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await?;
    let mut fields = vec![
        ("key".to_owned(), key.clone()),
        ("Content-Type".to_owned(), asset.content_type.to_owned()),
        ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
        (
            "x-amz-credential".to_owned(),
            "SANDBOXKEY/20260101/us-east-1/s3/aws4_request".to_owned(),
        ),
        (
            "x-amz-date".to_owned(),
            time::now().format("%Y%m%dT%H%M%SZ").to_string(),
        ),
        ("x-amz-signature".to_owned(), signature(&policy, &key)),
        ("policy".to_owned(), policy),
    ];
    if asset.answer_created {
        fields.push(("success_action_status".to_owned(), "201".to_owned()));
    }
    let base = sandbox.urls.sandbox(asset.platform);
    Ok(Lease {
        action: format!(
            "{}/_s3/{}",
            base.as_str().trim_end_matches('/'),
            asset.bucket
        ),
        fields,
    })
}

/// The sandbox's stand-in for AWS's signature of a policy and key.
fn signature(policy: &str, key: &str) -> String {
    hex::encode(Sha256::digest(format!("{policy}\n{key}")))
}

/// When the leased item's bytes arrived, once they have.
pub fn uploaded_at(media: &Media) -> Option<NaiveDateTime> {
    if media.state != UPLOADED {
        return None;
    }
    let upload: Value = serde_json::from_str(&media.upload).ok()?;
    chrono::DateTime::from_timestamp_millis(upload["uploaded_at_ms"].as_i64()?)
        .map(|t| t.naive_utc())
}

/// S3's XML error.
fn s3_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/xml")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>SANDBOX</RequestId></Error>"
        ))
}

fn denied(message: &str) -> HttpResponse {
    s3_error(StatusCode::FORBIDDEN, "AccessDenied", message)
}

/// `POST /sandbox/<platform>/_s3/<bucket>`: the form upload.
pub async fn upload(
    sandbox: Data<Sandbox>,
    path: Path<(String, String)>,
    form: Multipart,
) -> HttpResponse {
    let (platform, bucket) = path.into_inner();
    let Some(platform) = Platform::parse(&platform) else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
    };
    match receive(&sandbox, platform, &bucket, form).await {
        Ok(answer) => answer,
        Err(down) => {
            down.log();
            s3_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Please reduce your request rate.",
            )
        }
    }
}

async fn receive(
    sandbox: &Sandbox,
    platform: Platform,
    bucket: &str,
    mut form: Multipart,
) -> Result<HttpResponse, Down> {
    let fault = sandbox
        .run(move |conn| {
            state::record_call(conn, platform, ENDPOINT, "POST", time::now())?;
            state::pop_fault(conn, platform, ENDPOINT)
        })
        .await?
        .and_then(|f| Fault::parse(&f));
    match fault {
        Some(Fault::ServerError | Fault::RateLimited) => {
            return Ok(s3_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            ));
        }
        Some(Fault::ChunkRejected) => {
            return Ok(denied(
                "Invalid according to Policy: Policy Condition failed",
            ));
        }
        Some(Fault::Slow) => tokio::time::sleep(std::time::Duration::from_secs(30)).await,
        Some(Fault::Delayed) => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
        _ => {}
    }
    let mut fields = std::collections::HashMap::new();
    while let Some(part) = form.next().await {
        let Ok(part) = part else {
            return Ok(malformed());
        };
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            return file(sandbox, platform, bucket, &fields, part).await;
        }
        if fields.len() >= MAX_FIELDS {
            return Ok(malformed());
        }
        let Some(value) = text(part).await else {
            return Ok(malformed());
        };
        fields.insert(name, value);
    }
    Ok(s3_error(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        "POST requires exactly one file upload per request.",
    ))
}

fn malformed() -> HttpResponse {
    s3_error(
        StatusCode::BAD_REQUEST,
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )
}

/// A text part, up to `MAX_FIELD_BYTES`.
async fn text(mut part: Field) -> Option<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.ok()?;
        if bytes.len() + chunk.len() > MAX_FIELD_BYTES {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).ok()
}

/// The file part, after the fields that authorise it.
async fn file(
    sandbox: &Sandbox,
    platform: Platform,
    bucket: &str,
    fields: &std::collections::HashMap<String, String>,
    part: Field,
) -> Result<HttpResponse, Down> {
    let field = |k: &str| fields.get(k).map_or("", String::as_str);
    let (key, policy) = (field("key").to_owned(), field("policy"));
    if key.is_empty() || policy.is_empty() || field("x-amz-signature") != signature(policy, &key) {
        return Ok(denied(
            "Invalid according to Policy: Policy Condition failed",
        ));
    }
    let id = key.split('/').next().unwrap_or_default().to_owned();
    let wanted = id.clone();
    let Some(mut row) = sandbox
        .run(move |conn| state::find_media(conn, platform, None, &wanted))
        .await?
    else {
        return Ok(denied("Invalid according to Policy: Policy expired."));
    };
    let mut upload: Value = serde_json::from_str(&row.upload).unwrap_or_else(|_| json!({}));
    if row.state != LEASED || upload["key"] != key.as_str() {
        return Ok(denied("Invalid according to Policy: Policy expired."));
    }
    let path = sandbox.media_path(platform, &id);
    let (size, head) = match save(&path, part, MAX_BYTES).await {
        Ok(Saved::Done { size, head }) => (size, head),
        Ok(Saved::TooLarge) => {
            return Ok(s3_error(
                StatusCode::BAD_REQUEST,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
            ));
        }
        Ok(Saved::Broken) => return Ok(malformed()),
        Err(e) => return Err(Down::Disk(e.to_string())),
    };
    row.content_type = sniff(&head).to_owned();
    row.size = i64::try_from(size).unwrap_or(i64::MAX);
    row.state = UPLOADED.to_owned();
    upload["uploaded_at_ms"] = time::now().and_utc().timestamp_millis().into();
    row.upload = upload.to_string();
    sandbox
        .run(move |conn| state::update_media(conn, &row))
        .await?;
    if field("success_action_status") == "201" {
        let location = format!("https://{bucket}.s3.amazonaws.com/{key}");
        return Ok(HttpResponse::Created()
            .content_type("application/xml")
            .body(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{location}</Location><Bucket>{bucket}</Bucket><Key>{key}</Key><ETag>\"{}\"</ETag></PostResponse>",
                &signature(&key, "etag")[..32]
            )));
    }
    Ok(HttpResponse::NoContent().finish())
}

pub(super) enum Saved {
    /// Its size, and its first bytes (for sniffing).
    Done {
        size: u64,
        head: Vec<u8>,
    },
    TooLarge,
    /// The body broke off.
    Broken,
}

/// Streams `body` to `path` through a temporary file, so a reader never sees half a file
/// and the bytes are never held whole; at most `max` bytes are taken.
pub(super) async fn save<E>(
    path: &std::path::Path,
    mut body: impl futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    max: u64,
) -> std::io::Result<Saved> {
    const HEAD: usize = 16;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let partial = path.with_extension("partial");
    let mut out = tokio::fs::File::create(&partial).await?;
    let (mut size, mut head) = (0u64, Vec::with_capacity(HEAD));
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            drop(out);
            tokio::fs::remove_file(&partial).await?;
            return Ok(Saved::Broken);
        };
        size += chunk.len() as u64;
        if size > max {
            drop(out);
            tokio::fs::remove_file(&partial).await?;
            return Ok(Saved::TooLarge);
        }
        let room = HEAD.saturating_sub(head.len()).min(chunk.len());
        head.extend_from_slice(&chunk[..room]);
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    drop(out);
    tokio::fs::rename(&partial, path).await?;
    Ok(Saved::Done { size, head })
}

/// A media file's type from its first bytes: an ISO media (`ftyp`) video or an image.
pub fn sniff(head: &[u8]) -> &'static str {
    match head.get(4..12) {
        Some([b'f', b't', b'y', b'p', b'q', b't', b' ', b' ']) => "video/quicktime",
        Some([b'f', b't', b'y', b'p', ..]) => "video/mp4",
        _ => sniff_image(head).unwrap_or("application/octet-stream"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0"), "video/mp4");
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  \0\0"), "video/quicktime");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), "image/png");
        assert_eq!(sniff(b"<html>"), "application/octet-stream");
    }

    #[test]
    fn a_signature_binds_the_policy_to_its_key() {
        assert_eq!(signature("p", "a/b"), signature("p", "a/b"));
        assert_ne!(signature("p", "a/b"), signature("p", "a/c"));
    }
}
