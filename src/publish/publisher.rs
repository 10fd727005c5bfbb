//! The seam between the job engine and each platform's publishing API: what a publisher is
//! given (`Post`, `Call`) and what it answers (`Published`, `PublishError`).
//!
//! A publisher makes the platform calls of one post and nothing else: the engine resolves
//! the account, renews its tokens, leases the work, records outcomes and decides about
//! retries. Publishers never retry on their own, because only the engine knows whether a
//! call whose outcome is unknown may be repeated.

use crate::db::connections::Connection;
use crate::domain::Platform;
use crate::domain::upload::{Fields, MediaKind, PostKind};
use crate::oauth::TokenSet;
use crate::oauth::provider::App;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::NaiveDateTime;
use futures_util::stream::BoxStream;
use serde_json::{Map, Value};
use std::ops::Range;
use std::time::Duration;

/// One stored media item of an upload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Media {
    /// The store's id for it.
    pub id: String,
    pub kind: MediaKind,
    /// Sniffed from the bytes, never taken from the client.
    pub content_type: String,
    pub size: u64,
    pub filename: Option<String>,
    /// What probing a video found (`media::probe`); `None` for other kinds, and for a video
    /// stored before probing existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoInfo>,
}

/// A video's properties that platforms limit, read from its container.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VideoInfo {
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    /// The video track's codec as its sample entry names it (`avc1`, `hvc1`, …).
    pub video_codec: Option<String>,
    /// The first audio track's codec (`mp4a`, …), `None` when silent.
    pub audio_codec: Option<String>,
}

/// Reads stored media for a publisher, and names a URL a platform can fetch it from.
#[async_trait]
pub trait MediaSource: Send + Sync {
    /// The whole item in memory: photos and documents only. Video is read by `range` or
    /// `stream`, so that a large file never sits in memory whole.
    async fn bytes(&self, media: &Media) -> Result<Bytes, PublishError>;
    /// Bytes `range` of the item (a chunk of a chunked upload), read without the rest.
    async fn range(&self, media: &Media, range: Range<u64>) -> Result<Bytes, PublishError>;
    /// The whole item as a stream of chunks, for a platform that takes one request body.
    async fn stream(
        &self,
        media: &Media,
    ) -> Result<BoxStream<'static, Result<Bytes, PublishError>>, PublishError>;
    /// A signed URL under Postgate's public address that serves the item for a few hours,
    /// for APIs that pull media (Threads, Facebook, Instagram).
    fn public_url(&self, media: &Media) -> String;
}

/// A file that a field of the request carried besides the post's own media: a cover, a
/// thumbnail, a first comment's image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// The request field it came in (`thumbnail`, `tiktok_cover_image`, …).
    pub field: String,
    pub media: Media,
}

/// What to publish to one platform, as the request gave it.
#[derive(Debug, Clone)]
pub struct Post {
    pub kind: PostKind,
    pub media: Vec<Media>,
    /// Files of other media fields, in the order they came.
    pub attachments: Vec<Attachment>,
    /// Every field of the request, normalised; a publisher reads its platform's options
    /// here (`fields.for_platform("x", "title")`, `fields.flag("x_long_text_as_post")`).
    pub fields: Fields,
}

impl Post {
    /// The file the request sent in `field`, if any.
    pub fn attachment(&self, field: &str) -> Option<&Media> {
        self.attachments
            .iter()
            .find(|a| a.field == field)
            .map(|a| &a.media)
    }
    /// The text for `platform`: `{platform}_title`, else `title` (the post's text on
    /// `/upload_text`, the caption elsewhere).
    pub fn text(&self, platform: Platform) -> &str {
        self.fields
            .for_platform(platform.key(), "title")
            .unwrap_or_default()
    }

    /// `{platform}_description`, else `description`.
    pub fn description(&self, platform: Platform) -> Option<&str> {
        self.fields.for_platform(platform.key(), "description")
    }

    /// `{platform}_first_comment`, else `first_comment`.
    pub fn first_comment(&self, platform: Platform) -> Option<&str> {
        self.fields.for_platform(platform.key(), "first_comment")
    }

    /// `{platform}_link_url`, else `link_url`.
    pub fn link_url(&self, platform: Platform) -> Option<&str> {
        self.fields.for_platform(platform.key(), "link_url")
    }

    /// Alt texts per image: `{platform}_alt_text` as a list, else `alt_text`.
    pub fn alt_texts(&self, platform: Platform) -> Vec<String> {
        let own = format!("{}_alt_text", platform.key());
        let texts = self.fields.list(&own, &["||", "|"]);
        if texts.is_empty() {
            self.fields.list("alt_text", &["||", "|"])
        } else {
            texts
        }
    }
}

/// The connected account a post goes to, with fresh tokens.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The platform's configured app: endpoints (`app.url("…")`) and the HTTP client.
    pub app: &'a App,
    pub connection: &'a Connection,
    pub tokens: &'a TokenSet,
    pub media: &'a dyn MediaSource,
    /// Unique to this post on this account and stable across attempts: a publisher that can
    /// hand the platform a key of its own (Bluesky's record key) derives it from this, so
    /// that `find` can look the post up after a crash.
    pub marker: &'a str,
    /// When the first attempt was made: `find` looks for posts made since.
    pub since: NaiveDateTime,
    /// What the last call left in `Progress::Pending::state`, when the post is under way
    /// on the platform (an upload being processed); `None` on a first call.
    pub resume: Option<&'a Value>,
}

impl Call<'_> {
    /// From when a post this call made may be dated on the platform: a minute before
    /// `since`, as the platform's clock and ours differ a little.
    pub fn looked_up_since(&self) -> NaiveDateTime {
        self.since - chrono::Duration::seconds(60)
    }
}

/// How far a publish call took the post.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The post is up.
    Done(Published),
    /// The platform is working on it (processing a video, a container not yet ready). The
    /// engine stores `state`, frees the worker, and calls `publish` again after `after`
    /// (backing off, within its processing deadline) with `state` in `call.resume` — also
    /// after a restart. `state` must hold everything the next call needs (ids, offsets), and
    /// a call that made nothing new must leave the post where a repeat of it is harmless.
    Pending { state: Value, after: Duration },
}

impl From<Published> for Progress {
    fn from(p: Published) -> Self {
        Self::Done(p)
    }
}

/// What a platform made of a post.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Published {
    /// The platform's id of the post (the first one of a thread).
    pub post_id: String,
    pub url: Option<String>,
    /// More keys of the per-platform result, in the reference's names (`post_ids`,
    /// `image_urns`, `container_id`, `first_comment_posted`, …).
    pub extra: Map<String, Value>,
    /// Things that did not stop the post (a first comment that failed, an ignored field).
    pub warnings: Vec<String>,
}

/// Why a post did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The post breaks one of the platform's rules (too long, too many images, a missing
    /// field). Found before any call where possible; final, `error_source: client`.
    #[error("{message}")]
    Invalid { code: String, message: String },
    /// The platform refused. `retryable`: rate limits and outages, which a later attempt
    /// may pass.
    #[error("{message}")]
    Refused {
        code: String,
        message: String,
        retryable: bool,
    },
    /// The platform no longer accepts the account's grant: it must be connected again.
    #[error("{message}")]
    Reauth { reason: String, message: String },
    /// The request may have reached the platform, and its answer was lost (a timeout, a
    /// connection cut after sending). The engine must find out before trying again.
    #[error("{0}")]
    InDoubt(String),
    /// The platform, or this server, cannot do this (a lookup the API lacks, video before
    /// its publisher exists, deleting a post where the API has no delete).
    #[error("{message}")]
    Unsupported { code: String, message: String },
}

impl PublishError {
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn refused(code: &str, message: impl Into<String>, retryable: bool) -> Self {
        Self::Refused {
            code: code.to_owned(),
            message: message.into(),
            retryable,
        }
    }

    pub fn unsupported(code: &str, message: impl Into<String>) -> Self {
        Self::Unsupported {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// The per-platform result's `error_code`.
    pub fn code(&self) -> &str {
        match self {
            Self::Invalid { code, .. }
            | Self::Refused { code, .. }
            | Self::Unsupported { code, .. } => code,
            Self::Reauth { .. } => "account_reauth_required",
            Self::InDoubt(_) => "outcome_unknown",
        }
    }

    /// The per-platform result's `error_source`: whose mistake it was.
    pub fn source(&self) -> &'static str {
        match self {
            Self::Invalid { .. } | Self::Unsupported { .. } => "client",
            Self::Refused { .. } | Self::Reauth { .. } | Self::InDoubt(_) => "platform",
        }
    }

    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::Refused {
                retryable: true,
                ..
            }
        )
    }
}

/// One platform's publishing API.
#[async_trait]
pub trait Publisher: Send + Sync {
    fn platform(&self) -> Platform;

    /// Checks the post against the platform's rules before any call, so that a post that
    /// cannot go out fails at once with the limit named. Returns warnings (fields ignored).
    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError>;

    /// Makes the post, or takes it one step further when `call.resume` holds the state of
    /// an earlier `Pending`. Long posts become threads where the platform does that.
    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError>;

    /// After an attempt whose outcome is unknown: the post it made, if the platform has it
    /// (looked up by `call.marker`, or by text and time since `call.since`). `Unsupported`
    /// when the platform cannot be asked: the engine then fails the post as
    /// `outcome_unknown` rather than risk a second copy. With `call.resume` set, the
    /// interrupted call was a step from that state: `Ok(None)` then means the step may be
    /// taken again (it made no post, or the platform refuses a repeat).
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError>;

    /// Deletes a post this account made.
    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError>;
}

/// Posts and media for the publishers' unit tests.
#[cfg(test)]
pub(crate) mod samples {
    use super::{Media, Post};
    use crate::domain::upload::{Fields, MediaKind, PostKind};

    /// A post of `kind` with `pairs` as its form fields.
    pub fn post(kind: PostKind, pairs: &[(&str, &str)], media: Vec<Media>) -> Post {
        let mut fields = Fields::new();
        for (k, v) in pairs {
            fields.push(k, *v);
        }
        Post {
            kind,
            media,
            attachments: Vec::new(),
            fields,
        }
    }

    /// `n` small images of `content_type`, `m0`, `m1`, ….
    pub fn images(n: usize, content_type: &str) -> Vec<Media> {
        (0..n)
            .map(|i| Media {
                id: format!("m{i}"),
                kind: MediaKind::Image,
                content_type: content_type.to_owned(),
                size: 10,
                filename: None,
                video: None,
            })
            .collect()
    }
}
