//! The platforms this server can connect: an `App` per platform that is configured (client
//! id and secret; Bluesky needs none), or every platform pointed at the built-in emulator
//! when the sandbox is on.

use super::http::Http;
use super::provider::{self, App, AppConfig, SignIn};
use super::providers;
use crate::config::PlatformSettings;
use crate::domain::Platform;
use crate::urls::Urls;
use std::collections::BTreeMap;

pub const SANDBOX_CLIENT_PREFIX: &str = "sandbox-client-";
pub const SANDBOX_SECRET_PREFIX: &str = "sandbox-secret-";

pub struct Platforms {
    apps: BTreeMap<&'static str, App>,
    pub sandbox: bool,
}

impl Platforms {
    pub fn new(
        settings: &BTreeMap<Platform, PlatformSettings>,
        sandbox: bool,
        urls: &Urls,
        local: &Urls,
        http: &Http,
    ) -> anyhow::Result<Self> {
        let mut apps = BTreeMap::new();
        for platform in Platform::ALL {
            let provider = providers::for_platform(platform);
            let configured = settings.get(&platform);
            let overrides = configured.map(|c| c.endpoints.clone()).unwrap_or_default();
            let endpoints = provider::endpoints(provider, &overrides)
                .map_err(|e| anyhow::anyhow!("platforms.{}: {e}", platform.key()))?;
            let config = if sandbox {
                AppConfig {
                    client_id: format!("{SANDBOX_CLIENT_PREFIX}{}", platform.key()),
                    client_secret: format!("{SANDBOX_SECRET_PREFIX}{}", platform.key()),
                    endpoints: provider::moved_to_sandbox(
                        &endpoints,
                        &urls.sandbox(platform),
                        &local.sandbox(platform),
                    ),
                    scopes: None,
                    redirect_uri: urls.oauth_callback(platform),
                    sandbox: true,
                }
            } else {
                let Some(c) = configured.filter(|c| c.enabled) else {
                    continue;
                };
                let has_credentials = c.client_id.is_some() && c.client_secret.is_some();
                if provider.sign_in() == SignIn::OAuth && !has_credentials {
                    continue;
                }
                AppConfig {
                    client_id: c.client_id.clone().unwrap_or_default(),
                    client_secret: c.client_secret.clone().unwrap_or_default(),
                    endpoints,
                    scopes: c.scopes.clone(),
                    redirect_uri: urls.oauth_callback(platform),
                    sandbox: false,
                }
            };
            apps.insert(platform.key(), App::new(provider, config, http.clone()));
        }
        Ok(Self { apps, sandbox })
    }

    /// The platform's app, if it can be connected here.
    pub fn get(&self, platform: Platform) -> Option<&App> {
        self.apps.get(platform.key())
    }

    /// The consent pages' origins, which the connect page's forms may redirect to.
    pub fn authorize_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self
            .apps
            .values()
            .filter_map(App::authorize_origin)
            .collect();
        origins.sort();
        origins.dedup();
        origins
    }
}
