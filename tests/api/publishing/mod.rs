//! Publishers against the built-in emulators over real HTTP: an account connected through
//! the sandbox, a publisher called through the library API, and what the emulator stored
//! and shows at the post's page.

pub mod bluesky;
mod bluesky_video;
mod facebook;
mod google_business;
mod graph_support;
mod instagram;
mod linkedin;
mod linkedin_video;
mod pinterest;
mod reddit;
mod threads;
mod tiktok;
mod video_support;
mod x;
mod x_video;
mod youtube;

use crate::support::sandbox::Consent;
use crate::support::{Case, TestApp};
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use postgate::config::Settings;
use postgate::db::connections::{self, Connection};
use postgate::db::oauth_tokens;
use postgate::domain::upload::{Fields, MediaKind, PostKind};
use postgate::domain::{Platform, time};
use postgate::oauth::TokenSet;
use postgate::oauth::http::Http;
use postgate::oauth::provider::App;
use postgate::oauth::registry::Platforms;
use postgate::oauth::vault;
use postgate::publish::publisher::{
    Call, Media, MediaSource, Post, Progress, PublishError, Published, Publisher,
};
use postgate::urls::Urls;
use std::collections::BTreeMap;

pub fn cases() -> Vec<Case> {
    [
        x::cases(),
        x_video::cases(),
        bluesky::cases(),
        bluesky_video::cases(),
        linkedin::cases(),
        linkedin_video::cases(),
        facebook::cases(),
        threads::cases(),
        tiktok::cases(),
        youtube::cases(),
        instagram::cases(),
        pinterest::cases(),
        reddit::cases(),
        google_business::cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The fixture every image is read from.
const PIXEL: &[u8] = include_bytes!("fixtures/pixel.png");

/// Media read from the fixture files.
struct Fixtures;

#[async_trait]
impl MediaSource for Fixtures {
    async fn bytes(&self, _media: &Media) -> Result<bytes::Bytes, PublishError> {
        Ok(bytes::Bytes::from_static(PIXEL))
    }

    async fn range(
        &self,
        _media: &Media,
        range: std::ops::Range<u64>,
    ) -> Result<bytes::Bytes, PublishError> {
        Ok(slice(bytes::Bytes::from_static(PIXEL), range))
    }

    async fn stream(
        &self,
        _media: &Media,
    ) -> Result<BoxStream<'static, Result<bytes::Bytes, PublishError>>, PublishError> {
        Ok(one_chunk(bytes::Bytes::from_static(PIXEL)))
    }

    fn public_url(&self, media: &Media) -> String {
        format!("http://fixtures.invalid/{}", media.id)
    }
}

/// `range` of `bytes`, clamped to its end, for the test media sources.
pub fn slice(bytes: bytes::Bytes, range: std::ops::Range<u64>) -> bytes::Bytes {
    let len = bytes.len() as u64;
    bytes.slice(range.start.min(len) as usize..range.end.min(len) as usize)
}

/// `bytes` as a stream of one chunk, for the test media sources.
pub fn one_chunk(bytes: bytes::Bytes) -> BoxStream<'static, Result<bytes::Bytes, PublishError>> {
    futures::stream::iter([Ok(bytes)]).boxed()
}

/// Publishing to the end, as the engine does it: a post the platform is still processing
/// is asked about again, with the state its last step left, until it is done.
#[async_trait]
pub trait ToEnd {
    async fn publish_to_end(&self, call: &Call<'_>, post: &Post)
    -> Result<Published, PublishError>;
}

#[async_trait]
impl ToEnd for dyn Publisher {
    async fn publish_to_end(
        &self,
        call: &Call<'_>,
        post: &Post,
    ) -> Result<Published, PublishError> {
        let mut state = None;
        for _ in 0..600 {
            let step = Call {
                resume: state.as_ref(),
                ..*call
            };
            match self.publish(&step, post).await? {
                Progress::Done(published) => return Ok(published),
                Progress::Pending { state: next, after } => {
                    tokio::time::sleep(after.min(std::time::Duration::from_millis(500))).await;
                    state = Some(next);
                }
            }
        }
        panic!("the platform kept processing the post");
    }
}

/// A connected sandbox account and what a publisher needs to post as it.
struct Account {
    platforms: Platforms,
    platform: Platform,
    connection: Connection,
    tokens: TokenSet,
}

impl Account {
    /// Connects `platform` as sandbox `person` through the connect page.
    async fn connect(app: &TestApp, platform: Platform, person: usize) -> Self {
        let username = format!("poster{person}");
        let link = app
            .profile_with_link(&username, serde_json::json!({}))
            .await;
        app.connect_on_page(&link, platform.key(), Consent::Allow { person })
            .await;
        let profile_id = app.profile_id(&username).await;
        let (connection, stored) = app
            .with_db(move |c| {
                let connection = connections::find(c, &profile_id, platform.key())
                    .unwrap()
                    .expect("connected");
                let stored = oauth_tokens::get(c, &connection.id)
                    .unwrap()
                    .expect("tokens");
                (connection, stored)
            })
            .await;
        let settings = Settings::from_raw(app.raw_settings()).expect("settings");
        let cipher = postgate::key_files::token_cipher(&settings).expect("cipher");
        let mut tokens = vault::open(&cipher, &stored).expect("tokens open");
        tokens.user_id = Some(connection.platform_user_id.clone());
        let urls = Urls::new(&url::Url::parse(&app.address).unwrap());
        let http = Http::new(std::time::Duration::from_secs(2)).unwrap();
        let platforms = Platforms::new(&BTreeMap::new(), true, &urls, &urls, &http).unwrap();
        Self {
            platforms,
            platform,
            connection,
            tokens,
        }
    }

    fn app(&self) -> &App {
        self.platforms.get(self.platform).expect("sandbox app")
    }

    fn publisher(&self) -> &'static dyn Publisher {
        postgate::publish::publishers::for_platform(self.platform)
    }

    fn call<'a>(&'a self, marker: &'a str, since: chrono::NaiveDateTime) -> Call<'a> {
        Call {
            app: self.app(),
            connection: &self.connection,
            tokens: &self.tokens,
            media: &Fixtures,
            marker,
            since,
            resume: None,
        }
    }

    /// Publishes with a fresh marker.
    async fn publish(&self, post: &Post) -> Result<Published, PublishError> {
        let marker = uuid::Uuid::now_v7().to_string();
        self.publisher()
            .publish_to_end(&self.call(&marker, time::now()), post)
            .await
    }
}

/// A post of `kind` with `fields` and `images` fixture images.
fn post(kind: PostKind, fields: &[(&str, &str)], images: usize) -> Post {
    let mut f = Fields::new();
    for (k, v) in fields {
        f.push(k, *v);
    }
    Post {
        kind,
        media: (0..images)
            .map(|i| Media {
                id: format!("image{i}"),
                kind: MediaKind::Image,
                content_type: "image/png".into(),
                size: PIXEL.len() as u64,
                filename: Some(format!("image{i}.png")),
                video: None,
            })
            .collect(),
        attachments: Vec::new(),
        fields: f,
    }
}

/// GET a sandbox page by its absolute URL: status and body.
async fn page(app: &TestApp, url: &str) -> (reqwest::StatusCode, String) {
    let resp = app.client.get(url).send().await.expect("page");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// The sandbox media URLs a page shows, in order.
fn media_urls(html: &str) -> Vec<String> {
    html.split("src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|s| s.contains("/_media/"))
        .map(str::to_owned)
        .collect()
}
