//! What every video publisher shares: a platform's video limits, checked before any call
//! (the refusal names the limit), and the byte ranges of a chunked upload.

use super::publisher::{Media, PublishError};
use crate::domain::upload::MediaKind;
use std::ops::Range;

/// A platform's limits on one video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoLimits {
    /// The platform's name as users know it, for the messages.
    pub platform: &'static str,
    /// Content types it takes (`video/mp4`, `video/quicktime`, …).
    pub types: &'static [&'static str],
    pub max_bytes: u64,
    pub min_duration_ms: u64,
    pub max_duration_ms: u64,
    /// The longest side in pixels, when the platform has a limit.
    pub max_side: Option<u32>,
}

impl VideoLimits {
    /// Refuses a video the platform would refuse. A video whose properties were not probed
    /// (stored before probing existed) is checked on type and size only; the platform has
    /// the last word on the rest.
    pub fn check(&self, media: &Media) -> Result<(), PublishError> {
        let name = media.filename.as_deref().unwrap_or("the video");
        if media.kind != MediaKind::Video {
            return Err(PublishError::invalid(
                "unsupported_media_type",
                format!("{name} is not a video"),
            ));
        }
        if !self.types.contains(&media.content_type.as_str()) {
            return Err(PublishError::invalid(
                "unsupported_media_type",
                format!(
                    "{} takes videos of type {}; {name} is {}",
                    self.platform,
                    self.types.join(", "),
                    media.content_type
                ),
            ));
        }
        if media.size > self.max_bytes {
            return Err(PublishError::invalid(
                "media_too_large",
                format!(
                    "{} takes videos up to {} bytes; {name} is {} bytes",
                    self.platform, self.max_bytes, media.size
                ),
            ));
        }
        let Some(video) = &media.video else {
            return Ok(());
        };
        if video.duration_ms > self.max_duration_ms {
            return Err(PublishError::invalid(
                "video_too_long",
                format!(
                    "{} takes videos up to {} seconds; {name} lasts {} seconds",
                    self.platform,
                    seconds(self.max_duration_ms),
                    seconds(video.duration_ms)
                ),
            ));
        }
        if video.duration_ms < self.min_duration_ms {
            return Err(PublishError::invalid(
                "video_too_short",
                format!(
                    "{} takes videos of at least {} seconds; {name} lasts {} seconds",
                    self.platform,
                    seconds(self.min_duration_ms),
                    seconds(video.duration_ms)
                ),
            ));
        }
        if let Some(max) = self.max_side
            && video.width.max(video.height) > max
        {
            return Err(PublishError::invalid(
                "video_resolution_too_high",
                format!(
                    "{} takes videos up to {max} pixels on their longest side; {name} is {}x{}",
                    self.platform, video.width, video.height
                ),
            ));
        }
        Ok(())
    }
}

/// A duration for a message: whole seconds, or tenths under ten.
fn seconds(ms: u64) -> String {
    if ms < 10_000 && !ms.is_multiple_of(1000) {
        format!("{:.1}", ms as f64 / 1000.0)
    } else {
        (ms / 1000).to_string()
    }
}

/// The byte ranges of an upload of `size` bytes in parts of `part` bytes (the last one
/// shorter), in order.
pub fn parts(size: u64, part: u64) -> impl Iterator<Item = Range<u64>> {
    let part = part.max(1);
    (0..size.div_ceil(part)).map(move |i| i * part..((i + 1) * part).min(size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::publisher::VideoInfo;

    const LIMITS: VideoLimits = VideoLimits {
        platform: "Example",
        types: &["video/mp4"],
        max_bytes: 1000,
        min_duration_ms: 3000,
        max_duration_ms: 60_000,
        max_side: Some(1920),
    };

    fn video(size: u64, info: Option<(u64, u32, u32)>) -> Media {
        Media {
            id: "v".into(),
            kind: MediaKind::Video,
            content_type: "video/mp4".into(),
            size,
            filename: Some("clip.mp4".into()),
            video: info.map(|(duration_ms, width, height)| VideoInfo {
                duration_ms,
                width,
                height,
                video_codec: Some("avc1".into()),
                audio_codec: None,
            }),
        }
    }

    fn code(r: Result<(), PublishError>) -> String {
        r.unwrap_err().code().to_owned()
    }

    #[test]
    fn each_limit_is_named() {
        assert!(LIMITS.check(&video(10, Some((5000, 1080, 1920)))).is_ok());
        assert!(
            LIMITS.check(&video(10, None)).is_ok(),
            "unprobed: size only"
        );
        assert_eq!(code(LIMITS.check(&video(1001, None))), "media_too_large");
        let long = LIMITS
            .check(&video(10, Some((61_000, 10, 10))))
            .unwrap_err();
        assert_eq!(long.code(), "video_too_long");
        assert_eq!(long.source(), "client");
        assert!(long.to_string().contains("up to 60 seconds"), "{long}");
        assert!(long.to_string().contains("lasts 61 seconds"), "{long}");
        let short = LIMITS.check(&video(10, Some((2500, 10, 10)))).unwrap_err();
        assert!(short.to_string().contains("lasts 2.5 seconds"), "{short}");
        assert_eq!(
            code(LIMITS.check(&video(10, Some((5000, 3840, 2160))))),
            "video_resolution_too_high"
        );
        let mut mov = video(10, None);
        mov.content_type = "video/quicktime".into();
        assert_eq!(code(LIMITS.check(&mov)), "unsupported_media_type");
        mov.kind = MediaKind::Image;
        assert_eq!(code(LIMITS.check(&mov)), "unsupported_media_type");
    }

    #[test]
    fn parts_cover_the_file_once_in_order() {
        let ranges: Vec<_> = parts(10, 4).collect();
        assert_eq!(ranges, [0..4, 4..8, 8..10]);
        assert_eq!(parts(8, 4).count(), 2);
        assert_eq!(parts(0, 4).count(), 0);
        assert_eq!(parts(3, 0).count(), 3, "a zero part size is one byte");
    }
}
