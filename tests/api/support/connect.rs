//! Helpers for connect links and pages: issuing links, reading HTML, and putting rows the
//! page shows (connections, posts, OAuth states) straight into the database.

use super::{TestApp, send};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use postgate::db::{DbConn, connections, oauth_states, profiles};
use postgate::domain::link_token::LinkClaims;
use postgate::domain::time;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// An HTML response.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first `name="csrf"` input.
    pub fn csrf(&self) -> String {
        attribute_after(&self.body, r#"name="csrf" value=""#).expect("page has a CSRF field")
    }

    pub fn count(&self, needle: &str) -> usize {
        self.body.matches(needle).count()
    }
}

fn attribute_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The claims of a link token, read without checking it.
pub fn claims_of(token: &str) -> LinkClaims {
    let body = token.split('.').nth(1).expect("JWT body");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).expect("base64url")).expect("claims")
}

/// The id of the link a token stands for.
pub fn link_id_of(token: &str) -> String {
    claims_of(token).jti
}

pub fn time_at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").expect("test time")
}

impl TestApp {
    /// `POST /users/generate-jwt` with `body`.
    pub async fn generate_link(&self, body: Value) -> (StatusCode, Value) {
        send(self.post("/users/generate-jwt", &body)).await
    }

    /// A fresh link's token for `username` (the profile must exist), with extra fields.
    pub async fn link_token(&self, username: &str, extra: Value) -> String {
        let mut body = json!({ "username": username });
        if let Value::Object(map) = extra {
            body.as_object_mut().unwrap().extend(map);
        }
        let (status, resp) = self.generate_link(body).await;
        assert_eq!(status, StatusCode::OK, "{resp}");
        let url = resp["access_url"].as_str().expect("access_url");
        url.split_once("token=")
            .expect("token in access_url")
            .1
            .to_owned()
    }

    /// A profile and a link to it in one go.
    pub async fn profile_with_link(&self, username: &str, extra: Value) -> String {
        assert_eq!(self.create_profile(username).await.0, StatusCode::CREATED);
        self.link_token(username, extra).await
    }

    /// Runs `f` on a database connection of this test's database.
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> T + Send + 'static,
    ) -> T {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&mut db.conn().expect("db connection")))
            .await
            .expect("db task")
    }

    pub async fn profile_id(&self, username: &str) -> String {
        let account = self.account_id.clone();
        let username = postgate::domain::Username::parse(username).unwrap();
        self.with_db(move |c| {
            profiles::find(c, &account, &username)
                .unwrap()
                .expect("profile")
                .id
        })
        .await
    }

    /// The profile's connection to `platform`, as stored.
    pub async fn connection(
        &self,
        username: &str,
        platform: &str,
    ) -> postgate::db::connections::Connection {
        let profile_id = self.profile_id(username).await;
        let platform = platform.to_owned();
        self.with_db(move |c| {
            postgate::db::connections::find(c, &profile_id, &platform)
                .unwrap()
                .expect("a connection")
        })
        .await
    }

    /// Stores an upload of one platform for the calendar, as the engine would have left it
    /// (`scheduled`, `published`, `failed` or `cancelled` at `at`); returns its job id.
    pub async fn insert_post(
        &self,
        username: &str,
        platform: &str,
        status: &str,
        at: &str,
        text: &str,
    ) -> String {
        use postgate::db::schema::{upload_jobs, upload_targets};
        use postgate::domain::upload::{JobState, TargetState};
        let profile_id = self.profile_id(username).await;
        let id = format!("job_{}", uuid::Uuid::now_v7().simple());
        let (account_id, platform, status, text) = (
            self.account_id.clone(),
            platform.to_owned(),
            status.to_owned(),
            text.to_owned(),
        );
        let at = time_at(at);
        let job_id = id.clone();
        self.with_db(move |c| {
            let scheduled = status == "scheduled";
            let (job_state, target_state) = match status.as_str() {
                "scheduled" => (JobState::Scheduled, TargetState::Queued),
                "published" => (JobState::Done, TargetState::Completed),
                "cancelled" => (JobState::Cancelled, TargetState::Failed),
                _ => (JobState::Done, TargetState::Failed),
            };
            diesel::insert_into(upload_jobs::table)
                .values((
                    upload_jobs::id.eq(&job_id),
                    upload_jobs::request_id.eq(&job_id),
                    upload_jobs::account_id.eq(&account_id),
                    upload_jobs::profile_id.eq(&profile_id),
                    upload_jobs::kind.eq("text"),
                    upload_jobs::caption.eq(&text),
                    upload_jobs::payload.eq(
                        r#"{"fields":{},"media":[],"timezone":null,"original_scheduled":null}"#,
                    ),
                    upload_jobs::is_async.eq(false),
                    upload_jobs::state.eq(job_state.as_str()),
                    upload_jobs::scheduled_for.eq(scheduled.then_some(at)),
                    upload_jobs::queued.eq(false),
                    upload_jobs::credits.eq(1),
                    upload_jobs::created_at.eq(if scheduled { time::now() } else { at }),
                ))
                .execute(c)
                .unwrap();
            diesel::insert_into(upload_targets::table)
                .values((
                    upload_targets::job_id.eq(&job_id),
                    upload_targets::platform.eq(&platform),
                    upload_targets::state.eq(target_state.as_str()),
                    upload_targets::attempts.eq(0),
                    upload_targets::due_at.eq(at),
                    upload_targets::updated_at.eq(at),
                    upload_targets::finished_at.eq((!scheduled).then_some(at)),
                ))
                .execute(c)
                .unwrap();
        })
        .await;
        id
    }

    /// Stores a connected account as the OAuth flow would.
    pub async fn insert_connection(
        &self,
        username: &str,
        platform: &str,
        handle: &str,
        reauth: bool,
    ) {
        let profile_id = self.profile_id(username).await;
        let connection = connections::Connection {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: self.account_id.clone(),
            profile_id,
            platform: platform.to_owned(),
            platform_user_id: format!("{platform}-id-{handle}"),
            handle: Some(handle.to_owned()),
            display_name: Some(format!("{handle} Display")),
            avatar_url: Some(format!("https://cdn.example.com/{handle}.png")),
            capabilities: (platform == "tiktok").then(|| r#"["music","draft"]"#.to_owned()),
            reauth_required: reauth,
            reauth_reason: reauth.then(|| "invalid_grant".to_owned()),
            created_at: time::now(),
            updated_at: time::now(),
            selected_target_id: None,
            selected_target_name: None,
        };
        self.with_db(move |c| connections::insert(c, &connection).unwrap())
            .await;
    }

    /// A pending OAuth state for the link `link_id`, valid for `seconds` (negative: expired).
    pub async fn insert_oauth_state(
        &self,
        link_id: &str,
        authorize_url: &str,
        seconds: i64,
    ) -> String {
        let link_id = link_id.to_owned();
        let authorize_url = authorize_url.to_owned();
        let settings = postgate::config::Settings::from_raw(self.raw_settings()).expect("settings");
        let cipher = postgate::key_files::token_cipher(&settings).expect("cipher");
        self.with_db(move |c| {
            let link = postgate::db::links::find(c, &link_id)
                .unwrap()
                .expect("link")
                .0;
            let now = time::now();
            let id = postgate::domain::secrets::new_random_id(32);
            let state = oauth_states::OAuthState {
                state_hash: format!("hash-of-{id}"),
                id: id.clone(),
                account_id: link.account_id,
                link_id: Some(link.id),
                profile_id: link.profile_id,
                platform: "instagram".to_owned(),
                pkce_verifier: "sealed".to_owned(),
                return_url: None,
                authorize_url: postgate::oauth::flow::seal_authorize_url(
                    &cipher,
                    &id,
                    &authorize_url,
                ),
                created_at: now,
                expires_at: now + chrono::Duration::seconds(seconds),
                used_at: None,
                outcome_status: None,
                outcome_code: None,
                outcome_detail: None,
                returns_to_page: true,
            };
            oauth_states::insert(c, &state).unwrap();
            state.id
        })
        .await
    }

    fn page_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// GET a page (path with query) without following redirects.
    pub async fn page(&self, path: &str) -> Page {
        self.send_page(Self::page_client().get(self.url(path)))
            .await
    }

    /// GET a page with a browser's `Accept-Language`.
    pub async fn page_in(&self, path: &str, accept_language: &str) -> Page {
        self.send_page(
            Self::page_client()
                .get(self.url(path))
                .header("Accept-Language", accept_language),
        )
        .await
    }

    /// POST a form as the page does.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send_page(Self::page_client().post(self.url(path)).form(fields))
            .await
    }

    async fn send_page(&self, req: RequestBuilder) -> Page {
        let resp = req.send().await.expect("request reached the server");
        Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.expect("body"),
        }
    }
}
