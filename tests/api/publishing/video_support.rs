//! A video for the video publishers' tests: several megabytes in memory, starting with an
//! MP4 `ftyp` box, read by range or as a stream (never whole, as the seam requires), and
//! publishing step by step to see the platform's processing.

use super::graph_support::page;
use crate::support::TestApp;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use postgate::domain::Platform;
use postgate::domain::upload::MediaKind;
use postgate::publish::publisher::{
    Call, Media, MediaSource, Post, Progress, PublishError, Published, Publisher, VideoInfo,
};

/// The fixture's `ftyp` box, which the clip starts with.
const FTYP: &[u8] = include_bytes!("../../fixtures/media/clip.mp4");
/// How a stream hands the clip over.
const STREAM_CHUNK: usize = 1024 * 1024;

/// A video of `len` bytes.
pub struct Clip {
    bytes: Bytes,
}

impl Clip {
    pub fn new(len: usize) -> Self {
        let mut bytes = FTYP.to_vec();
        // A pattern that differs from segment to segment, so misplaced bytes show.
        bytes.extend((0..len.saturating_sub(FTYP.len())).map(|i| (i % 251) as u8));
        bytes.truncate(len.max(FTYP.len()));
        Self {
            bytes: Bytes::from(bytes),
        }
    }

    /// The clip as stored media: 12 s at 1280x720.
    pub fn media(&self) -> Media {
        Media {
            id: "clip".into(),
            kind: MediaKind::Video,
            content_type: "video/mp4".into(),
            size: self.bytes.len() as u64,
            filename: Some("clip.mp4".into()),
            video: Some(VideoInfo {
                duration_ms: 12_000,
                width: 1280,
                height: 720,
                video_codec: Some("avc1".into()),
                audio_codec: Some("mp4a".into()),
            }),
        }
    }

    /// Whether the emulator's copy at `media_url` is the clip, byte for byte.
    pub async fn is_at(&self, media_url: &str) -> bool {
        let resp = reqwest::get(media_url).await.expect("media");
        resp.headers()["content-type"] == "video/mp4"
            && resp.bytes().await.expect("media bytes") == self.bytes
    }
}

#[async_trait]
impl MediaSource for Clip {
    async fn bytes(&self, _media: &Media) -> Result<Bytes, PublishError> {
        panic!("a video is read by range or as a stream, never whole");
    }

    async fn range(
        &self,
        _media: &Media,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, PublishError> {
        assert!(range.end <= self.bytes.len() as u64, "{range:?}");
        Ok(super::slice(self.bytes.clone(), range))
    }

    async fn stream(
        &self,
        _media: &Media,
    ) -> Result<BoxStream<'static, Result<Bytes, PublishError>>, PublishError> {
        let bytes = self.bytes.clone();
        let chunks: Vec<Result<Bytes, PublishError>> = (0..bytes.len())
            .step_by(STREAM_CHUNK)
            .map(|at| Ok(bytes.slice(at..(at + STREAM_CHUNK).min(bytes.len()))))
            .collect();
        Ok(futures::stream::iter(chunks).boxed())
    }

    fn public_url(&self, _media: &Media) -> String {
        "http://clip.invalid/clip.mp4".into()
    }
}

/// Publishes as the engine does (from `call.resume`, if set), counting the steps the
/// platform answered `Pending`.
pub async fn publish_counting(
    publisher: &dyn Publisher,
    call: &Call<'_>,
    post: &Post,
) -> (Result<Published, PublishError>, usize) {
    let mut state = call.resume.cloned();
    for pending in 0..600 {
        let step = Call {
            resume: state.as_ref(),
            ..*call
        };
        match publisher.publish(&step, post).await {
            Ok(Progress::Done(published)) => return (Ok(published), pending),
            Ok(Progress::Pending { state: next, after }) => {
                tokio::time::sleep(after.min(std::time::Duration::from_millis(300))).await;
                state = Some(next);
            }
            Err(e) => return (Err(e), pending),
        }
    }
    panic!("the platform kept processing the post");
}

/// Sets how long `platform` takes to process an upload.
pub async fn processing_ms(app: &TestApp, platform: Platform, ms: i64) {
    app.sandbox_control(serde_json::json!({"platform": platform.key(), "processing_ms": ms}))
        .await;
}

/// The video a post's page plays: its `<video>` source.
pub async fn played_video(url: &str) -> String {
    let (status, html) = page(url).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    html.split("<video")
        .nth(1)
        .and_then(|v| v.split("src=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no video on the page: {html}"))
        .replace("&#38;", "&")
}

/// The publishing calls the emulator of `platform` got, as `(endpoint, method)`.
pub async fn platform_calls(app: &TestApp, platform: Platform) -> Vec<(String, String)> {
    app.sandbox_calls()
        .await
        .into_iter()
        .filter(|(p, _, _)| p == platform.key())
        .map(|(_, e, m)| (e, m))
        .collect()
}
