//! The Reddit publisher against the emulated `oauth.reddit.com`: self, link, image, video
//! and gallery posts, media uploaded as assets to the S3 form Reddit leases, and posts
//! whose id Reddit does not answer found among the account's submissions.

use super::ToEnd;
use super::graph_support::{
    Account, JPEG, PNG, Served, assert_refused_before_any_call, calls_of, fault, page, post,
    stored, unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{Attachment, Call, Post, Progress, PublishError, Publisher};
use postgate::publish::publishers::for_platform;
use reqwest::StatusCode;
use serde_json::json;

cases![
    self_and_link_posts_carry_flair_nsfw_and_spoiler,
    an_image_and_a_gallery_are_uploaded_as_assets,
    a_video_is_pending_until_reddit_lists_it,
    a_video_that_fails_processing_is_never_listed,
    quota_and_a_revoked_token,
    a_lost_answer_is_found_and_a_post_is_deleted,
    invalid_options_make_no_call,
];

const REDDIT: Platform = Platform::Reddit;

fn publisher() -> &'static dyn Publisher {
    for_platform(REDDIT)
}

fn mp4(size: usize) -> &'static [u8] {
    let mut bytes = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    bytes.resize(size, 3);
    Box::leak(bytes.into_boxed_slice())
}

/// A video post with its poster sent as `thumbnail`.
fn video_post(served: &Served, fields: &[(&str, &str)]) -> Post {
    let mut p = post(
        PostKind::Video,
        fields,
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    p.attachments.push(Attachment {
        field: "thumbnail".into(),
        media: served.media("poster", MediaKind::Image, "poster.jpg"),
    });
    p
}

async fn self_and_link_posts_carry_flair_nsfw_and_spoiler(app: &TestApp) {
    let account = Account::connect(app, "redditor", REDDIT, 0).await;
    let none = Served::new(&[]).await;
    let title = unique("Ask me anything");
    let p = post(
        PostKind::Text,
        &[
            ("title", &title),
            ("description", "The body of the post"),
            ("subreddit", "r/sandbox_test"),
            ("flair_id", "flair-123"),
            ("reddit_flair_text", "Discussion"),
            ("reddit_nsfw", "true"),
            ("spoiler", "true"),
            ("reddit_resubmit", "false"),
            ("reddit_send_replies", "false"),
        ],
        vec![],
    );
    let made = publisher()
        .publish_to_end(&account.call(&none, "r1"), &p)
        .await
        .unwrap();
    assert!(made.post_id.starts_with("t3_"), "{}", made.post_id);
    let kept = stored(app, REDDIT, made.post_id.trim_start_matches("t3_"))
        .await
        .expect("stored");
    let extra = kept.extra();
    assert_eq!(extra["kind"], "self");
    assert_eq!(extra["subreddit"], "sandbox_test");
    assert_eq!(extra["selftext"], "The body of the post");
    assert_eq!(extra["flair_id"], "flair-123");
    assert_eq!(extra["flair_text"], "Discussion");
    assert_eq!(extra["nsfw"], true);
    assert_eq!(extra["spoiler"], true);
    assert_eq!(extra["resubmit"], false);
    assert_eq!(extra["sendreplies"], false);
    let (status, html) = page(&made.url.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("The body of the post"));

    let link = post(
        PostKind::Text,
        &[
            ("title", &unique("A link")),
            ("subreddit", "rust"),
            ("reddit_link_url", "https://example.com/article"),
        ],
        vec![],
    );
    let made = publisher()
        .publish_to_end(&account.call(&none, "r2"), &link)
        .await
        .unwrap();
    let kept = stored(app, REDDIT, made.post_id.trim_start_matches("t3_"))
        .await
        .unwrap();
    assert_eq!(kept.extra()["kind"], "link");
    assert_eq!(kept.extra()["link"], "https://example.com/article");
    assert_eq!(kept.extra()["nsfw"], false);
    assert_eq!(kept.extra()["sendreplies"], true, "replies by default");
}

async fn an_image_and_a_gallery_are_uploaded_as_assets(app: &TestApp) {
    let account = Account::connect(app, "imager", REDDIT, 0).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg"), ("b", PNG, "image/png")]).await;
    let one = post(
        PostKind::Photos,
        &[("title", &unique("A photo")), ("subreddit", "pics")],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let made = publisher()
        .publish_to_end(&account.call(&served, "r3"), &one)
        .await
        .unwrap();
    let kept = stored(app, REDDIT, made.post_id.trim_start_matches("t3_"))
        .await
        .unwrap();
    assert_eq!(kept.extra()["kind"], "image");
    assert_eq!(kept.media_ids().len(), 1);
    let (_, html) = page(&made.url.unwrap()).await;
    assert!(html.contains("/_media/"), "{html}");

    let gallery = post(
        PostKind::Photos,
        &[
            ("title", &unique("Two photos")),
            ("subreddit", "pics"),
            ("reddit_gallery_captions", r#"["first", "second"]"#),
            ("reddit_gallery_urls", "https://example.com/1"),
            ("nsfw", "true"),
        ],
        vec![
            served.media("a", MediaKind::Image, "a.jpg"),
            served.media("b", MediaKind::Image, "b.png"),
        ],
    );
    let made = publisher()
        .publish_to_end(&account.call(&served, "r4"), &gallery)
        .await
        .unwrap();
    let kept = stored(app, REDDIT, made.post_id.trim_start_matches("t3_"))
        .await
        .unwrap();
    let extra = kept.extra();
    assert_eq!(extra["kind"], "gallery");
    assert_eq!(kept.media_ids().len(), 2);
    assert_eq!(extra["items"][0]["caption"], "first");
    assert_eq!(extra["items"][0]["outbound_url"], "https://example.com/1");
    assert_eq!(extra["items"][1]["caption"], "second");
    assert_eq!(extra["nsfw"], true);
    assert_eq!(calls_of(app, REDDIT, "media_upload").await.len(), 3);
}

async fn a_video_is_pending_until_reddit_lists_it(app: &TestApp) {
    app.sandbox_control(json!({"platform": "reddit", "processing_ms": 400}))
        .await;
    let account = Account::connect(app, "filmer", REDDIT, 0).await;
    let size = 2 * 1024 * 1024 + 5;
    let served = Served::new(&[
        ("v", mp4(size), "video/mp4"),
        ("poster", JPEG, "image/jpeg"),
    ])
    .await;
    let p = video_post(
        &served,
        &[
            ("title", &unique("A clip")),
            ("subreddit", "videos"),
            ("spoiler", "true"),
        ],
    );
    let call = account.call(&served, "r5");
    let Progress::Pending { mut state, .. } = publisher().publish(&call, &p).await.unwrap() else {
        panic!("Reddit processes videos");
    };
    let made = loop {
        let step = Call {
            resume: Some(&state),
            ..call
        };
        match publisher().publish(&step, &p).await.unwrap() {
            Progress::Done(made) => break made,
            Progress::Pending { state: next, .. } => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                state = next;
            }
        }
    };
    assert_eq!(calls_of(app, REDDIT, "submit").await.len(), 1);
    assert_eq!(
        calls_of(app, REDDIT, "media_upload").await.len(),
        2,
        "the video and its poster, once"
    );
    let kept = stored(app, REDDIT, made.post_id.trim_start_matches("t3_"))
        .await
        .unwrap();
    assert_eq!(kept.extra()["kind"], "video");
    assert_eq!(kept.extra()["spoiler"], true);
    assert!(kept.extra()["poster"].is_string());
    let (status, html) = page(&made.url.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<video controls"), "{html}");
}

/// Reddit tells of a failed video only on its websocket: the post is never listed, and
/// the engine's processing deadline ends the wait.
async fn a_video_that_fails_processing_is_never_listed(app: &TestApp) {
    app.sandbox_control(json!({"platform": "reddit", "processing_ms": 0}))
        .await;
    let account = Account::connect(app, "failer", REDDIT, 0).await;
    let served = Served::new(&[
        ("v", mp4(1024), "video/mp4"),
        ("poster", JPEG, "image/jpeg"),
    ])
    .await;
    let p = video_post(&served, &[("title", "broken"), ("subreddit", "videos")]);
    fault(app, REDDIT, "media_asset", &["processing_failed"]).await;
    let call = account.call(&served, "r6");
    let mut state = None;
    for _ in 0..3 {
        let step = Call {
            resume: state.as_ref(),
            ..call
        };
        match publisher().publish(&step, &p).await.unwrap() {
            Progress::Pending { state: next, .. } => state = Some(next),
            Progress::Done(made) => panic!("a failed video was listed: {made:?}"),
        }
    }
    assert_eq!(calls_of(app, REDDIT, "submit").await.len(), 1);
    assert_eq!(publisher().find(&call, &p).await.unwrap(), None);
}

async fn quota_and_a_revoked_token(app: &TestApp) {
    let account = Account::connect(app, "limited", REDDIT, 0).await;
    let none = Served::new(&[]).await;
    let p = post(
        PostKind::Text,
        &[("title", "limited"), ("subreddit", "test")],
        vec![],
    );
    let call = account.call(&none, "r7");
    fault(app, REDDIT, "submit", &["quota_exceeded", "token_revoked"]).await;
    let quota = publisher().publish_to_end(&call, &p).await.unwrap_err();
    assert_eq!(quota.code(), "rate_limited");
    assert!(quota.retryable());
    let revoked = publisher().publish_to_end(&call, &p).await;
    assert!(
        matches!(revoked, Err(PublishError::Reauth { .. })),
        "{revoked:?}"
    );
}

async fn a_lost_answer_is_found_and_a_post_is_deleted(app: &TestApp) {
    let account = Account::connect(app, "finder", REDDIT, 0).await;
    let none = Served::new(&[]).await;
    let title = unique("Found");
    let p = post(
        PostKind::Text,
        &[("title", &title), ("subreddit", "test")],
        vec![],
    );
    let call = account.call(&none, "r8");
    let made = publisher().publish_to_end(&call, &p).await.unwrap();
    let found = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    assert_eq!(found.url, made.url);
    let elsewhere = post(
        PostKind::Text,
        &[("title", &title), ("subreddit", "other")],
        vec![],
    );
    assert_eq!(publisher().find(&call, &elsewhere).await.unwrap(), None);
    publisher().unpublish(&call, &made.post_id).await.unwrap();
    let id36 = made.post_id.trim_start_matches("t3_").to_owned();
    assert!(stored(app, REDDIT, &id36).await.is_none());
    assert_eq!(publisher().find(&call, &p).await.unwrap(), None);
}

async fn invalid_options_make_no_call(app: &TestApp) {
    let account = Account::connect(app, "strict", REDDIT, 0).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg"), ("v", mp4(64), "video/mp4")]).await;
    let sr = ("subreddit", "test");
    let before = app.sandbox_calls().await.len();
    let long = "x".repeat(301);
    let two = || {
        vec![
            served.media("a", MediaKind::Image, "a.jpg"),
            served.media("a", MediaKind::Image, "a.jpg"),
        ]
    };
    let bad = [
        post(PostKind::Text, &[("title", "no subreddit")], vec![]),
        post(PostKind::Text, &[sr], vec![]),
        post(PostKind::Text, &[sr, ("title", &long)], vec![]),
        post(
            PostKind::Text,
            &[sr, ("title", "t"), ("reddit_nsfw", "perhaps")],
            vec![],
        ),
        post(
            PostKind::Text,
            &[
                sr,
                ("title", "t"),
                ("reddit_link_url", "javascript:alert(1)"),
            ],
            vec![],
        ),
        post(
            PostKind::Photos,
            &[sr, ("title", "t"), ("reddit_gallery_captions", "a||b||c")],
            two(),
        ),
        post(
            PostKind::Video,
            &[sr, ("title", "no poster")],
            vec![served.media("v", MediaKind::Video, "v.mp4")],
        ),
    ];
    let call = account.call(&served, "r9");
    assert_refused_before_any_call(app, publisher(), &call, &bad, before).await;
}
