//! The Threads publisher against the emulated Threads API: containers the emulator builds
//! by pulling each image from Postgate's media URL, published once.

use super::ToEnd;
use super::graph_support::{
    Account, JPEG, MP4, PNG, Served, assert_fault_reading, assert_refused_for_good, calls_of,
    fault, graph_posts, page, post, replies, stored, unique,
};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::Platform;
use postgate::domain::upload::{MediaKind, PostKind};
use postgate::publish::publisher::{Call, Progress, PublishError, Publisher};
use postgate::publish::publishers::for_platform;
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    long_text_becomes_a_thread_with_a_first_comment,
    an_image_and_a_carousel_are_pulled,
    faults_are_read_as_the_engine_needs,
    a_lost_answer_is_found_and_deleting_is_not_supported,
    quotes_links_and_polls_reach_the_post,
    auto_published_text_needs_no_publish_call,
    many_images_and_layouts_make_a_thread,
    invalid_options_publish_nothing,
    a_video_is_pending_then_published_once_and_plays,
    a_mixed_carousel_and_a_failed_video,
];

const THREADS: Platform = Platform::Threads;

fn publisher() -> &'static dyn Publisher {
    for_platform(THREADS)
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
        .publish_to_end(&account.call(&none, "m1"), &p)
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
        .publish_to_end(&account.call(&none, "m2"), &as_one)
        .await;
    assert_refused_for_good(&refused);
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
        .publish_to_end(&account.call(&served, "m3"), &one)
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
        .publish_to_end(&account.call(&served, "m4"), &carousel)
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
        .publish_to_end(&account.call(&served, "m5"), &missing)
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
    let rate_limited = publisher().publish_to_end(&call, &p).await;
    // The container and its status pass; publishing it fails.
    fault(app, THREADS, "graph", &["pass", "pass", "server_error"]).await;
    let server_error = publisher().publish_to_end(&call, &p).await;
    fault(app, THREADS, "graph", &["token_revoked"]).await;
    let token_revoked = publisher().publish_to_end(&call, &p).await;
    assert_fault_reading(rate_limited, server_error, token_revoked);
}

async fn a_lost_answer_is_found_and_deleting_is_not_supported(app: &TestApp) {
    let account = Account::connect(app, "finder", THREADS, 0).await;
    let none = Served::new(&[]).await;
    let text = unique("Out there?");
    let p = post(PostKind::Text, &[("title", &text)], vec![]);
    let call = account.call(&none, "m7");
    let made = publisher().publish_to_end(&call, &p).await.unwrap();
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
    let reply = publisher().publish_to_end(&call, &answer).await.unwrap();
    let kept = stored(app, THREADS, &reply.post_id).await.unwrap();
    assert_eq!(kept.reply_to.as_deref(), Some(made.post_id.as_str()));

    let e = publisher()
        .unpublish(&call, &made.post_id)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "platform_not_supported");
    assert!(stored(app, THREADS, &made.post_id).await.is_some());
}

/// The post as the emulated Threads API reads it back (`GET /{media-id}`).
async fn read_back(account: &Account, post_id: &str) -> Value {
    let mut url = account.app.url("graph").unwrap().join(post_id).unwrap();
    url.query_pairs_mut()
        .append_pair("access_token", &account.tokens.access_token);
    let resp = reqwest::get(url).await.expect("read back");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn quotes_links_and_polls_reach_the_post(app: &TestApp) {
    let account = Account::connect(app, "quoter", THREADS, 0).await;
    let none = Served::new(&[]).await;
    let call = account.call(&none, "q1");
    let original = publisher()
        .publish_to_end(
            &call,
            &post(PostKind::Text, &[("title", "original")], vec![]),
        )
        .await
        .unwrap();

    let quoting = post(
        PostKind::Text,
        &[
            ("title", "Worth a read"),
            ("threads_quote_post_id", &original.post_id),
            ("threads_link_attachment", "https://example.com/article"),
        ],
        vec![],
    );
    let quote = publisher().publish_to_end(&call, &quoting).await.unwrap();
    let kept = stored(app, THREADS, &quote.post_id).await.unwrap();
    assert_eq!(kept.quote_of.as_deref(), Some(original.post_id.as_str()));
    assert_eq!(
        kept.extra()["link_attachment"],
        "https://example.com/article"
    );
    let read = read_back(&account, &quote.post_id).await;
    assert_eq!(read["is_quote_post"], true);
    assert_eq!(read["quoted_post"], json!({"id": original.post_id}));
    assert_eq!(read["link_attachment_url"], "https://example.com/article");

    let polling = post(
        PostKind::Text,
        &[
            ("title", "Which bread?"),
            ("threads_poll_options", r#"["Rye","Sourdough","Brioche"]"#),
        ],
        vec![],
    );
    let poll = publisher().publish_to_end(&call, &polling).await.unwrap();
    let kept = stored(app, THREADS, &poll.post_id).await.unwrap();
    assert_eq!(
        kept.extra()["poll"],
        json!({"options": ["Rye", "Sourdough", "Brioche"]})
    );
    let read = read_back(&account, &poll.post_id).await;
    assert_eq!(
        read["poll_attachment"],
        json!({"option_a": "Rye", "option_b": "Sourdough", "option_c": "Brioche"})
    );
    assert_eq!(read["is_quote_post"], false);
    let (_, html) = page(&poll.url.unwrap()).await;
    assert!(html.contains("<li>Sourdough</li>"), "{html}");
    let (_, html) = page(&quote.url.unwrap()).await;
    assert!(html.contains("https://example.com/article"), "{html}");
}

async fn auto_published_text_needs_no_publish_call(app: &TestApp) {
    let account = Account::connect(app, "autopub", THREADS, 0).await;
    let none = Served::new(&[]).await;
    let call = account.call(&none, "a1");
    let before = graph_posts(app, THREADS).await;
    let text = unique("Straight out");
    let auto = post(
        PostKind::Text,
        &[
            ("title", &text),
            ("threads_auto_publish_text", "true"),
            ("threads_topic_tag", "News"),
        ],
        vec![],
    );
    let published = publisher().publish_to_end(&call, &auto).await.unwrap();
    // One container, and it is the post: no threads_publish.
    assert_eq!(graph_posts(app, THREADS).await - before, 1);
    assert!(!published.extra.contains_key("container_id"));
    let kept = stored(app, THREADS, &published.post_id)
        .await
        .expect("the container's answer names the post");
    assert_eq!(kept.text, text);
    assert_eq!(kept.extra()["topic_tag"], "News");
    assert!(published.url.is_some());
    assert_eq!(
        publisher()
            .find(&call, &auto)
            .await
            .unwrap()
            .unwrap()
            .post_id,
        published.post_id
    );

    // Without the flag, the container is published in a second call.
    let before = graph_posts(app, THREADS).await;
    let plain = post(PostKind::Text, &[("title", &unique("Two steps"))], vec![]);
    let published = publisher().publish_to_end(&call, &plain).await.unwrap();
    assert_eq!(graph_posts(app, THREADS).await - before, 2);
    assert!(published.extra.contains_key("container_id"));
}

async fn many_images_and_layouts_make_a_thread(app: &TestApp) {
    let account = Account::connect(app, "gallery", THREADS, 1).await;
    let ids: Vec<String> = (0..21).map(|i| format!("i{i}")).collect();
    let files: Vec<(&str, &'static [u8], &str)> = ids
        .iter()
        .map(|id| (id.as_str(), JPEG, "image/jpeg"))
        .collect();
    let served = Served::new(&files).await;
    let media = |n: usize| -> Vec<_> {
        ids[..n]
            .iter()
            .map(|id| served.media(id, MediaKind::Image, "x.jpg"))
            .collect()
    };

    // 21 images: a carousel of 20, then the last one answering it.
    let many = post(PostKind::Photos, &[("title", "All of them")], media(21));
    let published = publisher()
        .publish_to_end(&account.call(&served, "g1"), &many)
        .await
        .unwrap();
    let posts = published.extra["post_ids"].as_array().expect("a thread");
    assert_eq!(posts.len(), 2);
    let head = stored(app, THREADS, &published.post_id).await.unwrap();
    assert_eq!(head.extra()["media_type"], "CAROUSEL");
    assert_eq!(head.media_ids().len(), 20);
    let tail = stored(app, THREADS, posts[1].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(tail.extra()["media_type"], "IMAGE");
    assert_eq!(tail.media_ids().len(), 1);
    assert_eq!(tail.reply_to.as_deref(), Some(head.post_id.as_str()));

    // "1,2": one image with the text, then a carousel of two with the alt texts in order.
    let laid = post(
        PostKind::Photos,
        &[
            ("title", "Laid out"),
            ("threads_thread_media_layout", "1,2"),
            ("threads_alt_text", "one||two||three"),
        ],
        media(3),
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "g2"), &laid)
        .await
        .unwrap();
    let posts = published.extra["post_ids"].as_array().expect("a thread");
    let head = stored(app, THREADS, &published.post_id).await.unwrap();
    assert_eq!(head.extra()["media_type"], "IMAGE");
    assert_eq!(head.text, "Laid out");
    assert_eq!(head.extra()["alt_texts"], json!(["one"]));
    let tail = stored(app, THREADS, posts[1].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(tail.extra()["media_type"], "CAROUSEL");
    assert_eq!(tail.extra()["alt_texts"], json!(["two", "three"]));
    assert_eq!(tail.text, "");
}

async fn invalid_options_publish_nothing(app: &TestApp) {
    let account = Account::connect(app, "strict", THREADS, 0).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg")]).await;
    let image = || vec![served.media("a", MediaKind::Image, "a.jpg")];
    let before = calls_of(app, THREADS, "graph").await.len();
    let text = |extra: &[(&str, &str)]| {
        let mut fields = vec![("title", "hello")];
        fields.extend_from_slice(extra);
        post(PostKind::Text, &fields, vec![])
    };
    let bad = [
        text(&[("threads_link_attachment", "ftp://example.com/x")]),
        text(&[("threads_link_attachment", "not a url")]),
        text(&[("threads_poll_options", "a,b,c,d,e")]),
        text(&[("threads_poll_options", "only one")]),
        text(&[(
            "threads_poll_options",
            "short,this option is far too long to fit",
        )]),
        text(&[
            ("threads_poll_options", "a,b"),
            ("threads_link_attachment", "https://example.com"),
        ]),
        text(&[("threads_auto_publish_text", "maybe")]),
        post(
            PostKind::Photos,
            &[("threads_poll_options", "a,b")],
            image(),
        ),
        post(
            PostKind::Photos,
            &[("threads_link_attachment", "https://example.com")],
            image(),
        ),
        post(
            PostKind::Photos,
            &[("threads_auto_publish_text", "true")],
            image(),
        ),
        post(
            PostKind::Photos,
            &[("threads_thread_media_layout", "2")],
            image(),
        ),
        post(
            PostKind::Photos,
            &[("threads_thread_media_layout", "1,0")],
            image(),
        ),
    ];
    for p in &bad {
        assert!(
            matches!(publisher().check(p), Err(PublishError::Invalid { .. })),
            "{:?}",
            p.fields
        );
        let refused = publisher()
            .publish_to_end(&account.call(&served, "s1"), p)
            .await;
        assert!(
            matches!(&refused, Err(PublishError::Invalid { code, .. }) if code == "invalid_field"),
            "{refused:?}"
        );
    }
    assert_eq!(calls_of(app, THREADS, "graph").await.len(), before);
}

async fn a_video_is_pending_then_published_once_and_plays(app: &TestApp) {
    app.sandbox_control(json!({"platform": "threads", "processing_ms": 1200}))
        .await;
    let account = Account::connect(app, "filmer", THREADS, 0).await;
    let served = Served::new(&[("v", MP4, "video/mp4")]).await;
    let p = post(
        PostKind::Video,
        &[
            ("title", &unique("A clip")),
            ("threads_alt_text", "a kettle"),
        ],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    let call = account.call(&served, "v1");
    let before = graph_posts(app, THREADS).await;
    let Progress::Pending { mut state, .. } = publisher().publish(&call, &p).await.unwrap() else {
        panic!("a fresh video is still processing");
    };
    assert!(state["container"].is_string(), "{state}");
    let published = loop {
        let step = Call {
            resume: Some(&state),
            ..call
        };
        match publisher().publish(&step, &p).await.unwrap() {
            Progress::Done(published) => break published,
            Progress::Pending { state: next, .. } => {
                assert_eq!(next, state, "the same container");
                state = next;
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
        }
    };
    assert_eq!(published.extra["container_id"], state["container"]);
    assert_eq!(
        graph_posts(app, THREADS).await - before,
        2,
        "one container, one publish"
    );
    let kept = stored(app, THREADS, &published.post_id).await.unwrap();
    assert_eq!(kept.extra()["media_type"], "VIDEO");
    assert_eq!(kept.extra()["alt_texts"], json!(["a kettle"]));
    let (status, html) = page(&published.url.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<video controls"), "{html}");
}

async fn a_mixed_carousel_and_a_failed_video(app: &TestApp) {
    app.sandbox_control(json!({"platform": "threads", "processing_ms": 0}))
        .await;
    let account = Account::connect(app, "mixer", THREADS, 1).await;
    let served = Served::new(&[("a", JPEG, "image/jpeg"), ("v", MP4, "video/mp4")]).await;
    let carousel = post(
        PostKind::Photos,
        &[("title", "Both")],
        vec![
            served.media("a", MediaKind::Image, "a.jpg"),
            served.media("v", MediaKind::Video, "v.mp4"),
        ],
    );
    let published = publisher()
        .publish_to_end(&account.call(&served, "v2"), &carousel)
        .await
        .unwrap();
    let kept = stored(app, THREADS, &published.post_id).await.unwrap();
    assert_eq!(kept.extra()["media_type"], "CAROUSEL");
    assert_eq!(kept.media_ids().len(), 2);
    let (_, html) = page(&published.url.unwrap()).await;
    assert_eq!(html.matches("<video controls").count(), 1, "{html}");

    let video = post(
        PostKind::Video,
        &[("title", "Broken")],
        vec![served.media("v", MediaKind::Video, "v.mp4")],
    );
    fault(app, THREADS, "graph", &["processing_failed"]).await;
    let e = publisher()
        .publish_to_end(&account.call(&served, "v3"), &video)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "processing_failed");
    assert!(!e.retryable());
}
