//! X's video publishing against the X emulator: the chunked upload, processing, faults.

use super::graph_support::{Account, assert_refused_for_good, fault, post, replies, stored};
use super::video_support::{Clip, platform_calls, played_video, processing_ms, publish_counting};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::PostKind;
use postgate::publish::publisher::{Call, Media, Progress, PublishError, Publisher, VideoInfo};
use postgate::publish::publishers::{for_platform, ignored_options};
use serde_json::json;

cases![
    x_video_is_uploaded_in_segments_and_posted_once_processed,
    x_video_refused_segment_is_sent_again_and_no_other,
    x_video_processing_failed_is_final_and_posts_nothing,
    x_video_quota_exceeded_is_the_usage_cap,
    x_video_limits_are_refused_before_any_call,
    x_video_revoked_token_and_a_lost_post_answer_resume_without_uploading_again,
];

/// Ten megabytes: three segments of X's upload.
const CLIP_BYTES: usize = 10 * 1024 * 1024;

fn x() -> &'static dyn Publisher {
    for_platform(Platform::X)
}

/// The calls of X's video upload and posts, in order.
async fn upload_calls(app: &TestApp) -> Vec<(String, String)> {
    platform_calls(app, Platform::X)
        .await
        .into_iter()
        .filter(|(e, _)| {
            [
                "media_initialize",
                "media_session",
                "media_upload",
                "tweets",
            ]
            .contains(&e.as_str())
        })
        .collect()
}

fn count(calls: &[(String, String)], endpoint: &str, method: &str) -> usize {
    calls
        .iter()
        .filter(|(e, m)| e == endpoint && m == method)
        .count()
}

async fn x_video_is_uploaded_in_segments_and_posted_once_processed(app: &TestApp) {
    let account = Account::connect(app, "xvideo", Platform::X, 0).await;
    processing_ms(app, Platform::X, 1200).await;
    let clip = Clip::new(CLIP_BYTES);
    let post = post(
        PostKind::Video,
        &[
            ("title", "my clip"),
            ("tagged_user_ids", "11,12"),
            ("reply_settings", "following"),
            ("made_with_ai", "true"),
            ("first_comment", "more below"),
            ("x_subtitles_language", "en"),
        ],
        vec![clip.media()],
    );
    assert!(x().check(&post).unwrap().is_empty());
    assert_eq!(
        ignored_options(Platform::X, &post.fields),
        ["x_subtitles_language is not supported by Postgate yet and was ignored"]
    );
    let (made, pending) = publish_counting(x(), &account.call(&clip, "m1"), &post).await;
    let made = made.unwrap();
    assert!(pending >= 1, "X was processing the video");
    let calls = upload_calls(app).await;
    assert_eq!(count(&calls, "media_initialize", "POST"), 1);
    assert_eq!(
        count(&calls, "media_session", "POST"),
        4,
        "3 segments, finalize"
    );
    assert!(count(&calls, "media_upload", "GET") >= 1, "STATUS polled");
    assert_eq!(
        count(&calls, "tweets", "POST"),
        2,
        "the post and its comment"
    );
    let stored = stored(app, Platform::X, &made.post_id).await.unwrap();
    let media_ids = stored.media_ids();
    assert_eq!(media_ids.len(), 1);
    assert_eq!(
        stored.extra(),
        json!({
            "text": "my clip",
            "media": {"media_ids": media_ids, "tagged_user_ids": ["11", "12"]},
            "reply_settings": "following",
            "made_with_ai": true,
        })
    );
    assert_eq!(made.extra["first_comment_posted"], true);
    let comment = replies(app, Platform::X, &made.post_id).await;
    assert_eq!(comment.len(), 1);
    let video = played_video(made.url.as_deref().unwrap()).await;
    assert!(
        clip.is_at(&video).await,
        "the page plays the uploaded bytes"
    );
}

async fn x_video_refused_segment_is_sent_again_and_no_other(app: &TestApp) {
    let account = Account::connect(app, "xresume", Platform::X, 0).await;
    processing_ms(app, Platform::X, 0).await;
    fault(
        app,
        Platform::X,
        "media_session",
        &["pass", "chunk_rejected"],
    )
    .await;
    let clip = Clip::new(CLIP_BYTES);
    let post = post(PostKind::Video, &[("title", "resumed")], vec![clip.media()]);
    let first = x()
        .publish(&account.call(&clip, "m2"), &post)
        .await
        .unwrap();
    let postgate::publish::publisher::Progress::Pending { state, .. } = first else {
        panic!("a refused segment leaves the upload pending: {first:?}");
    };
    assert_eq!(state["video"]["next_segment"], 1, "{state}");
    let call = postgate::publish::publisher::Call {
        resume: Some(&state),
        ..account.call(&clip, "m2")
    };
    let (made, _) = publish_counting(x(), &call, &post).await;
    let made = made.unwrap();
    let calls = upload_calls(app).await;
    assert_eq!(count(&calls, "media_initialize", "POST"), 1, "one upload");
    assert_eq!(
        count(&calls, "media_session", "POST"),
        5,
        "segment 0 once, segment 1 refused and sent again, segment 2, finalize"
    );
    let video = played_video(made.url.as_deref().unwrap()).await;
    assert!(clip.is_at(&video).await, "no segment twice, none missing");
}

async fn x_video_processing_failed_is_final_and_posts_nothing(app: &TestApp) {
    let account = Account::connect(app, "xfailed", Platform::X, 0).await;
    processing_ms(app, Platform::X, 200).await;
    fault(app, Platform::X, "media_session", &["processing_failed"]).await;
    let clip = Clip::new(1024 * 1024);
    let post = post(PostKind::Video, &[("title", "broken")], vec![clip.media()]);
    let (outcome, _) = publish_counting(x(), &account.call(&clip, "m3"), &post).await;
    assert_refused_for_good(&outcome);
    assert_eq!(outcome.unwrap_err().code(), "processing_failed");
    assert_eq!(count(&upload_calls(app).await, "tweets", "POST"), 0);
}

async fn x_video_quota_exceeded_is_the_usage_cap(app: &TestApp) {
    let account = Account::connect(app, "xquota", Platform::X, 0).await;
    processing_ms(app, Platform::X, 0).await;
    let clip = Clip::new(1024 * 1024);
    let post = post(PostKind::Video, &[("title", "capped")], vec![clip.media()]);
    fault(app, Platform::X, "media_initialize", &["quota_exceeded"]).await;
    let (outcome, _) = publish_counting(x(), &account.call(&clip, "m4"), &post).await;
    assert_refused_for_good(&outcome);
    assert_eq!(outcome.unwrap_err().code(), "quota_exceeded");
    assert_eq!(count(&upload_calls(app).await, "media_session", "POST"), 0);
    fault(app, Platform::X, "tweets", &["quota_exceeded"]).await;
    let (outcome, _) = publish_counting(x(), &account.call(&clip, "m5"), &post).await;
    assert_eq!(outcome.unwrap_err().code(), "quota_exceeded");
}

async fn x_video_limits_are_refused_before_any_call(app: &TestApp) {
    let clip = Clip::new(1024);
    let with = |change: &dyn Fn(&mut Media)| {
        let mut media = clip.media();
        change(&mut media);
        post(PostKind::Video, &[("title", "t")], vec![media])
    };
    let info = |duration_ms, width, height| VideoInfo {
        duration_ms,
        width,
        height,
        video_codec: None,
        audio_codec: None,
    };
    let refused = [
        (
            with(&|m| m.video = Some(info(141_000, 1280, 720))),
            "video_too_long",
        ),
        (
            with(&|m| m.video = Some(info(400, 1280, 720))),
            "video_too_short",
        ),
        (with(&|m| m.size = 513 * 1024 * 1024), "media_too_large"),
        (
            with(&|m| m.content_type = "video/webm".into()),
            "unsupported_media_type",
        ),
        (
            with(&|m| m.video = Some(info(5000, 3840, 2160))),
            "video_resolution_too_high",
        ),
    ];
    for (post, code) in refused {
        let e = x().check(&post).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        assert_eq!(e.source(), "client");
    }
    let two = post(
        PostKind::Video,
        &[("title", "t")],
        vec![clip.media(), clip.media()],
    );
    assert!(x().check(&two).is_err(), "one video per post");
    assert!(upload_calls(app).await.is_empty(), "no call made");
}

async fn x_video_revoked_token_and_a_lost_post_answer_resume_without_uploading_again(
    app: &TestApp,
) {
    let account = Account::connect(app, "xdoubt", Platform::X, 0).await;
    let clip = Clip::new(1024 * 1024);
    let post = post(
        PostKind::Video,
        &[("title", "in doubt")],
        vec![clip.media()],
    );
    fault(app, Platform::X, "media_initialize", &["token_revoked"]).await;
    let revoked = x().publish(&account.call(&clip, "m6"), &post).await;
    assert!(
        matches!(revoked, Err(PublishError::Reauth { .. })),
        "{revoked:?}"
    );
    processing_ms(app, Platform::X, 300).await;
    let first = x()
        .publish(&account.call(&clip, "m6"), &post)
        .await
        .unwrap();
    let Progress::Pending { state, .. } = first else {
        panic!("X was processing: {first:?}");
    };
    assert_eq!(state["video"]["finalized"], true, "{state}");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    fault(app, Platform::X, "tweets", &["server_error"]).await;
    let resumed = Call {
        resume: Some(&state),
        ..account.call(&clip, "m6")
    };
    let lost = x().publish(&resumed, &post).await;
    assert!(matches!(lost, Err(PublishError::InDoubt(_))), "{lost:?}");
    assert_eq!(x().find(&resumed, &post).await.unwrap(), None, "not made");
    let (made, _) = publish_counting(x(), &resumed, &post).await;
    let made = made.unwrap();
    let found = x().find(&resumed, &post).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    let calls = upload_calls(app).await;
    assert_eq!(
        count(&calls, "media_initialize", "POST"),
        2,
        "revoked, then once"
    );
    assert_eq!(
        count(&calls, "media_session", "POST"),
        2,
        "one segment, finalize"
    );
}
