//! Wire shapes shared by several endpoints.

use crate::db::connections::Connection;
use crate::db::profiles::Profile;
use crate::domain::{Platform, time};
use crate::error::ApiError;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// A profile as Upload-Post shows it (`username`, `created_at`, `social_accounts`), followed
/// by our extensions.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    pub username: String,
    pub created_at: String,
    pub social_accounts: Map<String, Value>,
    /// The public profile id (Mallary style).
    pub id: String,
    pub name: String,
    pub external_id: Option<String>,
    pub metadata: Option<Value>,
    pub is_default: bool,
    /// Over the plan's limit after a downgrade: kept, but refused connect links.
    pub blocked: bool,
    /// The pinned Facebook Page and Google Business location.
    pub selected_page_id: Option<String>,
    pub selected_page_name: Option<String>,
    pub selected_location_id: Option<String>,
    pub selected_location_name: Option<String>,
}

impl ProfileView {
    /// `connections` may hold other profiles' connections too; only this profile's count.
    pub fn new(
        profile: Profile,
        blocked: bool,
        connections: &[Connection],
    ) -> Result<Self, ApiError> {
        let metadata = profile
            .metadata
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored metadata is not JSON: {e}")))?;
        let pin = |platform: Platform| {
            connections
                .iter()
                .find(|c| c.profile_id == profile.id && c.platform == platform.key())
                .map(|c| (c.selected_target_id.clone(), c.selected_target_name.clone()))
                .unwrap_or_default()
        };
        let (selected_page_id, selected_page_name) = pin(Platform::Facebook);
        let (selected_location_id, selected_location_name) = pin(Platform::GoogleBusiness);
        Ok(Self {
            username: profile.username,
            created_at: time::rfc1123(profile.created_at),
            social_accounts: social_accounts(&profile.id, connections, Value::from("")),
            id: profile.public_id,
            name: profile.name,
            external_id: profile.external_id,
            metadata,
            is_default: profile.is_default,
            blocked,
            selected_page_id,
            selected_page_name,
            selected_location_id,
            selected_location_name,
        })
    }
}

/// Every supported platform: the connected account, else `not_connected` (Upload-Post
/// shows `""` in lists and `null` in single-profile reads).
pub fn social_accounts(
    profile_id: &str,
    connections: &[Connection],
    not_connected: Value,
) -> Map<String, Value> {
    Platform::ALL
        .iter()
        .map(|p| {
            let account = connections
                .iter()
                .find(|c| c.profile_id == profile_id && c.platform == p.key())
                .map_or_else(|| not_connected.clone(), social_account);
            (p.key().to_owned(), account)
        })
        .collect()
}

/// A connected account with the spec's fields (3.2).
fn social_account(c: &Connection) -> Value {
    let mut account = json!({
        "username": c.platform_user_id,
        "handle": c.handle,
        "display_name": c.display_name,
        "social_images": c.avatar_url,
        "reauth_required": c.reauth_required,
    });
    if let Some(capabilities) = c
        .capabilities
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
    {
        account["capabilities"] = capabilities;
    }
    account
}
