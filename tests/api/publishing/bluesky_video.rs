//! Bluesky's video publishing against the PDS and video-service emulator.

use super::graph_support::{Account, assert_refused_for_good, fault, post, stored};
use super::video_support::{Clip, platform_calls, played_video, processing_ms, publish_counting};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::PostKind;
use postgate::publish::publisher::{Call, Media, Progress, Publisher, VideoInfo};
use postgate::publish::publishers::for_platform;
use serde_json::{Value, json};

cases![
    bluesky_video_is_streamed_processed_and_embedded,
    bluesky_video_job_is_asked_about_and_never_uploaded_again,
    bluesky_video_rejected_upload_posts_nothing_and_a_retry_goes_out,
    bluesky_video_processing_failed_is_final,
    bluesky_video_quota_exceeded_is_the_daily_limit,
    bluesky_video_limits_are_refused_before_any_call,
    bluesky_video_revoked_session_needs_the_account_again,
];

/// Five megabytes: several chunks of the stream.
const CLIP_BYTES: usize = 5 * 1024 * 1024;

fn bluesky() -> &'static dyn Publisher {
    for_platform(Platform::Bluesky)
}

async fn count(app: &TestApp, endpoint: &str, method: &str) -> usize {
    platform_calls(app, Platform::Bluesky)
        .await
        .iter()
        .filter(|(e, m)| e == endpoint && m == method)
        .count()
}

/// The record the emulator stored for the post at `uri`.
async fn record_of(app: &TestApp, uri: &str) -> Value {
    let rkey = uri.rsplit('/').next().unwrap();
    stored(app, Platform::Bluesky, rkey).await.unwrap().extra()["record"].clone()
}

async fn bluesky_video_is_streamed_processed_and_embedded(app: &TestApp) {
    let account = Account::connect(app, "bsvideo", Platform::Bluesky, 0).await;
    processing_ms(app, Platform::Bluesky, 1000).await;
    let clip = Clip::new(CLIP_BYTES);
    let post = post(
        PostKind::Video,
        &[
            ("title", "a video"),
            ("bluesky_alt_text", "a cat on a mat"),
            ("bluesky_langs", "en"),
            ("first_comment", "made it"),
        ],
        vec![clip.media()],
    );
    let (made, pending) = publish_counting(bluesky(), &account.call(&clip, "b1"), &post).await;
    let made = made.unwrap();
    assert!(pending >= 1, "the job was encoding");
    assert_eq!(count(app, "service_auth", "GET").await, 1);
    assert_eq!(count(app, "upload_video", "POST").await, 1);
    assert!(count(app, "video_job_status", "GET").await >= 1);
    assert_eq!(
        count(app, "create_record", "POST").await,
        2,
        "post, comment"
    );
    let record = record_of(app, &made.post_id).await;
    let embed = &record["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.video");
    assert_eq!(embed["alt"], "a cat on a mat");
    assert_eq!(embed["aspectRatio"], json!({"width": 1280, "height": 720}));
    assert_eq!(embed["video"]["mimeType"], "video/mp4");
    assert_eq!(embed["video"]["size"], CLIP_BYTES);
    assert_eq!(record["langs"], json!(["en"]));
    assert_eq!(made.extra["first_comment_posted"], true);
    let video = played_video(made.url.as_deref().unwrap()).await;
    assert!(
        clip.is_at(&video).await,
        "the page plays the streamed bytes"
    );
}

async fn bluesky_video_job_is_asked_about_and_never_uploaded_again(app: &TestApp) {
    let account = Account::connect(app, "bsresume", Platform::Bluesky, 1).await;
    processing_ms(app, Platform::Bluesky, 600).await;
    let clip = Clip::new(CLIP_BYTES);
    let post = post(PostKind::Video, &[("title", "later")], vec![clip.media()]);
    let first = bluesky()
        .publish(&account.call(&clip, "b2"), &post)
        .await
        .unwrap();
    let Progress::Pending { state, .. } = first else {
        panic!("the job was encoding: {first:?}");
    };
    assert!(state["video_job"].is_string(), "{state}");
    // As after a restart: the stored state is all the next call has.
    let resumed = Call {
        resume: Some(&state),
        ..account.call(&clip, "b2")
    };
    let (made, _) = publish_counting(bluesky(), &resumed, &post).await;
    made.unwrap();
    assert_eq!(count(app, "upload_video", "POST").await, 1, "uploaded once");
    assert_eq!(count(app, "service_auth", "GET").await, 1);
}

async fn bluesky_video_rejected_upload_posts_nothing_and_a_retry_goes_out(app: &TestApp) {
    let account = Account::connect(app, "bsreject", Platform::Bluesky, 0).await;
    processing_ms(app, Platform::Bluesky, 0).await;
    fault(app, Platform::Bluesky, "upload_video", &["chunk_rejected"]).await;
    let clip = Clip::new(CLIP_BYTES);
    let post = post(PostKind::Video, &[("title", "again")], vec![clip.media()]);
    let (outcome, _) = publish_counting(bluesky(), &account.call(&clip, "b3"), &post).await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(count(app, "create_record", "POST").await, 0);
    let (made, _) = publish_counting(bluesky(), &account.call(&clip, "b3"), &post).await;
    made.unwrap();
    assert_eq!(count(app, "upload_video", "POST").await, 2);
}

async fn bluesky_video_processing_failed_is_final(app: &TestApp) {
    let account = Account::connect(app, "bsfailed", Platform::Bluesky, 0).await;
    processing_ms(app, Platform::Bluesky, 200).await;
    fault(
        app,
        Platform::Bluesky,
        "upload_video",
        &["processing_failed"],
    )
    .await;
    let clip = Clip::new(1024 * 1024);
    let post = post(PostKind::Video, &[("title", "broken")], vec![clip.media()]);
    let (outcome, _) = publish_counting(bluesky(), &account.call(&clip, "b4"), &post).await;
    assert_refused_for_good(&outcome);
    assert_eq!(outcome.unwrap_err().code(), "processing_failed");
    assert_eq!(count(app, "create_record", "POST").await, 0);
}

async fn bluesky_video_quota_exceeded_is_the_daily_limit(app: &TestApp) {
    let account = Account::connect(app, "bsquota", Platform::Bluesky, 0).await;
    fault(app, Platform::Bluesky, "upload_video", &["quota_exceeded"]).await;
    let clip = Clip::new(1024 * 1024);
    let post = post(PostKind::Video, &[("title", "capped")], vec![clip.media()]);
    let (outcome, _) = publish_counting(bluesky(), &account.call(&clip, "b5"), &post).await;
    let e = outcome.unwrap_err();
    assert_eq!(e.code(), "quota_exceeded", "{e:?}");
    assert_eq!(count(app, "create_record", "POST").await, 0);
}

async fn bluesky_video_limits_are_refused_before_any_call(app: &TestApp) {
    let clip = Clip::new(1024);
    let with = |change: &dyn Fn(&mut Media)| {
        let mut media = clip.media();
        change(&mut media);
        post(PostKind::Video, &[("title", "t")], vec![media])
    };
    let long = VideoInfo {
        duration_ms: 181_000,
        width: 1280,
        height: 720,
        video_codec: None,
        audio_codec: None,
    };
    let refused = [
        (with(&|m| m.video = Some(long.clone())), "video_too_long"),
        (with(&|m| m.size = 101 * 1024 * 1024), "media_too_large"),
        (
            with(&|m| m.content_type = "video/x-matroska".into()),
            "unsupported_media_type",
        ),
    ];
    for (post, code) in refused {
        let e = bluesky().check(&post).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        assert_eq!(e.source(), "client");
    }
    let publishing = ["service_auth", "upload_video", "create_record"];
    for endpoint in publishing {
        assert_eq!(
            count(app, endpoint, "POST").await + count(app, endpoint, "GET").await,
            0
        );
    }
}

async fn bluesky_video_revoked_session_needs_the_account_again(app: &TestApp) {
    let account = Account::connect(app, "bsrevoked", Platform::Bluesky, 0).await;
    fault(app, Platform::Bluesky, "service_auth", &["token_revoked"]).await;
    let clip = Clip::new(1024);
    let post = post(PostKind::Video, &[("title", "gone")], vec![clip.media()]);
    let outcome = bluesky().publish(&account.call(&clip, "b6"), &post).await;
    assert!(
        matches!(
            outcome,
            Err(postgate::publish::publisher::PublishError::Reauth { .. })
        ),
        "{outcome:?}"
    );
    assert_eq!(count(app, "upload_video", "POST").await, 0);
}
