//! The Bluesky publisher against the PDS emulator.

use super::ToEnd;
use super::{Account, media_urls, page, post};
use crate::cases;
use crate::support::TestApp;
use postgate::domain::upload::PostKind;
use postgate::domain::{Platform, time};
use postgate::publish::publisher::PublishError;
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    bluesky_facets_are_byte_ranges_of_links_mentions_and_tags,
    bluesky_images_with_alt_texts_and_a_long_text_thread,
    bluesky_replies_by_url_and_first_comments,
    bluesky_a_repeated_create_is_the_same_post_and_find_gets_it,
    bluesky_faults_are_retryable_in_doubt_or_reauth,
    bluesky_unpublish_deletes_the_record,
    bluesky_link_cards_and_quotes_with_or_without_images,
    bluesky_an_unknown_quote_is_refused_for_good,
    bluesky_gates_share_the_root_posts_record_key,
    bluesky_reply_settings_everyone_and_nobody,
    bluesky_a_gate_missing_after_a_lost_answer_is_made_by_the_retry,
    bluesky_self_labels_on_every_post_of_the_thread,
    bluesky_invalid_settings_publish_nothing,
];

/// The stored record at `uri` (a post's, or a gate's), through the emulated `getRecord`.
pub async fn record(app: &TestApp, uri: &str) -> Value {
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
    let made = publisher.publish_to_end(&call, &text).await.unwrap();
    // The answer was lost and the engine tries again: the record key collides.
    let again = publisher.publish_to_end(&call, &text).await.unwrap();
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
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "short-lived"),
                ("bluesky_threadgate", "nobody"),
                ("bluesky_postgate", "disabled"),
            ],
            0,
        ))
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
    for collection in [POST, THREADGATE, POSTGATE] {
        let uri = in_collection(&made.post_id, collection);
        assert_eq!(record(app, &uri).await["error"], "RecordNotFound", "{uri}");
    }
    // Deleting what is gone already is fine: the gates of a post without any, a second time.
    account
        .publisher()
        .unpublish(&call, &made.post_id)
        .await
        .unwrap();
}

const POST: &str = "app.bsky.feed.post";
const THREADGATE: &str = "app.bsky.feed.threadgate";
const POSTGATE: &str = "app.bsky.feed.postgate";

/// The URI of the record of `collection` under the same repo and record key as `post_uri`.
fn in_collection(post_uri: &str, collection: &str) -> String {
    post_uri.replace(POST, collection)
}

/// How many calls of `endpoint` the Bluesky emulator has had.
async fn calls_of(app: &TestApp, endpoint: &str) -> usize {
    app.sandbox_calls()
        .await
        .iter()
        .filter(|c| c.0 == "bluesky" && c.1 == endpoint)
        .count()
}

async fn bluesky_link_cards_and_quotes_with_or_without_images(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    let quoted = account
        .publish(&post(PostKind::Text, &[("title", "worth quoting")], 0))
        .await
        .unwrap();
    let quoted_ref =
        json!({"uri": quoted.post_id, "cid": record(app, &quoted.post_id).await["cid"]});
    let rkey = quoted.post_id.rsplit('/').next().unwrap();
    let handle = postgate::sandbox::people::handle(Platform::Bluesky, 0);
    let web_url = format!("https://bsky.app/profile/{handle}/post/{rkey}");

    let card = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "Read this"),
                ("bluesky_description", "All of it"),
                ("bluesky_link_url", "https://example.com/card"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(
        record(app, &card.post_id).await["value"]["embed"],
        json!({"$type": "app.bsky.embed.external", "external": {
            "uri": "https://example.com/card", "title": "Read this", "description": "All of it",
        }})
    );

    let quote_with_card = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "Quoting with a card"),
                ("link_url", "https://example.com/other"),
                ("bluesky_quote_url", &web_url),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(
        record(app, &quote_with_card.post_id).await["value"]["embed"],
        json!({
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"$type": "app.bsky.embed.record", "record": quoted_ref},
            "media": {"$type": "app.bsky.embed.external", "external": {
                "uri": "https://example.com/other", "title": "Quoting with a card", "description": "",
            }},
        })
    );

    let quote_with_image = account
        .publish(&post(
            PostKind::Photos,
            &[
                ("title", "Quoting with a picture"),
                ("bluesky_link_url", "https://example.com/pic"),
                ("bluesky_quote_id", &quoted.post_id),
            ],
            1,
        ))
        .await
        .unwrap();
    let value = record(app, &quote_with_image.post_id).await["value"].clone();
    assert_eq!(
        value["text"], "Quoting with a picture\n\nhttps://example.com/pic",
        "images win, the link stays in the text"
    );
    assert_eq!(
        value["facets"][0]["features"][0]["uri"],
        "https://example.com/pic"
    );
    let embed = &value["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.recordWithMedia");
    assert_eq!(
        embed["record"],
        json!({"$type": "app.bsky.embed.record", "record": quoted_ref})
    );
    assert_eq!(embed["media"]["$type"], "app.bsky.embed.images");
    assert_eq!(embed["media"]["images"].as_array().map(Vec::len), Some(1));
    let (_, html) = page(app, quote_with_image.url.as_deref().unwrap()).await;
    assert_eq!(media_urls(&html).len(), 1, "{html}");
    assert!(
        html.contains("Quoting an earlier post") && html.contains(&format!("_posts/{rkey}\"")),
        "the page links the quoted post: {html}"
    );

    let only_quote = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "Just quoting"),
                ("bluesky_quote_uri", &quoted.post_id),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(
        record(app, &only_quote.post_id).await["value"]["embed"],
        json!({"$type": "app.bsky.embed.record", "record": quoted_ref})
    );
}

async fn bluesky_an_unknown_quote_is_refused_for_good(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    let missing = format!(
        "at://{}/{POST}/3jzfcijpj2z2a",
        postgate::sandbox::people::platform_id(Platform::Bluesky, 0)
    );
    let before = calls_of(app, "create_record").await;
    let e = account
        .publish(&post(
            PostKind::Photos,
            &[
                ("title", "quoting nothing"),
                ("bluesky_quote_uri", &missing),
            ],
            1,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_field", "{e:?}");
    assert!(!e.retryable());
    assert_eq!(
        e.to_string(),
        format!("bluesky_quote_uri {missing} was not found")
    );
    assert_eq!(calls_of(app, "create_record").await, before);
    assert_eq!(
        calls_of(app, "upload_blob").await,
        0,
        "nothing uploaded either"
    );
}

async fn bluesky_gates_share_the_root_posts_record_key(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    let text = "a".repeat(250) + "\n\n" + &"b".repeat(100);
    let made = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", &text),
                ("bluesky_threadgate", "mentioned, following,followers"),
                ("bluesky_quote_settings", "none"),
                ("first_comment", "a comment"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert!(made.warnings.is_empty(), "{:?}", made.warnings);
    assert_eq!(made.extra["first_comment_posted"], true);
    let root = made.post_id.as_str();
    let threadgate = record(app, &in_collection(root, THREADGATE)).await;
    assert_eq!(threadgate["uri"], in_collection(root, THREADGATE));
    let value = &threadgate["value"];
    assert_eq!(
        *value,
        json!({
            "$type": THREADGATE,
            "post": root,
            "allow": [
                {"$type": "app.bsky.feed.threadgate#mentionRule"},
                {"$type": "app.bsky.feed.threadgate#followingRule"},
                {"$type": "app.bsky.feed.threadgate#followerRule"},
            ],
            "createdAt": value["createdAt"],
        })
    );
    assert!(
        value["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let postgate = record(app, &in_collection(root, POSTGATE)).await;
    let value = &postgate["value"];
    assert_eq!(
        *value,
        json!({
            "$type": POSTGATE,
            "post": root,
            "embeddingRules": [{"$type": "app.bsky.feed.postgate#disableRule"}],
            "createdAt": value["createdAt"],
        })
    );
    let second = made.extra["post_ids"][1].as_str().unwrap();
    assert_eq!(
        record(app, &in_collection(second, THREADGATE)).await["error"],
        "RecordNotFound",
        "the root alone is gated"
    );
}

async fn bluesky_reply_settings_everyone_and_nobody(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 1).await;
    let nobody = account
        .publish(&post(
            PostKind::Text,
            &[("title", "quiet"), ("bluesky_reply_settings", "nobody")],
            0,
        ))
        .await
        .unwrap();
    let gate = record(app, &in_collection(&nobody.post_id, THREADGATE)).await;
    assert_eq!(gate["value"]["allow"], json!([]));
    assert_eq!(
        record(app, &in_collection(&nobody.post_id, POSTGATE)).await["error"],
        "RecordNotFound"
    );
    let before = calls_of(app, "create_record").await;
    let everyone = account
        .publish(&post(
            PostKind::Text,
            &[
                ("title", "open"),
                ("bluesky_threadgate", "everyone"),
                ("bluesky_postgate", "enabled"),
            ],
            0,
        ))
        .await
        .unwrap();
    assert_eq!(
        calls_of(app, "create_record").await,
        before + 1,
        "the post alone"
    );
    for collection in [THREADGATE, POSTGATE] {
        let gate = record(app, &in_collection(&everyone.post_id, collection)).await;
        assert_eq!(gate["error"], "RecordNotFound");
    }
}

async fn bluesky_a_gate_missing_after_a_lost_answer_is_made_by_the_retry(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    let gated = post(
        PostKind::Text,
        &[("title", "gated once"), ("bluesky_threadgate", "following")],
        0,
    );
    let call = account.call("marker-gate", time::now());
    let publisher = account.publisher();
    // The post is made, the threadgate's answer is lost.
    app.sandbox_control(TestApp::faults(
        "bluesky",
        "create_record",
        &["pass", "server_error"],
    ))
    .await;
    let e = publisher.publish_to_end(&call, &gated).await.unwrap_err();
    assert!(matches!(e, PublishError::InDoubt(_)), "{e:?}");
    assert_eq!(
        publisher.find(&call, &gated).await.unwrap(),
        None,
        "a post without its gate is not done"
    );
    let made = publisher.publish_to_end(&call, &gated).await.unwrap();
    // Both collide with the first attempt's records or make the missing one: the same post.
    let again = publisher.publish_to_end(&call, &gated).await.unwrap();
    assert_eq!(again.post_id, made.post_id);
    let found = publisher.find(&call, &gated).await.unwrap().expect("found");
    assert_eq!(found.post_id, made.post_id);
    let gate = record(app, &in_collection(&made.post_id, THREADGATE)).await;
    assert_eq!(
        gate["value"]["allow"],
        json!([{"$type": "app.bsky.feed.threadgate#followingRule"}])
    );
}

async fn bluesky_self_labels_on_every_post_of_the_thread(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    let made = account
        .publish(&post(
            PostKind::Photos,
            &[
                ("title", "careful"),
                ("bluesky_labels", "Porn,graphic-media"),
                ("bluesky_gallery", "true"),
            ],
            5,
        ))
        .await
        .unwrap();
    let uris = made.extra["post_ids"].as_array().expect("a thread");
    assert_eq!(uris.len(), 2);
    for uri in uris {
        let stored = record(app, uri.as_str().unwrap()).await;
        assert_eq!(
            stored["value"]["labels"],
            json!({"$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": "porn"}, {"val": "graphic-media"}]}),
            "{uri}"
        );
    }
}

async fn bluesky_invalid_settings_publish_nothing(app: &TestApp) {
    let account = Account::connect(app, Platform::Bluesky, 0).await;
    for (name, value) in [
        ("bluesky_threadgate", "friends"),
        ("bluesky_reply_settings", "nobody,mentioned"),
        ("bluesky_postgate", "followers"),
        ("bluesky_labels", "nudity,spoiler"),
        ("bluesky_quote_url", "https://bsky.app/profile/x"),
    ] {
        let photo = post(PostKind::Photos, &[("title", "no"), (name, value)], 1);
        let e = account.publish(&photo).await.unwrap_err();
        assert!(
            matches!(e, PublishError::Invalid { .. }),
            "{name}={value}: {e:?}"
        );
        assert_eq!(e.code(), "invalid_field");
        assert!(e.to_string().contains(name), "{e}");
        let checked = account.publisher().check(&photo).unwrap_err();
        assert_eq!(checked, e, "found by the check before the job runs");
    }
    let calls: Vec<_> = app
        .sandbox_calls()
        .await
        .into_iter()
        .filter(|c| c.0 == "bluesky" && c.1 != "get_record")
        .map(|c| c.1)
        .collect();
    assert!(
        calls
            .iter()
            .all(|c| c != "create_record" && c != "upload_blob"),
        "{calls:?}"
    );
}
