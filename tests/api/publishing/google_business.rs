//! The Google Business Profile publisher against the emulated My Business API v4: local
//! posts (standard, event, offer, with a call to action and a photo or video Google pulls)
//! on the location the request names or the connection pins.

use super::ToEnd;
use super::graph_support::{
    Account, JPEG, Served, assert_refused_before_any_call, assert_refused_for_good, fault, page,
    pin, post, stored, unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{PublishError, Publisher};
use postgate::publish::publishers::for_platform;
use reqwest::StatusCode;
use serde_json::json;

cases![
    a_standard_post_with_a_photo_and_a_call_to_action_on_the_pinned_location,
    event_and_offer_posts_carry_their_details,
    a_video_is_pulled_and_plays,
    several_locations_need_a_choice,
    rejection_quota_and_a_revoked_token,
    a_lost_answer_is_found_and_a_post_is_deleted,
    invalid_options_make_no_call,
];

const GBP: Platform = Platform::GoogleBusiness;
/// Sandbox person 0's two locations.
const MAIN: &str = "accounts/123456781/locations/111111111";
const KIOSK: &str = "accounts/123456781/locations/222222221";

fn publisher() -> &'static dyn Publisher {
    for_platform(GBP)
}

fn local_id(name: &str) -> String {
    name.rsplit('/').next().unwrap().to_owned()
}

async fn a_standard_post_with_a_photo_and_a_call_to_action_on_the_pinned_location(app: &TestApp) {
    Account::connect(app, "shop", GBP, 0).await;
    let account = pin(app, "shop", GBP, KIOSK).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg")]).await;
    let text = unique("Fresh bread every morning");
    let p = post(
        PostKind::Photos,
        &[
            ("title", &text),
            ("gbp_cta_type", "order"),
            ("gbp_cta_url", "https://example.com/order"),
            ("gbp_language", "fr"),
        ],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let made = publisher()
        .publish_to_end(&account.call(&served, "g1"), &p)
        .await
        .unwrap();
    assert!(
        made.post_id.starts_with(&format!("{KIOSK}/localPosts/")),
        "{}",
        made.post_id
    );
    let kept = stored(app, GBP, &local_id(&made.post_id))
        .await
        .expect("stored");
    let local = &kept.extra()["post"];
    assert_eq!(local["topicType"], "STANDARD");
    assert_eq!(local["summary"], text.as_str());
    assert_eq!(local["languageCode"], "fr");
    assert_eq!(
        local["callToAction"],
        json!({"actionType": "ORDER", "url": "https://example.com/order"})
    );
    assert_eq!(local["media"][0]["mediaFormat"], "PHOTO");
    assert_eq!(local["state"], "LIVE");
    let (status, html) = page(&made.url.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&text));
    assert!(html.contains("/_media/"), "{html}");
}

async fn event_and_offer_posts_carry_their_details(app: &TestApp) {
    let account = Account::connect(app, "events", GBP, 0).await;
    let none = Served::new(&[]).await;
    let event = post(
        PostKind::Text,
        &[
            ("title", &unique("Live music")),
            ("gbp_location_id", MAIN),
            ("gbp_topic_type", "EVENT"),
            ("gbp_event_title", "Jazz night"),
            ("gbp_event_start_date", "2027-05-01"),
            ("gbp_event_start_time", "19:00"),
            ("gbp_event_end_date", "2027-05-01"),
            ("gbp_event_end_time", "23:30"),
            ("cta_action_type", "BOOK"),
            ("cta_url", "https://example.com/book"),
        ],
        vec![],
    );
    let made = publisher()
        .publish_to_end(&account.call(&none, "g2"), &event)
        .await
        .unwrap();
    let kept = stored(app, GBP, &local_id(&made.post_id)).await.unwrap();
    let local = &kept.extra()["post"];
    assert_eq!(local["topicType"], "EVENT");
    assert_eq!(local["event"]["title"], "Jazz night");
    assert_eq!(
        local["event"]["schedule"],
        json!({"startDate": {"year": 2027, "month": 5, "day": 1},
            "endDate": {"year": 2027, "month": 5, "day": 1},
            "startTime": {"hours": 19, "minutes": 0},
            "endTime": {"hours": 23, "minutes": 30}})
    );
    assert_eq!(local["callToAction"]["actionType"], "BOOK");

    let offer = post(
        PostKind::Text,
        &[
            ("title", &unique("Spring offer")),
            ("gbp_location_id", MAIN),
            ("gbp_topic_type", "offer"),
            ("gbp_event_title", "Spring sale"),
            ("gbp_event_start_date", "2027-03-01"),
            ("gbp_event_end_date", "2027-03-31"),
            ("gbp_offer_coupon", "SPRING27"),
            ("gbp_offer_redeem_url", "https://example.com/redeem"),
            ("gbp_offer_terms", "One per customer"),
            ("gbp_cta_type", "CALL"),
        ],
        vec![],
    );
    let made = publisher()
        .publish_to_end(&account.call(&none, "g3"), &offer)
        .await
        .unwrap();
    let kept = stored(app, GBP, &local_id(&made.post_id)).await.unwrap();
    let local = &kept.extra()["post"];
    assert_eq!(local["topicType"], "OFFER");
    assert_eq!(
        local["offer"],
        json!({"couponCode": "SPRING27", "redeemOnlineUrl": "https://example.com/redeem",
            "termsConditions": "One per customer"})
    );
    assert_eq!(local["callToAction"], json!({"actionType": "CALL"}));
}

async fn a_video_is_pulled_and_plays(app: &TestApp) {
    let account = Account::connect(app, "video", GBP, 0).await;
    let clip: &'static [u8] = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41 sandbox clip";
    let served = Served::new(&[("v", clip, "video/mp4")]).await;
    let p = post(
        PostKind::Video,
        &[("title", &unique("Our shop")), ("gbp_location_id", MAIN)],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let made = publisher()
        .publish_to_end(&account.call(&served, "g4"), &p)
        .await
        .unwrap();
    let kept = stored(app, GBP, &local_id(&made.post_id)).await.unwrap();
    assert_eq!(kept.extra()["post"]["media"][0]["mediaFormat"], "VIDEO");
    let (_, html) = page(&made.url.unwrap()).await;
    assert!(html.contains("<video controls"), "{html}");
}

async fn several_locations_need_a_choice(app: &TestApp) {
    let account = Account::connect(app, "chooser", GBP, 0).await;
    let none = Served::new(&[]).await;
    let p = post(PostKind::Text, &[("title", "where?")], vec![]);
    let e = publisher()
        .publish_to_end(&account.call(&none, "g5"), &p)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gbp_location_required");
    assert!(
        e.to_string().contains(MAIN) && e.to_string().contains(KIOSK),
        "{e}"
    );
}

async fn rejection_quota_and_a_revoked_token(app: &TestApp) {
    let account = Account::connect(app, "refused", GBP, 0).await;
    let none = Served::new(&[]).await;
    let p = post(
        PostKind::Text,
        &[("title", "Call 555-0100 now"), ("gbp_location_id", MAIN)],
        vec![],
    );
    let call = account.call(&none, "g6");
    fault(
        app,
        GBP,
        "mybusiness",
        &["processing_failed", "quota_exceeded", "token_revoked"],
    )
    .await;
    let rejected = publisher().publish_to_end(&call, &p).await;
    assert_refused_for_good(&rejected);
    assert_eq!(rejected.unwrap_err().code(), "gbp_post_rejected");
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
    Account::connect(app, "finder", GBP, 0).await;
    let account = pin(app, "finder", GBP, MAIN).await;
    let none = Served::new(&[]).await;
    let p = post(PostKind::Text, &[("title", &unique("Found"))], vec![]);
    let call = account.call(&none, "g7");
    let made = publisher().publish_to_end(&call, &p).await.unwrap();
    let found = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    assert_eq!(found.url, made.url);
    let elsewhere = post(
        PostKind::Text,
        &[("title", "never posted"), ("gbp_location_id", KIOSK)],
        vec![],
    );
    assert_eq!(publisher().find(&call, &elsewhere).await.unwrap(), None);
    publisher().unpublish(&call, &made.post_id).await.unwrap();
    assert!(stored(app, GBP, &local_id(&made.post_id)).await.is_none());
    assert_eq!(publisher().find(&call, &p).await.unwrap(), None);
    assert_refused_for_good(&publisher().unpublish(&call, &made.post_id).await);
}

async fn invalid_options_make_no_call(app: &TestApp) {
    let account = Account::connect(app, "strict", GBP, 0).await;
    let none = Served::new(&[]).await;
    let before = app.sandbox_calls().await.len();
    let text = |extra: &[(&str, &str)]| {
        let mut fields = vec![("title", "hello"), ("gbp_location_id", MAIN)];
        fields.extend_from_slice(extra);
        post(PostKind::Text, &fields, vec![])
    };
    let bad = [
        text(&[("gbp_cta_type", "DANCE")]),
        text(&[("gbp_cta_type", "LEARN_MORE")]),
        text(&[("gbp_topic_type", "EVENT")]),
        text(&[("gbp_topic_type", "NEWS")]),
        text(&[
            ("gbp_topic_type", "EVENT"),
            ("gbp_event_title", "x"),
            ("gbp_event_start_date", "tomorrow"),
            ("gbp_event_end_date", "2027-01-01"),
        ]),
        post(
            PostKind::Text,
            &[("title", "hello"), ("gbp_location_id", "locations/1")],
            vec![],
        ),
        text(&[("gbp_media_url", "not a url")]),
    ];
    let call = account.call(&none, "g8");
    assert_refused_before_any_call(app, publisher(), &call, &bad, before).await;
}
