//! The Facebook Page publisher against the emulated Graph API.

use super::graph_support::{
    Account, JPEG, PNG, Served, assert_fault_reading, fault, page, pin, post, replies, stored,
    unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{PublishError, Publisher};
use postgate::publish::publishers::for_platform;
use postgate::sandbox::people;
use reqwest::StatusCode;

cases![
    a_page_is_needed_when_the_account_has_several,
    text_and_link_on_the_pinned_page_with_a_first_comment,
    one_photo_and_an_album,
    faults_are_read_as_the_engine_needs,
    a_lost_answer_is_found_and_the_post_deleted,
];

const FACEBOOK: Platform = Platform::Facebook;

fn publisher() -> &'static dyn Publisher {
    for_platform(FACEBOOK).expect("Facebook publishes")
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
    let refused = publisher().publish(&account.call(&none, "m1"), &p).await;
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
        .publish(&account.call(&none, "m1"), &named)
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
        .publish(&account.call(&none, "m2"), &p)
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
        .publish(&account.call(&served, "m3"), &one)
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
        .publish(&account.call(&served, "m4"), &album)
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
        .publish(&account.call(&served, "m5"), &missing)
        .await;
    assert!(
        matches!(&refused, Err(PublishError::Refused { code, retryable: false, .. }) if code == "324"),
        "{refused:?}"
    );
}

async fn faults_are_read_as_the_engine_needs(app: &TestApp) {
    Account::connect(app, "faulty", FACEBOOK, 0).await;
    let account = pin(app, "faulty", FACEBOOK, &pages(0)[0]).await;
    let none = Served::new(&[]).await;
    let p = post(PostKind::Text, &[("title", "hello")], vec![]);
    let call = account.call(&none, "m6");
    fault(app, FACEBOOK, "graph", &["rate_limited"]).await;
    let rate_limited = publisher().publish(&call, &p).await;
    // The Page's token is read first; the post itself then fails.
    fault(app, FACEBOOK, "graph", &["pass", "server_error"]).await;
    let server_error = publisher().publish(&call, &p).await;
    fault(app, FACEBOOK, "graph", &["token_revoked"]).await;
    let token_revoked = publisher().publish(&call, &p).await;
    assert_fault_reading(rate_limited, server_error, token_revoked);
}

async fn a_lost_answer_is_found_and_the_post_deleted(app: &TestApp) {
    Account::connect(app, "finder", FACEBOOK, 0).await;
    let account = pin(app, "finder", FACEBOOK, &pages(0)[1]).await;
    let none = Served::new(&[]).await;
    let text = unique("Did it go out?");
    let p = post(PostKind::Text, &[("title", &text)], vec![]);
    let call = account.call(&none, "m7");
    let made = publisher().publish(&call, &p).await.unwrap();
    let found = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    let other = post(PostKind::Text, &[("title", "never posted")], vec![]);
    assert_eq!(publisher().find(&call, &other).await.unwrap(), None);

    publisher().unpublish(&call, &made.post_id).await.unwrap();
    assert!(stored(app, FACEBOOK, &made.post_id).await.is_none());
    let (status, _) = page(&made.url.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
