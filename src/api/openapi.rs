//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes, served
//! at `/api/openapi.json` with Swagger UI (from the binary, no CDN) at `/api/docs/`. A test
//! checks that it lists exactly the routes the app registers.
//!
//! The request schemas below describe what the handlers' typed parsers accept; the parsers
//! (`Username::from_json`, `ConnectRequest::from_json`, …) remain the authority.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error: Upload-Post's shape.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
    pub error_code: Option<String>,
}

/// `POST /users`.
#[derive(Serialize, ToSchema)]
pub struct CreateProfile {
    /// 1–100 characters, no `/`, no control characters, not a reserved sub-path.
    pub username: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    /// Any JSON object, ≤ 16 KiB.
    pub metadata: Option<Value>,
}

/// `DELETE /users`.
#[derive(Serialize, ToSchema)]
pub struct NamedProfile {
    pub username: String,
}

/// `POST /users/generate-jwt`.
#[derive(Serialize, ToSchema)]
pub struct GenerateJwt {
    pub username: String,
    /// Absolute https URL (http only for loopback).
    pub redirect_url: Option<String>,
    pub logo_image: Option<String>,
    pub redirect_button_text: Option<String>,
    pub connect_title: Option<String>,
    pub connect_description: Option<String>,
    pub platforms: Option<Vec<String>>,
    pub show_calendar: Option<bool>,
    pub readonly_calendar: Option<bool>,
    /// en, es, de, fr, pt, pl or tr; `null` clears the profile's.
    pub language: Option<String>,
    /// Flat map of page string keys to text; `{}` or `null` clears.
    pub ui_labels: Option<Value>,
    /// Seconds, 60–172800.
    pub expires_in: Option<i64>,
}

/// `validate-jwt` body form (with the API key); the Bearer form has no body.
#[derive(Serialize, ToSchema)]
pub struct ValidateJwt {
    pub jwt: Option<String>,
}

/// `POST /oauth/{platform}/start`. With an API key, `profile` names the profile; with a
/// profile JWT it is not needed.
#[derive(Serialize, ToSchema)]
pub struct StartConnection {
    pub profile: Option<String>,
    /// Absolute http(s), at most 2000 characters.
    pub redirect_url: Option<String>,
    /// Ask the platform to let the person pick another account.
    pub switch_account: Option<bool>,
}

/// `POST /users/facebook-page`.
#[derive(Serialize, ToSchema)]
pub struct PinFacebookPage {
    /// The profile (with an API key).
    pub profile_username: Option<String>,
    pub facebook_page_id: String,
}

/// `POST /users/google-business-location`.
#[derive(Serialize, ToSchema)]
pub struct PinLocation {
    pub profile_username: Option<String>,
    /// `accounts/98/locations/12`, `locations/12` or `12`.
    pub gbp_location_id: String,
}

/// `POST /google-business/locations/select` (the Python SDK's form).
#[derive(Serialize, ToSchema)]
pub struct SelectLocation {
    pub profile: Option<String>,
    pub location_id: String,
}

/// A body naming only the profile.
#[derive(Serialize, ToSchema)]
pub struct ProfileOnly {
    pub profile_username: Option<String>,
}

/// `DELETE /users/social`.
#[derive(Serialize, ToSchema)]
pub struct Disconnect {
    /// The profile (with an API key).
    pub username: Option<String>,
    pub platform: String,
}

/// `POST /users/revoke-jwt`: exactly one of the three.
#[derive(Serialize, ToSchema)]
pub struct RevokeJwt {
    pub jwt: Option<String>,
    pub link_id: Option<String>,
    pub username: Option<String>,
}

/// `POST /users/preferences`: either spelling, 0 (Sunday) or 1 (Monday).
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct Preferences {
    pub weekStartDay: Option<i32>,
    pub week_start_day: Option<i32>,
}

/// `POST /users/notifications`, `/notification-config`: an upsert.
#[derive(Serialize, ToSchema)]
pub struct NotificationSettings {
    pub webhook_url: Option<String>,
    /// A list of event names, or a map of event name to boolean.
    pub webhook_events: Option<Value>,
    /// A list of channel names, or a map of channel name to boolean.
    pub channels: Option<Value>,
    pub telegram_chat_id: Option<String>,
    pub slack_webhook_url: Option<String>,
    pub whatsapp_to_phone: Option<String>,
}

/// `POST /users/profile-webhook`.
#[derive(Serialize, ToSchema)]
pub struct ProfileWebhook {
    pub profile_username: String,
    pub webhook_url: String,
    pub webhook_events: Option<Value>,
}

/// `DELETE /users/profile-webhook`.
#[derive(Serialize, ToSchema)]
pub struct ProfileWebhookTarget {
    pub profile_username: String,
}

/// `POST /users/webhook-deliveries/redeliver`.
#[derive(Serialize, ToSchema)]
pub struct Redeliver {
    pub id: String,
}

/// Adds the security schemes, and the errors any API call can meet, to every operation.
struct Common;

impl Modify for Common {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apikey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Apikey <key>` (the scheme is case-insensitive)",
            ))),
        );
        components.add_security_scheme(
            "link_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                "ErrorBody",
                            ))))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/uploadposts/") {
                continue;
            }
            for op in [&mut item.get, &mut item.post, &mut item.delete]
                .into_iter()
                .flatten()
            {
                let responses = &mut op.responses.responses;
                for (status, description) in [
                    ("400", "Invalid input"),
                    ("401", "Missing or invalid credentials"),
                    ("404", "Not found"),
                    ("405", "Method not allowed"),
                    ("413", "Body over 64 KiB"),
                    (
                        "429",
                        "Rate limited, or this address is blocked after bad keys",
                    ),
                    ("503", "The database is unavailable"),
                ] {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description));
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Postgate",
        description = "The Upload-Post user-profiles API and hosted connect page, self-hosted.",
    ),
    paths(
        super::health::live,
        super::health::ready,
        crate::metrics::endpoint::scrape,
        super::me::get,
        super::users::list,
        super::users::create,
        super::users::delete,
        super::users::get_one,
        super::links::generate,
        super::links::validate,
        super::links::revoke,
        super::preferences::get,
        super::preferences::update,
        super::notifications::get,
        super::notifications::update,
        super::notifications::delete,
        super::notifications::get_config,
        super::notifications::update_config,
        super::notifications::test,
        super::notifications::rotate_secret,
        super::notifications::get_profile_webhook,
        super::notifications::set_profile_webhook,
        super::notifications::delete_profile_webhook,
        super::deliveries::list,
        super::deliveries::redeliver,
        super::accounts::start,
        super::accounts::disconnect,
        super::targets::facebook_pages,
        super::targets::linkedin_pages,
        super::targets::pinterest_boards,
        super::targets::google_locations,
        super::targets::select_google_location,
        super::targets::get_facebook_page,
        super::targets::set_facebook_page,
        super::targets::delete_facebook_page,
        super::targets::get_google_location,
        super::targets::set_google_location,
        super::targets::delete_google_location,
        crate::connect::bounce::page,
        crate::connect::pages::connect,
        crate::connect::pages::calendar,
        crate::connect::accounts::start,
        crate::connect::accounts::callback,
        crate::connect::accounts::signin_page,
        crate::connect::accounts::signin,
        crate::connect::accounts::disconnect,
        crate::connect::accounts::pin,
        crate::connect::pages::cancel,
        crate::connect::assets::serve,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Common),
)]
pub struct ApiDoc;
