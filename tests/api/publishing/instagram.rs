//! The Instagram publisher against the emulated Instagram API: containers the emulator
//! builds by pulling each image and video from Postgate's media URL, processed for a while
//! when they are videos, then published once.

use super::ToEnd;
use super::graph_support::{
    Account, JPEG, MP4, PNG, Served, assert_fault_reading, calls_of, fault, graph_posts, page,
    post, replies, stored, unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{MediaSource, Progress, PublishError, Publisher};
use postgate::publish::publishers::for_platform;
use reqwest::StatusCode;
use serde_json::json;

cases![
    an_image_with_its_options_and_a_first_comment,
    a_reel_carries_every_reel_option_and_plays,
    a_story_and_a_mixed_carousel,
    a_processing_video_is_pending_then_published_once,
    processing_failed_and_quota_exceeded_are_final,
    faults_are_read_as_the_engine_needs,
    a_lost_publish_answer_is_found,
    invalid_options_publish_nothing,
];

const INSTAGRAM: Platform = Platform::Instagram;

fn publisher() -> &'static dyn Publisher {
    for_platform(INSTAGRAM)
}

/// Instagram processes videos in this long, in the tests that do not look at processing.
async fn processing_ms(app: &TestApp, ms: i64) {
    app.sandbox_control(json!({"platform": "instagram", "processing_ms": ms}))
        .await;
}

async fn served() -> Served {
    Served::new(&[
        ("a", JPEG, "image/jpeg"),
        ("b", JPEG, "image/jpeg"),
        ("v", MP4, "video/mp4"),
        ("p", PNG, "image/png"),
        ("cover", JPEG, "image/jpeg"),
    ])
    .await
}

async fn an_image_with_its_options_and_a_first_comment(app: &TestApp) {
    let account = Account::connect(app, "snapper", INSTAGRAM, 0).await;
    let served = served().await;
    let caption = unique("A loaf #bread");
    let p = post(
        PostKind::Photos,
        &[
            ("title", &caption),
            ("instagram_alt_text", "a crusty loaf"),
            ("collaborators", "ann,bob"),
            ("location_id", "110843418940484"),
            ("user_tags", r#"[{"username":"carl","x":0.25,"y":0.75}]"#),
            ("instagram_first_comment", "Recipe in bio"),
        ],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "i1"), &p)
        .await
        .unwrap();
    assert!(published.warnings.is_empty(), "{:?}", published.warnings);
    assert_eq!(published.extra["first_comment_posted"], true);
    assert!(published.extra["container_id"].is_string());
    let kept = stored(app, INSTAGRAM, &published.post_id).await.unwrap();
    assert_eq!(kept.text, caption);
    let extra = kept.extra();
    assert_eq!(extra["media_product_type"], "FEED");
    assert_eq!(extra["alt_texts"], json!(["a crusty loaf"]));
    assert_eq!(extra["collaborators"], json!(["ann", "bob"]));
    assert_eq!(extra["location_id"], "110843418940484");
    assert_eq!(
        extra["user_tags"],
        json!([{"username": "carl", "x": 0.25, "y": 0.75}])
    );
    let comments = replies(app, INSTAGRAM, &published.post_id).await;
    assert_eq!(comments[0].text, "Recipe in bio");
    let (status, html) = page(&published.url.expect("a permalink")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/sandbox/instagram/_media/"), "{html}");
}

async fn a_reel_carries_every_reel_option_and_plays(app: &TestApp) {
    processing_ms(app, 0).await;
    let account = Account::connect(app, "reeler", INSTAGRAM, 1).await;
    let served = served().await;
    let mut p = post(
        PostKind::Video,
        &[
            ("title", "Reel time"),
            ("share_to_feed", "false"),
            ("thumb_offset", "2500"),
            ("audio_name", "Kitchen sounds"),
            ("collaborators", "ann"),
            ("location_id", "7"),
            ("user_tags", "dora,@eli"),
            ("share_mode", "TRIAL_REELS_SHARE_TO_FOLLOWERS_IF_LIKED"),
            ("is_ai_generated", "true"),
        ],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let cover = served.media("cover", MediaKind::Image, "cover.jpg");
    p.attachments
        .push(postgate::publish::publisher::Attachment {
            field: "cover_image".to_owned(),
            media: cover.clone(),
        });
    let published = publisher()
        .publish_to_end(&account.call(&served, "i2"), &p)
        .await
        .unwrap();
    // The AI label has no Instagram parameter: named, not dropped silently.
    assert_eq!(published.warnings.len(), 1, "{:?}", published.warnings);
    assert!(published.warnings[0].contains("is_ai_generated"));
    let extra = stored(app, INSTAGRAM, &published.post_id)
        .await
        .unwrap()
        .extra();
    assert_eq!(extra["media_type"], "REELS");
    assert_eq!(extra["media_product_type"], "REELS");
    assert_eq!(extra["share_to_feed"], "false");
    assert_eq!(extra["thumb_offset"], "2500");
    assert_eq!(extra["audio_name"], "Kitchen sounds");
    assert_eq!(extra["collaborators"], json!(["ann"]));
    assert_eq!(extra["location_id"], "7");
    assert_eq!(
        extra["user_tags"],
        json!([{"username": "dora"}, {"username": "eli"}])
    );
    assert_eq!(
        extra["trial_params"],
        json!({"graduation_strategy": "SS_PERFORMANCE"})
    );
    assert_eq!(extra["cover_url"], served.public_url(&cover));
    let (status, html) = page(&published.url.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<video controls"), "{html}");
    let media_url = html
        .split("<video controls")
        .nth(1)
        .and_then(|tag| tag.split("src=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("a video source")
        .to_owned();
    let resp = reqwest::get(&media_url).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "video/mp4");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), MP4);
}

async fn a_story_and_a_mixed_carousel(app: &TestApp) {
    processing_ms(app, 0).await;
    let account = Account::connect(app, "storyteller", INSTAGRAM, 2).await;
    let served = served().await;
    let story = post(
        PostKind::Video,
        &[
            ("title", "unused"),
            ("media_type", "STORIES"),
            ("share_to_feed", "true"),
        ],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "i3"), &story)
        .await
        .unwrap();
    let kept = stored(app, INSTAGRAM, &published.post_id).await.unwrap();
    assert_eq!(kept.extra()["media_product_type"], "STORY");
    assert_eq!(kept.text, "", "stories have no caption");
    assert_eq!(published.warnings.len(), 2, "{:?}", published.warnings);

    let carousel = post(
        PostKind::Photos,
        &[
            ("title", "Three of them"),
            ("instagram_alt_text", "first||second"),
            ("user_tags", "ann"),
        ],
        vec![
            served.media("a", MediaKind::Image, "a.jpg"),
            served.media("v", MediaKind::Video, "v.mp4"),
            served.media("b", MediaKind::Image, "b.jpg"),
        ],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "i4"), &carousel)
        .await
        .unwrap();
    let kept = stored(app, INSTAGRAM, &published.post_id).await.unwrap();
    assert_eq!(kept.media_ids().len(), 3);
    let extra = kept.extra();
    assert_eq!(extra["media_type"], "CAROUSEL");
    assert_eq!(extra["alt_texts"], json!(["first", null, null]));
    assert_eq!(
        extra["item_user_tags"],
        json!([[{"username": "ann", "x": 0.5, "y": 0.5}], null, null])
    );
    let (_, html) = page(&published.url.unwrap()).await;
    assert_eq!(html.matches("<video controls").count(), 1, "{html}");
    assert_eq!(
        html.matches("<img src=\"http").count(),
        2 + 1,
        "two images and the avatar"
    );
}

async fn a_processing_video_is_pending_then_published_once(app: &TestApp) {
    processing_ms(app, 1500).await;
    let account = Account::connect(app, "patient", INSTAGRAM, 0).await;
    let served = served().await;
    let p = post(
        PostKind::Video,
        &[("title", &unique("Slow reel"))],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let call = account.call(&served, "i5");
    let before = graph_posts(app, INSTAGRAM).await;
    let Progress::Pending { state, .. } = publisher().publish(&call, &p).await.unwrap() else {
        panic!("a fresh video container is still processing");
    };
    assert!(state["container"].is_string(), "{state}");
    assert_eq!(
        graph_posts(app, INSTAGRAM).await - before,
        1,
        "one container"
    );
    let mut state = state;
    let published = loop {
        let step = postgate::publish::publisher::Call {
            resume: Some(&state),
            ..call
        };
        match publisher().publish(&step, &p).await.unwrap() {
            Progress::Done(published) => break published,
            Progress::Pending { state: next, .. } => {
                assert_eq!(next["container"], state["container"], "the same container");
                state = next;
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
        }
    };
    assert_eq!(published.extra["container_id"], state["container"]);
    assert_eq!(
        graph_posts(app, INSTAGRAM).await - before,
        2,
        "one container and one publish"
    );
}

async fn processing_failed_and_quota_exceeded_are_final(app: &TestApp) {
    processing_ms(app, 0).await;
    let account = Account::connect(app, "unlucky", INSTAGRAM, 1).await;
    let served = served().await;
    let reel = post(
        PostKind::Video,
        &[("title", "Broken")],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let call = account.call(&served, "i6");
    // The quota look passes; the container fails processing.
    fault(app, INSTAGRAM, "graph", &["pass", "processing_failed"]).await;
    let e = publisher().publish_to_end(&call, &reel).await.unwrap_err();
    assert_eq!(e.code(), "processing_failed");
    assert!(!e.retryable());
    assert!(e.to_string().contains("2207026"), "{e}");

    // The limit, seen before any container is made.
    let before = graph_posts(app, INSTAGRAM).await;
    fault(app, INSTAGRAM, "graph", &["quota_exceeded"]).await;
    let e = publisher().publish_to_end(&call, &reel).await.unwrap_err();
    assert_eq!(e.code(), "quota_exceeded");
    assert_eq!(
        graph_posts(app, INSTAGRAM).await,
        before,
        "no container made"
    );
    // The limit, met at publishing: Instagram's error 9.
    let image = post(
        PostKind::Photos,
        &[("title", "One more")],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    fault(
        app,
        INSTAGRAM,
        "graph",
        &["pass", "pass", "pass", "quota_exceeded"],
    )
    .await;
    let e = publisher().publish_to_end(&call, &image).await.unwrap_err();
    assert_eq!(e.code(), "quota_exceeded");
    assert!(e.to_string().contains("limit"), "{e}");
}

async fn faults_are_read_as_the_engine_needs(app: &TestApp) {
    let account = Account::connect(app, "faulty", INSTAGRAM, 2).await;
    let served = served().await;
    let p = post(
        PostKind::Photos,
        &[("title", "hello")],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let call = account.call(&served, "i7");
    fault(app, INSTAGRAM, "graph", &["rate_limited"]).await;
    let rate_limited = publisher().publish_to_end(&call, &p).await;
    // The quota look, the container and its status pass; publishing it fails.
    fault(
        app,
        INSTAGRAM,
        "graph",
        &["pass", "pass", "pass", "server_error"],
    )
    .await;
    let server_error = publisher().publish_to_end(&call, &p).await;
    fault(app, INSTAGRAM, "graph", &["token_revoked"]).await;
    let token_revoked = publisher().publish_to_end(&call, &p).await;
    assert_fault_reading(rate_limited, server_error, token_revoked);
}

async fn a_lost_publish_answer_is_found(app: &TestApp) {
    let account = Account::connect(app, "finder", INSTAGRAM, 0).await;
    let served = served().await;
    let caption = unique("Out there?");
    let p = post(
        PostKind::Photos,
        &[("title", &caption)],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let call = account.call(&served, "i8");
    let made = publisher().publish_to_end(&call, &p).await.unwrap();
    // The publish call's answer was lost: the container says it was published, and the
    // feed has the caption.
    let state = json!({"container": made.extra["container_id"]});
    let resumed = postgate::publish::publisher::Call {
        resume: Some(&state),
        ..call
    };
    let found = publisher()
        .find(&resumed, &p)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.post_id, made.post_id);
    assert_eq!(found.url, made.url);
    let other = post(
        PostKind::Photos,
        &[("title", "never posted")],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    assert_eq!(publisher().find(&call, &other).await.unwrap(), None);
    // A container that was never published may be published again.
    processing_ms(app, 60_000).await;
    let pending = post(
        PostKind::Video,
        &[("title", "still processing")],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let Progress::Pending { state, .. } = publisher().publish(&call, &pending).await.unwrap()
    else {
        panic!("processing");
    };
    let resumed = postgate::publish::publisher::Call {
        resume: Some(&state),
        ..call
    };
    assert_eq!(publisher().find(&resumed, &pending).await.unwrap(), None);
    processing_ms(app, 0).await;
    let e = publisher()
        .unpublish(&call, &made.post_id)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "platform_not_supported");
}

async fn invalid_options_publish_nothing(app: &TestApp) {
    let account = Account::connect(app, "strict", INSTAGRAM, 0).await;
    let served = served().await;
    let before = calls_of(app, INSTAGRAM, "graph").await.len();
    let image = || vec![served.media("a", MediaKind::Image, "a.jpg")];
    let reel = || vec![served.media("v", MediaKind::Video, "v.mp4")];
    let bad = [
        post(
            PostKind::Photos,
            &[("title", "png")],
            vec![served.media("p", MediaKind::Image, "p.png")],
        ),
        post(PostKind::Photos, &[("title", &"x".repeat(2201))], image()),
        post(PostKind::Photos, &[("title", &"#t ".repeat(31))], image()),
        post(PostKind::Photos, &[("media_type", "REELS")], image()),
        post(PostKind::Video, &[("collaborators", "a,b,c,d")], reel()),
        post(PostKind::Video, &[("thumb_offset", "soon")], reel()),
        post(PostKind::Video, &[("share_to_feed", "maybe")], reel()),
        post(PostKind::Video, &[("share_mode", "SOMETIMES")], reel()),
        post(PostKind::Video, &[("location_id", "Paris")], reel()),
        post(PostKind::Video, &[("cover_url", "not a url")], reel()),
        post(
            PostKind::Photos,
            &[("user_tags", r#"[{"username":"a","x":3}]"#)],
            image(),
        ),
        post(
            PostKind::Photos,
            &[],
            (0..11)
                .map(|_| served.media("a", MediaKind::Image, "a.jpg"))
                .collect(),
        ),
        post(PostKind::Text, &[("title", "text only")], vec![]),
    ];
    for p in &bad {
        let checked = publisher().check(p);
        assert!(
            matches!(checked, Err(PublishError::Invalid { .. })),
            "{:?}: {checked:?}",
            p.fields
        );
        let published = publisher()
            .publish_to_end(&account.call(&served, "i9"), p)
            .await;
        assert!(matches!(published, Err(PublishError::Invalid { .. })));
    }
    assert_eq!(calls_of(app, INSTAGRAM, "graph").await.len(), before);
}
