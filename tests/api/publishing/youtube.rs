//! YouTube's publisher against the emulated Data API: a resumable upload in chunks, resumed
//! in its session after an interruption, the processing YouTube does afterwards, and the
//! thumbnail, playlists and first comment that follow.

use super::graph_support::{
    Account, PNG, Served, assert_refused_for_good, calls_of, fault, page, post, replies, stored,
    unique,
};
use super::{ToEnd, media_urls};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{
    Attachment, Call, Media, Post, Progress, PublishError, Publisher,
};
use postgate::publish::publishers::for_platform;
use postgate::publish::publishers::youtube::CHUNK_BYTES;
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    every_option_reaches_the_video_and_it_plays,
    an_interrupted_chunk_is_resumed_in_its_session,
    processing_is_waited_for_and_its_failure_is_final,
    quota_revoked_token_and_rate_limit_are_read,
    a_lost_final_answer_is_found_and_the_video_deleted,
    invalid_options_make_no_call,
];

const YOUTUBE: Platform = Platform::Youtube;

fn publisher() -> &'static dyn Publisher {
    for_platform(YOUTUBE)
}

/// `size` bytes of a video the emulator recognises (an MP4 `ftyp` box, then filler).
fn clip(size: usize) -> &'static [u8] {
    let mut bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    bytes[..12].copy_from_slice(b"\0\0\0\x18ftypmp42");
    bytes.leak()
}

/// Several chunks and a short last one.
fn several_chunks() -> usize {
    3 * CHUNK_BYTES as usize + 12_345
}

/// A video post of `bytes` served as item `video`, with `fields`.
fn video_post(served: &Served, fields: &[(&str, &str)]) -> Post {
    post(
        PostKind::Video,
        fields,
        vec![served.media("video", MediaKind::Video, "clip.mp4")],
    )
}

async fn processing_ms(app: &TestApp, ms: i64) {
    app.sandbox_control(json!({"platform": "youtube", "processing_ms": ms}))
        .await;
}

/// Session starts: POSTs of the upload endpoint.
async fn sessions(app: &TestApp) -> usize {
    calls_of(app, YOUTUBE, "videos_upload")
        .await
        .iter()
        .filter(|m| *m == "POST")
        .count()
}

/// The bytes the emulator serves for the video of a published page.
async fn served_video(url: &str) -> Vec<u8> {
    let (status, html) = page(url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<video controls"), "{html}");
    let media = media_urls(&html);
    assert_eq!(media.len(), 1, "{media:?}");
    let resp = reqwest::get(&media[0]).await.unwrap();
    assert_eq!(
        resp.headers()[reqwest::header::CONTENT_TYPE],
        "video/mp4",
        "served with its type"
    );
    resp.bytes().await.unwrap().to_vec()
}

async fn every_option_reaches_the_video_and_it_plays(app: &TestApp) {
    processing_ms(app, 300).await;
    let account = Account::connect(app, "creator", YOUTUBE, 0).await;
    let bytes = clip(several_chunks());
    let served = Served::new(&[("video", bytes, "video/mp4"), ("thumb", PNG, "image/png")]).await;
    let title = unique("Options");
    let mut p = video_post(
        &served,
        &[
            ("title", "generic title"),
            ("youtube_title", &title),
            ("youtube_description", "What it is about"),
            ("tags", "bread,sour dough"),
            ("categoryId", "26"),
            ("privacyStatus", "unlisted"),
            ("embeddable", "false"),
            ("license", "creativeCommon"),
            ("publicStatsViewable", "false"),
            ("selfDeclaredMadeForKids", "false"),
            ("containsSyntheticMedia", "true"),
            ("hasPaidProductPlacement", "true"),
            ("defaultLanguage", "en"),
            ("defaultAudioLanguage", "en-GB"),
            ("recordingDate", "2026-05-01T10:00:00Z"),
            ("youtube_playlist_id", "PLgood1,nope2"),
            ("youtube_notify_subscribers", "false"),
            ("youtube_first_comment", "Recipe below"),
        ],
    );
    p.attachments.push(Attachment {
        field: "thumbnail".into(),
        media: served.media("thumb", MediaKind::Image, "thumb.png"),
    });
    let published = publisher()
        .publish_to_end(&account.call(&served, "m1"), &p)
        .await
        .unwrap();
    assert_eq!(sessions(app).await, 1);
    let chunks = calls_of(app, YOUTUBE, "videos_upload")
        .await
        .iter()
        .filter(|m| *m == "PUT")
        .count();
    assert!(chunks >= 4, "four chunks and status queries: {chunks}");

    let kept = stored(app, YOUTUBE, &published.post_id)
        .await
        .expect("stored");
    let extra = kept.extra();
    assert_eq!(
        extra["snippet"],
        json!({"title": title, "description": "What it is about",
            "tags": ["bread", "sour dough"], "categoryId": "26",
            "defaultLanguage": "en", "defaultAudioLanguage": "en-GB"})
    );
    assert_eq!(
        extra["status"],
        json!({"privacyStatus": "unlisted", "embeddable": false, "license": "creativeCommon",
            "publicStatsViewable": false, "selfDeclaredMadeForKids": false,
            "containsSyntheticMedia": true})
    );
    assert_eq!(
        extra["recordingDetails"]["recordingDate"],
        "2026-05-01T10:00:00Z"
    );
    assert_eq!(
        extra["paidProductPlacementDetails"]["hasPaidProductPlacement"],
        true
    );
    assert_eq!(extra["notifySubscribers"], false);
    assert_eq!(extra["playlists"], json!(["PLgood1"]));
    assert!(extra["thumbnail"].is_string(), "{extra}");
    assert_eq!(published.extra["thumbnail_set"], true);
    assert_eq!(published.extra["first_comment_posted"], true);
    assert_eq!(published.warnings.len(), 1, "{:?}", published.warnings);
    assert!(published.warnings[0].contains("nope2"));
    let comments = replies(app, YOUTUBE, &published.post_id).await;
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].text, "Recipe below");

    let url = published.url.expect("a page");
    assert!(url.contains("/sandbox/youtube/_posts/"), "{url}");
    assert_eq!(served_video(&url).await, bytes, "the chunks make the file");

    // A publish time makes the video private until then; the aliases of the flags.
    let at = (chrono::Utc::now() + chrono::Duration::days(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let later = video_post(
        &served,
        &[
            ("title", "Later"),
            ("youtube_publish_at", &at),
            ("madeForKids", "true"),
            ("is_ai_generated", "true"),
        ],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "m1b"), &later)
        .await
        .unwrap();
    let status = stored(app, YOUTUBE, &published.post_id)
        .await
        .unwrap()
        .extra()["status"]
        .clone();
    assert_eq!(
        status,
        json!({"privacyStatus": "private", "publishAt": at,
            "selfDeclaredMadeForKids": true, "containsSyntheticMedia": true})
    );
}

async fn an_interrupted_chunk_is_resumed_in_its_session(app: &TestApp) {
    processing_ms(app, 0).await;
    let account = Account::connect(app, "steady", YOUTUBE, 1).await;
    let bytes = clip(several_chunks());
    let served = Served::new(&[("video", bytes, "video/mp4"), ("thumb", PNG, "image/png")]).await;
    // The session opens, is asked, takes one chunk, then refuses the second and fails the
    // third on the server; a thumbnail that fails is only a warning.
    fault(
        app,
        YOUTUBE,
        "videos_upload",
        &[
            "pass",
            "pass",
            "pass",
            "chunk_rejected",
            "pass",
            "server_error",
        ],
    )
    .await;
    fault(app, YOUTUBE, "thumbnails_set", &["server_error"]).await;
    let mut p = video_post(&served, &[("title", &unique("Resumed"))]);
    p.attachments.push(Attachment {
        field: "thumbnail".into(),
        media: served.media("thumb", MediaKind::Image, "thumb.png"),
    });
    let published = publisher()
        .publish_to_end(&account.call(&served, "m2"), &p)
        .await
        .unwrap();
    assert_eq!(sessions(app).await, 1, "never a second session");
    let puts = calls_of(app, YOUTUBE, "videos_upload")
        .await
        .iter()
        .filter(|m| *m == "PUT")
        .count();
    // A status query, four chunks, and the two failed chunks each followed by a query.
    assert_eq!(puts, 1 + 4 + 2 * 2);
    assert_eq!(published.extra["thumbnail_set"], false);
    assert!(
        published.warnings.iter().any(|w| w.contains("thumbnail")),
        "{:?}",
        published.warnings
    );
    assert_eq!(served_video(&published.url.unwrap()).await, bytes);
}

/// One step as the engine takes it.
async fn step(
    call: &Call<'_>,
    post: &Post,
    state: Option<&Value>,
) -> Result<Progress, PublishError> {
    publisher()
        .publish(
            &Call {
                resume: state,
                ..*call
            },
            post,
        )
        .await
}

fn pending(progress: Progress) -> Value {
    match progress {
        Progress::Pending { state, .. } => state,
        Progress::Done(done) => panic!("not done yet: {done:?}"),
    }
}

async fn processing_is_waited_for_and_its_failure_is_final(app: &TestApp) {
    processing_ms(app, 1500).await;
    let account = Account::connect(app, "patient", YOUTUBE, 2).await;
    let served = Served::new(&[("video", clip(100_000), "video/mp4")]).await;
    let p = video_post(&served, &[("title", &unique("Processed"))]);
    let call = account.call(&served, "m3");
    let opened = pending(step(&call, &p, None).await.unwrap());
    assert_eq!(opened["step"], "uploading");
    assert_eq!(opened["offset"], 0);
    let uploaded = pending(step(&call, &p, Some(&opened)).await.unwrap());
    assert_eq!(uploaded["step"], "processing");
    let video_id = uploaded["video_id"].as_str().unwrap().to_owned();
    let still = pending(step(&call, &p, Some(&uploaded)).await.unwrap());
    assert_eq!(still, uploaded, "processing: the same state");
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let Progress::Done(done) = step(&call, &p, Some(&uploaded)).await.unwrap() else {
        panic!("processed by now");
    };
    assert_eq!(done.post_id, video_id);

    // The upload the last chunk finishes fails YouTube's processing.
    processing_ms(app, 0).await;
    fault(
        app,
        YOUTUBE,
        "videos_upload",
        &["pass", "pass", "processing_failed"],
    )
    .await;
    let failing = video_post(&served, &[("title", &unique("Broken"))]);
    let outcome = publisher()
        .publish_to_end(&account.call(&served, "m4"), &failing)
        .await;
    assert_refused_for_good(&outcome);
    let e = outcome.unwrap_err();
    assert_eq!(e.code(), "processing_failed");
    assert!(e.to_string().contains("process"), "{e}");
}

async fn quota_revoked_token_and_rate_limit_are_read(app: &TestApp) {
    let account = Account::connect(app, "busy", YOUTUBE, 3).await;
    let served = Served::new(&[("video", clip(1000), "video/mp4")]).await;
    let p = video_post(&served, &[("title", "Quota")]);
    fault(
        app,
        YOUTUBE,
        "videos_upload",
        &["quota_exceeded", "token_revoked", "rate_limited"],
    )
    .await;
    let quota = publisher()
        .publish_to_end(&account.call(&served, "m5"), &p)
        .await;
    assert_refused_for_good(&quota);
    assert_eq!(quota.unwrap_err().code(), "quota_exceeded");
    let revoked = publisher()
        .publish_to_end(&account.call(&served, "m5"), &p)
        .await;
    assert!(
        matches!(revoked, Err(PublishError::Reauth { .. })),
        "{revoked:?}"
    );
    let limited = publisher()
        .publish_to_end(&account.call(&served, "m5"), &p)
        .await
        .unwrap_err();
    assert!(limited.retryable(), "{limited:?}");
    assert_eq!(
        sessions(app).await,
        3,
        "each was refused at the session start"
    );
    assert!(
        calls_of(app, YOUTUBE, "videos_upload")
            .await
            .iter()
            .all(|m| m == "POST"),
        "no byte was sent"
    );
}

async fn a_lost_final_answer_is_found_and_the_video_deleted(app: &TestApp) {
    processing_ms(app, 400).await;
    let account = Account::connect(app, "forgetful", YOUTUBE, 4).await;
    let bytes = clip(2 * CHUNK_BYTES as usize + 10);
    let served = Served::new(&[("video", bytes, "video/mp4")]).await;
    let title = unique("Lost");
    let p = video_post(&served, &[("title", &title)]);
    let call = account.call(&served, "m6");
    let opened = pending(step(&call, &p, None).await.unwrap());
    // The step that sent the last chunk made the video, and its answer was lost: the
    // engine still holds the state before it.
    let made = pending(step(&call, &p, Some(&opened)).await.unwrap());
    let video_id = made["video_id"].as_str().unwrap().to_owned();
    let lost = Call {
        resume: Some(&opened),
        ..call
    };
    assert_eq!(
        publisher().find(&lost, &p).await.unwrap(),
        None,
        "still processing: the next step goes on"
    );
    let again = pending(step(&call, &p, Some(&opened)).await.unwrap());
    assert_eq!(again["video_id"], video_id.as_str(), "the same video");
    assert_eq!(sessions(app).await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let found = publisher().find(&lost, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, video_id);
    // Without a state, the channel's uploads are searched by title.
    let by_title = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(by_title.post_id, video_id);
    let other = video_post(&served, &[("title", "Never uploaded")]);
    assert_eq!(publisher().find(&call, &other).await.unwrap(), None);

    publisher().unpublish(&call, &video_id).await.unwrap();
    assert!(stored(app, YOUTUBE, &video_id).await.is_none());
    assert_eq!(publisher().find(&call, &p).await.unwrap(), None);
    let again = publisher().unpublish(&call, &video_id).await;
    assert_refused_for_good(&again);
}

async fn invalid_options_make_no_call(app: &TestApp) {
    let account = Account::connect(app, "careless", YOUTUBE, 5).await;
    let served = Served::new(&[
        ("video", clip(1000), "video/mp4"),
        ("thumb", PNG, "image/png"),
    ])
    .await;
    let before = app.sandbox_calls().await.len();
    let long_tags = vec!["tag"; 130].join(",");
    let long_title = "t".repeat(101);
    let long_description = "d".repeat(5001);
    for (fields, code) in [
        (vec![], "missing_title"),
        (vec![("title", long_title.as_str())], "title_too_long"),
        (vec![("title", "a <b>")], "invalid_field"),
        (
            vec![("title", "t"), ("description", long_description.as_str())],
            "description_too_long",
        ),
        (
            vec![("title", "t"), ("tags", long_tags.as_str())],
            "tags_too_long",
        ),
        (vec![("title", "t"), ("categoryId", "99")], "invalid_field"),
        (
            vec![("title", "t"), ("privacyStatus", "friends")],
            "invalid_field",
        ),
        (vec![("title", "t"), ("license", "gpl")], "invalid_field"),
        (
            vec![
                ("title", "t"),
                ("allowedCountries", "US"),
                ("blockedCountries", "FR"),
            ],
            "invalid_field",
        ),
    ] {
        let p = video_post(&served, &fields);
        let checked = publisher().check(&p).unwrap_err();
        assert_eq!(checked.code(), code, "{fields:?}");
        assert_eq!(checked.source(), "client");
        let e = publisher()
            .publish(&account.call(&served, "m7"), &p)
            .await
            .unwrap_err();
        assert_eq!(e.code(), code);
    }
    let mut not_a_video = video_post(&served, &[("title", "t")]);
    not_a_video.media = vec![Media {
        content_type: "video/x-flash".into(),
        ..served.media("video", MediaKind::Video, "clip.swf")
    }];
    assert_eq!(
        publisher().check(&not_a_video).unwrap_err().code(),
        "unsupported_media_type"
    );
    let mut bad_thumbnail = video_post(&served, &[("title", "t")]);
    bad_thumbnail.attachments.push(Attachment {
        field: "thumbnail".into(),
        media: served.media("video", MediaKind::Video, "clip.mp4"),
    });
    assert_eq!(
        publisher().check(&bad_thumbnail).unwrap_err().code(),
        "unsupported_media_type"
    );
    assert_eq!(app.sandbox_calls().await.len(), before, "no call was made");
}
