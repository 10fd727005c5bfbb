//! Helpers of the LinkedIn, Facebook and Threads publisher tests: an account is connected
//! through the sandbox as a person would, then the library's publisher of the platform is
//! called with that account's tokens, and what the emulator kept — and the page it serves
//! the post at — is checked.

use crate::support::sandbox::Consent;
use crate::support::{TEST_OAUTH_TIMEOUT_SECONDS, TestApp};
use actix_web::{HttpResponse, HttpServer, web};
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use postgate::config::Settings;
use postgate::db::connections::Connection;
use postgate::domain::secrets::new_random_id;
use postgate::domain::upload::{Fields, MediaKind, PostKind};
use postgate::domain::{Platform, Secret, time};
use postgate::oauth::TokenSet;
use postgate::oauth::http::Http;
use postgate::oauth::provider::{self, App, AppConfig};
use postgate::oauth::{providers, vault};
use postgate::publish::publisher::{Call, Media, MediaSource, Post, PublishError, Publisher};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The smallest files the emulators recognise by their first bytes.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR sandbox png";
pub const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF sandbox jpeg";
/// A video the emulators take: an MP4 `ftyp` box.
pub const MP4: &[u8] = include_bytes!("../../fixtures/media/clip.mp4");
pub const PDF: &[u8] = b"%PDF-1.7\n% sandbox document\n%%EOF\n";

/// Media served on loopback at URLs a platform can pull, as Postgate's signed media URLs
/// are; `bytes` reads them as a publisher would.
pub struct Served {
    base: String,
    files: Arc<HashMap<String, (Bytes, String)>>,
}

impl Served {
    pub async fn new(files: &[(&str, &'static [u8], &str)]) -> Self {
        let files: Arc<HashMap<String, (Bytes, String)>> = Arc::new(
            files
                .iter()
                .map(|(id, b, t)| ((*id).to_owned(), (Bytes::from_static(b), (*t).to_owned())))
                .collect(),
        );
        let shared = files.clone();
        let server = HttpServer::new(move || {
            let files = shared.clone();
            actix_web::App::new().route(
                "/media/{id}",
                web::get().to(move |id: web::Path<String>| {
                    let found = files.get(id.as_str()).cloned();
                    async move {
                        match found {
                            Some((bytes, t)) => HttpResponse::Ok().content_type(t).body(bytes),
                            None => HttpResponse::NotFound().finish(),
                        }
                    }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind media server");
        let base = format!("http://{}/media", server.addrs()[0]);
        tokio::spawn(server.run());
        Self { base, files }
    }

    /// The stored item `id` as the publisher gets it.
    pub fn media(&self, id: &str, kind: MediaKind, filename: &str) -> Media {
        let (bytes, content_type) = &self.files[id];
        Media {
            id: id.to_owned(),
            kind,
            content_type: content_type.clone(),
            size: bytes.len() as u64,
            filename: Some(filename.to_owned()),
            video: None,
        }
    }
}

#[async_trait]
impl MediaSource for Served {
    async fn bytes(&self, media: &Media) -> Result<Bytes, PublishError> {
        Ok(self.files[&media.id].0.clone())
    }

    async fn range(
        &self,
        media: &Media,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, PublishError> {
        Ok(super::slice(self.files[&media.id].0.clone(), range))
    }

    async fn stream(
        &self,
        media: &Media,
    ) -> Result<BoxStream<'static, Result<Bytes, PublishError>>, PublishError> {
        Ok(super::one_chunk(self.files[&media.id].0.clone()))
    }

    fn public_url(&self, media: &Media) -> String {
        format!("{}/{}", self.base, media.id)
    }
}

/// A connected account, as the engine would hand it to a publisher.
pub struct Account {
    pub app: App,
    pub connection: Connection,
    pub tokens: TokenSet,
}

impl Account {
    /// Connects `platform` as sandbox person `person` for a new profile `username`.
    pub async fn connect(app: &TestApp, username: &str, platform: Platform, person: usize) -> Self {
        let token = app.profile_with_link(username, json!({})).await;
        app.connect_on_page(&token, platform.key(), Consent::Allow { person })
            .await;
        Self::of(app, username, platform).await
    }

    /// The profile's connection as stored now (after a pin, say).
    pub async fn of(app: &TestApp, username: &str, platform: Platform) -> Self {
        let connection = app.connection(username, platform.key()).await;
        let id = connection.id.clone();
        let stored = app
            .with_db(move |c| {
                postgate::db::oauth_tokens::get(c, &id)
                    .unwrap()
                    .expect("tokens")
            })
            .await;
        // The server's own key, as its settings find it.
        let settings = Settings::from_raw(app.raw_settings()).expect("settings");
        let cipher = postgate::key_files::token_cipher(&settings).unwrap();
        let tokens = vault::open(&cipher, &stored).expect("tokens open");
        let provider = providers::for_platform(platform);
        let base = url::Url::parse(&app.url(&format!("/sandbox/{}", platform.key()))).unwrap();
        let endpoints = provider::endpoints(provider, &BTreeMap::new()).unwrap();
        let config = AppConfig {
            client_id: format!("sandbox-{}", platform.key()),
            client_secret: Secret::new("unused"),
            endpoints: provider::moved_to_sandbox(&endpoints, &base, &base),
            scopes: None,
            redirect_uri: base.clone(),
            sandbox: true,
        };
        let http = Http::new(std::time::Duration::from_secs(TEST_OAUTH_TIMEOUT_SECONDS)).unwrap();
        Self {
            app: App::new(provider, config, http),
            connection,
            tokens,
        }
    }

    pub fn call<'a>(&'a self, media: &'a dyn MediaSource, marker: &'a str) -> Call<'a> {
        Call {
            app: &self.app,
            connection: &self.connection,
            tokens: &self.tokens,
            media,
            marker,
            since: time::now(),
            resume: None,
        }
    }
}

/// A post of `kind` with these request fields.
pub fn post(kind: PostKind, fields: &[(&str, &str)], media: Vec<Media>) -> Post {
    let mut f = Fields::new();
    for (k, v) in fields {
        f.push(k, *v);
    }
    Post {
        kind,
        media,
        attachments: Vec::new(),
        fields: f,
    }
}

/// Text no other test uses, so pages and finds are about this post.
pub fn unique(text: &str) -> String {
    format!("{text} {}", new_random_id(8))
}

/// A post the emulator of `platform` keeps.
pub async fn stored(
    app: &TestApp,
    platform: Platform,
    post_id: &str,
) -> Option<postgate::db::sandbox::Post> {
    let id = post_id.to_owned();
    app.with_db(move |c| postgate::db::sandbox::find_post(c, platform, &id).unwrap())
        .await
}

/// The posts that answer `post_id` in the emulator.
pub async fn replies(
    app: &TestApp,
    platform: Platform,
    post_id: &str,
) -> Vec<postgate::db::sandbox::Post> {
    let ids = vec![post_id.to_owned()];
    app.with_db(move |c| postgate::db::sandbox::replies(c, platform, &ids).unwrap())
        .await
}

/// The page a post is served at (following redirects): its status and HTML.
pub async fn page(url: &str) -> (StatusCode, String) {
    let resp = reqwest::get(url).await.expect("post page");
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

/// Scripts the emulator of `platform`: the next calls of `endpoint` get `faults`, in order.
pub async fn fault(app: &TestApp, platform: Platform, endpoint: &str, faults: &[&str]) {
    app.sandbox_control(TestApp::faults(platform.key(), endpoint, faults))
        .await;
}

/// The calls the emulator got of `platform`'s `endpoint`, as `method`.
pub async fn calls_of(app: &TestApp, platform: Platform, endpoint: &str) -> Vec<String> {
    app.sandbox_calls()
        .await
        .into_iter()
        .filter(|(p, e, _)| p == platform.key() && e == endpoint)
        .map(|(_, _, m)| m)
        .collect()
}

/// How many POSTs the emulated Graph root of `platform` got: containers, publishes, comments.
pub async fn graph_posts(app: &TestApp, platform: Platform) -> usize {
    calls_of(app, platform, "graph")
        .await
        .iter()
        .filter(|m| *m == "POST")
        .count()
}

/// The three faults every publisher must read the same way: a rate limit may be retried,
/// a failure while creating is in doubt, and a revoked token needs the account again.
pub fn assert_fault_reading(
    rate_limited: Result<impl std::fmt::Debug, PublishError>,
    server_error: Result<impl std::fmt::Debug, PublishError>,
    token_revoked: Result<impl std::fmt::Debug, PublishError>,
) {
    let e = rate_limited.unwrap_err();
    assert!(e.retryable(), "{e:?}");
    assert_eq!(e.code(), "rate_limited");
    assert!(
        matches!(server_error, Err(PublishError::InDoubt(_))),
        "{server_error:?}"
    );
    assert!(
        matches!(token_revoked, Err(PublishError::Reauth { .. })),
        "{token_revoked:?}"
    );
}

/// The platform refused, for good: nothing a retry could change.
pub fn assert_refused_for_good<T: std::fmt::Debug>(outcome: &Result<T, PublishError>) {
    assert!(
        matches!(
            outcome,
            Err(PublishError::Refused {
                retryable: false,
                ..
            })
        ),
        "{outcome:?}"
    );
}

/// Pins a Page (or organization, or location) on the profile's connection, as the page's
/// picker does, and reads the account again.
pub async fn pin(app: &TestApp, username: &str, platform: Platform, target: &str) -> Account {
    let connection = app.connection(username, platform.key()).await;
    let target = target.to_owned();
    app.with_db(move |c| {
        postgate::db::connections::pin(c, &connection.id, Some((&target, "Pinned"))).unwrap()
    })
    .await;
    Account::of(app, username, platform).await
}

/// Each of `bad` is refused in `check` as the client's mistake and by publishing it, and
/// none of them reached the platform: the emulator's call log holds `before` calls still.
pub async fn assert_refused_before_any_call(
    app: &TestApp,
    publisher: &'static dyn Publisher,
    call: &Call<'_>,
    bad: &[Post],
    before: usize,
) {
    use super::ToEnd;
    for p in bad {
        let refused = publisher.check(p).unwrap_err();
        assert_eq!(refused.source(), "client", "{refused:?}");
        let outcome = publisher.publish_to_end(call, p).await;
        assert!(
            matches!(outcome, Err(PublishError::Invalid { .. })),
            "{outcome:?}"
        );
    }
    assert_eq!(app.sandbox_calls().await.len(), before, "no call was made");
}
