//! Each platform's answer shapes, as its documentation gives them: token answers, identity
//! objects and error bodies.

use crate::domain::Platform;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

/// Access-token lifetimes in seconds (short-lived, or after the long-lived exchange).
pub fn default_lifetime(platform: Platform, long_lived: bool) -> i64 {
    match platform {
        Platform::Facebook | Platform::Instagram | Platform::Threads if long_lived => 5_184_000,
        Platform::Facebook | Platform::Instagram | Platform::Threads => 3_600,
        Platform::Reddit => 86_400,
        Platform::Tiktok => 7_200,
        Platform::Linkedin => 5_184_000,
        Platform::Youtube | Platform::GoogleBusiness => 3_599,
        Platform::X | Platform::Bluesky => 7_200,
        Platform::Pinterest => 2_592_000,
    }
}

pub fn has_refresh_token(platform: Platform) -> bool {
    !matches!(
        platform,
        Platform::Facebook | Platform::Instagram | Platform::Threads
    )
}

/// Platforms that hand out a new refresh token on each refresh (the old one dies).
pub fn rotates_refresh_token(platform: Platform) -> bool {
    matches!(
        platform,
        Platform::X | Platform::Tiktok | Platform::Pinterest | Platform::Bluesky
    )
}

/// Platforms that repeat the same refresh token in a refresh answer (Google omits it).
pub fn repeats_refresh_token(platform: Platform) -> bool {
    matches!(platform, Platform::Linkedin | Platform::Reddit)
}

fn scope_text(platform: Platform, scopes: &[String]) -> String {
    match platform {
        Platform::Tiktok | Platform::Linkedin | Platform::Pinterest => scopes.join(","),
        _ => scopes.join(" "),
    }
}

/// The answer to the authorization-code exchange.
pub fn code_answer(
    platform: Platform,
    scopes: &[String],
    access: &str,
    refresh: Option<&str>,
    expires_in: i64,
    user_id: &str,
) -> Value {
    match platform {
        Platform::Facebook => {
            json!({"access_token": access, "token_type": "bearer", "expires_in": expires_in})
        }
        Platform::Instagram => json!({"data": [{
            "access_token": access, "user_id": user_id, "permissions": scopes.join(","),
        }]}),
        Platform::Threads => json!({"access_token": access, "user_id": user_id}),
        _ => refresh_answer(platform, scopes, access, refresh, expires_in, user_id),
    }
}

/// The answer to a refresh (and, for the standard platforms, to the code exchange).
pub fn refresh_answer(
    platform: Platform,
    scopes: &[String],
    access: &str,
    refresh: Option<&str>,
    expires_in: i64,
    user_id: &str,
) -> Value {
    let mut answer = json!({
        "access_token": access,
        "token_type": if platform == Platform::Tiktok { "Bearer" } else { "bearer" },
        "expires_in": expires_in,
        "scope": scope_text(platform, scopes),
    });
    if let Some(r) = refresh {
        answer["refresh_token"] = r.into();
    }
    match platform {
        Platform::Tiktok => {
            answer["open_id"] = user_id.into();
            answer["refresh_expires_in"] = 31_536_000.into();
        }
        Platform::Linkedin => answer["refresh_token_expires_in"] = 31_536_000.into(),
        Platform::Pinterest => {
            answer["refresh_token_expires_in"] = 31_536_000.into();
            answer["response_type"] = "authorization_code".into();
        }
        _ => {}
    }
    answer
}

/// The identity object of each platform's "who am I" endpoint.
pub fn identity(platform: Platform, id: &str, handle: &str, name: &str, avatar: &str) -> Value {
    match platform {
        Platform::Facebook => json!({"id": id, "name": name, "picture": {"data": {
            "height": 200, "is_silhouette": false, "url": avatar, "width": 200}}}),
        Platform::Instagram => json!({"id": format!("9{id}"), "user_id": id, "username": handle,
            "name": name, "profile_picture_url": avatar}),
        Platform::Threads => json!({"id": id, "username": handle, "name": name,
            "threads_profile_picture_url": avatar}),
        Platform::Linkedin | Platform::GoogleBusiness => {
            let (given, family) = name.split_once(' ').unwrap_or((name, ""));
            let mut me = json!({"sub": id, "name": name, "given_name": given,
                "family_name": family, "picture": avatar,
                "locale": {"country": "US", "language": "en"}});
            if platform == Platform::GoogleBusiness {
                me["email"] = handle.into();
                me["email_verified"] = true.into();
            }
            me
        }
        Platform::Tiktok => json!({
            "data": {"user": {"open_id": id, "union_id": format!("u{id}"), "avatar_url": avatar,
                "display_name": name, "username": handle}},
            "error": {"code": "ok", "message": "", "log_id": "20261124000000SANDBOX"},
        }),
        Platform::Youtube => json!({
            "kind": "youtube#channelListResponse", "etag": "sandbox",
            "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
            "items": [{"kind": "youtube#channel", "etag": "sandbox", "id": id, "snippet": {
                "title": name, "description": "", "customUrl": handle,
                "publishedAt": "2020-01-01T00:00:00Z",
                "thumbnails": {"default": {"url": avatar, "width": 88, "height": 88}}}}],
        }),
        Platform::X => json!({"data": {"id": id, "name": name, "username": handle,
            "profile_image_url": avatar}}),
        Platform::Pinterest => json!({"account_type": "BUSINESS", "id": id,
            "profile_image": avatar, "website_url": "", "username": handle,
            "business_name": name, "board_count": 3, "pin_count": 42, "follower_count": 100}),
        // Reddit escapes `&` in icon URLs.
        Platform::Reddit => json!({"id": id, "name": handle,
            "subreddit": {"title": name, "display_name_prefixed": format!("u/{handle}")},
            "icon_img": format!("{avatar}?width=256&amp;s=sandbox"), "created_utc": 1_600_000_000.0}),
        Platform::Bluesky => json!({"did": id, "handle": handle, "displayName": name,
            "avatar": avatar, "followersCount": 10, "followsCount": 5, "postsCount": 1}),
    }
}

/// An error answer in the platform's shape.
pub fn error(platform: Platform, status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let body = match platform {
        Platform::Facebook | Platform::Instagram | Platform::Threads => json!({"error": {
            "message": message, "type": code, "code": status.as_u16(), "fbtrace_id": "AsandboxTrace"}}),
        Platform::Tiktok => json!({"error": code, "error_description": message,
            "log_id": "20261124000000SANDBOX"}),
        Platform::Bluesky => json!({"error": code, "message": message}),
        _ => json!({"error": code, "error_description": message}),
    };
    HttpResponse::build(status).json(body)
}

/// The refusal of a dead code or refresh token.
pub fn invalid_grant(platform: Platform) -> HttpResponse {
    match platform {
        Platform::Facebook | Platform::Instagram | Platform::Threads => error(
            platform,
            StatusCode::BAD_REQUEST,
            "OAuthException",
            "Error validating verification code or the session has been invalidated",
        ),
        Platform::Bluesky => error(
            platform,
            StatusCode::BAD_REQUEST,
            "ExpiredToken",
            "Token has been revoked",
        ),
        _ => error(
            platform,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The provided authorization grant or refresh token is invalid, expired or revoked",
        ),
    }
}

/// The refusal of a dead access token on an API call.
pub fn unauthorized(platform: Platform) -> HttpResponse {
    let body = match platform {
        Platform::Facebook | Platform::Instagram | Platform::Threads => json!({"error": {
            "message": "Invalid OAuth access token - Cannot parse access token",
            "type": "OAuthException", "code": 190, "fbtrace_id": "AsandboxTrace"}}),
        Platform::Tiktok => json!({"data": {}, "error": {"code": "access_token_invalid",
            "message": "The access token is invalid or not found in the request.",
            "log_id": "20261124000000SANDBOX"}}),
        Platform::Youtube | Platform::GoogleBusiness => json!({"error": {"code": 401,
            "message": "Request had invalid authentication credentials.",
            "status": "UNAUTHENTICATED"}}),
        Platform::X => json!({"title": "Unauthorized", "type": "about:blank", "status": 401,
            "detail": "Unauthorized"}),
        Platform::Pinterest => json!({"code": 2, "message": "Authentication failed."}),
        Platform::Linkedin => json!({"status": 401, "serviceErrorCode": 65600,
            "code": "INVALID_ACCESS_TOKEN", "message": "Invalid access token"}),
        Platform::Reddit => json!({"message": "Unauthorized", "error": 401}),
        Platform::Bluesky => json!({"error": "InvalidToken", "message": "Bad token"}),
    };
    HttpResponse::Unauthorized().json(body)
}
