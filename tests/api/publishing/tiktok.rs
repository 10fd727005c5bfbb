//! The TikTok publisher against the emulated Content Posting API: creator settings, the
//! init, chunked uploads that resume where TikTok stopped, the status polled to the end,
//! drafts in the inbox, pulled videos and photos.

use super::ToEnd;
use super::graph_support::{Account, JPEG, Served, calls_of, fault, page, post, stored};
use crate::cases;
use crate::support::TestApp;
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{
    Call, Media, MediaSource, Post, Progress, PublishError, Published, Publisher, VideoInfo,
};
use postgate::publish::publishers::for_platform;
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    a_video_goes_up_in_chunks_and_resumes_where_tiktok_stopped,
    processing_failed_is_a_final_failure,
    quota_rate_limit_and_revoked_token,
    the_creators_limits_are_refused_before_any_init,
    a_draft_goes_to_the_inbox,
    a_pulled_video_and_photos,
    a_lost_answer_is_found_from_the_publish_id,
    invalid_options_make_no_call,
];

const TIKTOK: Platform = Platform::Tiktok;
/// A 64-byte MP4 (`ftyp`), under TikTok's 5 MB: one chunk.
const CLIP: &[u8] = include_bytes!("../../fixtures/media/clip.mp4");
const MIB: usize = 1024 * 1024;
const INBOX_URL: &str = "Video sent to Inbox (No Public URL)";

fn publisher() -> &'static dyn Publisher {
    for_platform(TIKTOK)
}

/// A video held in memory, read by ranges as the publisher reads stored media.
struct Memory(Bytes);

#[async_trait]
impl MediaSource for Memory {
    async fn bytes(&self, _media: &Media) -> Result<Bytes, PublishError> {
        Ok(self.0.clone())
    }

    async fn range(
        &self,
        _media: &Media,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, PublishError> {
        Ok(super::slice(self.0.clone(), range))
    }

    async fn stream(
        &self,
        _media: &Media,
    ) -> Result<BoxStream<'static, Result<Bytes, PublishError>>, PublishError> {
        Ok(super::one_chunk(self.0.clone()))
    }

    fn public_url(&self, media: &Media) -> String {
        format!("http://unused.invalid/{}", media.id)
    }
}

/// `len` bytes that start like an MP4 and differ along the way.
fn mp4(len: usize) -> Bytes {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    bytes[..CLIP.len().min(len)].copy_from_slice(&CLIP[..CLIP.len().min(len)]);
    Bytes::from(bytes)
}

fn video_media(id: &str, size: usize, duration_ms: u64) -> Media {
    Media {
        id: id.to_owned(),
        kind: MediaKind::Video,
        content_type: "video/mp4".into(),
        size: size as u64,
        filename: Some(format!("{id}.mp4")),
        video: Some(VideoInfo {
            duration_ms,
            width: 1080,
            height: 1920,
            video_codec: Some("avc1".into()),
            audio_codec: None,
        }),
    }
}

/// What publishing to the end took, driven as the engine drives it: each `Pending` state
/// kept and handed to the next call, a retryable failure tried again from the last state.
struct Run {
    outcome: Result<Published, PublishError>,
    states: Vec<Value>,
    retried: Vec<PublishError>,
}

async fn drive(call: &Call<'_>, post: &Post) -> Run {
    let (mut states, mut retried) = (Vec::<Value>::new(), Vec::new());
    for _ in 0..200 {
        let step = Call {
            resume: states.last(),
            ..*call
        };
        match publisher().publish(&step, post).await {
            Ok(Progress::Done(published)) => {
                return Run {
                    outcome: Ok(published),
                    states,
                    retried,
                };
            }
            Ok(Progress::Pending { state, after }) => {
                tokio::time::sleep(after.min(std::time::Duration::from_millis(100))).await;
                states.push(state);
            }
            Err(e) if e.retryable() && retried.len() < 5 => retried.push(e),
            Err(e) => {
                return Run {
                    outcome: Err(e),
                    states,
                    retried,
                };
            }
        }
    }
    panic!("TikTok kept processing the post");
}

async fn quick_processing(app: &TestApp) {
    app.sandbox_control(json!({"platform": "tiktok", "processing_ms": 300}))
        .await;
}

/// The sandbox file of an uploaded item.
async fn media_bytes(app: &TestApp, id: &str) -> Bytes {
    let encoded: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let resp = reqwest::get(app.url(&format!("/sandbox/tiktok/_media/{encoded}")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.bytes().await.unwrap()
}

async fn a_video_goes_up_in_chunks_and_resumes_where_tiktok_stopped(app: &TestApp) {
    let account = Account::connect(app, "chunky", TIKTOK, 0).await;
    quick_processing(app).await;
    let bytes = mp4(16 * MIB + 5);
    let source = Memory(bytes.clone());
    let p = post(
        PostKind::Video,
        &[
            ("tiktok_title", "Sixteen megabytes"),
            ("privacy_level", "FOLLOWER_OF_CREATOR"),
            ("disable_duet", "true"),
            ("disable_comment", "true"),
            ("disable_stitch", "true"),
            ("cover_timestamp", "2500"),
            ("brand_organic_toggle", "true"),
            ("is_aigc", "true"),
            ("tiktok_music_id", "7000"),
        ],
        vec![video_media("big", bytes.len(), 30_000)],
    );
    // The second chunk is refused once.
    fault(app, TIKTOK, "video_upload", &["pass", "chunk_rejected"]).await;
    let run = drive(&account.call(&source, "c1"), &p).await;
    let published = run.outcome.expect("published");
    assert_eq!(run.retried.len(), 1, "{:?}", run.retried);
    assert_eq!(run.retried[0].code(), "chunk_rejected");
    assert!(
        run.states.len() >= 2,
        "Pending while processing: {:?}",
        run.states
    );
    assert_eq!(
        calls_of(app, TIKTOK, "video_init").await.len(),
        1,
        "one init"
    );
    // Three chunks (5 MiB, 5 MiB, 6 MiB + 5), the second twice.
    assert_eq!(calls_of(app, TIKTOK, "video_upload").await.len(), 4);
    assert_eq!(
        published.warnings,
        ["tiktok_music_id is not offered by TikTok's Content Posting API and was ignored"]
    );

    let kept = stored(app, TIKTOK, &published.post_id)
        .await
        .expect("stored");
    assert_eq!(kept.text, "Sixteen megabytes");
    let extra = kept.extra();
    assert_eq!(
        extra["post_info"],
        json!({"title": "Sixteen megabytes", "privacy_level": "FOLLOWER_OF_CREATOR",
               "disable_comment": true, "disable_duet": true, "disable_stitch": true,
               "video_cover_timestamp_ms": 2500, "brand_content_toggle": false,
               "brand_organic_toggle": true, "is_aigc": true})
    );
    assert_eq!(
        extra["source_info"],
        json!({"source": "FILE_UPLOAD", "video_size": 16 * MIB + 5,
               "chunk_size": 5 * MIB, "total_chunk_count": 3})
    );
    let publish_id = extra["publish_id"].as_str().unwrap();
    assert_eq!(published.extra["publish_id"], publish_id);
    assert_eq!(
        media_bytes(app, publish_id).await,
        bytes,
        "every byte once, in order"
    );

    let url = published.url.expect("post_url");
    let (status, html) = page(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<video controls"), "{html}");
    assert!(html.contains("Sixteen megabytes"));
}

async fn processing_failed_is_a_final_failure(app: &TestApp) {
    let account = Account::connect(app, "failing", TIKTOK, 0).await;
    quick_processing(app).await;
    let source = Memory(Bytes::from_static(CLIP));
    let p = post(
        PostKind::Video,
        &[("title", "Will fail")],
        vec![video_media("clip", CLIP.len(), 1000)],
    );
    fault(app, TIKTOK, "video_init", &["processing_failed"]).await;
    let run = drive(&account.call(&source, "f1"), &p).await;
    let e = run.outcome.unwrap_err();
    assert_eq!(e.code(), "file_format_check_failed");
    assert!(!e.retryable(), "{e:?}");
    assert!(
        run.states.len() >= 2,
        "it failed in processing, after the upload"
    );

    // Bytes that are no video fail TikTok's processing the same way.
    let png = Memory(Bytes::from_static(b"\x89PNG\r\n\x1a\n not a video at all"));
    let not_video = post(
        PostKind::Video,
        &[("title", "Not a video")],
        vec![video_media("png", 27, 1000)],
    );
    let e = publisher()
        .publish_to_end(&account.call(&png, "f2"), &not_video)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "file_format_check_failed");
}

async fn quota_rate_limit_and_revoked_token(app: &TestApp) {
    let account = Account::connect(app, "capped", TIKTOK, 1).await;
    let source = Memory(Bytes::from_static(CLIP));
    let p = post(
        PostKind::Video,
        &[("title", "Capped")],
        vec![video_media("clip", CLIP.len(), 1000)],
    );
    fault(app, TIKTOK, "video_init", &["quota_exceeded"]).await;
    let e = publisher()
        .publish(&account.call(&source, "q1"), &p)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "spam_risk_too_many_posts");
    assert!(!e.retryable(), "a daily cap: {e:?}");

    fault(app, TIKTOK, "creator_info", &["rate_limited"]).await;
    let e = publisher()
        .publish(&account.call(&source, "q2"), &p)
        .await
        .unwrap_err();
    assert!(e.retryable(), "{e:?}");
    assert_eq!(e.code(), "rate_limited");

    fault(app, TIKTOK, "creator_info", &["token_revoked"]).await;
    let e = publisher()
        .publish(&account.call(&source, "q3"), &p)
        .await
        .unwrap_err();
    assert!(matches!(e, PublishError::Reauth { .. }), "{e:?}");
    assert_eq!(calls_of(app, TIKTOK, "video_init").await.len(), 1);
}

async fn the_creators_limits_are_refused_before_any_init(app: &TestApp) {
    // The emulator's third person keeps a restricted account.
    let account = Account::connect(app, "private", TIKTOK, 2).await;
    let source = Memory(Bytes::from_static(CLIP));
    let clip = |duration_ms| vec![video_media("clip", CLIP.len(), duration_ms)];
    let cases = [
        (
            post(
                PostKind::Video,
                &[
                    ("privacy_level", "PUBLIC_TO_EVERYONE"),
                    ("disable_duet", "true"),
                    ("disable_stitch", "true"),
                ],
                clip(1000),
            ),
            "tiktok_privacy_unavailable",
        ),
        (
            post(
                PostKind::Video,
                &[("privacy_level", "SELF_ONLY")],
                clip(1000),
            ),
            "tiktok_interaction_disabled",
        ),
        (
            post(
                PostKind::Video,
                &[("disable_duet", "true"), ("disable_stitch", "true")],
                clip(90_000),
            ),
            "video_too_long",
        ),
    ];
    for (i, (p, code)) in cases.iter().enumerate() {
        let marker = format!("p{i}");
        let e = publisher()
            .publish(&account.call(&source, &marker), p)
            .await
            .unwrap_err();
        assert_eq!(e.code(), *code, "{e}");
        assert_eq!(e.source(), "client");
    }
    assert_eq!(calls_of(app, TIKTOK, "creator_info").await.len(), 3);
    assert!(calls_of(app, TIKTOK, "video_init").await.is_empty());

    // Within the limits, the level the creator offers first is used.
    quick_processing(app).await;
    let fits = post(
        PostKind::Video,
        &[("disable_duet", "true"), ("disable_stitch", "true")],
        clip(1000),
    );
    let published = publisher()
        .publish_to_end(&account.call(&source, "p3"), &fits)
        .await
        .unwrap();
    let kept = stored(app, TIKTOK, &published.post_id).await.unwrap();
    assert_eq!(
        kept.extra()["post_info"]["privacy_level"],
        "FOLLOWER_OF_CREATOR"
    );
}

async fn a_draft_goes_to_the_inbox(app: &TestApp) {
    let account = Account::connect(app, "drafter", TIKTOK, 0).await;
    quick_processing(app).await;
    let source = Memory(Bytes::from_static(CLIP));
    let p = post(
        PostKind::Video,
        &[("title", "Finish me"), ("tiktok_upload_to_draft", "true")],
        vec![video_media("clip", CLIP.len(), 1000)],
    );
    let published = publisher()
        .publish_to_end(&account.call(&source, "d1"), &p)
        .await
        .unwrap();
    assert_eq!(published.url.as_deref(), Some(INBOX_URL));
    assert!(
        published.post_id.starts_with("v_pub_file~"),
        "{}",
        published.post_id
    );
    assert_eq!(calls_of(app, TIKTOK, "inbox_video_init").await.len(), 1);
    assert!(calls_of(app, TIKTOK, "creator_info").await.is_empty());
    assert!(calls_of(app, TIKTOK, "video_init").await.is_empty());
    let person = 0;
    let key = published.post_id.clone();
    let draft = app
        .with_db(move |c| postgate::db::sandbox::find_post_by_key(c, TIKTOK, person, &key).unwrap())
        .await
        .expect("the draft");
    assert_eq!(draft.extra()["draft"], true);
    assert_eq!(draft.extra()["post_mode"], "MEDIA_UPLOAD");
}

async fn a_pulled_video_and_photos(app: &TestApp) {
    let account = Account::connect(app, "puller", TIKTOK, 1).await;
    quick_processing(app).await;
    let served = Served::new(&[
        ("clip", CLIP, "video/mp4"),
        ("a", JPEG, "image/jpeg"),
        ("b", JPEG, "image/jpeg"),
    ])
    .await;
    let mut clip = served.media("clip", MediaKind::Video, "clip.mp4");
    clip.video = video_media("clip", CLIP.len(), 1000).video;
    let pulled = post(
        PostKind::Video,
        &[
            ("title", "Pulled"),
            ("tiktok_video_source", "PULL_FROM_URL"),
        ],
        vec![clip.clone()],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "u1"), &pulled)
        .await
        .unwrap();
    let kept = stored(app, TIKTOK, &published.post_id).await.unwrap();
    assert_eq!(
        kept.extra()["source_info"],
        json!({"source": "PULL_FROM_URL", "video_url": served.public_url(&clip)})
    );
    let publish_id = kept.extra()["publish_id"].as_str().unwrap().to_owned();
    assert_eq!(
        media_bytes(app, &publish_id).await,
        Bytes::from_static(CLIP)
    );
    assert!(calls_of(app, TIKTOK, "video_upload").await.is_empty());

    let photos = post(
        PostKind::Photos,
        &[
            ("title", "Two photos"),
            ("tiktok_description", "A longer description"),
            ("auto_add_music", "true"),
            ("photo_cover_index", "1"),
            ("disable_comment", "true"),
        ],
        vec![
            served.media("a", MediaKind::Image, "a.jpg"),
            served.media("b", MediaKind::Image, "b.jpg"),
        ],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "u2"), &photos)
        .await
        .unwrap();
    let kept = stored(app, TIKTOK, &published.post_id).await.unwrap();
    let extra = kept.extra();
    assert_eq!(extra["media_type"], "PHOTO");
    assert_eq!(extra["post_mode"], "DIRECT_POST");
    assert_eq!(
        extra["post_info"],
        json!({"title": "Two photos", "description": "A longer description",
               "privacy_level": "PUBLIC_TO_EVERYONE", "disable_comment": true,
               "auto_add_music": true, "brand_content_toggle": false,
               "brand_organic_toggle": false})
    );
    assert_eq!(extra["source_info"]["photo_cover_index"], 1);
    assert_eq!(kept.media_ids().len(), 2);
    let (status, html) = page(&published.url.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("/sandbox/tiktok/_media/").count(), 2, "{html}");

    // A photo draft has no post_url.
    let draft = post(
        PostKind::Photos,
        &[("title", "Draft photos"), ("post_mode", "MEDIA_UPLOAD")],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "u3"), &draft)
        .await
        .unwrap();
    assert_eq!(published.url, None);
    assert!(published.post_id.starts_with("p_pub_url~"));
}

async fn a_lost_answer_is_found_from_the_publish_id(app: &TestApp) {
    let account = Account::connect(app, "finder", TIKTOK, 0).await;
    quick_processing(app).await;
    let source = Memory(Bytes::from_static(CLIP));
    let p = post(
        PostKind::Video,
        &[("title", "Find me")],
        vec![video_media("clip", CLIP.len(), 1000)],
    );
    let call = account.call(&source, "l1");
    let e = publisher().find(&call, &p).await.unwrap_err();
    assert!(
        matches!(e, PublishError::Unsupported { .. }),
        "no publish_id: {e:?}"
    );

    let run = drive(&call, &p).await;
    let published = run.outcome.unwrap();
    // The last call's answer lost: its state finds the post.
    let last = run.states.last().expect("a state");
    let again = Call {
        resume: Some(last),
        ..call
    };
    let found = publisher().find(&again, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, published.post_id);
    assert_eq!(found.url, published.url);
    // Any state it passed through names the same publish_id.
    let first = Call {
        resume: run.states.first(),
        ..call
    };
    let found = publisher().find(&first, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, published.post_id);

    let e = publisher()
        .unpublish(&call, &published.post_id)
        .await
        .unwrap_err();
    assert!(matches!(e, PublishError::Unsupported { .. }), "{e:?}");
}

async fn invalid_options_make_no_call(app: &TestApp) {
    let account = Account::connect(app, "sloppy", TIKTOK, 0).await;
    let source = Memory(Bytes::from_static(CLIP));
    let clip = || vec![video_media("clip", CLIP.len(), 1000)];
    let bad = [
        post(PostKind::Video, &[("privacy_level", "FRIENDS")], clip()),
        post(PostKind::Video, &[("post_mode", "LATER")], clip()),
        post(PostKind::Video, &[], vec![video_media("long", 64, 601_000)]),
        post(PostKind::Text, &[("title", "just text")], vec![]),
        post(
            PostKind::Video,
            &[
                ("brand_content_toggle", "true"),
                ("privacy_level", "SELF_ONLY"),
            ],
            clip(),
        ),
        post(
            PostKind::Video,
            &[("tiktok_location_name", "Paris")],
            clip(),
        ),
    ];
    for p in &bad {
        let e = publisher().check(p).unwrap_err();
        assert_eq!(e.source(), "client", "{e}");
        let e = publisher()
            .publish(&account.call(&source, "x"), p)
            .await
            .unwrap_err();
        assert!(matches!(e, PublishError::Invalid { .. }), "{e:?}");
    }
    let calls = app.sandbox_calls().await;
    assert!(
        calls
            .iter()
            .all(|(p, e, _)| p != "tiktok" || e == "token" || e == "user_info" || e == "authorize"),
        "{calls:?}"
    );
}
