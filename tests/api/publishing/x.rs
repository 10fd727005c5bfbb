//! The X publisher against the X emulator.

use super::{Account, media_urls, page, post};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::upload::PostKind;
use postgate::domain::{Platform, time};
use postgate::publish::publisher::PublishError;
use reqwest::StatusCode;

cases![
    x_text_post_goes_out_and_is_shown_escaped,
    x_long_text_and_five_images_become_a_thread_with_alt_texts,
    x_replies_and_first_comments_join_the_thread,
    x_faults_are_retryable_in_doubt_or_reauth,
    x_repeated_text_is_a_final_duplicate,
    x_find_returns_a_post_whose_answer_was_lost,
    x_unpublish_deletes_the_post,
    x_posts_and_media_survive_a_restart,
];

async fn x_text_post_goes_out_and_is_shown_escaped(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let published = account
        .publish(&post(
            PostKind::Text,
            &[("title", "Hello <b>world</b> & friends")],
            0,
        ))
        .await
        .unwrap();
    assert!(published.post_id.parse::<u64>().is_ok(), "a snowflake");
    let url = published.url.unwrap();
    assert!(
        url.ends_with(&format!("/sandbox/x/_posts/{}", published.post_id)),
        "{url}"
    );
    let (status, html) = page(app, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Hello &#60;b&#62;world&#60;/b&#62; &#38; friends"),
        "escaped: {html}"
    );
    assert!(!html.contains("<b>world"));
    assert!(html.contains("alex.rivera"), "the account");
    let calls = app.sandbox_calls().await;
    assert!(calls.contains(&("x".into(), "tweets".into(), "POST".into())));
}

async fn x_long_text_and_five_images_become_a_thread_with_alt_texts(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let text = format!("{}\n\n{}", "first ".repeat(40), "second ".repeat(40));
    let post = post(
        PostKind::Photos,
        &[
            ("title", &text),
            ("x_alt_text", "one||two||three||four||five"),
        ],
        5,
    );
    let published = account.publish(&post).await.unwrap();
    let ids = published.extra["post_ids"].as_array().expect("a thread");
    assert_eq!(ids.len(), 2, "two texts, images four and one");
    let (_, html) = page(app, published.url.as_deref().unwrap()).await;
    assert!(html.contains("second second"), "the reply is in the thread");
    let images = media_urls(&html);
    assert_eq!(images.len(), 5, "{html}");
    for alt in ["one", "two", "three", "four", "five"] {
        assert!(html.contains(&format!("alt=\"{alt}\"")), "{alt}");
    }
    let image = app.client.get(&images[0]).send().await.unwrap();
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), super::PIXEL);
    let calls = app.sandbox_calls().await;
    let count = |name: &str| calls.iter().filter(|c| c.0 == "x" && c.1 == name).count();
    assert_eq!(
        (
            count("media_upload"),
            count("media_metadata"),
            count("tweets")
        ),
        (5, 5, 2)
    );
}

async fn x_replies_and_first_comments_join_the_thread(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 1).await;
    let parent = account
        .publish(&post(PostKind::Text, &[("title", "the parent")], 0))
        .await
        .unwrap();
    let reply = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "a reply"),
                ("reply_to_id", &parent.post_id),
                ("first_comment", "and a comment"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(reply.extra["first_comment_posted"], true);
    let (_, html) = page(app, parent.url.as_deref().unwrap()).await;
    assert!(
        html.contains("a reply") && html.contains("and a comment"),
        "{html}"
    );

    // A first comment that fails (too long for X) is only a warning.
    let lone = post(
        PostKind::Text,
        &[
            ("title", "lonely"),
            ("first_comment", "x".repeat(300).as_str()),
        ],
        0,
    );
    let published = account.publish(&lone).await.unwrap();
    assert_eq!(
        published.extra["first_comment_posted"], false,
        "as on every platform"
    );
    assert_eq!(published.warnings.len(), 1, "{:?}", published.warnings);

    // Replying to a post that is not there is X's final refusal.
    let orphan = post(
        PostKind::Text,
        &[("title", "orphan"), ("reply_to_id", "1")],
        0,
    );
    let e = account.publish(&orphan).await.unwrap_err();
    assert!(
        matches!(
            e,
            PublishError::Refused {
                retryable: false,
                ..
            }
        ),
        "{e:?}"
    );
}

async fn x_faults_are_retryable_in_doubt_or_reauth(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    app.sandbox_control(TestApp::faults(
        "x",
        "tweets",
        &["rate_limited", "server_error", "token_revoked"],
    ))
    .await;
    let text = post(PostKind::Text, &[("title", "under fire")], 0);
    let limited = account.publish(&text).await.unwrap_err();
    assert!(limited.retryable(), "{limited:?}");
    assert_eq!(limited.code(), "rate_limited");
    let down = account.publish(&text).await.unwrap_err();
    assert!(matches!(down, PublishError::InDoubt(_)), "{down:?}");
    let revoked = account.publish(&text).await.unwrap_err();
    assert!(
        matches!(revoked, PublishError::Reauth { .. }),
        "{revoked:?}"
    );
    // A failed media upload created nothing visible: simply retryable.
    app.sandbox_control(TestApp::faults("x", "media_upload", &["server_error"]))
        .await;
    let photo = post(PostKind::Photos, &[("title", "pic")], 1);
    let e = account.publish(&photo).await.unwrap_err();
    assert!(e.retryable(), "{e:?}");
    assert!(account.publish(&text).await.is_ok(), "faults used up");
}

async fn x_repeated_text_is_a_final_duplicate(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let text = post(PostKind::Text, &[("title", "say it once")], 0);
    account.publish(&text).await.unwrap();
    let e = account.publish(&text).await.unwrap_err();
    assert_eq!(e.code(), "duplicate_content");
    assert!(!e.retryable());
}

async fn x_find_returns_a_post_whose_answer_was_lost(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let since = time::now();
    let text = post(
        PostKind::Text,
        &[("title", "did it go out? https://example.com/a")],
        0,
    );
    let call = account.call("marker-1", since);
    assert_eq!(account.publisher().find(&call, &text).await.unwrap(), None);
    // The emulator stored it; the engine never saw the answer.
    let made = account.publisher().publish(&call, &text).await.unwrap();
    let found = account
        .publisher()
        .find(&call, &text)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.post_id, made.post_id);
    assert_eq!(found.url, made.url);
}

async fn x_unpublish_deletes_the_post(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let made = account
        .publish(&post(PostKind::Text, &[("title", "short-lived")], 0))
        .await
        .unwrap();
    let call = account.call("m", time::now());
    account
        .publisher()
        .unpublish(&call, &made.post_id)
        .await
        .unwrap();
    let (status, _) = page(app, made.url.as_deref().unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let again = account.publisher().unpublish(&call, &made.post_id).await;
    assert!(
        matches!(
            again,
            Err(PublishError::Refused {
                retryable: false,
                ..
            })
        ),
        "{again:?}"
    );
}

async fn x_posts_and_media_survive_a_restart(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let made = account
        .publish(&post(PostKind::Photos, &[("title", "still here")], 1))
        .await
        .unwrap();
    app.stop().await;
    let other = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.database_url = Some(app.test_db.url.clone());
        raw.data_dir = app.test_db.dir.path().to_owned();
    })
    .await;
    let url = made.url.unwrap().replace(&app.address, &other.address);
    let (status, html) = page(&other, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("still here"));
    let image = media_urls(&html).pop().expect("the image");
    let bytes = other
        .client
        .get(&image)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), super::PIXEL);
}
