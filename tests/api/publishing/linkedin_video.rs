//! LinkedIn's video publishing against the Videos API emulator.

use super::graph_support::{Account, assert_refused_for_good, fault, post, stored};
use super::video_support::{Clip, platform_calls, played_video, processing_ms, publish_counting};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::PostKind;
use postgate::publish::publisher::{Call, Media, Progress, Publisher, VideoInfo};
use postgate::publish::publishers::for_platform;

cases![
    linkedin_video_is_put_in_parts_finalized_and_posted_once_available,
    linkedin_video_refused_part_is_put_again_and_no_other,
    linkedin_video_processing_failed_is_final,
    linkedin_video_quota_exceeded_is_the_daily_limit,
    linkedin_video_limits_are_refused_before_any_call,
];

/// Ten megabytes: three parts of 4 MB.
const CLIP_BYTES: usize = 10 * 1024 * 1024;
const LINKEDIN: Platform = Platform::Linkedin;

fn linkedin() -> &'static dyn Publisher {
    for_platform(LINKEDIN)
}

async fn count(app: &TestApp, endpoint: &str, method: &str) -> usize {
    platform_calls(app, LINKEDIN)
        .await
        .iter()
        .filter(|(e, m)| e == endpoint && m == method)
        .count()
}

async fn linkedin_video_is_put_in_parts_finalized_and_posted_once_available(app: &TestApp) {
    let account = Account::connect(app, "livideo", LINKEDIN, 0).await;
    processing_ms(app, LINKEDIN, 1000).await;
    let clip = Clip::new(CLIP_BYTES);
    let post = post(
        PostKind::Video,
        &[
            ("title", "Our launch video"),
            ("visibility", "connections"),
            ("linkedin_first_comment", "Details inside"),
        ],
        vec![clip.media()],
    );
    let (made, pending) = publish_counting(linkedin(), &account.call(&clip, "l1"), &post).await;
    let made = made.unwrap();
    assert!(pending >= 1, "LinkedIn was processing the video");
    assert_eq!(
        count(app, "videos", "POST").await,
        2,
        "initialize, finalize"
    );
    assert_eq!(count(app, "video_part", "PUT").await, 3, "three parts");
    assert!(count(app, "video", "GET").await >= 2, "status polled");
    let urn = made.extra["video_urn"].as_str().unwrap().to_owned();
    assert!(urn.starts_with("urn:li:video:"), "{urn}");
    let kept = stored(app, LINKEDIN, &made.post_id).await.unwrap();
    let extra = kept.extra();
    assert_eq!(extra["content"]["media"]["id"], urn.as_str());
    assert_eq!(extra["content"]["media"]["title"], "Our launch video");
    assert_eq!(extra["visibility"], "CONNECTIONS");
    assert_eq!(made.extra["first_comment_posted"], true);
    let video = played_video(made.url.as_deref().unwrap()).await;
    assert!(
        clip.is_at(&video).await,
        "the page plays the parts, in order"
    );
}

async fn linkedin_video_refused_part_is_put_again_and_no_other(app: &TestApp) {
    let account = Account::connect(app, "liresume", LINKEDIN, 0).await;
    processing_ms(app, LINKEDIN, 0).await;
    fault(app, LINKEDIN, "video_part", &["pass", "chunk_rejected"]).await;
    let clip = Clip::new(CLIP_BYTES);
    let post = post(PostKind::Video, &[("title", "resumed")], vec![clip.media()]);
    let first = linkedin()
        .publish(&account.call(&clip, "l2"), &post)
        .await
        .unwrap();
    let Progress::Pending { state, .. } = first else {
        panic!("a refused part leaves the upload pending: {first:?}");
    };
    assert_eq!(state["video"]["etags"].as_array().map(Vec::len), Some(1));
    let resumed = Call {
        resume: Some(&state),
        ..account.call(&clip, "l2")
    };
    let (made, _) = publish_counting(linkedin(), &resumed, &post).await;
    let made = made.unwrap();
    assert_eq!(count(app, "videos", "POST").await, 2, "one upload");
    assert_eq!(
        count(app, "video_part", "PUT").await,
        4,
        "part 0 once, part 1 refused and put again, part 2"
    );
    let video = played_video(made.url.as_deref().unwrap()).await;
    assert!(clip.is_at(&video).await);
}

async fn linkedin_video_processing_failed_is_final(app: &TestApp) {
    let account = Account::connect(app, "lifailed", LINKEDIN, 0).await;
    processing_ms(app, LINKEDIN, 200).await;
    fault(app, LINKEDIN, "videos", &["pass", "processing_failed"]).await;
    let clip = Clip::new(1024 * 1024);
    let post = post(PostKind::Video, &[("title", "broken")], vec![clip.media()]);
    let (outcome, _) = publish_counting(linkedin(), &account.call(&clip, "l3"), &post).await;
    assert_refused_for_good(&outcome);
    assert_eq!(outcome.unwrap_err().code(), "processing_failed");
    assert_eq!(count(app, "posts", "POST").await, 0);
}

async fn linkedin_video_quota_exceeded_is_the_daily_limit(app: &TestApp) {
    let account = Account::connect(app, "liquota", LINKEDIN, 0).await;
    fault(app, LINKEDIN, "videos", &["quota_exceeded"]).await;
    let clip = Clip::new(1024 * 1024);
    let post = post(PostKind::Video, &[("title", "capped")], vec![clip.media()]);
    let (outcome, _) = publish_counting(linkedin(), &account.call(&clip, "l4"), &post).await;
    assert_eq!(outcome.unwrap_err().code(), "quota_exceeded");
    assert_eq!(count(app, "video_part", "PUT").await, 0);
}

async fn linkedin_video_limits_are_refused_before_any_call(app: &TestApp) {
    let clip = Clip::new(1024);
    let with = |change: &dyn Fn(&mut Media)| {
        let mut media = clip.media();
        change(&mut media);
        post(PostKind::Video, &[("title", "t")], vec![media])
    };
    let info = |duration_ms| VideoInfo {
        duration_ms,
        width: 1280,
        height: 720,
        video_codec: None,
        audio_codec: None,
    };
    let refused = [
        (with(&|m| m.video = Some(info(1_801_000))), "video_too_long"),
        (with(&|m| m.video = Some(info(2000))), "video_too_short"),
        (with(&|m| m.size = 501 * 1024 * 1024), "media_too_large"),
        (
            with(&|m| m.content_type = "video/quicktime".into()),
            "unsupported_media_type",
        ),
    ];
    for (post, code) in refused {
        let e = linkedin().check(&post).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
    }
    assert_eq!(count(app, "videos", "POST").await, 0, "no call made");
}
