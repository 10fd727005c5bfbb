//! The `Provider` trait every platform implements, and `App`: a provider with the operator's
//! credentials and endpoints, plus the standard OAuth 2.0 steps most providers reuse.

use super::http::{self, Http};
use super::{Identity, ProviderError, Target, TokenSet};
use crate::domain::{Platform, Secret, time};
use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;
use url::Url;

/// How the token endpoint wants the client's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    Body,
    /// HTTP Basic (RFC 6749 §2.3.1).
    Basic,
}

/// How a platform renews an access token before it lapses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// With the refresh token it issued (RFC 6749 §6). A grant that came without one (a
    /// LinkedIn app without refresh tokens, a Google consent that gave none) cannot be
    /// renewed: it lapses at expiry.
    RefreshToken,
    /// By trading the current access token, while it is still valid, for a fresh one
    /// (Meta's long-lived tokens); no refresh token is involved.
    CurrentToken,
}

impl Renewal {
    /// Whether `tokens` can be renewed this way.
    pub fn possible(self, tokens: &TokenSet) -> bool {
        match self {
            Renewal::RefreshToken => tokens.refresh_token.is_some(),
            Renewal::CurrentToken => true,
        }
    }
}

/// How a person signs in to the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// Authorization code with PKCE, through the platform's consent page.
    OAuth,
    /// A handle and an app password, exchanged for a session (Bluesky).
    AppPassword,
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    fn platform(&self) -> Platform;

    /// The platform's endpoints by name, at their documented URLs. Configuration may move
    /// any of them, and the sandbox moves all of them.
    fn endpoints(&self) -> &'static [(&'static str, &'static str)];

    /// The scopes requested.
    fn scopes(&self) -> &'static [&'static str];

    /// The scopes without which the connection is useless; refused if not granted.
    fn required_scopes(&self) -> &'static [&'static str] {
        self.scopes()
    }

    fn scope_separator(&self) -> &'static str {
        " "
    }

    fn client_auth(&self) -> ClientAuth {
        ClientAuth::Body
    }

    /// The name of the client id parameter (TikTok calls it `client_key`).
    fn client_id_param(&self) -> &'static str {
        "client_id"
    }

    fn sign_in(&self) -> SignIn {
        SignIn::OAuth
    }

    /// How `refresh` renews tokens: it must agree with what `refresh` does.
    fn renewal(&self) -> Renewal {
        Renewal::RefreshToken
    }

    /// Extra authorize parameters. `switch_account` asks the platform to let the person
    /// pick or sign in to another account rather than reuse the current session.
    fn authorize_params(&self, switch_account: bool) -> Vec<(&'static str, &'static str)> {
        let _ = switch_account;
        Vec::new()
    }

    async fn exchange(
        &self,
        app: &App,
        code: &str,
        verifier: &str,
    ) -> Result<TokenSet, ProviderError> {
        app.exchange_code(code, verifier).await
    }

    async fn identity(&self, app: &App, tokens: &TokenSet) -> Result<Identity, ProviderError>;

    async fn refresh(&self, app: &App, tokens: &TokenSet) -> Result<TokenSet, ProviderError> {
        app.refresh_grant(tokens).await
    }

    /// Revokes the grant at the platform. `Ok(false)`: the platform has no revocation.
    async fn revoke(&self, app: &App, tokens: &TokenSet) -> Result<bool, ProviderError> {
        let _ = (app, tokens);
        Ok(false)
    }

    /// Pages, boards or locations under the account; empty for platforms without them.
    async fn targets(&self, app: &App, tokens: &TokenSet) -> Result<Vec<Target>, ProviderError> {
        let _ = (app, tokens);
        Ok(Vec::new())
    }

    /// For `SignIn::AppPassword`: a session and the account behind it.
    async fn password_sign_in(
        &self,
        app: &App,
        identifier: &str,
        password: &str,
    ) -> Result<(TokenSet, Identity), ProviderError> {
        let _ = (app, identifier, password);
        Err(ProviderError::rejected(
            "unsupported",
            "this platform signs in through its own page",
        ))
    }
}

/// A provider with credentials and endpoints: what the flow and the refresh engine call.
pub struct App {
    pub provider: &'static dyn Provider,
    pub client_id: String,
    client_secret: Secret,
    endpoints: BTreeMap<&'static str, Url>,
    scopes: Vec<String>,
    /// Where the platform sends the browser back to (register it with the platform).
    pub redirect_uri: Url,
    pub http: Http,
    /// Pointed at the built-in emulator.
    pub sandbox: bool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("platform", &self.provider.platform())
            .field("client_id", &self.client_id)
            .field("sandbox", &self.sandbox)
            .finish_non_exhaustive()
    }
}

/// The parts of an `App` that come from configuration.
pub struct AppConfig {
    pub client_id: String,
    pub client_secret: Secret,
    pub endpoints: BTreeMap<&'static str, Url>,
    pub scopes: Option<Vec<String>>,
    pub redirect_uri: Url,
    pub sandbox: bool,
}

impl App {
    pub fn new(provider: &'static dyn Provider, config: AppConfig, http: Http) -> Self {
        let scopes = config
            .scopes
            .unwrap_or_else(|| provider.scopes().iter().map(|s| (*s).to_owned()).collect());
        Self {
            provider,
            client_id: config.client_id,
            client_secret: config.client_secret,
            endpoints: config.endpoints,
            scopes,
            redirect_uri: config.redirect_uri,
            http,
            sandbox: config.sandbox,
        }
    }

    pub fn platform(&self) -> Platform {
        self.provider.platform()
    }

    pub fn url(&self, name: &str) -> Result<Url, ProviderError> {
        self.endpoints
            .get(name)
            .cloned()
            .ok_or_else(|| ProviderError::malformed(format!("no endpoint named {name}")))
    }

    pub fn client_secret(&self) -> &str {
        self.client_secret.expose()
    }

    /// The origin of the consent page, for the connect page's `form-action`.
    pub fn authorize_origin(&self) -> Option<String> {
        self.endpoints
            .get("authorize")
            .map(|u| u.origin().ascii_serialization())
    }

    /// The platform's consent page for this state and PKCE challenge.
    pub fn authorize_url(
        &self,
        state: &str,
        challenge: PkceCodeChallenge,
        switch_account: bool,
    ) -> Result<Url, ProviderError> {
        let auth_url = AuthUrl::from_url(self.url("authorize")?);
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(auth_url)
            .set_redirect_uri(RedirectUrl::from_url(self.redirect_uri.clone()));
        let mut request = client
            .authorize_url(|| CsrfToken::new(state.to_owned()))
            .add_scope(Scope::new(
                self.scopes.join(self.provider.scope_separator()),
            ))
            .set_pkce_challenge(challenge);
        if self.provider.client_id_param() != "client_id" {
            request = request.add_extra_param(self.provider.client_id_param(), &self.client_id);
        }
        for (k, v) in self.provider.authorize_params(switch_account) {
            request = request.add_extra_param(k, v);
        }
        Ok(request.url().0)
    }

    /// POSTs a form to a named endpoint, with the client's credentials as the provider
    /// wants them.
    pub async fn post_form(
        &self,
        endpoint: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, ProviderError> {
        let mut form: Vec<(&str, &str)> = params.to_vec();
        let mut request = self.http.request(Method::POST, &self.url(endpoint)?);
        match self.provider.client_auth() {
            ClientAuth::Body => {
                form.push((self.provider.client_id_param(), &self.client_id));
                form.push(("client_secret", self.client_secret()));
            }
            ClientAuth::Basic => {
                request = request.basic_auth(&self.client_id, Some(self.client_secret()));
            }
        }
        self.http.json(request.form(&form)).await
    }

    /// GETs a URL with the access token as a Bearer header.
    pub async fn get_bearer(&self, url: Url, access_token: &str) -> Result<Value, ProviderError> {
        self.http
            .json(
                self.http
                    .request(Method::GET, &url)
                    .bearer_auth(access_token),
            )
            .await
    }

    /// The standard authorization-code exchange (RFC 6749 §4.1.3 with PKCE, RFC 7636).
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
    ) -> Result<TokenSet, ProviderError> {
        let body = self
            .post_form(
                "token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", self.redirect_uri.as_str()),
                    ("code_verifier", verifier),
                ],
            )
            .await?;
        http::token_set(&body, time::now())
    }

    /// Token revocation (RFC 7009) at the `revoke` endpoint: the refresh token when there is
    /// one, which ends the whole grant, else the access token.
    pub async fn revoke_token(&self, tokens: &TokenSet) -> Result<bool, ProviderError> {
        let (token, hint) = match &tokens.refresh_token {
            Some(r) => (r.as_str(), "refresh_token"),
            None => (tokens.access_token.as_str(), "access_token"),
        };
        self.post_form("revoke", &[("token", token), ("token_type_hint", hint)])
            .await?;
        Ok(true)
    }

    /// The standard refresh-token grant (RFC 6749 §6).
    pub async fn refresh_grant(&self, tokens: &TokenSet) -> Result<TokenSet, ProviderError> {
        let refresh_token = tokens.refresh_token.as_deref().ok_or_else(|| {
            ProviderError::rejected("no_refresh_token", "the platform gave no refresh token")
        })?;
        let body = self
            .post_form(
                "token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                ],
            )
            .await?;
        Ok(http::token_set(&body, time::now())?.after_refresh(tokens))
    }
}

/// Endpoint URLs by name: the provider's documented defaults, with overrides.
pub fn endpoints(
    provider: &dyn Provider,
    overrides: &BTreeMap<String, String>,
) -> Result<BTreeMap<&'static str, Url>, String> {
    if let Some(unknown) = overrides
        .keys()
        .find(|k| !provider.endpoints().iter().any(|(name, _)| name == k))
    {
        let known: Vec<&str> = provider.endpoints().iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "unknown endpoint {unknown:?} (known: {})",
            known.join(", ")
        ));
    }
    provider
        .endpoints()
        .iter()
        .map(|(name, default)| {
            let text = overrides.get(*name).map_or(*default, String::as_str);
            Url::parse(text)
                .map(|u| (*name, u))
                .map_err(|e| format!("endpoint {name}: {text:?} is not a URL ({e})"))
        })
        .collect()
}

/// Endpoints a browser opens rather than this server calls: the consent page, and the page a
/// post is seen at (a link in the post's result).
const BROWSER_ENDPOINTS: [&str; 2] = ["authorize", "post_page"];

/// The same endpoints moved under `base` (the sandbox): `https://host/path?q` becomes
/// `<base>/path?q`.
/// The endpoints moved onto the emulator: the pages a browser opens (`BROWSER_ENDPOINTS`)
/// under `public` (`public_url`), the rest (which this server calls) under `local`, so that a
/// server behind a proxy never calls itself through it.
pub fn moved_to_sandbox(
    endpoints: &BTreeMap<&'static str, Url>,
    public: &Url,
    local: &Url,
) -> BTreeMap<&'static str, Url> {
    endpoints
        .iter()
        .map(|(name, url)| {
            let base = if BROWSER_ENDPOINTS.contains(name) {
                public
            } else {
                local
            };
            let mut moved = base.clone();
            let path = format!("{}{}", base.path().trim_end_matches('/'), url.path());
            moved.set_path(&path);
            moved.set_query(url.query());
            (*name, moved)
        })
        .collect()
}
