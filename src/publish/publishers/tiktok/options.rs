//! The Upload-Post fields of a TikTok post (publishing reference 1.3) read once into what
//! the Content Posting API takes: the post mode, the privacy level asked for, the
//! interaction switches, the cover frame, the labels. Pure: checked before any call.

use crate::domain::Platform;
use crate::domain::upload::{FieldValueError, Fields, MediaKind, PostKind};
use crate::publish::publisher::{Post, PublishError};
use crate::publish::video::VideoLimits;

const PLATFORM: Platform = Platform::Tiktok;

/// The privacy levels TikTok knows; a creator offers some of them (`creator_info`).
pub const PRIVACY_LEVELS: [&str; 4] = [
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
];
/// Photos without a level go public (reference 1.3).
const PHOTO_DEFAULT_PRIVACY: &str = "PUBLIC_TO_EVERYONE";
/// Caption limits (developers.tiktok.com content-posting-api-reference-*): a video title
/// is up to 2200 UTF-16 units, a photo title 90 and its description 4000.
const MAX_VIDEO_TITLE: usize = 2200;
const MAX_PHOTO_TITLE: usize = 90;
const MAX_PHOTO_DESCRIPTION: usize = 4000;
const MAX_PHOTOS: usize = 35;
const PHOTO_TYPES: [&str; 2] = ["image/jpeg", "image/webp"];
/// The frame used as cover when none is named (reference 1.3).
const DEFAULT_COVER_MS: i64 = 1000;

/// TikTok's limits on a video file (media transfer guide: MP4, MOV or WebM, up to 4 GB,
/// up to 4096 pixels a side; the length is the creator's cap, checked on `creator_info`).
pub const VIDEO_LIMITS: VideoLimits = VideoLimits {
    platform: "TikTok",
    types: &["video/mp4", "video/quicktime", "video/webm"],
    max_bytes: 4 * 1024 * 1024 * 1024,
    // TikTok documents no minimum length.
    min_duration_ms: 0,
    max_duration_ms: 10 * 60 * 1000,
    max_side: Some(4096),
};

/// Fields of reference 1.3 that the Content Posting API has no place for (music, location,
/// ads and TTO settings exist only in TikTok's own apps): sent, each is named in a warning.
const NO_API_FIELD: [&str; 12] = [
    "tiktok_music_id",
    "tiktok_location_id",
    "tiktok_location_name",
    "tiktok_music_volume",
    "tiktok_music_start",
    "tiktok_music_end",
    "tiktok_original_sound_volume",
    "tiktok_cover_image_url",
    "tiktok_is_ads_only",
    "is_ads_only",
    "tiktok_tto_invite_link",
    "tto_invite_link",
];
/// The names of the draft switch (reference 1.3): any true means `MEDIA_UPLOAD`.
const DRAFT_ALIASES: [&str; 3] = ["tiktok_upload_to_draft", "upload_to_draft", "is_draft"];

/// Where the post goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// `DIRECT_POST`: published on the account.
    Direct,
    /// `MEDIA_UPLOAD`: sent to the creator's inbox as a draft to finish in the app.
    Inbox,
}

impl Mode {
    pub fn wire(self) -> &'static str {
        match self {
            Self::Direct => "DIRECT_POST",
            Self::Inbox => "MEDIA_UPLOAD",
        }
    }
}

/// How TikTok gets the video's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Chunked PUTs to the `upload_url` the init answers.
    FileUpload,
    /// TikTok downloads Postgate's signed media URL (its domain verified with TikTok).
    PullFromUrl,
}

/// Settings a video post carries besides the common ones.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOptions {
    pub disable_duet: bool,
    pub disable_stitch: bool,
    pub cover_ms: i64,
    pub is_aigc: bool,
    pub source: Source,
}

/// Settings a photo post carries besides the common ones.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoOptions {
    pub description: Option<String>,
    pub auto_add_music: bool,
    pub cover_index: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Video(VideoOptions),
    Photos(PhotoOptions),
}

/// A TikTok post as the request asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub mode: Mode,
    pub title: String,
    /// The level asked for; `None`: the default of the kind, among what the creator offers.
    pub privacy: Option<String>,
    pub disable_comment: bool,
    pub brand_content: bool,
    pub brand_organic: bool,
    /// A direct post TikTok refuses for a reason that allows it goes to the inbox instead
    /// (unless `disable_inbox_fallback`).
    pub inbox_fallback: bool,
    pub kind: Kind,
    /// Fields TikTok's API has no place for.
    pub warnings: Vec<String>,
}

impl Plan {
    /// The privacy level to post with: the one asked for, else the kind's default — all
    /// checked against what the creator offers. A level the account lacks is
    /// `tiktok_privacy_unavailable` (reference 1.3).
    pub fn privacy_level(&self, offered: &[String]) -> Result<String, PublishError> {
        let offers = |level: &str| offered.iter().any(|o| o == level);
        let wanted = match (&self.privacy, &self.kind) {
            (Some(level), _) => level.clone(),
            (None, Kind::Photos(_)) => PHOTO_DEFAULT_PRIVACY.to_owned(),
            // A video without a level gets the account's widest audience.
            (None, Kind::Video(_)) => PRIVACY_LEVELS
                .iter()
                .find(|l| offers(l))
                .map(|l| (*l).to_owned())
                .unwrap_or_default(),
        };
        if offers(&wanted) {
            return Ok(wanted);
        }
        Err(PublishError::invalid(
            "tiktok_privacy_unavailable",
            format!(
                "This TikTok account offers the privacy levels {}; {} is not one of them",
                offered.join(", "),
                if wanted.is_empty() { "none" } else { &wanted }
            ),
        ))
    }
}

fn invalid(message: impl Into<String>) -> PublishError {
    PublishError::invalid("invalid_field", message)
}

fn field_error(e: FieldValueError) -> PublishError {
    invalid(e.to_string())
}

fn flag(fields: &Fields, names: &[&str]) -> Result<bool, PublishError> {
    for name in names {
        if let Some(v) = fields.flag(name).map_err(field_error)? {
            return Ok(v);
        }
    }
    Ok(false)
}

fn number(fields: &Fields, names: &[&str]) -> Result<Option<i64>, PublishError> {
    for name in names {
        if let Some(v) = fields.number(name).map_err(field_error)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// TikTok counts caption lengths in UTF-16 units.
fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn too_long(what: &str, text: &str, max: usize) -> Result<(), PublishError> {
    if utf16_len(text) > max {
        return Err(PublishError::invalid(
            "text_too_long",
            format!(
                "TikTok takes a {what} of up to {max} characters; this one has {}",
                utf16_len(text)
            ),
        ));
    }
    Ok(())
}

fn privacy(fields: &Fields) -> Result<Option<String>, PublishError> {
    let Some(level) = fields.first_text(&["tiktok_privacy_level", "privacy_level"]) else {
        return Ok(None);
    };
    let level = level.trim().to_ascii_uppercase();
    if !PRIVACY_LEVELS.contains(&level.as_str()) {
        return Err(invalid(format!(
            "privacy_level is one of {}",
            PRIVACY_LEVELS.join(", ")
        )));
    }
    Ok(Some(level))
}

fn mode(fields: &Fields) -> Result<Mode, PublishError> {
    if flag(fields, &DRAFT_ALIASES)? {
        return Ok(Mode::Inbox);
    }
    match fields
        .first_text(&["tiktok_post_mode", "post_mode"])
        .map(|m| m.trim().to_ascii_uppercase())
        .as_deref()
    {
        None | Some("DIRECT_POST") => Ok(Mode::Direct),
        Some("MEDIA_UPLOAD") => Ok(Mode::Inbox),
        Some(other) => Err(invalid(format!(
            "post_mode is DIRECT_POST or MEDIA_UPLOAD, not {other}"
        ))),
    }
}

fn video_source(fields: &Fields) -> Result<Source, PublishError> {
    match fields
        .text("tiktok_video_source")
        .map(|s| s.trim().to_ascii_uppercase())
        .as_deref()
    {
        None | Some("FILE_UPLOAD") => Ok(Source::FileUpload),
        Some("PULL_FROM_URL") => Ok(Source::PullFromUrl),
        Some(other) => Err(invalid(format!(
            "tiktok_video_source is FILE_UPLOAD or PULL_FROM_URL, not {other}"
        ))),
    }
}

fn video(post: &Post) -> Result<VideoOptions, PublishError> {
    let [media] = post.media.as_slice() else {
        return Err(PublishError::invalid(
            "media_required",
            "A TikTok video post takes exactly one video",
        ));
    };
    VIDEO_LIMITS.check(media)?;
    let fields = &post.fields;
    let cover_ms =
        number(fields, &["tiktok_cover_timestamp", "cover_timestamp"])?.unwrap_or(DEFAULT_COVER_MS);
    if cover_ms < 0 {
        return Err(invalid("cover_timestamp is a time in the video, in ms"));
    }
    Ok(VideoOptions {
        disable_duet: flag(fields, &["tiktok_disable_duet", "disable_duet"])?,
        disable_stitch: flag(fields, &["tiktok_disable_stitch", "disable_stitch"])?,
        cover_ms,
        is_aigc: flag(
            fields,
            &["tiktok_is_ai_generated", "is_aigc", "is_ai_generated"],
        )?,
        source: video_source(fields)?,
    })
}

fn photos(post: &Post) -> Result<PhotoOptions, PublishError> {
    let count = post.media.len();
    if !(1..=MAX_PHOTOS).contains(&count) {
        return Err(PublishError::invalid(
            "invalid_media_count",
            format!("A TikTok photo post takes 1 to {MAX_PHOTOS} images; this one has {count}"),
        ));
    }
    if let Some(m) = post
        .media
        .iter()
        .find(|m| m.kind != MediaKind::Image || !PHOTO_TYPES.contains(&m.content_type.as_str()))
    {
        return Err(PublishError::invalid(
            "unsupported_media_type",
            format!("TikTok takes JPEG and WebP photos, not {}", m.content_type),
        ));
    }
    let fields = &post.fields;
    let cover_index =
        number(fields, &["tiktok_photo_cover_index", "photo_cover_index"])?.unwrap_or(0);
    let cover_index = usize::try_from(cover_index)
        .ok()
        .filter(|i| *i < count)
        .ok_or_else(|| {
            invalid(format!(
                "photo_cover_index is the index of one of the {count} photos, from 0"
            ))
        })?;
    let description = post.description(PLATFORM).map(str::to_owned);
    if let Some(d) = &description {
        too_long("photo description", d, MAX_PHOTO_DESCRIPTION)?;
    }
    Ok(PhotoOptions {
        description,
        auto_add_music: flag(fields, &["tiktok_auto_add_music", "auto_add_music"])?,
        cover_index,
    })
}

/// Names what TikTok's API cannot carry, and what does not apply to this kind of post.
fn warnings(post: &Post) -> Vec<String> {
    let fields = &post.fields;
    let sent = |name: &&&str| fields.text(name).is_some_and(|v| !v.trim().is_empty());
    let mut warnings: Vec<String> = NO_API_FIELD
        .iter()
        .filter(sent)
        .map(|name| {
            format!("{name} is not offered by TikTok's Content Posting API and was ignored")
        })
        .collect();
    if post.attachment("tiktok_cover_image").is_some() {
        warnings.push(
            "tiktok_cover_image is not offered by TikTok's Content Posting API and was ignored (cover_timestamp picks the cover frame)"
                .to_owned(),
        );
    }
    if post.first_comment(PLATFORM).is_some() {
        warnings.push("TikTok's API cannot comment; the first comment was not posted".to_owned());
    }
    let not_for_photos = [
        "disable_duet",
        "disable_stitch",
        "is_aigc",
        "cover_timestamp",
    ];
    if post.kind == PostKind::Photos {
        warnings.extend(
            not_for_photos
                .iter()
                .filter(sent)
                .map(|name| format!("{name} applies to TikTok videos only and was ignored")),
        );
    }
    warnings
}

/// Reads and checks a post's TikTok fields.
pub fn plan(post: &Post) -> Result<Plan, PublishError> {
    let fields = &post.fields;
    let title = post.text(PLATFORM).to_owned();
    let kind = match post.kind {
        PostKind::Video => {
            too_long("video title", &title, MAX_VIDEO_TITLE)?;
            Kind::Video(video(post)?)
        }
        PostKind::Photos => {
            too_long("photo title", &title, MAX_PHOTO_TITLE)?;
            Kind::Photos(photos(post)?)
        }
        PostKind::Text | PostKind::Document => {
            return Err(PublishError::invalid(
                "unsupported_media",
                "TikTok takes videos and photos, not text posts or documents",
            ));
        }
    };
    let location = [
        fields.text("tiktok_location_id"),
        fields.text("tiktok_location_name"),
    ];
    if location.iter().filter(|l| l.is_some()).count() == 1 {
        return Err(invalid(
            "tiktok_location_id and tiktok_location_name go together",
        ));
    }
    let plan = Plan {
        mode: mode(fields)?,
        title,
        privacy: privacy(fields)?,
        disable_comment: flag(fields, &["tiktok_disable_comment", "disable_comment"])?,
        brand_content: flag(
            fields,
            &["tiktok_brand_content_toggle", "brand_content_toggle"],
        )?,
        brand_organic: flag(
            fields,
            &["tiktok_brand_organic_toggle", "brand_organic_toggle"],
        )?,
        inbox_fallback: !flag(fields, &["disable_inbox_fallback"])?,
        kind,
        warnings: warnings(post),
    };
    // TikTok's rule: branded content cannot be private.
    if plan.brand_content && plan.privacy.as_deref() == Some("SELF_ONLY") {
        return Err(invalid(
            "brand_content_toggle cannot be used with privacy_level SELF_ONLY",
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::publisher::samples::{images, post};
    use crate::publish::publisher::{Media, VideoInfo};

    fn clip(duration_ms: u64) -> Vec<Media> {
        vec![Media {
            id: "v".into(),
            kind: MediaKind::Video,
            content_type: "video/mp4".into(),
            size: 1000,
            filename: Some("clip.mp4".into()),
            video: Some(VideoInfo {
                duration_ms,
                width: 1080,
                height: 1920,
                video_codec: Some("avc1".into()),
                audio_codec: None,
            }),
        }]
    }

    fn code(r: Result<Plan, PublishError>) -> String {
        r.unwrap_err().code().to_owned()
    }

    #[test]
    fn video_fields_are_read_with_their_aliases() {
        let p = plan(&post(
            PostKind::Video,
            &[
                ("tiktok_title", "Hello"),
                ("title", "ignored"),
                ("privacy_level", "self_only"),
                ("disable_duet", "true"),
                ("disable_stitch", "1"),
                ("disable_comment", "yes"),
                ("cover_timestamp", "2500"),
                ("is_ai_generated", "true"),
                ("brand_organic_toggle", "true"),
                ("tiktok_music_id", "123"),
                ("disable_inbox_fallback", "true"),
            ],
            clip(5000),
        ))
        .unwrap();
        assert_eq!(p.title, "Hello");
        assert_eq!(p.privacy.as_deref(), Some("SELF_ONLY"));
        assert_eq!(p.mode, Mode::Direct);
        assert!(p.disable_comment && p.brand_organic && !p.brand_content);
        assert!(!p.inbox_fallback);
        assert_eq!(
            p.kind,
            Kind::Video(VideoOptions {
                disable_duet: true,
                disable_stitch: true,
                cover_ms: 2500,
                is_aigc: true,
                source: Source::FileUpload,
            })
        );
        assert_eq!(
            p.warnings,
            ["tiktok_music_id is not offered by TikTok's Content Posting API and was ignored"]
        );
    }

    #[test]
    fn drafts_and_defaults() {
        for alias in DRAFT_ALIASES {
            let p = plan(&post(PostKind::Video, &[(alias, "true")], clip(1000))).unwrap();
            assert_eq!(p.mode, Mode::Inbox, "{alias}");
        }
        let p = plan(&post(PostKind::Video, &[], clip(1000))).unwrap();
        assert!(p.inbox_fallback);
        assert!(matches!(
            p.kind,
            Kind::Video(VideoOptions { cover_ms: 1000, .. })
        ));
        let offered = vec!["FOLLOWER_OF_CREATOR".to_owned(), "SELF_ONLY".to_owned()];
        assert_eq!(p.privacy_level(&offered).unwrap(), "FOLLOWER_OF_CREATOR");
        let photo = plan(&post(PostKind::Photos, &[], images(2, "image/jpeg"))).unwrap();
        let e = photo.privacy_level(&offered).unwrap_err();
        assert_eq!(e.code(), "tiktok_privacy_unavailable");
        assert!(e.to_string().contains("PUBLIC_TO_EVERYONE"), "{e}");
    }

    #[test]
    fn what_tiktok_refuses_is_refused_before_any_call() {
        assert_eq!(
            code(plan(&post(PostKind::Text, &[("title", "hi")], vec![]))),
            "unsupported_media"
        );
        assert_eq!(
            code(plan(&post(PostKind::Video, &[], clip(11 * 60 * 1000)))),
            "video_too_long"
        );
        assert_eq!(
            code(plan(&post(
                PostKind::Video,
                &[("privacy_level", "FRIENDS")],
                clip(1000)
            ))),
            "invalid_field"
        );
        assert_eq!(
            code(plan(&post(
                PostKind::Video,
                &[
                    ("brand_content_toggle", "true"),
                    ("privacy_level", "SELF_ONLY")
                ],
                clip(1000)
            ))),
            "invalid_field"
        );
        let long = "é".repeat(91);
        assert_eq!(
            code(plan(&post(
                PostKind::Photos,
                &[("title", &long)],
                images(1, "image/jpeg")
            ))),
            "text_too_long"
        );
        assert_eq!(
            code(plan(&post(PostKind::Photos, &[], images(1, "image/png")))),
            "unsupported_media_type"
        );
        assert_eq!(
            code(plan(&post(PostKind::Photos, &[], images(36, "image/jpeg")))),
            "invalid_media_count"
        );
        assert_eq!(
            code(plan(&post(
                PostKind::Photos,
                &[("photo_cover_index", "2")],
                images(2, "image/jpeg")
            ))),
            "invalid_field"
        );
        assert_eq!(
            code(plan(&post(
                PostKind::Video,
                &[("tiktok_location_id", "1")],
                clip(1000)
            ))),
            "invalid_field"
        );
    }

    #[test]
    fn photo_fields_and_video_only_fields() {
        let p = plan(&post(
            PostKind::Photos,
            &[
                ("title", "Trip"),
                ("tiktok_description", "Day one"),
                ("auto_add_music", "true"),
                ("photo_cover_index", "1"),
                ("disable_duet", "true"),
            ],
            images(3, "image/webp"),
        ))
        .unwrap();
        assert_eq!(
            p.kind,
            Kind::Photos(PhotoOptions {
                description: Some("Day one".into()),
                auto_add_music: true,
                cover_index: 1,
            })
        );
        assert_eq!(
            p.warnings,
            ["disable_duet applies to TikTok videos only and was ignored"]
        );
    }
}
