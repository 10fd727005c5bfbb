//! The Threads publisher against the emulated Threads API: containers the emulator builds
//! by pulling each image from Postgate's media URL, published once.

use super::graph_support::{
    Account, JPEG, PNG, Served, assert_fault_reading, fault, page, post, replies, stored, unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{PublishError, Publisher};
use postgate::publish::publishers::for_platform;
use reqwest::StatusCode;

cases![
    long_text_becomes_a_thread_with_a_first_comment,
    an_image_and_a_carousel_are_pulled,
    faults_are_read_as_the_engine_needs,
    a_lost_answer_is_found_and_deleting_is_not_supported,
];

const THREADS: Platform = Platform::Threads;

fn publisher() -> &'static dyn Publisher {
    for_platform(THREADS).expect("Threads publishes")
}

async fn long_text_becomes_a_thread_with_a_first_comment(app: &TestApp) {
    let account = Account::connect(app, "talker", THREADS, 0).await;
    let none = Served::new(&[]).await;
    let paragraph = "A sentence that goes on for a while to fill the post. ".repeat(4);
    let text = unique(&[paragraph.as_str(); 5].join("\n\n"));
    let p = post(
        PostKind::Text,
        &[
            ("title", &text),
            ("threads_topic_tag", "Baking"),
            ("threads_reply_control", "accounts_you_follow"),
            ("threads_first_comment", "Thanks for reading"),
        ],
        vec![],
    );
    let published = publisher()
        .publish(&account.call(&none, "m1"), &p)
        .await
        .unwrap();
    let ids: Vec<String> = published.extra["post_ids"]
        .as_array()
        .expect("post_ids")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 3, "{ids:?}");
    assert_eq!(ids[0], published.post_id);
    assert_eq!(published.extra["first_comment_posted"], true);
    let head = stored(app, THREADS, &published.post_id)
        .await
        .expect("stored");
    assert!(head.text.chars().count() <= 500);
    assert_eq!(head.extra()["topic_tag"], "Baking");
    assert_eq!(head.extra()["reply_control"], "accounts_you_follow");
    // Each part answers the one before; the first comment answers the head.
    for pair in ids.windows(2) {
        let next = stored(app, THREADS, &pair[1]).await.unwrap();
        assert_eq!(next.reply_to.as_deref(), Some(pair[0].as_str()));
    }
    let under_head: Vec<String> = replies(app, THREADS, &ids[0])
        .await
        .into_iter()
        .map(|r| r.text)
        .collect();
    assert!(
        under_head.contains(&"Thanks for reading".to_owned()),
        "{under_head:?}"
    );

    let url = published.url.expect("a permalink");
    let (status, html) = page(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Thanks for reading"));

    // Asked to, the text goes as one post, and Threads refuses it.
    let as_one = post(
        PostKind::Text,
        &[("title", &text), ("threads_long_text_as_post", "true")],
        vec![],
    );
    let refused = publisher()
        .publish(&account.call(&none, "m2"), &as_one)
        .await;
    assert!(
        matches!(
            &refused,
            Err(PublishError::Refused {
                retryable: false,
                ..
            })
        ),
        "{refused:?}"
    );
}

async fn an_image_and_a_carousel_are_pulled(app: &TestApp) {
    let account = Account::connect(app, "shower", THREADS, 1).await;
    let served = Served::new(&[
        ("a", JPEG, "image/jpeg"),
        ("b", PNG, "image/png"),
        ("c", JPEG, "image/jpeg"),
    ])
    .await;
    let one = post(
        PostKind::Photos,
        &[("title", "One"), ("threads_alt_text", "a loaf")],
        vec![served.media("a", MediaKind::Image, "a.jpg")],
    );
    let published = publisher()
        .publish(&account.call(&served, "m3"), &one)
        .await
        .unwrap();
    let kept = stored(app, THREADS, &published.post_id).await.unwrap();
    assert_eq!(kept.media_ids().len(), 1);
    assert_eq!(kept.extra()["media_type"], "IMAGE");

    let carousel = post(
        PostKind::Photos,
        &[("title", "Three"), ("threads_alt_text", "x||y||z")],
        ["a", "b", "c"]
            .iter()
            .map(|id| served.media(id, MediaKind::Image, "x"))
            .collect(),
    );
    let published = publisher()
        .publish(&account.call(&served, "m4"), &carousel)
        .await
        .unwrap();
    let kept = stored(app, THREADS, &published.post_id).await.unwrap();
    assert_eq!(kept.extra()["media_type"], "CAROUSEL");
    assert_eq!(kept.media_ids().len(), 3);
    let (_, html) = page(&published.url.unwrap()).await;
    assert_eq!(
        html.matches("/sandbox/threads/_media/").count(),
        3,
        "{html}"
    );
    assert!(html.contains('z'));

    // An image Threads cannot fetch leaves the container in ERROR: refused, finally.
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
        matches!(&refused, Err(PublishError::Refused { code, retryable: false, .. }) if code == "media_rejected"),
        "{refused:?}"
    );
}

async fn faults_are_read_as_the_engine_needs(app: &TestApp) {
    let account = Account::connect(app, "faulty", THREADS, 0).await;
    let none = Served::new(&[]).await;
    let p = post(PostKind::Text, &[("title", "hello")], vec![]);
    let call = account.call(&none, "m6");
    fault(app, THREADS, "graph", &["rate_limited"]).await;
    let rate_limited = publisher().publish(&call, &p).await;
    // The container and its status pass; publishing it fails.
    fault(app, THREADS, "graph", &["pass", "pass", "server_error"]).await;
    let server_error = publisher().publish(&call, &p).await;
    fault(app, THREADS, "graph", &["token_revoked"]).await;
    let token_revoked = publisher().publish(&call, &p).await;
    assert_fault_reading(rate_limited, server_error, token_revoked);
}

async fn a_lost_answer_is_found_and_deleting_is_not_supported(app: &TestApp) {
    let account = Account::connect(app, "finder", THREADS, 0).await;
    let none = Served::new(&[]).await;
    let text = unique("Out there?");
    let p = post(PostKind::Text, &[("title", &text)], vec![]);
    let call = account.call(&none, "m7");
    let made = publisher().publish(&call, &p).await.unwrap();
    let found = publisher().find(&call, &p).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    assert_eq!(found.url, made.url);
    let other = post(PostKind::Text, &[("title", "never posted")], vec![]);
    assert_eq!(publisher().find(&call, &other).await.unwrap(), None);

    // A reply to it, by id.
    let answer = post(
        PostKind::Text,
        &[
            ("title", "and a reply"),
            ("threads_reply_to_id", &made.post_id),
        ],
        vec![],
    );
    let reply = publisher().publish(&call, &answer).await.unwrap();
    let kept = stored(app, THREADS, &reply.post_id).await.unwrap();
    assert_eq!(kept.reply_to.as_deref(), Some(made.post_id.as_str()));

    let e = publisher()
        .unpublish(&call, &made.post_id)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "platform_not_supported");
    assert!(stored(app, THREADS, &made.post_id).await.is_some());
}
