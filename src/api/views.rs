//! Wire shapes shared by several endpoints.

use crate::db::profiles::Profile;
use crate::domain::{Platform, time};
use crate::error::ApiError;
use serde::Serialize;
use serde_json::{Map, Value};

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
}

impl ProfileView {
    pub fn new(profile: Profile, blocked: bool) -> Result<Self, ApiError> {
        let metadata = profile
            .metadata
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored metadata is not JSON: {e}")))?;
        Ok(Self {
            username: profile.username,
            created_at: time::rfc1123(profile.created_at),
            social_accounts: social_accounts(),
            id: profile.public_id,
            name: profile.name,
            external_id: profile.external_id,
            metadata,
            is_default: profile.is_default,
            blocked,
        })
    }
}

/// Every supported platform, `""` when not connected (Upload-Post's placeholder).
fn social_accounts() -> Map<String, Value> {
    Platform::ALL
        .iter()
        .map(|p| (p.key().to_owned(), Value::String(String::new())))
        .collect()
}
