//! Driving a connection through the built-in emulator over real HTTP, as a browser would:
//! the page's Connect form, the platform's consent page, the callback, back to the page.

use super::TestApp;
use super::connect::Page;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

pub const PHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
/// A Bluesky app password in the shape Bluesky issues.
pub const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";

/// How the person answers the consent page.
#[derive(Debug, Clone, Copy)]
pub enum Consent<'a> {
    Allow {
        person: usize,
    },
    /// Allow, but untick one permission.
    AllowWithout {
        person: usize,
        scope: &'a str,
    },
    Deny,
}

/// A response whose redirect was not followed.
#[derive(Debug)]
pub struct Hop {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote");
    html[start..start + end]
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

impl TestApp {
    /// GET without following redirects; relative URLs are on this server.
    pub async fn hop(&self, url: &str) -> Hop {
        self.hop_as(url, None).await
    }

    pub async fn hop_as(&self, url: &str, user_agent: Option<&str>) -> Hop {
        let url = if url.starts_with('/') {
            self.url(url)
        } else {
            url.to_owned()
        };
        let mut req = no_redirects().get(url);
        if let Some(ua) = user_agent {
            req = req.header("User-Agent", ua);
        }
        Self::read_hop(req).await
    }

    async fn read_hop(req: reqwest::RequestBuilder) -> Hop {
        let resp = req.send().await.expect("request reached the server");
        Hop {
            status: resp.status(),
            location: resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: resp.text().await.expect("body"),
        }
    }

    /// Presses Connect (or "use another account") on the page: the 303.
    pub async fn press_connect(
        &self,
        token: &str,
        platform: &str,
        user_agent: Option<&str>,
        switch: bool,
    ) -> Hop {
        let csrf = self.page(&format!("/connect?token={token}")).await.csrf();
        let mut fields = vec![
            ("token", token),
            ("csrf", csrf.as_str()),
            ("platform", platform),
        ];
        if switch {
            fields.push(("switch", "1"));
        }
        let mut req = no_redirects()
            .post(self.url("/connect/start"))
            .form(&fields);
        if let Some(ua) = user_agent {
            req = req.header("User-Agent", ua);
        }
        Self::read_hop(req).await
    }

    /// Answers the emulator's consent page at `authorize_url`: the redirect back (the
    /// callback URL with a code, or the platform's denial).
    pub async fn consent(&self, authorize_url: &str, consent: Consent<'_>) -> String {
        let page = self.hop(authorize_url).await;
        assert_eq!(page.status, StatusCode::OK, "consent page: {}", page.body);
        let parsed = url::Url::parse(authorize_url).expect("absolute authorize URL");
        let origin = parsed.origin().ascii_serialization();
        let query: HashMap<String, String> = parsed.query_pairs().into_owned().collect();
        let platform = authorize_url
            .split("/sandbox/")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("a sandbox URL")
            .to_owned();
        let scopes: Vec<String> = query
            .get("scope")
            .map(|s| {
                s.split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut form: Vec<(String, String)> = vec![
            ("redirect_uri".into(), hidden(&page.body, "redirect_uri")),
            ("state".into(), hidden(&page.body, "state")),
            (
                "code_challenge".into(),
                hidden(&page.body, "code_challenge"),
            ),
        ];
        let (decision, person, dropped) = match consent {
            Consent::Allow { person } => ("allow", person, None),
            Consent::AllowWithout { person, scope } => ("allow", person, Some(scope)),
            Consent::Deny => ("deny", 0, None),
        };
        form.push(("decision".into(), decision.into()));
        form.push(("person".into(), person.to_string()));
        for s in scopes.into_iter().filter(|s| Some(s.as_str()) != dropped) {
            form.push(("scope".into(), s));
        }
        let resp = no_redirects()
            .post(format!("{origin}/sandbox/{platform}/_consent"))
            .form(&form)
            .send()
            .await
            .expect("consent posted");
        assert_eq!(resp.status(), StatusCode::FOUND);
        resp.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Connects `platform` for `profile` through the Connect API of the server at `api`
    /// (`…/api/uploadposts`) with `key`, with no `redirect_url`: the result page's hop.
    pub async fn connect_via_api(
        &self,
        api: &str,
        key: &str,
        platform: &str,
        profile: &str,
        consent: Consent<'_>,
    ) -> Hop {
        let started: Value = self
            .with_key(
                self.client
                    .post(format!("{api}/oauth/{platform}/start"))
                    .json(&json!({"profile": profile})),
                key,
            )
            .send()
            .await
            .expect("start")
            .json()
            .await
            .expect("json");
        let authorize = started["authorize_url"]
            .as_str()
            .unwrap_or_else(|| panic!("not started: {started}"));
        let callback = self.consent(authorize, consent).await;
        self.hop(&callback).await
    }

    /// Connects `platform` on the link's page as `consent` says, and returns the page the
    /// person lands on afterwards.
    pub async fn connect_on_page(&self, token: &str, platform: &str, consent: Consent<'_>) -> Page {
        let start = self.press_connect(token, platform, None, false).await;
        assert_eq!(
            start.status,
            StatusCode::SEE_OTHER,
            "{platform}: {}",
            start.body
        );
        let location = start.location.expect("a redirect");
        let back = if platform == "bluesky" {
            assert!(location.starts_with("/connect/signin?"), "{location}");
            let csrf = self.page(&location).await.csrf();
            let person = match consent {
                Consent::Allow { person } | Consent::AllowWithout { person, .. } => person,
                Consent::Deny => 0,
            };
            let identifier =
                postgate::sandbox::people::handle(postgate::domain::Platform::Bluesky, person);
            let password = if matches!(consent, Consent::Deny) {
                "wrong"
            } else {
                APP_PASSWORD
            };
            let page = self
                .post_form(
                    "/connect/signin",
                    &[
                        ("token", token),
                        ("csrf", &csrf),
                        ("platform", "bluesky"),
                        ("identifier", &identifier),
                        ("password", password),
                    ],
                )
                .await;
            if page.status != StatusCode::SEE_OTHER {
                return page;
            }
            page.header("location").to_owned()
        } else {
            let callback = self.consent(&location, consent).await;
            let returned = self.hop(&callback).await;
            assert_eq!(
                returned.status,
                StatusCode::SEE_OTHER,
                "{platform} callback: {}",
                returned.body
            );
            returned.location.expect("back to the page")
        };
        let path = back.trim_start_matches(&self.address).to_owned();
        self.page(&path).await
    }

    /// A request to `/api/uploadposts{path}` under a profile's link token instead of the API
    /// key, with a JSON body: its status.
    pub async fn status_as_link(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> StatusCode {
        self.client
            .request(method, self.api(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request reached the server")
            .status()
    }

    /// Scripts the emulator (`faults`, `expires_in`).
    pub async fn sandbox_control(&self, body: Value) {
        let resp = self
            .client
            .post(self.url("/sandbox/_control"))
            .json(&body)
            .send()
            .await
            .expect("control");
        assert_eq!(resp.status(), StatusCode::OK);
    }

    /// The calls the emulator received: `(platform, endpoint, method)`.
    pub async fn sandbox_calls(&self) -> Vec<(String, String, String)> {
        let calls: Vec<Value> = self
            .client
            .get(self.url("/sandbox/_control/calls"))
            .send()
            .await
            .expect("calls")
            .json()
            .await
            .expect("json");
        calls
            .iter()
            .map(|c| {
                (
                    c["platform"].as_str().unwrap_or("").to_owned(),
                    c["endpoint"].as_str().unwrap_or("").to_owned(),
                    c["method"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// The profile's `social_accounts[platform]` as the API shows it.
    pub async fn social_account(&self, username: &str, platform: &str) -> Value {
        let (status, body) = super::send(self.get(&format!("/users/{username}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["profile"]["social_accounts"][platform].clone()
    }

    pub fn faults(platform: &str, endpoint: &str, faults: &[&str]) -> Value {
        json!({"platform": platform, "endpoint": endpoint, "faults": faults})
    }
}
