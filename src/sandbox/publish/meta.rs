//! What the Facebook and Threads emulators share: the caller named by the `access_token`
//! parameter, Graph error objects, and pulling an image from the URL a post names, as Meta
//! does (with a timeout, a size limit, and the bytes sniffed, never the header trusted).

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

/// Pulls an image from `url`: its bytes and sniffed type, or why not.
pub async fn pull_image(url: &str) -> Result<(Bytes, &'static str), String> {
    let parsed = url::Url::parse(url).map_err(|_| "the image URL is not a URL".to_owned())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the image URL is not http(s)".to_owned());
    }
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| e.to_string())?;
    let mut response = client
        .get(parsed)
        .send()
        .await
        .map_err(|_| "the image could not be downloaded".to_owned())?;
    if !response.status().is_success() {
        return Err(format!(
            "downloading the image answered HTTP {}",
            response.status().as_u16()
        ));
    }
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
