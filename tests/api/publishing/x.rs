//! The X publisher against the X emulator.

use super::ToEnd;
use super::graph_support::{assert_refused_for_good, stored};
use super::{Account, media_urls, page, post};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::upload::PostKind;
use postgate::domain::{Platform, time};
use postgate::publish::publisher::{Post, PublishError};
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    x_text_post_goes_out_and_is_shown_escaped,
    x_long_text_and_five_images_become_a_thread_with_alt_texts,
    x_replies_and_first_comments_join_the_thread,
    x_faults_are_retryable_in_doubt_or_reauth,
    x_repeated_text_is_a_final_duplicate,
    x_find_returns_a_post_whose_answer_was_lost,
    x_unpublish_deletes_the_post,
    x_posts_and_media_survive_a_restart,
    x_text_options_are_sent_in_x_wire_names,
    x_image_options_tag_users_and_place_the_post,
    x_thread_wide_flags_reach_every_post_and_the_rest_the_first,
    x_invalid_combinations_publish_nothing,
    x_the_emulator_refuses_bodies_x_would_refuse,
    x_post_url_is_left_out_with_a_warning,
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
    let made = account
        .publisher()
        .publish_to_end(&call, &text)
        .await
        .unwrap();
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
    assert_refused_for_good(&again);
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

/// The body the emulator stored for a post.
async fn stored_body(app: &TestApp, post_id: &str) -> Value {
    stored(app, Platform::X, post_id)
        .await
        .expect("stored")
        .extra()
}

async fn x_text_options_are_sent_in_x_wire_names(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let parent = account
        .publish(&post(PostKind::Text, &[("title", "the question")], 0))
        .await
        .unwrap();
    let made = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "the answer"),
                ("reply_to_id", &parent.post_id),
                ("exclude_reply_user_ids[]", "2244994945"),
                ("nullcast", "false"),
                ("geo_place_id", "df51dec6f4ee2b2c"),
                ("for_super_followers_only", "true"),
                ("community_id", "1146654567674912769"),
                ("share_with_followers", "true"),
                (
                    "direct_message_deep_link",
                    "https://x.com/messages/compose?recipient_id=1",
                ),
                ("x_paid_partnership", "true"),
                ("made_with_ai", "false"),
                ("reply_settings", "following"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(
        stored_body(app, &made.post_id).await,
        json!({
            "text": "the answer",
            "reply": {
                "in_reply_to_tweet_id": parent.post_id,
                "exclude_reply_user_ids": ["2244994945"],
            },
            "nullcast": false,
            "geo": {"place_id": "df51dec6f4ee2b2c"},
            "for_super_followers_only": true,
            "community_id": "1146654567674912769",
            "share_with_followers": true,
            "direct_message_deep_link": "https://x.com/messages/compose?recipient_id=1",
            "paid_partnership": true,
            "made_with_ai": false,
            "reply_settings": "following",
        })
    );
    let (_, html) = page(app, made.url.as_deref().unwrap()).await;
    for note in [
        "For Super Followers only",
        "Paid partnership",
        "In community: 1146654567674912769",
        "Place: df51dec6f4ee2b2c",
        "Who can reply: following",
        "Left out of the reply: 2244994945",
    ] {
        assert!(html.contains(note), "{note}: {html}");
    }
    assert!(!html.contains("Made with AI"), "false is not shown");
    let card = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "a card"),
                ("card_uri", "card://1346889436626259968"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(
        stored_body(app, &card.post_id).await,
        json!({"text": "a card", "card_uri": "card://1346889436626259968"})
    );
    let poll = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "which?"),
                ("poll_options", r#"["this","that"]"#),
                ("poll_duration", "30"),
                ("poll_reply_settings", "mentionedUsers"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(
        stored_body(app, &poll.post_id).await,
        json!({"text": "which?", "poll": {
            "options": ["this", "that"], "duration_minutes": 30, "reply_settings": "mentionedUsers",
        }})
    );
}

async fn x_image_options_tag_users_and_place_the_post(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let made = account
        .publish(&post(
            PostKind::Photos,
            &[
                ("title", "us"),
                ("tagged_user_ids", r#"["11","12"]"#),
                ("place_id", "07d9db48bc083000"),
                ("is_ai_generated", "true"),
            ],
            2,
        ))
        .await
        .unwrap();
    let post = stored(app, Platform::X, &made.post_id).await.unwrap();
    assert_eq!(
        post.extra(),
        json!({
            "text": "us",
            "media": {"media_ids": post.media_ids(), "tagged_user_ids": ["11", "12"]},
            "geo": {"place_id": "07d9db48bc083000"},
            "made_with_ai": true,
        })
    );
    assert_eq!(post.media_ids().len(), 2);
}

async fn x_thread_wide_flags_reach_every_post_and_the_rest_the_first(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 1).await;
    let text = format!("{}\n\n{}", "first ".repeat(40), "second ".repeat(40));
    let made = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", &text),
                ("nullcast", "true"),
                ("x_paid_partnership", "true"),
                ("community_id", "42"),
                ("reply_settings", "verified"),
                ("first_comment", "the comment"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(made.extra["first_comment_posted"], true);
    let ids: Vec<String> = made.extra["post_ids"]
        .as_array()
        .expect("a thread")
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    let first = stored_body(app, &ids[0]).await;
    assert_eq!(
        (
            &first["community_id"],
            &first["reply_settings"],
            &first["nullcast"],
            &first["paid_partnership"]
        ),
        (&json!("42"), &json!("verified"), &json!(true), &json!(true))
    );
    let second = stored_body(app, &ids[1]).await;
    let mut keys: Vec<&String> = second.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["nullcast", "paid_partnership", "reply", "text"],
        "{second}"
    );
    let comment = super::graph_support::replies(app, Platform::X, &ids[0])
        .await
        .into_iter()
        .find(|p| p.text == "the comment")
        .expect("the first comment");
    assert_eq!(
        comment.extra(),
        json!({"text": "the comment", "nullcast": true, "paid_partnership": true,
               "reply": {"in_reply_to_tweet_id": ids[0]}})
    );
}

async fn x_invalid_combinations_publish_nothing(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let cases: [(&str, Post); 9] = [
        (
            "quote_tweet_id",
            post(
                PostKind::Photos,
                &[("title", "q"), ("quote_tweet_id", "1")],
                1,
            ),
        ),
        (
            "card_uri",
            post(
                PostKind::Photos,
                &[("title", "c"), ("card_uri", "card://1")],
                1,
            ),
        ),
        (
            "card_uri",
            post(
                PostKind::Text,
                &[
                    ("title", "c"),
                    ("card_uri", "card://1"),
                    ("poll_options", "a,b"),
                ],
                0,
            ),
        ),
        (
            "poll_options",
            post(
                PostKind::Text,
                &[
                    ("title", "p"),
                    ("quote_tweet_id", "1"),
                    ("poll_options", "a,b"),
                ],
                0,
            ),
        ),
        (
            "community_id",
            post(
                PostKind::Text,
                &[("title", "c"), ("community_id", "x-123")],
                0,
            ),
        ),
        (
            "tagged_user_ids",
            post(
                PostKind::Text,
                &[("title", "t"), ("tagged_user_ids", "1,2")],
                0,
            ),
        ),
        (
            "exclude_reply_user_ids",
            post(
                PostKind::Text,
                &[("title", "e"), ("exclude_reply_user_ids", "1")],
                0,
            ),
        ),
        (
            "poll_reply_settings",
            post(
                PostKind::Text,
                &[("title", "p"), ("poll_reply_settings", "following")],
                0,
            ),
        ),
        (
            "made_with_ai",
            post(
                PostKind::Text,
                &[("title", "m"), ("made_with_ai", "perhaps")],
                0,
            ),
        ),
    ];
    for (named, bad) in &cases {
        let e = account.publish(bad).await.unwrap_err();
        assert!(matches!(e, PublishError::Invalid { .. }), "{named}: {e:?}");
        assert_eq!(e.code(), "invalid_field");
        assert!(e.to_string().contains(named), "{named}: {e}");
        assert_eq!(
            account.publisher().check(bad).unwrap_err(),
            e,
            "found by the check"
        );
    }
    let calls: Vec<String> = app
        .sandbox_calls()
        .await
        .into_iter()
        .filter(|c| c.0 == "x")
        .map(|c| c.1)
        .collect();
    assert!(
        calls.iter().all(|c| c != "tweets" && c != "media_upload"),
        "{calls:?}"
    );
}

async fn x_the_emulator_refuses_bodies_x_would_refuse(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let url = account.app().url("tweets").unwrap();
    for (body, message) in [
        (
            json!({"text": "a", "nullcast": "yes"}),
            "nullcast: a boolean",
        ),
        (
            json!({"text": "a", "place_id": "p"}),
            "place_id: is not a field X takes here",
        ),
        (
            json!({"text": "a", "poll": {"options": ["a", "b"], "duration_minutes": 5}, "card_uri": "c"}),
            "Your request can only include one of these fields: poll, card_uri",
        ),
        (
            json!({"text": "a", "reply": {"exclude_reply_user_ids": ["1"]}}),
            "reply.in_reply_to_tweet_id: is required",
        ),
    ] {
        let resp = app
            .client
            .post(url.clone())
            .bearer_auth(&account.tokens.access_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["errors"][0]["message"], message, "{answer}");
        assert_eq!(answer["title"], "Invalid Request");
    }
}

async fn x_post_url_is_left_out_with_a_warning(app: &TestApp) {
    let account = Account::connect(app, Platform::X, 0).await;
    let made = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "read this"),
                ("post_url", "https://example.com/article"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(made.warnings.len(), 1, "{:?}", made.warnings);
    assert!(made.warnings[0].contains("post_url"));
    assert_eq!(
        stored_body(app, &made.post_id).await,
        json!({"text": "read this"})
    );
}
