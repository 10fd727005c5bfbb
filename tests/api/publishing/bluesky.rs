//! The Bluesky publisher against the PDS emulator.

use super::{Account, media_urls, page, post};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::upload::PostKind;
use postgate::domain::{Platform, time};
use postgate::publish::publisher::PublishError;
use reqwest::StatusCode;
use serde_json::Value;

cases![
    bluesky_facets_are_byte_ranges_of_links_mentions_and_tags,
    bluesky_images_with_alt_texts_and_a_long_text_thread,
    bluesky_replies_by_url_and_first_comments,
    bluesky_a_repeated_create_is_the_same_post_and_find_gets_it,
    bluesky_faults_are_retryable_in_doubt_or_reauth,
    bluesky_unpublish_deletes_the_record,
];

/// The stored record of a post, through the emulated `getRecord`.
async fn record(app: &TestApp, uri: &str) -> Value {
    let rest = uri.strip_prefix("at://").unwrap();
    let mut parts = rest.split('/');
    let (repo, collection, rkey) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let url = app.url(&format!(
        "/sandbox/bluesky/xrpc/com.atproto.repo.getRecord?repo={repo}&collection={collection}&rkey={rkey}"
    ));
    app.client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn bluesky_facets_are_byte_ranges_of_links_mentions_and_tags(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    let text =
        "Café ☕ für @samchen.bsky.social und @nobody.example.org: https://example.com/ü #Süß";
    let made = account
        .publish(&post(
            PostKind::Text,
            &[("title", text), ("bluesky_langs", "de,en")],
            0,
        ))
        .await
        .unwrap();
    assert!(
        made.post_id.starts_with("at://did:plc:sandbox1"),
        "{}",
        made.post_id
    );
    let stored = record(app, &made.post_id).await;
    let value = &stored["value"];
    assert_eq!(value["text"], text);
    assert_eq!(value["langs"], serde_json::json!(["de", "en"]));
    let facets = value["facets"].as_array().expect("facets");
    let spans: Vec<(&str, &str)> = facets
        .iter()
        .map(|f| {
            let (s, e) = (
                f["index"]["byteStart"].as_u64().unwrap() as usize,
                f["index"]["byteEnd"].as_u64().unwrap() as usize,
            );
            (&text[s..e], f["features"][0]["$type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        spans,
        [
            ("@samchen.bsky.social", "app.bsky.richtext.facet#mention"),
            ("https://example.com/ü", "app.bsky.richtext.facet#link"),
            ("#Süß", "app.bsky.richtext.facet#tag"),
        ],
        "the unresolvable handle stays plain text"
    );
    assert_eq!(
        facets[0]["features"][0]["did"],
        postgate::sandbox::people::platform_id(Platform::Bluesky, 1)
    );
    let (status, html) = page(app, made.url.as_deref().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Café ☕ für"), "{html}");
}

async fn bluesky_images_with_alt_texts_and_a_long_text_thread(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    let text = "ä".repeat(250) + "\n\n" + &"ö".repeat(100);
    let made = account
        .publish(&post(
            PostKind::Photos,
            &[
                ("title", &text),
                ("bluesky_alt_text", "a red pixel||a blue pixel"),
            ],
            2,
        ))
        .await
        .unwrap();
    let uris = made.extra["post_ids"].as_array().expect("a thread");
    assert_eq!(uris.len(), 2);
    let first = record(app, uris[0].as_str().unwrap()).await;
    assert_eq!(first["value"]["embed"]["images"][1]["alt"], "a blue pixel");
    let second = record(app, uris[1].as_str().unwrap()).await;
    assert_eq!(second["value"]["reply"]["root"]["uri"], uris[0]);
    let (_, html) = page(app, made.url.as_deref().unwrap()).await;
    assert_eq!(media_urls(&html).len(), 2);
    assert!(html.contains("alt=\"a red pixel\""), "{html}");
    assert!(
        html.contains(&"ö".repeat(100)),
        "the reply shows in the thread"
    );

    let five = post(PostKind::Photos, &[("title", "many")], 5);
    let e = account.publish(&five).await.unwrap_err();
    assert_eq!(e.code(), "too_many_images");
}

async fn bluesky_replies_by_url_and_first_comments(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 1).await;
    let parent = account
        .publish(&post(PostKind::Text, &[("title", "the parent")], 0))
        .await
        .unwrap();
    let rkey = parent.post_id.rsplit('/').next().unwrap();
    let web_url = format!("https://bsky.app/profile/samchen.bsky.social/post/{rkey}");
    let reply = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "a reply"),
                ("reply_to_id", &web_url),
                ("first_comment", "and a comment"),
                ("link_url", "https://example.com/more"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(reply.extra["first_comment_posted"], true);
    let stored = record(app, &reply.post_id).await;
    assert_eq!(stored["value"]["reply"]["parent"]["uri"], parent.post_id);
    assert_eq!(stored["value"]["reply"]["root"]["uri"], parent.post_id);
    assert_eq!(
        stored["value"]["embed"]["external"]["uri"],
        "https://example.com/more"
    );
    let (_, html) = page(app, parent.url.as_deref().unwrap()).await;
    assert!(
        html.contains("a reply") && html.contains("and a comment"),
        "{html}"
    );
}

async fn bluesky_a_repeated_create_is_the_same_post_and_find_gets_it(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    let text = post(PostKind::Text, &[("title", "exactly once")], 0);
    let call = account.call("marker-7", time::now());
    let publisher = account.publisher();
    assert_eq!(publisher.find(&call, &text).await.unwrap(), None);
    let made = publisher.publish(&call, &text).await.unwrap();
    // The answer was lost and the engine tries again: the record key collides.
    let again = publisher.publish(&call, &text).await.unwrap();
    assert_eq!(again.post_id, made.post_id);
    let found = publisher.find(&call, &text).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    let creates = app
        .sandbox_calls()
        .await
        .iter()
        .filter(|c| c.1 == "create_record")
        .count();
    assert_eq!(creates, 2, "both attempts reached the PDS, one post exists");
}

async fn bluesky_faults_are_retryable_in_doubt_or_reauth(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    app.sandbox_control(TestApp::faults(
        "bluesky",
        "create_record",
        &["server_error", "token_revoked"],
    ))
    .await;
    app.sandbox_control(TestApp::faults("bluesky", "upload_blob", &["rate_limited"]))
        .await;
    let photo = post(PostKind::Photos, &[("title", "under fire")], 1);
    let limited = account.publish(&photo).await.unwrap_err();
    assert!(limited.retryable(), "{limited:?}");
    let down = account.publish(&photo).await.unwrap_err();
    assert!(matches!(down, PublishError::InDoubt(_)), "{down:?}");
    let revoked = account.publish(&photo).await.unwrap_err();
    assert!(
        matches!(revoked, PublishError::Reauth { .. }),
        "{revoked:?}"
    );
}

async fn bluesky_unpublish_deletes_the_record(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
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
    assert_eq!(record(app, &made.post_id).await["error"], "RecordNotFound");
}
