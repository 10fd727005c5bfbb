//! Threads API v1.0 (Meta).

use super::meta::LongLivedLogin;
use crate::domain::Platform;

pub const THREADS: LongLivedLogin = LongLivedLogin {
    platform: Platform::Threads,
    endpoints: &[
        ("authorize", "https://threads.net/oauth/authorize"),
        ("token", "https://graph.threads.net/oauth/access_token"),
        ("long_lived", "https://graph.threads.net/access_token"),
        ("refresh", "https://graph.threads.net/refresh_access_token"),
        ("me", "https://graph.threads.net/v1.0/me"),
        // Publishing: the API root, to which ids and edges are appended
        // (`{user-id}/threads`, `{container-id}`). Last, so `me` matches first.
        ("graph", "https://graph.threads.net/v1.0/"),
    ],
    scopes: &["threads_basic", "threads_content_publish"],
    exchange_grant: "th_exchange_token",
    refresh_grant: "th_refresh_token",
    me_fields: "id,username,name,threads_profile_picture_url",
    id_fields: &["id"],
    avatar_field: "threads_profile_picture_url",
    switch_param: None,
};
