//! Connect links over the API: generate-jwt, validate-jwt in every form real clients use,
//! revocation, and every way a token can be bad.

use crate::support::connect::claims_of;
use crate::support::{TEST_LINK_SIGNING_KEY, TestApp, send};
use crate::{assert_wire, cases};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use postgate::domain::link_token::LinkSigner;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

cases![
    generate_returns_an_access_url_for_48_hours,
    generate_stores_every_setting_and_validate_echoes_it,
    generate_refuses_bad_fields,
    generate_errors_for_profiles,
    ui_labels_persist_replace_and_clear,
    language_is_stored_on_the_profile,
    validate_accepts_all_four_client_forms,
    validate_refuses_bad_tokens_with_a_bearer,
    validate_body_form_reports_bad_tokens_in_a_200,
    expired_and_revoked_links,
    several_live_links_and_revocation,
    deleting_a_profile_revokes_its_links,
    blocked_profiles_lose_their_links,
    previous_signing_keys_still_verify,
    social_accounts_show_connections,
];

fn signer() -> LinkSigner {
    LinkSigner::new(TEST_LINK_SIGNING_KEY, &[]).unwrap()
}

async fn validate_bearer(app: &TestApp, token: &str) -> (StatusCode, Value) {
    send(
        app.client
            .get(app.api("/users/validate-jwt"))
            .header("Authorization", format!("Bearer {token}")),
    )
    .await
}

async fn generate_returns_an_access_url_for_48_hours(app: &TestApp) {
    app.create_profile("u1").await;
    let (status, body) = app.generate_link(json!({"username": "u1"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["access_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/connect?token=ey", app.address)),
        "{url}"
    );
    assert_eq!(body["duration"], "48h");
    let claims = claims_of(url.split_once("token=").unwrap().1);
    assert_eq!(claims.exp - claims.iat, 48 * 3600);
    assert_eq!(claims.aud, "connect");
    assert_eq!(claims.jti, body["link_id"].as_str().unwrap());
    let (status, body) = app
        .generate_link(json!({"username": "u1", "expires_in": 5400}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["duration"], "90m");
    let mut redacted = body.clone();
    redacted["access_url"] = "[access_url]".into();
    redacted["expires_at"] = "[timestamp]".into();
    redacted["link_id"] = "[link_id]".into();
    assert_wire!("generate_jwt_200", status, redacted);
}

async fn generate_stores_every_setting_and_validate_echoes_it(app: &TestApp) {
    app.create_profile("full").await;
    let token = app
        .link_token(
            "full",
            json!({
                "redirect_url": "https://app.example.com/done?x=1",
                "logo_image": "https://cdn.example.com/logo.png",
                "redirect_button_text": "Back to Acme",
                "connect_title": "Connect Acme",
                "connect_description": "Pick your channels",
                "platforms": ["tiktok", "twitter", "google-business", "pinterest", "bluesky"],
                "show_calendar": false,
                "readonly_calendar": false,
                "language": "pt",
                "ui_labels": {"connect.connectButton": "Ligar"},
            }),
        )
        .await;
    let (status, body) = validate_bearer(app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["isValid"], true);
    let p = &body["profile"];
    assert_eq!(p["username"], "full");
    assert_eq!(p["redirect_url"], "https://app.example.com/done?x=1");
    assert_eq!(p["logo_image"], "https://cdn.example.com/logo.png");
    assert_eq!(p["redirect_button_text"], "Back to Acme");
    assert_eq!(p["connect_title"], "Connect Acme");
    assert_eq!(p["connect_description"], "Pick your channels");
    assert_eq!(
        p["platforms"],
        json!(["tiktok", "x", "google_business", "pinterest", "bluesky"])
    );
    assert_eq!(p["show_calendar"], false);
    assert_eq!(p["readonly_calendar"], false);
    assert_eq!(p["language"], "pt");
    assert_eq!(p["ui_labels"], json!({"connect.connectButton": "Ligar"}));
    assert_eq!(p["social_accounts"]["tiktok"], Value::Null);
    // Defaults: every platform, calendar shown, not read-only.
    let token = app.link_token("full", json!({})).await;
    let (_, body) = validate_bearer(app, &token).await;
    assert_eq!(body["profile"]["platforms"].as_array().unwrap().len(), 11);
    assert_eq!(body["profile"]["show_calendar"], true);
    assert_eq!(body["profile"]["readonly_calendar"], false);
    assert_eq!(body["profile"]["redirect_url"], Value::Null);
}

async fn generate_refuses_bad_fields(app: &TestApp) {
    app.create_profile("v").await;
    let many: Map<String, Value> = (0..101).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"redirect_url": "http://example.com/x"}),
            "redirect_url must be an absolute https:// URL",
        ),
        (
            json!({"redirect_url": "javascript:alert(1)"}),
            "redirect_url must be an absolute https:// URL",
        ),
        (
            json!({"redirect_url": "/relative"}),
            "redirect_url must be an absolute https:// URL",
        ),
        (json!({"redirect_url": 5}), "redirect_url must be a string"),
        (
            json!({"logo_image": "data:image/png;base64,AAAA"}),
            "logo_image must be an absolute https:// URL",
        ),
        (
            json!({"redirect_button_text": "x".repeat(101)}),
            "redirect_button_text must be at most 100",
        ),
        (
            json!({"connect_title": ["a"]}),
            "connect_title must be a string",
        ),
        (
            json!({"connect_description": "bad\u{0}text"}),
            "connect_description must not contain NUL bytes",
        ),
        (
            json!({"platforms": ["tiktok", "myspace"]}),
            "Unknown platform 'myspace'",
        ),
        (json!({"platforms": "tiktok"}), "platforms must be a list"),
        (json!({"platforms": [1]}), "platforms must be a list"),
        (
            json!({"show_calendar": "true"}),
            "show_calendar must be true or false",
        ),
        (
            json!({"readonly_calendar": 1}),
            "readonly_calendar must be true or false",
        ),
        (
            json!({"language": "it"}),
            "language must be one of en, es, de, fr, pt, pl, tr",
        ),
        (
            json!({"ui_labels": {"bad key!": "x"}}),
            "Invalid ui_labels key 'bad key!'. Keys may only contain letters, numbers, dots and underscores",
        ),
        (
            json!({"ui_labels": {"connect.x": 1}}),
            "ui_labels['connect.x'] must be a string",
        ),
        (
            json!({"ui_labels": many}),
            "ui_labels may contain at most 100 entries",
        ),
        (
            json!({"ui_labels": {"k": "x".repeat(301)}}),
            "ui_labels['k'] must be at most 300 characters",
        ),
        (
            json!({"ui_labels": "connect.title=x"}),
            "ui_labels must be an object",
        ),
        (
            json!({"expires_in": 30}),
            "expires_in must be a whole number of seconds from 60 to 172800",
        ),
    ];
    for (extra, message) in cases {
        let mut body = extra.clone();
        body["username"] = "v".into();
        let (status, resp) = app.generate_link(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {resp}");
        assert_eq!(resp["success"], false);
        let got = resp["message"].as_str().unwrap();
        assert!(got.contains(message), "{extra}: {got}");
    }
    let (status, resp) = app
        .generate_link(json!({"username": "v", "show_calendar": "no"}))
        .await;
    assert_wire!("generate_jwt_400_field", status, resp);
    // Nothing was stored by the refused requests.
    let token = app.link_token("v", json!({})).await;
    let (_, body) = validate_bearer(app, &token).await;
    assert_eq!(body["profile"]["ui_labels"], json!({}));
    assert_eq!(body["profile"]["language"], Value::Null);
}

async fn generate_errors_for_profiles(app: &TestApp) {
    let (status, body) = app.generate_link(json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], "INVALID_USERNAME");
    let (status, body) = app.generate_link(json!({"username": 7})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app.generate_link(json!({"username": "ghost"})).await;
    assert_wire!("generate_jwt_404", status, body);
    let (status, body) = send(
        app.client
            .post(app.api("/users/generate-jwt"))
            .json(&json!({"username": "default"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = send(
        app.with_key(app.client.post(app.api("/users/generate-jwt")), "pgk_wrong")
            .json(&json!({"username": "default"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Another account's profile does not exist for this one.
    let (_, other_key) = app.new_account("default").await;
    app.create_profile("mine").await;
    let (status, _) = send(app.post_as(
        &other_key,
        "/users/generate-jwt",
        &json!({"username": "mine"}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // GET is not how links are made.
    let (status, body) = send(app.get("/users/generate-jwt")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
}

async fn ui_labels_persist_replace_and_clear(app: &TestApp) {
    app.create_profile("labels").await;
    let labels_after = |extra: Value| async move {
        let token = app.link_token("labels", extra).await;
        validate_bearer(app, &token).await.1["profile"]["ui_labels"].clone()
    };
    let first = json!({"connect.title": "Hola", "connect.connectButton": "Vincular"});
    assert_eq!(labels_after(json!({"ui_labels": first})).await, first);
    // Omitted: kept.
    assert_eq!(labels_after(json!({})).await, first);
    // A new object replaces, not merges.
    let second = json!({"connect.notConnected": "Nope"});
    assert_eq!(labels_after(json!({"ui_labels": second})).await, second);
    // {} and null clear.
    assert_eq!(labels_after(json!({"ui_labels": {}})).await, json!({}));
    assert_eq!(labels_after(json!({"ui_labels": second})).await, second);
    assert_eq!(labels_after(json!({"ui_labels": null})).await, json!({}));
}

async fn language_is_stored_on_the_profile(app: &TestApp) {
    app.create_profile("lang").await;
    let language_after = |extra: Value| async move {
        let token = app.link_token("lang", extra).await;
        validate_bearer(app, &token).await.1["profile"]["language"].clone()
    };
    assert_eq!(language_after(json!({"language": "TR"})).await, "tr");
    // A later link without a language still uses the profile's.
    assert_eq!(language_after(json!({})).await, "tr");
    assert_eq!(language_after(json!({"language": "pl"})).await, "pl");
    assert_eq!(language_after(json!({"language": null})).await, Value::Null);
}

async fn validate_accepts_all_four_client_forms(app: &TestApp) {
    let token = app
        .profile_with_link("forms", json!({"language": "es"}))
        .await;
    let url = app.api("/users/validate-jwt");
    let bearer = format!("Bearer {token}");
    let forms = [
        // Docs (new) and the npm SDK: GET with the token as Bearer.
        (
            "GET bearer",
            app.client.get(&url).header("Authorization", &bearer),
        ),
        // Docs (seed): POST with Bearer and no body.
        (
            "POST bearer",
            app.client.post(&url).header("Authorization", &bearer),
        ),
        // Python SDK, n8n: POST {jwt} under the API key.
        (
            "POST apikey+body",
            app.with_key(app.client.post(&url), &app.api_key)
                .json(&json!({"jwt": token})),
        ),
        // Both at once: the Bearer token wins.
        (
            "POST bearer+body",
            app.client
                .post(&url)
                .header("Authorization", &bearer)
                .json(&json!({"jwt": "ignored"})),
        ),
        // The lower-case scheme some clients send.
        (
            "GET bearer lower",
            app.client
                .get(&url)
                .header("Authorization", format!("bearer {token}")),
        ),
    ];
    for (name, req) in forms {
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        assert_eq!(body["isValid"], true, "{name}");
        assert_eq!(body["profile"]["username"], "forms", "{name}");
        assert_eq!(body["profile"]["language"], "es", "{name}");
    }
    let (status, mut body) = validate_bearer(app, &token).await;
    body["link_id"] = "[link_id]".into();
    body["expires_at"] = "[timestamp]".into();
    assert_wire!("validate_jwt_200", status, body);
    // Body form without a jwt, or with a non-string one.
    let (status, body) = send(app.post("/users/validate-jwt", &json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "jwt is required");
    let (status, _) = send(app.post("/users/validate-jwt", &json!({"jwt": 5}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Neither a Bearer token nor an API key.
    let (status, body) = send(app.client.post(&url).json(&json!({"jwt": token}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

/// Tokens that must never validate, each with the reason it is refused.
fn forgeries(token: &str) -> Vec<(&'static str, String)> {
    let parts: Vec<&str> = token.split('.').collect();
    let claims = claims_of(token);
    let mut changed = claims.clone();
    changed.sub = "someone-else".to_owned();
    let swapped_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&changed).unwrap());
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let none_header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "typ": "JWT", "kid": header["kid"]}).to_string());
    let hs512_header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "HS512", "typ": "JWT", "kid": header["kid"]}).to_string());
    // A middle character: the last one of base64url also carries padding bits.
    let mut sig: Vec<char> = parts[2].chars().collect();
    sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
    let sig: String = sig.into_iter().collect();
    let stranger = LinkSigner::new("a-completely-different-signing-key-000000", &[])
        .unwrap()
        .sign(&claims);
    vec![
        (
            "tampered signature",
            format!("{}.{}.{sig}", parts[0], parts[1]),
        ),
        (
            "claims changed",
            format!("{}.{swapped_body}.{}", parts[0], parts[2]),
        ),
        ("alg none", format!("{none_header}.{}.", parts[1])),
        (
            "alg swapped",
            format!("{hs512_header}.{}.{}", parts[1], parts[2]),
        ),
        ("other key", stranger),
        ("garbage", "not-a-jwt".to_owned()),
        ("truncated", parts[..2].join(".")),
    ]
}

async fn validate_refuses_bad_tokens_with_a_bearer(app: &TestApp) {
    let token = app.profile_with_link("bad", json!({})).await;
    for (name, forged) in forgeries(&token) {
        let (status, body) = validate_bearer(app, &forged).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert_eq!(body["success"], false, "{name}");
        assert_eq!(body["isValid"], false, "{name}");
        assert_eq!(body["message"], "Invalid or expired token", "{name}");
        assert!(body["reason"].is_string(), "{name}");
        // The page refuses it as well.
        let page = app.page(&format!("/connect?token={forged}")).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{name}");
    }
    let (status, body) = validate_bearer(app, &forgeries(&token)[0].1).await;
    assert_wire!("validate_jwt_401", status, body);
    // The original still works: nothing above hurt it.
    assert_eq!(validate_bearer(app, &token).await.0, StatusCode::OK);
}

async fn validate_body_form_reports_bad_tokens_in_a_200(app: &TestApp) {
    let token = app.profile_with_link("mine", json!({})).await;
    let (_, other_key) = app.new_account("default").await;
    // Another account's valid token, presented under this key: refused.
    let (status, body) =
        send(app.post_as(&other_key, "/users/validate-jwt", &json!({"jwt": token}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["isValid"], false);
    assert_eq!(body["reason"], "Token does not belong to this account");
    assert!(body.get("profile").is_none());
    for (name, forged) in forgeries(&token) {
        let (status, body) = send(app.post("/users/validate-jwt", &json!({"jwt": forged}))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        assert_eq!(body["isValid"], false, "{name}");
    }
}

async fn expired_and_revoked_links(app: &TestApp) {
    let token = app.profile_with_link("exp", json!({})).await;
    let claims = claims_of(&token);
    // Signed correctly but past its expiry.
    let mut past = claims.clone();
    past.exp = past.iat - 1;
    let (status, body) = validate_bearer(app, &signer().sign(&past)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["reason"], "Token expired");
    // The row's expiry counts even when the token's has not passed (a shortened link).
    let link = claims.jti.clone();
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::connect_links::dsl::*;
        diesel::update(connect_links.find(&link))
            .set(expires_at.eq(postgate::domain::time::now() - chrono::Duration::seconds(1)))
            .execute(c)
            .unwrap();
    })
    .await;
    let (status, body) = validate_bearer(app, &token).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Token expired"))
    );
    // Revoked by id.
    let token = app.link_token("exp", json!({})).await;
    let link_id = claims_of(&token).jti;
    let (status, body) = send(app.post("/users/revoke-jwt", &json!({"link_id": link_id}))).await;
    assert_eq!(
        (status, body["revoked"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    let (status, body) = validate_bearer(app, &token).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Token revoked"))
    );
    // Revoking again is harmless.
    let (status, body) = send(app.post("/users/revoke-jwt", &json!({"link_id": link_id}))).await;
    assert_eq!(
        (status, body["revoked"].as_u64()),
        (StatusCode::OK, Some(0))
    );
}

async fn several_live_links_and_revocation(app: &TestApp) {
    let a = app.profile_with_link("multi", json!({})).await;
    let b = app.link_token("multi", json!({})).await;
    let c = app.link_token("multi", json!({})).await;
    for t in [&a, &b, &c] {
        assert_eq!(validate_bearer(app, t).await.0, StatusCode::OK);
    }
    // By token.
    let (status, body) = send(app.post("/users/revoke-jwt", &json!({"jwt": a}))).await;
    assert_eq!(
        (status, body["revoked"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    assert_eq!(validate_bearer(app, &a).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(validate_bearer(app, &b).await.0, StatusCode::OK);
    // Every live link of the profile.
    let (status, body) = send(app.post("/users/revoke-jwt", &json!({"username": "multi"}))).await;
    assert_eq!(
        (status, body["revoked"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{body}"
    );
    assert_wire!("revoke_jwt_200", status, body);
    assert_eq!(validate_bearer(app, &c).await.0, StatusCode::UNAUTHORIZED);
    // A new link after revocation works.
    let d = app.link_token("multi", json!({})).await;
    assert_eq!(validate_bearer(app, &d).await.0, StatusCode::OK);
    // Another account can neither see nor revoke these links.
    let (_, other) = app.new_account("default").await;
    let (status, body) = send(app.post_as(&other, "/users/revoke-jwt", &json!({"jwt": d}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error_code"], "LINK_NOT_FOUND");
    assert_wire!("revoke_jwt_404", status, body);
    let (status, _) =
        send(app.post_as(&other, "/users/revoke-jwt", &json!({"username": "multi"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(validate_bearer(app, &d).await.0, StatusCode::OK);
    // Exactly one target.
    for bad in [
        json!({}),
        json!({"jwt": d, "username": "multi"}),
        json!({"link_id": 3}),
    ] {
        let (status, body) = send(app.post("/users/revoke-jwt", &bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        if bad == json!({}) {
            assert_wire!("revoke_jwt_400_no_target", status, body);
        }
    }
    let (status, _) = send(app.post("/users/revoke-jwt", &json!({"jwt": "garbage"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn deleting_a_profile_revokes_its_links(app: &TestApp) {
    let token = app.profile_with_link("gone", json!({})).await;
    assert_eq!(validate_bearer(app, &token).await.0, StatusCode::OK);
    let (status, _) = send(app.delete("/users", &json!({"username": "gone"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = validate_bearer(app, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        app.page(&format!("/connect?token={token}")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A new profile with the same name does not bring the old link back.
    app.create_profile("gone").await;
    assert_eq!(
        validate_bearer(app, &token).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn blocked_profiles_lose_their_links(app: &TestApp) {
    // The default profile plus two more; then the plan allows only two.
    let older = app.profile_with_link("older", json!({})).await;
    let newest = app.profile_with_link("newest", json!({})).await;
    let account = app.account_id.clone();
    app.with_db(move |c| postgate::db::accounts::set_plan(c, &account, "three").unwrap())
        .await;
    assert_eq!(validate_bearer(app, &newest).await.0, StatusCode::OK);
    let (status, _) = app.create_profile("fourth").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let account = app.account_id.clone();
    app.with_db(move |c| {
        postgate::db::accounts::set_plan(c, &account, "default").unwrap();
    })
    .await;
    app.create_profile("fourth").await;
    let fourth = app.link_token("fourth", json!({})).await;
    let account = app.account_id.clone();
    app.with_db(move |c| postgate::db::accounts::set_plan(c, &account, "three").unwrap())
        .await;
    // Newest first: "fourth" is over the limit now.
    let (status, body) = validate_bearer(app, &fourth).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["reason"], "Profile is blocked by the plan's limits");
    let (status, body) = app.generate_link(json!({"username": "fourth"})).await;
    assert_wire!("generate_jwt_403_blocked", status, body);
    assert_eq!(
        app.page(&format!("/connect?token={fourth}")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(validate_bearer(app, &older).await.0, StatusCode::OK);
}

async fn previous_signing_keys_still_verify(app: &TestApp) {
    let token = app.profile_with_link("rotate", json!({})).await;
    let claims = claims_of(&token);
    let old_key = "the-previous-signing-key-of-this-server-01";
    let by_old_key = LinkSigner::new(old_key, &[]).unwrap().sign(&claims);
    // Unknown to this server: refused.
    assert_eq!(
        validate_bearer(app, &by_old_key).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A server that lists it as a previous key accepts it, and signs with its current one.
    let rotated = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.database_url = Some(app.test_db.url.clone());
        raw.link_signing_previous_keys = vec![postgate::domain::Secret::new(old_key)];
    })
    .await;
    let (status, body) = validate_bearer(&rotated, &by_old_key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(validate_bearer(&rotated, &token).await.0, StatusCode::OK);
    rotated.stop().await;
}

async fn social_accounts_show_connections(app: &TestApp) {
    let token = app.profile_with_link("socialite", json!({})).await;
    app.insert_connection("socialite", "tiktok", "dancer", false)
        .await;
    app.insert_connection("socialite", "instagram", "photos", true)
        .await;
    let (_, body) = validate_bearer(app, &token).await;
    let accounts = &body["profile"]["social_accounts"];
    assert_eq!(accounts["tiktok"]["username"], "tiktok-id-dancer");
    assert_eq!(accounts["tiktok"]["handle"], "dancer");
    assert_eq!(accounts["tiktok"]["display_name"], "dancer Display");
    assert_eq!(
        accounts["tiktok"]["social_images"],
        "https://cdn.example.com/dancer.png"
    );
    assert_eq!(accounts["tiktok"]["reauth_required"], false);
    assert_eq!(
        accounts["tiktok"]["capabilities"],
        json!(["music", "draft"])
    );
    assert_eq!(accounts["instagram"]["reauth_required"], true);
    assert!(accounts["instagram"].get("capabilities").is_none());
    assert_eq!(accounts["x"], Value::Null);
    // Lists and single reads show them too, with "" for the rest.
    let (_, list) = send(app.get("/users")).await;
    let social = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["username"] == "socialite")
        .unwrap();
    assert_eq!(social["social_accounts"]["tiktok"]["handle"], "dancer");
    assert_eq!(social["social_accounts"]["x"], "");
    let (_, one) = send(app.get("/users/socialite")).await;
    assert_eq!(
        one["profile"]["social_accounts"]["instagram"]["handle"],
        "photos"
    );
    let (_, other) = send(app.get("/users/default")).await;
    assert_eq!(other["profile"]["social_accounts"]["tiktok"], "");
}
