//! What the Facebook, Instagram and Threads emulators share: the caller named by the
//! `access_token` parameter, Graph error objects, and pulling an image or a video from the
//! URL a post names, as Meta does (with a timeout, a size limit, and the bytes sniffed,
//! never the header trusted).

use super::super::{Down, Sandbox};
use super::{person_id, write_part};
use crate::db::sandbox::{self as state, MEDIA_READY};
use crate::domain::upload::MediaKind;
use crate::domain::{Platform, time};
use crate::media::sniff::sniff;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// Largest image the emulators pull (Facebook's own photo limit is 4 MB for PNG, larger for
/// JPEG; 8 MB keeps the sandbox's disk use small).
const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A Graph error object (developers.facebook.com/docs/graph-api/guides/error-handling).
pub fn error(code: i64, message: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::BAD_REQUEST).json(json!({"error": {
        "message": message, "type": "OAuthException", "code": code,
        "fbtrace_id": "AsandboxTrace"}}))
}

/// A Meta container's states (Instagram's `status_code`, Threads' `status`).
pub const IN_PROGRESS: &str = "IN_PROGRESS";
pub const FINISHED: &str = "FINISHED";
pub const ERROR: &str = "ERROR";

/// A container's status now: one kept `IN_PROGRESS` (a video being processed) is `FINISHED`
/// once the platform's processing delay has passed since it was made.
pub async fn container_status(
    sandbox: &Sandbox,
    platform: Platform,
    row: &state::Media,
) -> Result<&'static str, Down> {
    Ok(match row.state.as_str() {
        ERROR => ERROR,
        IN_PROGRESS => {
            let delay = sandbox.processing_delay(platform).await?;
            if time::now() >= row.created_at + delay {
                FINISHED
            } else {
                IN_PROGRESS
            }
        }
        _ => FINISHED,
    })
}

/// Graph time: `2024-05-01T10:00:00+0000`.
pub fn graph_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// `(#100)`: a parameter is missing or wrong.
pub fn bad_parameter(message: &str) -> HttpResponse {
    error(100, &format!("(#100) {message}"))
}

/// The node does not exist or the caller may not see it.
pub fn no_node(id: &str) -> HttpResponse {
    error(
        100,
        &format!(
            "Unsupported request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation"
        ),
    )
}

/// The `access_token` parameter.
pub fn token(params: &HashMap<String, String>) -> &str {
    params.get("access_token").map_or("", String::as_str)
}

/// An image's content type from its first bytes.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 6] = [
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF8", "image/gif"),
        (b"BM", "image/bmp"),
        (b"II*\0", "image/tiff"),
        (b"MM\0*", "image/tiff"),
    ];
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, t)| *t)
}

/// Starts downloading `url` as Meta's fetcher does: http(s) only, a timeout, few redirects.
async fn download(url: &str, what: &str) -> Result<reqwest::Response, String> {
    let parsed = url::Url::parse(url).map_err(|_| format!("the {what} URL is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("the {what} URL is not http(s)"));
    }
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(parsed)
        .send()
        .await
        .map_err(|_| format!("the {what} could not be downloaded"))?;
    if !response.status().is_success() {
        return Err(format!(
            "downloading the {what} answered HTTP {}",
            response.status().as_u16()
        ));
    }
    Ok(response)
}

/// Pulls an image from `url`: its bytes and sniffed type, or why not.
pub async fn pull_image(url: &str) -> Result<(Bytes, &'static str), String> {
    let mut response = download(url, "image").await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "the image download broke off".to_owned())?
    {
        if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err("the image is too large".to_owned());
        }
        bytes.extend_from_slice(&chunk);
    }
    let kind = sniff_image(&bytes).ok_or_else(|| "the URL does not serve an image".to_owned())?;
    Ok((Bytes::from(bytes), kind))
}

/// An item pulled into the sandbox's store.
pub struct Pulled {
    pub content_type: &'static str,
    pub kind: MediaKind,
}

/// Pulls an image or a video from `url` into the store as item `id` of `person`, written
/// chunk by chunk as it arrives (a video is never held whole): what it is, or why Meta would
/// not take it.
pub async fn pull_media(
    sandbox: &Sandbox,
    platform: Platform,
    person: usize,
    id: &str,
    url: &str,
    max_bytes: u64,
) -> Result<Result<Pulled, String>, Down> {
    let mut response = match download(url, "media").await {
        Ok(r) => r,
        Err(why) => return Ok(Err(why)),
    };
    let mut size = 0u64;
    let mut sniffed = None;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => return Ok(Err("the media download broke off".to_owned())),
        };
        if size == 0 {
            sniffed = sniff(&chunk, None);
            if sniffed.is_none() {
                return Ok(Err("the URL does not serve an image or a video".to_owned()));
            }
        }
        let len = chunk.len() as u64;
        if size + len > max_bytes {
            return Ok(Err(format!("the media is larger than {max_bytes} bytes")));
        }
        write_part(sandbox, platform, id, size, chunk).await?;
        size += len;
    }
    let Some(sniffed) = sniffed else {
        return Ok(Err("the URL serves nothing".to_owned()));
    };
    let row = state::Media {
        platform: platform.key().to_owned(),
        person: person_id(person),
        id: id.to_owned(),
        content_type: sniffed.content_type.to_owned(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        alt_text: None,
        created_at: time::now(),
        state: MEDIA_READY.to_owned(),
        upload: "{}".to_owned(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await?;
    Ok(Ok(Pulled {
        content_type: sniffed.content_type,
        kind: sniffed.kind,
    }))
}

/// A listing's `since` (unix seconds; the epoch when absent) and `limit` (1–100, default
/// 25), read as the Graph API reads them.
pub fn since_and_limit(params: &HashMap<String, String>) -> (NaiveDateTime, usize) {
    let since = params
        .get("since")
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or(DateTime::UNIX_EPOCH)
        .naive_utc();
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    (since, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(sniff_image(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(b"<html>"), None);
    }
}
