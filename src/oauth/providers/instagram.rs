//! Instagram API with Instagram Login (professional accounts), Graph API v21.0.

use super::meta::LongLivedLogin;
use crate::domain::Platform;

pub const INSTAGRAM: LongLivedLogin = LongLivedLogin {
    platform: Platform::Instagram,
    endpoints: &[
        ("authorize", "https://www.instagram.com/oauth/authorize"),
        ("token", "https://api.instagram.com/oauth/access_token"),
        ("long_lived", "https://graph.instagram.com/access_token"),
        (
            "refresh",
            "https://graph.instagram.com/refresh_access_token",
        ),
        ("me", "https://graph.instagram.com/v21.0/me"),
        // Publishing: the API root, to which ids and edges are appended
        // (`{ig-user-id}/media`, `{container-id}`). Last, so `me` matches first.
        ("graph", "https://graph.instagram.com/v21.0/"),
    ],
    scopes: &[
        "instagram_business_basic",
        "instagram_business_content_publish",
    ],
    exchange_grant: "ig_exchange_token",
    refresh_grant: "ig_refresh_token",
    me_fields: "user_id,username,name,profile_picture_url",
    // `user_id` is the professional account's id; `id` is app-scoped.
    id_fields: &["user_id", "id"],
    avatar_field: "profile_picture_url",
    switch_param: Some(("force_reauth", "true")),
};
