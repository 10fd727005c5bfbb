//! LinkedIn's publisher against the emulated Posts API.

use super::ToEnd;
use super::graph_support::{
    Account, PDF, PNG, Served, assert_fault_reading, assert_refused_for_good, calls_of, fault,
    page, post, replies, stored, unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{PublishError, Publisher};
use postgate::publish::publishers::for_platform;
use reqwest::StatusCode;

cases![
    text_with_a_link_and_a_first_comment,
    a_poll,
    audience_targeting_of_an_organization_post,
    images_as_the_organization_with_alt_texts,
    a_document_post,
    faults_are_read_as_the_engine_needs,
    a_lost_answer_is_found_and_the_post_deleted,
];

const LINKEDIN: Platform = Platform::Linkedin;

fn publisher() -> &'static dyn Publisher {
    for_platform(LINKEDIN)
}

async fn text_with_a_link_and_a_first_comment(app: &TestApp) {
    let account = Account::connect(app, "writer", LINKEDIN, 0).await;
    let none = Served::new(&[]).await;
    let text = unique("Read this (really) #rust");
    let p = post(
        PostKind::Text,
        &[
            ("title", &text),
            ("linkedin_link_url", "https://example.com/article"),
            ("linkedin_link_title", "The article"),
            ("visibility", "connections"),
            ("linkedin_first_comment", "First!"),
        ],
        vec![],
    );
    let published = publisher()
        .publish_to_end(&account.call(&none, "m1"), &p)
        .await
        .unwrap();
    assert!(
        published.post_id.starts_with("urn:li:share:"),
        "{published:?}"
    );
    assert_eq!(published.extra["first_comment_posted"], true);

    let kept = stored(app, LINKEDIN, &published.post_id)
        .await
        .expect("stored");
    assert_eq!(kept.text, text, "readers see the text unescaped");
    let extra = kept.extra();
    assert_eq!(extra["author"], "urn:li:person:sandboxSub1xYz");
    assert_eq!(extra["visibility"], "CONNECTIONS");
    assert_eq!(
        extra["content"]["article"]["source"],
        "https://example.com/article"
    );
    assert_eq!(extra["content"]["article"]["title"], "The article");
    let comments = replies(app, LINKEDIN, &published.post_id).await;
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].text, "First!");

    let url = published.url.expect("a url");
    assert!(
        url.contains("/sandbox/linkedin/feed/update/urn:li:share:"),
        "{url}"
    );
    let (status, html) = page(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Read this (really) #rust"), "{html}");
    assert!(html.contains("First!"), "the comment shows under the post");
}

async fn a_poll(app: &TestApp) {
    let account = Account::connect(app, "pollster", LINKEDIN, 0).await;
    let none = Served::new(&[]).await;
    let p = post(
        PostKind::Text,
        &[
            ("title", &unique("Settle this")),
            ("linkedin_poll_question", "Tabs or spaces?"),
            ("linkedin_poll_options[]", "Tabs"),
            ("linkedin_poll_options[]", "Spaces"),
            ("linkedin_poll_duration", "FOURTEEN_DAYS"),
        ],
        vec![],
    );
    let published = publisher()
        .publish_to_end(&account.call(&none, "m1"), &p)
        .await
        .unwrap();
    let kept = stored(app, LINKEDIN, &published.post_id)
        .await
        .expect("stored");
    assert_eq!(
        kept.extra()["content"],
        serde_json::json!({"poll": {
            "question": "Tabs or spaces?",
            "options": [{"text": "Tabs"}, {"text": "Spaces"}],
            "settings": {"duration": "FOURTEEN_DAYS"},
        }})
    );
    // A poll with a link is refused before any call.
    let both = post(
        PostKind::Text,
        &[
            ("title", "x"),
            ("linkedin_poll_question", "Q"),
            ("linkedin_poll_options", "a,b"),
            ("link_url", "https://example.com"),
        ],
        vec![],
    );
    let err = publisher().check(&both).unwrap_err();
    assert_eq!(err.code(), "invalid_poll");
}

async fn audience_targeting_of_an_organization_post(app: &TestApp) {
    let account = Account::connect(app, "recruiter", LINKEDIN, 0).await;
    let none = Served::new(&[]).await;
    let targeted = |page: Option<&'static str>| {
        let mut pairs = vec![
            ("title", "We are hiring"),
            ("linkedin_target_geo_locations[]", "103644278"),
            ("linkedin_target_geo_locations[]", "urn:li:geo:101165590"),
            ("linkedin_target_seniorities", "3,4"),
            ("linkedin_target_staff_count_ranges", "SIZE_11_TO_50"),
            ("linkedin_target_interface_locales", "en_US"),
        ];
        pairs.extend(page.map(|p| ("target_linkedin_page_id", p)));
        post(PostKind::Text, &pairs, vec![])
    };
    let published = publisher()
        .publish_to_end(&account.call(&none, "t1"), &targeted(Some("123411")))
        .await
        .unwrap();
    let kept = stored(app, LINKEDIN, &published.post_id).await.unwrap();
    assert_eq!(
        kept.extra()["targetEntities"],
        serde_json::json!([{
            "geoLocations": ["urn:li:geo:103644278", "urn:li:geo:101165590"],
            "seniorities": ["urn:li:seniority:3", "urn:li:seniority:4"],
            "staffCountRanges": ["SIZE_11_TO_50"],
            "interfaceLocales": [{"language": "en", "country": "US"}],
        }])
    );
    // A member's own post cannot be targeted: refused before any call.
    let refused = publisher()
        .publish_to_end(&account.call(&none, "t2"), &targeted(None))
        .await;
    assert!(
        matches!(&refused, Err(PublishError::Invalid { code, .. }) if code == "invalid_field"),
        "{refused:?}"
    );
    let bad = post(
        PostKind::Text,
        &[
            ("title", "x"),
            ("linkedin_target_entities", r#"{"geoLocations":[]}"#),
        ],
        vec![],
    );
    assert_eq!(publisher().check(&bad).unwrap_err().code(), "invalid_field");
}

async fn images_as_the_organization_with_alt_texts(app: &TestApp) {
    let account = Account::connect(app, "brand", LINKEDIN, 0).await;
    let served = Served::new(&[("a", PNG, "image/png"), ("b", PNG, "image/png")]).await;
    let media = vec![
        served.media("a", MediaKind::Image, "a.png"),
        served.media("b", MediaKind::Image, "b.png"),
    ];
    let p = post(
        PostKind::Photos,
        &[
            ("title", "Two pictures"),
            ("linkedin_alt_text", "first||second"),
            ("target_linkedin_page_id", "123411"),
        ],
        media,
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "m2"), &p)
        .await
        .unwrap();
    let urns = published.extra["image_urns"]
        .as_array()
        .expect("image_urns");
    assert_eq!(urns.len(), 2);
    let kept = stored(app, LINKEDIN, &published.post_id).await.unwrap();
    assert_eq!(kept.extra()["author"], "urn:li:organization:123411");
    assert_eq!(kept.media_ids().len(), 2);
    assert_eq!(
        kept.extra()["alt_texts"],
        serde_json::json!(["first", "second"])
    );
    let (_, html) = page(&published.url.unwrap()).await;
    assert_eq!(
        html.matches("/sandbox/linkedin/_media/").count(),
        2,
        "{html}"
    );
    assert!(html.contains("second"));

    // An organization the member does not administer is refused by the platform.
    let other = post(
        PostKind::Photos,
        &[("title", "x"), ("target_linkedin_page_id", "999")],
        vec![served.media("a", MediaKind::Image, "a.png")],
    );
    let refused = publisher()
        .publish_to_end(&account.call(&served, "m3"), &other)
        .await;
    assert_refused_for_good(&refused);
}

async fn a_document_post(app: &TestApp) {
    let account = Account::connect(app, "docs", LINKEDIN, 1).await;
    let served = Served::new(&[("d", PDF, "application/pdf")]).await;
    let title = "T".repeat(450);
    let p = post(
        PostKind::Document,
        &[("title", &title), ("description", "Our quarterly deck")],
        vec![served.media("d", MediaKind::Document, "deck.pdf")],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "m4"), &p)
        .await
        .unwrap();
    let urn = published.extra["document_urn"]
        .as_str()
        .expect("document_urn");
    assert!(urn.starts_with("urn:li:document:"));
    assert_eq!(published.warnings.len(), 1, "the title was cut");
    let kept = stored(app, LINKEDIN, &published.post_id).await.unwrap();
    assert_eq!(kept.text, "Our quarterly deck");
    assert_eq!(kept.media_ids(), [urn]);
    assert_eq!(
        kept.extra()["content"]["media"]["title"]
            .as_str()
            .map(str::len),
        Some(400)
    );
}

async fn faults_are_read_as_the_engine_needs(app: &TestApp) {
    let account = Account::connect(app, "faulty", LINKEDIN, 0).await;
    let none = Served::new(&[]).await;
    let p = post(PostKind::Text, &[("title", "hello")], vec![]);
    let call = account.call(&none, "m5");
    fault(app, LINKEDIN, "posts", &["rate_limited"]).await;
    let rate_limited = publisher().publish_to_end(&call, &p).await;
    fault(app, LINKEDIN, "posts", &["server_error"]).await;
    let server_error = publisher().publish_to_end(&call, &p).await;
    fault(app, LINKEDIN, "posts", &["token_revoked"]).await;
    let token_revoked = publisher().publish_to_end(&call, &p).await;
    assert_fault_reading(rate_limited, server_error, token_revoked);
    assert_eq!(calls_of(app, LINKEDIN, "posts").await.len(), 3);

    // A first comment that fails is a warning; the post stands.
    fault(app, LINKEDIN, "social_actions", &["server_error"]).await;
    let with_comment = post(
        PostKind::Text,
        &[("title", "hi"), ("first_comment", "c")],
        vec![],
    );
    let published = publisher()
        .publish_to_end(&call, &with_comment)
        .await
        .unwrap();
    assert_eq!(published.extra["first_comment_posted"], false);
    assert_eq!(published.warnings.len(), 1, "{:?}", published.warnings);
}

async fn a_lost_answer_is_found_and_the_post_deleted(app: &TestApp) {
    let account = Account::connect(app, "finder", LINKEDIN, 0).await;
    let none = Served::new(&[]).await;
    let text = unique("Was it posted? (yes)");
    let p = post(PostKind::Text, &[("title", &text)], vec![]);
    let call = account.call(&none, "m6");
    // The answer of this publish is dropped, as a lost one would be.
    let made = publisher().publish_to_end(&call, &p).await.unwrap();
    let found = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    assert_eq!(found.url, made.url);
    let other = post(PostKind::Text, &[("title", "never posted")], vec![]);
    assert_eq!(publisher().find(&call, &other).await.unwrap(), None);

    publisher().unpublish(&call, &made.post_id).await.unwrap();
    assert!(stored(app, LINKEDIN, &made.post_id).await.is_none());
    let (status, _) = page(&made.url.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(publisher().find(&call, &p).await.unwrap().is_none());
}
