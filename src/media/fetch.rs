//! Fetching a media URL a client gave: through the outbound guard, streamed into a temporary
//! file, stopped as soon as it passes the size limit or the time limit.

use super::MediaError;
use crate::outbound::{self, Guarded};
use std::path::Path;
use std::time::Duration;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;
use url::Url;

pub const USER_AGENT: &str = "Postgate-Media/1.0";
/// Redirects followed, each checked like the first URL.
const REDIRECTS: usize = 5;

/// A guarded client for media URLs.
pub fn client(timeout: Duration, allow_private: bool) -> reqwest::Result<Guarded> {
    let builder = reqwest::Client::builder()
        .connect_timeout(timeout)
        .user_agent(USER_AGENT);
    Guarded::new(builder, REDIRECTS, allow_private)
}

/// What a fetch brought: the bytes in a temporary file (deleted when dropped) and the last
/// segment of the URL's path, for sniffing old Office files by name.
pub struct Fetched {
    pub file: NamedTempFile,
    pub filename: Option<String>,
}

/// Fetches `url` into a file in `tmp_dir`; more than `max_bytes` is refused while reading.
pub async fn fetch(
    guarded: &Guarded,
    url: &Url,
    max_bytes: u64,
    timeout: Duration,
    tmp_dir: &Path,
) -> Result<Fetched, MediaError> {
    guarded
        .check(url)
        .map_err(|refused| MediaError::BadUrl(format!("Cannot fetch the media URL: {refused}")))?;
    let file = NamedTempFile::new_in(tmp_dir).map_err(|e| MediaError::Internal(e.into()))?;
    let out = file
        .as_file()
        .try_clone()
        .map_err(|e| MediaError::Internal(e.into()))?;
    let mut out = tokio::fs::File::from_std(out);
    tokio::time::timeout(timeout, download(guarded, url, max_bytes, &mut out))
        .await
        .map_err(|_| MediaError::BadUrl("Fetching the media URL timed out".to_owned()))??;
    out.flush()
        .await
        .map_err(|e| MediaError::Internal(e.into()))?;
    let filename = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok(Fetched { file, filename })
}

async fn download(
    guarded: &Guarded,
    url: &Url,
    max_bytes: u64,
    out: &mut tokio::fs::File,
) -> Result<(), MediaError> {
    let failed = |why: String| MediaError::BadUrl(format!("Cannot fetch the media URL: {why}"));
    let mut resp = guarded
        .client()
        .get(url.clone())
        .send()
        .await
        .map_err(|e| failed(outbound::describe(&e)))?;
    if !resp.status().is_success() {
        return Err(failed(format!("HTTP {}", resp.status())));
    }
    let too_large = || MediaError::TooLarge {
        kind: None,
        limit_bytes: max_bytes,
    };
    if resp.content_length().is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let mut received: u64 = 0;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| failed(outbound::describe(&e)))?
    {
        received += chunk.len() as u64;
        if received > max_bytes {
            return Err(too_large());
        }
        out.write_all(&chunk)
            .await
            .map_err(|e| MediaError::Internal(e.into()))?;
    }
    Ok(())
}
