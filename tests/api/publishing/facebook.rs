//! The Facebook Page publisher against the emulated Graph API.

use super::ToEnd;
use super::graph_support::{
    Account, JPEG, MP4, PNG, Served, assert_fault_reading, assert_refused_for_good, fault,
    graph_posts, page, pin, post, replies, stored, unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{Call, Progress, PublishError, Publisher};
use postgate::publish::publishers::for_platform;
use postgate::sandbox::people;
use reqwest::StatusCode;

cases![
    a_page_is_needed_when_the_account_has_several,
    text_and_link_on_the_pinned_page_with_a_first_comment,
    one_photo_and_an_album,
    place_audience_and_link_extras,
    faults_are_read_as_the_engine_needs,
    a_lost_answer_is_found_and_the_post_deleted,
    a_video_is_pending_then_posted_once_and_plays,
    a_video_that_failed_processing_or_hit_the_limit,
];

const FACEBOOK: Platform = Platform::Facebook;

fn publisher() -> &'static dyn Publisher {
    for_platform(FACEBOOK)
}

fn pages(person: usize) -> Vec<String> {
    people::targets(FACEBOOK, person)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect()
}

async fn a_page_is_needed_when_the_account_has_several(app: &TestApp) {
    let account = Account::connect(app, "several", FACEBOOK, 0).await;
    let none = Served::new(&[]).await;
    let p = post(PostKind::Text, &[("title", "hello")], vec![]);
    let refused = publisher()
        .publish_to_end(&account.call(&none, "m1"), &p)
        .await;
    let Err(PublishError::Invalid { code, message }) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(code, "facebook_page_required");
    for page in pages(0) {
        assert!(message.contains(&page), "{message}");
    }
    // Named in the request, the Page is used.
    let named = post(
        PostKind::Text,
        &[("title", "hello"), ("facebook_page_id", &pages(0)[1])],
        vec![],
    );
    let published = publisher()
        .publish_to_end(&account.call(&none, "m1"), &named)
        .await
        .unwrap();
    assert!(published.post_id.starts_with(&format!("{}_", pages(0)[1])));
}

async fn text_and_link_on_the_pinned_page_with_a_first_comment(app: &TestApp) {
    Account::connect(app, "pinned", FACEBOOK, 1).await;
    let account = pin(app, "pinned", FACEBOOK, &pages(1)[0]).await;
    let none = Served::new(&[]).await;
    let text = unique("Fresh bread today");
    let p = post(
        PostKind::Text,
        &[
            ("title", &text),
            ("facebook_link_url", "https://bakery.example/menu"),
            // The pin wins over a Page named in the request.
            ("facebook_page_id", &pages(1)[1]),
            ("facebook_first_comment", "Open 7-19"),
        ],
        vec![],
    );
    let published = publisher()
        .publish_to_end(&account.call(&none, "m2"), &p)
        .await
        .unwrap();
    assert!(
        published.post_id.starts_with(&format!("{}_", pages(1)[0])),
        "{published:?}"
    );
    assert_eq!(published.extra["first_comment_posted"], true);
    let kept = stored(app, FACEBOOK, &published.post_id)
        .await
        .expect("stored");
    assert_eq!(kept.text, text);
    assert_eq!(kept.extra()["link"], "https://bakery.example/menu");
    assert_eq!(kept.extra()["page"], pages(1)[0]);
    let comments = replies(app, FACEBOOK, &published.post_id).await;
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].text, "Open 7-19");
    let url = published.url.expect("a url");
    let (status, html) = page(&url).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    assert!(html.contains(&text));
}

async fn one_photo_and_an_album(app: &TestApp) {
    Account::connect(app, "photos", FACEBOOK, 0).await;
    let account = pin(app, "photos", FACEBOOK, &pages(0)[0]).await;
    let served = Served::new(&[
        ("a", JPEG, "image/jpeg"),
        ("b", PNG, "image/png"),
        ("c", JPEG, "image/jpeg"),
    ])
    .await;
    let one = post(
        PostKind::Photos,
        &[("title", "One loaf"), ("facebook_alt_text", "a round loaf")],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "m3"), &one)
        .await
        .unwrap();
    let kept = stored(app, FACEBOOK, &published.post_id).await.unwrap();
    assert_eq!(kept.text, "One loaf");
    assert_eq!(kept.media_ids().len(), 1);
    let (_, html) = page(&published.url.unwrap()).await;
    assert!(html.contains("a round loaf"), "{html}");

    let album = post(
        PostKind::Photos,
        &[("title", "Three loaves")],
        ["a", "b", "c"]
            .iter()
            .map(|id| served.media(id, MediaKind::Image, "x"))
            .collect(),
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "m4"), &album)
        .await
        .unwrap();
    let kept = stored(app, FACEBOOK, &published.post_id).await.unwrap();
    assert_eq!(kept.text, "Three loaves");
    assert_eq!(kept.media_ids().len(), 3);
    let (_, html) = page(&published.url.unwrap()).await;
    assert_eq!(
        html.matches("/sandbox/facebook/_media/").count(),
        3,
        "{html}"
    );

    // A photo Facebook cannot fetch is refused, finally.
    let missing = post(
        PostKind::Photos,
        &[("title", "gone")],
        vec![postgate::publish::publisher::Media {
            id: "missing".to_owned(),
            ..served.media("a", MediaKind::Image, "a.jpg")
        }],
    );
    let refused = publisher()
        .publish_to_end(&account.call(&served, "m5"), &missing)
        .await;
    assert!(
        matches!(&refused, Err(PublishError::Refused { code, retryable: false, .. }) if code == "324"),
        "{refused:?}"
    );
}

async fn place_audience_and_link_extras(app: &TestApp) {
    use serde_json::json;
    Account::connect(app, "extras", FACEBOOK, 0).await;
    let account = pin(app, "extras", FACEBOOK, &pages(0)[0]).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg")]).await;
    let targeting = r#"{"geo_locations":{"countries":["DE"]}}"#;
    let cards = json!([
        {"link": "https://bakery.example/rye", "name": "Rye"},
        {"link": "https://bakery.example/spelt", "name": "Spelt"},
    ]);
    let link_post = post(
        PostKind::Text,
        &[
            ("title", &unique("This week's bread")),
            ("facebook_link_url", "https://bakery.example/menu"),
            ("facebook_place_id", "1122334455"),
            ("facebook_targeting", targeting),
            ("facebook_feed_targeting", r#"{"age_min":18}"#),
            ("facebook_call_to_action", r#"{"type":"ORDER_NOW"}"#),
            ("facebook_child_attachments", &cards.to_string()),
            ("facebook_multi_share_end_card", "false"),
        ],
        vec![],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "e1"), &link_post)
        .await
        .unwrap();
    let extra = stored(app, FACEBOOK, &published.post_id)
        .await
        .unwrap()
        .extra();
    assert_eq!(extra["place"], "1122334455");
    assert_eq!(
        extra["targeting"],
        json!({"geo_locations": {"countries": ["DE"]}})
    );
    assert_eq!(extra["feed_targeting"], json!({"age_min": 18}));
    // The button leads to the post's link when it names none.
    assert_eq!(
        extra["call_to_action"],
        json!({"type": "ORDER_NOW", "value": {"link": "https://bakery.example/menu"}})
    );
    assert_eq!(extra["child_attachments"], cards);
    assert_eq!(extra["multi_share_end_card"], false);

    // A single photo carries its place and audience too.
    let photo = post(
        PostKind::Photos,
        &[
            ("title", "Rye"),
            ("facebook_place_id", "99"),
            ("facebook_targeting", targeting),
        ],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "e2"), &photo)
        .await
        .unwrap();
    let extra = stored(app, FACEBOOK, &published.post_id)
        .await
        .unwrap()
        .extra();
    assert_eq!(extra["place"], "99");
    assert_eq!(extra["targeting"]["geo_locations"]["countries"][0], "DE");

    // Refused before any call.
    for pairs in [
        vec![("facebook_call_to_action", r#"{"type":"LEARN_MORE"}"#)],
        vec![
            ("facebook_link_url", "https://bakery.example"),
            (
                "facebook_child_attachments",
                r#"[{"link":"https://a.example"}]"#,
            ),
        ],
        vec![
            ("facebook_link_url", "https://bakery.example"),
            ("facebook_multi_share_end_card", "true"),
        ],
        vec![("facebook_place_id", "the bakery")],
        vec![("facebook_targeting", "[1]")],
    ] {
        let mut pairs = pairs;
        pairs.push(("title", "x"));
        let err = publisher()
            .check(&post(PostKind::Text, &pairs, vec![]))
            .unwrap_err();
        assert_eq!(err.code(), "invalid_field", "{pairs:?}");
    }
    // A call to action Facebook does not know is its refusal.
    let unknown = post(
        PostKind::Text,
        &[
            ("title", "x"),
            ("facebook_link_url", "https://bakery.example"),
            ("facebook_call_to_action", r#"{"type":"FLY_AWAY"}"#),
        ],
        vec![],
    );
    let refused = publisher()
        .publish_to_end(&account.call(&served, "e3"), &unknown)
        .await;
    assert_refused_for_good(&refused);
}

async fn faults_are_read_as_the_engine_needs(app: &TestApp) {
    Account::connect(app, "faulty", FACEBOOK, 0).await;
    let account = pin(app, "faulty", FACEBOOK, &pages(0)[0]).await;
    let none = Served::new(&[]).await;
    let p = post(PostKind::Text, &[("title", "hello")], vec![]);
    let call = account.call(&none, "m6");
    fault(app, FACEBOOK, "graph", &["rate_limited"]).await;
    let rate_limited = publisher().publish_to_end(&call, &p).await;
    // The Page's token is read first; the post itself then fails.
    fault(app, FACEBOOK, "graph", &["pass", "server_error"]).await;
    let server_error = publisher().publish_to_end(&call, &p).await;
    fault(app, FACEBOOK, "graph", &["token_revoked"]).await;
    let token_revoked = publisher().publish_to_end(&call, &p).await;
    assert_fault_reading(rate_limited, server_error, token_revoked);
}

async fn a_lost_answer_is_found_and_the_post_deleted(app: &TestApp) {
    Account::connect(app, "finder", FACEBOOK, 0).await;
    let account = pin(app, "finder", FACEBOOK, &pages(0)[1]).await;
    let none = Served::new(&[]).await;
    let text = unique("Did it go out?");
    let p = post(PostKind::Text, &[("title", &text)], vec![]);
    let call = account.call(&none, "m7");
    let made = publisher().publish_to_end(&call, &p).await.unwrap();
    let found = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    let other = post(PostKind::Text, &[("title", "never posted")], vec![]);
    assert_eq!(publisher().find(&call, &other).await.unwrap(), None);

    publisher().unpublish(&call, &made.post_id).await.unwrap();
    assert!(stored(app, FACEBOOK, &made.post_id).await.is_none());
    let (status, _) = page(&made.url.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_video_is_pending_then_posted_once_and_plays(app: &TestApp) {
    app.sandbox_control(serde_json::json!({"platform": "facebook", "processing_ms": 1200}))
        .await;
    Account::connect(app, "filmer", FACEBOOK, 1).await;
    let account = pin(app, "filmer", FACEBOOK, &pages(1)[0]).await;
    let served = Served::new(&[("v", MP4, "video/mp4")]).await;
    let title = unique("Kneading");
    let p = post(
        PostKind::Video,
        &[
            ("title", &title),
            ("description", "How we knead"),
            ("video_state", "published"),
            ("facebook_no_story", "true"),
            ("facebook_secret", "false"),
            ("facebook_first_comment", "Recipe below"),
            ("thumbnail_url", "https://bakery.example/t.jpg"),
        ],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    assert_eq!(
        publisher().check(&p).unwrap().len(),
        1,
        "thumbnail_url named"
    );
    let call = account.call(&served, "fv1");
    let before = graph_posts(app, FACEBOOK).await;
    let Progress::Pending { mut state, .. } = publisher().publish(&call, &p).await.unwrap() else {
        panic!("a fresh video is still processing");
    };
    let published = loop {
        let step = Call {
            resume: Some(&state),
            ..call
        };
        match publisher().publish(&step, &p).await.unwrap() {
            Progress::Done(published) => break published,
            Progress::Pending { state: next, .. } => {
                assert_eq!(next, state, "the same video");
                state = next;
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
        }
    };
    assert_eq!(published.post_id, state["video"].as_str().unwrap());
    assert_eq!(published.extra["first_comment_posted"], true);
    // One video, one comment: the video was posted once.
    assert_eq!(graph_posts(app, FACEBOOK).await - before, 2);
    let kept = stored(app, FACEBOOK, &published.post_id).await.unwrap();
    assert_eq!(kept.text, "How we knead");
    let extra = kept.extra();
    assert_eq!(extra["title"], title.as_str());
    assert_eq!(extra["published"], "true");
    assert_eq!(extra["no_story"], "true");
    assert_eq!(extra["secret"], "false");
    let (status, html) = page(&published.url.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<video controls"), "{html}");
    // Its post is found by its description after a lost answer.
    let found = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, published.post_id);
}

async fn a_video_that_failed_processing_or_hit_the_limit(app: &TestApp) {
    app.sandbox_control(serde_json::json!({"platform": "facebook", "processing_ms": 0}))
        .await;
    Account::connect(app, "unlucky", FACEBOOK, 1).await;
    let account = pin(app, "unlucky", FACEBOOK, &pages(1)[0]).await;
    let served = Served::new(&[("v", MP4, "video/mp4")]).await;
    let p = post(
        PostKind::Video,
        &[("title", "Broken")],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let call = account.call(&served, "fv2");
    // The Page's token passes; the video fails processing.
    fault(app, FACEBOOK, "graph", &["pass", "processing_failed"]).await;
    let e = publisher().publish_to_end(&call, &p).await.unwrap_err();
    assert_eq!(e.code(), "processing_failed");
    assert!(!e.retryable());
    fault(app, FACEBOOK, "graph", &["pass", "quota_exceeded"]).await;
    let e = publisher().publish_to_end(&call, &p).await.unwrap_err();
    assert_eq!(e.code(), "rate_limited");
    assert!(e.retryable());
    // A video field Facebook would refuse is refused before any call.
    let before = graph_posts(app, FACEBOOK).await;
    let bad = post(
        PostKind::Video,
        &[("title", "x"), ("video_state", "HIDDEN")],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    assert!(matches!(
        publisher().publish_to_end(&call, &bad).await,
        Err(PublishError::Invalid { .. })
    ));
    assert_eq!(graph_posts(app, FACEBOOK).await, before);
}
