//! The Pinterest publisher against the emulated API v5: image and carousel pins pulled from
//! Postgate's media URLs, video pins uploaded to the S3 form Pinterest leases and processed
//! before the pin is made, and the board's pins listed to find a pin whose answer was lost.

use super::ToEnd;
use super::graph_support::{
    Account, JPEG, PNG, Served, assert_refused_before_any_call, assert_refused_for_good, calls_of,
    fault, page, post, stored, unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{Call, Post, Progress, PublishError, Published, Publisher};
use postgate::publish::publishers::for_platform;
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    an_image_pin_carries_every_option,
    a_carousel_carries_each_items_fields,
    a_video_pin_is_uploaded_once_and_waits_for_processing,
    a_refused_upload_is_leased_again,
    failed_processing_is_final,
    quota_and_a_revoked_token,
    a_lost_answer_is_found_and_a_pin_is_deleted,
    invalid_options_make_no_call,
];

const PINTEREST: Platform = Platform::Pinterest;
/// Sandbox person 0's first and second boards.
const BOARD: &str = "98765432109876101";
const OTHER_BOARD: &str = "98765432109876102";

fn publisher() -> &'static dyn Publisher {
    for_platform(PINTEREST)
}

/// A video of `size` bytes that the emulator takes for an MP4 (it starts with `ftyp`).
fn mp4(size: usize) -> &'static [u8] {
    let mut bytes = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    bytes.resize(size, 7);
    Box::leak(bytes.into_boxed_slice())
}

async fn processing_ms(app: &TestApp, ms: i64) {
    app.sandbox_control(json!({"platform": "pinterest", "processing_ms": ms}))
        .await;
}

async fn an_image_pin_carries_every_option(app: &TestApp) {
    let account = Account::connect(app, "pinner", PINTEREST, 0).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg")]).await;
    let title = unique("Lemon cake");
    let p = post(
        PostKind::Photos,
        &[
            ("title", "generic"),
            ("pinterest_title", &title),
            ("description", "A sharp, sweet cake"),
            ("pinterest_board_id", OTHER_BOARD),
            ("pinterest_board_section_id", "5551234"),
            ("pinterest_link", "https://example.com/lemon"),
            ("pinterest_alt_text", "a yellow cake"),
            ("pinterest_ai_disclosures", r#"["AI_MODIFIED"]"#),
        ],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "p1"), &p)
        .await
        .unwrap();
    let kept = stored(app, PINTEREST, &published.post_id)
        .await
        .expect("stored");
    let pin = &kept.extra()["pin"];
    assert_eq!(pin["title"], title.as_str());
    assert_eq!(pin["description"], "A sharp, sweet cake");
    assert_eq!(pin["board_id"], OTHER_BOARD);
    assert_eq!(pin["board_section_id"], "5551234");
    assert_eq!(pin["link"], "https://example.com/lemon");
    assert_eq!(pin["alt_text"], "a yellow cake");
    assert_eq!(pin["ai_disclosures"], json!({"values": ["AI_MODIFIED"]}));
    assert_eq!(pin["media"]["media_type"], "image");
    assert_eq!(published.extra["board_id"], OTHER_BOARD);
    let (status, html) = page(&published.url.expect("a pin URL")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&title), "{html}");
    assert!(html.contains("alt=\"a yellow cake\""), "{html}");
    assert!(html.contains("https://example.com/lemon"));
}

async fn a_carousel_carries_each_items_fields(app: &TestApp) {
    let account = Account::connect(app, "carousel", PINTEREST, 0).await;
    let served = Served::new(&[
        ("a", JPEG, "image/jpeg"),
        ("b", PNG, "image/png"),
        ("c", JPEG, "image/jpeg"),
    ])
    .await;
    let media = ["a", "b", "c"]
        .iter()
        .map(|id| served.media(id, MediaKind::Image, "x"))
        .collect();
    let p = post(
        PostKind::Photos,
        &[
            ("title", &unique("Three ways")),
            ("pinterest_board_id", BOARD),
            ("pinterest_carousel_titles", "First||Second||Third"),
            ("pinterest_carousel_descriptions", r#"["one", "two"]"#),
            ("pinterest_carousel_links", "https://example.com/1"),
            ("pinterest_carousel_index", "1"),
        ],
        media,
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "p2"), &p)
        .await
        .unwrap();
    let kept = stored(app, PINTEREST, &published.post_id).await.unwrap();
    assert_eq!(kept.media_ids().len(), 3);
    let source = &kept.extra()["media_source"];
    assert_eq!(source["source_type"], "multiple_image_urls");
    assert_eq!(source["index"], 1);
    assert_eq!(source["items"][0]["title"], "First");
    assert_eq!(source["items"][0]["description"], "one");
    assert_eq!(source["items"][0]["link"], "https://example.com/1");
    assert_eq!(source["items"][2]["title"], "Third");
    assert_eq!(kept.extra()["pin"]["creative_type"], "CAROUSEL");
}

async fn a_video_pin_is_uploaded_once_and_waits_for_processing(app: &TestApp) {
    processing_ms(app, 400).await;
    let account = Account::connect(app, "filmer", PINTEREST, 0).await;
    let size = 3 * 1024 * 1024 + 17;
    let served = Served::new(&[("v", mp4(size), "video/mp4")]).await;
    let title = unique("Whisking");
    let p = post(
        PostKind::Video,
        &[
            ("title", &title),
            ("pinterest_board_id", BOARD),
            ("pinterest_cover_image_key_frame_time", "3500"),
        ],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let call = account.call(&served, "p3");
    // The first call uploads, and Pinterest is still processing.
    let Progress::Pending { state, .. } = publisher().publish(&call, &p).await.unwrap() else {
        panic!("processing takes a while");
    };
    let media_id = state["media_id"].as_str().expect("a media id").to_owned();
    let published = resume_to_end(&call, &p, state).await;
    assert_eq!(calls_of(app, PINTEREST, "media_upload").await.len(), 1);
    assert_eq!(calls_of(app, PINTEREST, "media").await.len(), 1);
    let kept = stored(app, PINTEREST, &published.post_id).await.unwrap();
    assert_eq!(kept.media_ids(), std::slice::from_ref(&media_id));
    let source = &kept.extra()["media_source"];
    assert_eq!(source["source_type"], "video_id");
    assert_eq!(
        source["cover"]["key_frame_time"], 3,
        "milliseconds → seconds"
    );
    let video = app
        .with_db(move |c| {
            postgate::db::sandbox::find_media(c, PINTEREST, None, &media_id)
                .unwrap()
                .unwrap()
        })
        .await;
    assert_eq!(video.content_type, "video/mp4");
    assert_eq!(video.size, size as i64);
    let (status, html) = page(&published.url.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<video controls"), "{html}");
}

/// Goes on from `state` as the engine does, until the pin is made.
async fn resume_to_end(call: &Call<'_>, p: &Post, mut state: Value) -> Published {
    loop {
        let step = Call {
            resume: Some(&state),
            ..*call
        };
        match publisher().publish(&step, p).await.unwrap() {
            Progress::Done(published) => return published,
            Progress::Pending { state: next, .. } => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                state = next;
            }
        }
    }
}

async fn a_refused_upload_is_leased_again(app: &TestApp) {
    processing_ms(app, 0).await;
    let account = Account::connect(app, "retrier", PINTEREST, 0).await;
    let served = Served::new(&[("v", mp4(600 * 1024), "video/mp4")]).await;
    let p = post(
        PostKind::Video,
        &[("title", &unique("Again")), ("pinterest_board_id", BOARD)],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    fault(app, PINTEREST, "media_upload", &["chunk_rejected"]).await;
    let call = account.call(&served, "p4");
    let refused = publisher().publish_to_end(&call, &p).await.unwrap_err();
    assert_eq!(refused.code(), "media_upload_rejected");
    assert!(refused.retryable(), "{refused:?}");
    let published = publisher().publish_to_end(&call, &p).await.unwrap();
    assert_eq!(calls_of(app, PINTEREST, "media").await.len(), 2);
    assert_eq!(calls_of(app, PINTEREST, "media_upload").await.len(), 2);
    assert_eq!(calls_of(app, PINTEREST, "pins").await.len(), 1);
    assert!(stored(app, PINTEREST, &published.post_id).await.is_some());
}

async fn failed_processing_is_final(app: &TestApp) {
    processing_ms(app, 0).await;
    let account = Account::connect(app, "failer", PINTEREST, 0).await;
    let served = Served::new(&[("v", mp4(1024), "video/mp4")]).await;
    let p = post(
        PostKind::Video,
        &[("title", "broken"), ("pinterest_board_id", BOARD)],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    fault(app, PINTEREST, "media", &["processing_failed"]).await;
    let outcome = publisher()
        .publish_to_end(&account.call(&served, "p5"), &p)
        .await;
    assert_refused_for_good(&outcome);
    assert_eq!(outcome.unwrap_err().code(), "media_processing_failed");
    assert!(calls_of(app, PINTEREST, "pins").await.is_empty());
}

async fn quota_and_a_revoked_token(app: &TestApp) {
    let account = Account::connect(app, "limited", PINTEREST, 0).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg")]).await;
    let p = post(
        PostKind::Photos,
        &[("title", "limited"), ("pinterest_board_id", BOARD)],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let call = account.call(&served, "p6");
    fault(app, PINTEREST, "pins", &["quota_exceeded", "token_revoked"]).await;
    let quota = publisher().publish_to_end(&call, &p).await.unwrap_err();
    assert_eq!(quota.code(), "rate_limited");
    assert!(quota.retryable());
    let revoked = publisher().publish_to_end(&call, &p).await;
    assert!(
        matches!(revoked, Err(PublishError::Reauth { .. })),
        "{revoked:?}"
    );
}

async fn a_lost_answer_is_found_and_a_pin_is_deleted(app: &TestApp) {
    let account = Account::connect(app, "finder", PINTEREST, 0).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg")]).await;
    let title = unique("Found");
    let p = post(
        PostKind::Photos,
        &[("title", &title), ("pinterest_board_id", BOARD)],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let call = account.call(&served, "p7");
    let made = publisher().publish_to_end(&call, &p).await.unwrap();
    let found = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    assert_eq!(found.url, made.url);
    let elsewhere = post(
        PostKind::Photos,
        &[("title", &title), ("pinterest_board_id", OTHER_BOARD)],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    assert_eq!(publisher().find(&call, &elsewhere).await.unwrap(), None);

    publisher().unpublish(&call, &made.post_id).await.unwrap();
    assert!(stored(app, PINTEREST, &made.post_id).await.is_none());
    assert_eq!(publisher().find(&call, &p).await.unwrap(), None);
    let again = publisher().unpublish(&call, &made.post_id).await;
    assert_refused_for_good(&again);

    // An answer that never came: in doubt, and found or safe to repeat — never twice.
    let lost = post(
        PostKind::Photos,
        &[("title", &unique("Lost")), ("pinterest_board_id", BOARD)],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    fault(app, PINTEREST, "pins", &["delayed"]).await;
    let outcome = publisher().publish_to_end(&call, &lost).await;
    assert!(
        matches!(outcome, Err(PublishError::InDoubt(_))),
        "{outcome:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    if publisher().find(&call, &lost).await.unwrap().is_none() {
        publisher().publish_to_end(&call, &lost).await.unwrap();
    }
    assert!(publisher().find(&call, &lost).await.unwrap().is_some());
}

async fn invalid_options_make_no_call(app: &TestApp) {
    let account = Account::connect(app, "strict", PINTEREST, 0).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg"), ("v", mp4(64), "video/mp4")]).await;
    let image = || vec![served.media("a", MediaKind::Image, "a.jpg")];
    let board = ("pinterest_board_id", BOARD);
    let before = app.sandbox_calls().await.len();
    let long_title = "x".repeat(101);
    let bad = [
        post(PostKind::Photos, &[("title", "no board")], image()),
        post(PostKind::Photos, &[board, ("title", &long_title)], image()),
        post(
            PostKind::Photos,
            &[board, ("pinterest_link", "not a url")],
            image(),
        ),
        post(
            PostKind::Photos,
            &[board, ("pinterest_ai_disclosures", "MADE_UP")],
            image(),
        ),
        post(PostKind::Text, &[board, ("title", "words only")], vec![]),
        post(
            PostKind::Video,
            &[board, ("pinterest_cover_image_data", "iVBORw0KGgo=")],
            vec![served.media("v", MediaKind::Video, "v.mp4")],
        ),
        post(
            PostKind::Video,
            &[board, ("pinterest_cover_image_key_frame_time", "-5")],
            vec![served.media("v", MediaKind::Video, "v.mp4")],
        ),
    ];
    let call = account.call(&served, "p8");
    assert_refused_before_any_call(app, publisher(), &call, &bad, before).await;
}
