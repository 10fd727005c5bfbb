//! The JSON API: routes, one file per resource.

pub mod accounts;
pub mod deliveries;
pub mod extract;
pub mod health;
pub mod links;
pub mod me;
pub mod notifications;
pub mod openapi;
pub mod preferences;
pub mod rate_limit;
pub mod targets;
pub mod users;
pub mod views;

use crate::connect;
use crate::error::ApiError;
use actix_web::http::{Method, header};
use actix_web::{HttpResponse, Resource, ResponseError, Route, guard, web};
use std::collections::BTreeSet;
use std::sync::Mutex;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::PathConfig::default()
            .error_handler(|e, _| ApiError::InvalidQuery(e.to_string()).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| ApiError::InvalidQuery(e.to_string()).into()),
    )
    .service(
        SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi::ApiDoc::openapi()),
    )
    .service(resource("", "/healthz", &[Method::GET]).route(get().to(health::live)))
    .service(resource("", "/readyz", &[Method::GET]).route(get().to(health::ready)))
    .service(
        web::scope(API)
            .wrap(actix_web::middleware::from_fn(rate_limit::quota_headers))
            .service(resource(API, "/me", &[Method::GET]).route(get().to(me::get)))
            .service(
                resource(API, "/users", &[Method::GET, Method::POST, Method::DELETE])
                    .route(get().to(users::list))
                    .route(web::post().to(users::create))
                    .route(web::delete().to(users::delete)),
            )
            // Fixed paths before `/users/{username}`, which would otherwise claim them.
            .service(
                resource(API, "/users/generate-jwt", &[Method::POST])
                    .route(web::post().to(links::generate)),
            )
            .service(
                resource(API, "/users/validate-jwt", &[Method::GET, Method::POST])
                    .route(get().to(links::validate))
                    .route(web::post().to(links::validate)),
            )
            .service(
                resource(API, "/users/revoke-jwt", &[Method::POST])
                    .route(web::post().to(links::revoke)),
            )
            .service(
                resource(API, "/users/preferences", &[Method::GET, Method::POST])
                    .route(get().to(preferences::get))
                    .route(web::post().to(preferences::update)),
            )
            .service(
                resource(
                    API,
                    "/users/notifications",
                    &[Method::GET, Method::POST, Method::DELETE],
                )
                .route(get().to(notifications::get))
                .route(web::post().to(notifications::update))
                .route(web::delete().to(notifications::delete)),
            )
            .service(
                resource(API, "/users/notifications/test", &[Method::POST])
                    .route(web::post().to(notifications::test)),
            )
            .service(
                resource(API, "/notification-config", &[Method::GET, Method::POST])
                    .route(get().to(notifications::get_config))
                    .route(web::post().to(notifications::update_config)),
            )
            .service(
                resource(API, "/users/webhook-secret", &[Method::POST])
                    .route(web::post().to(notifications::rotate_secret)),
            )
            .service(
                resource(
                    API,
                    "/users/profile-webhook",
                    &[Method::GET, Method::POST, Method::DELETE],
                )
                .route(get().to(notifications::get_profile_webhook))
                .route(web::post().to(notifications::set_profile_webhook))
                .route(web::delete().to(notifications::delete_profile_webhook)),
            )
            .service(
                resource(API, "/users/webhook-deliveries", &[Method::GET])
                    .route(get().to(deliveries::list)),
            )
            .service(
                resource(API, "/users/webhook-deliveries/redeliver", &[Method::POST])
                    .route(web::post().to(deliveries::redeliver)),
            )
            .service(
                resource(API, "/users/social", &[Method::DELETE])
                    .route(web::delete().to(accounts::disconnect)),
            )
            .service(
                resource(
                    API,
                    "/users/facebook-page",
                    &[Method::GET, Method::POST, Method::DELETE],
                )
                .route(get().to(targets::get_facebook_page))
                .route(web::post().to(targets::set_facebook_page))
                .route(web::delete().to(targets::delete_facebook_page)),
            )
            .service(
                resource(
                    API,
                    "/users/google-business-location",
                    &[Method::GET, Method::POST, Method::DELETE],
                )
                .route(get().to(targets::get_google_location))
                .route(web::post().to(targets::set_google_location))
                .route(web::delete().to(targets::delete_google_location)),
            )
            .service(
                resource(API, "/users/{username}", &[Method::GET]).route(get().to(users::get_one)),
            )
            .service(
                resource(API, "/facebook/pages", &[Method::GET])
                    .route(get().to(targets::facebook_pages)),
            )
            .service(
                resource(API, "/linkedin/pages", &[Method::GET])
                    .route(get().to(targets::linkedin_pages)),
            )
            .service(
                resource(API, "/pinterest/boards", &[Method::GET])
                    .route(get().to(targets::pinterest_boards)),
            )
            .service(
                resource(API, "/google-business/locations", &[Method::GET])
                    .route(get().to(targets::google_locations)),
            )
            .service(
                resource(API, "/google-business/locations/select", &[Method::POST])
                    .route(web::post().to(targets::select_google_location)),
            )
            .service(
                resource(API, "/oauth/{platform}/start", &[Method::POST])
                    .route(web::post().to(accounts::start)),
            )
            .service(
                resource(API, "/oauth/bounce", &[Method::GET])
                    .wrap(actix_web::middleware::from_fn(
                        connect::headers::page_headers,
                    ))
                    .route(get().to(connect::bounce::page)),
            )
            .service(
                resource(API, "/oauth/callback/{platform}", &[Method::GET])
                    .wrap(actix_web::middleware::from_fn(
                        connect::headers::page_headers,
                    ))
                    .route(get().to(connect::accounts::callback)),
            ),
    );
}

/// GET, and HEAD with it (actix sends no body for HEAD).
pub(crate) fn get() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

const API: &str = "/api/uploadposts";

/// Every route the app registers, as (method, path), recorded as the routes are built: the
/// test that compares the app with its OpenAPI document reads it.
static REGISTERED: Mutex<BTreeSet<(String, String)>> = Mutex::new(BTreeSet::new());

pub fn registered_routes() -> BTreeSet<(String, String)> {
    REGISTERED.lock().map(|r| r.clone()).unwrap_or_default()
}

/// Notes that `path` (in full) answers `methods`.
pub fn record_route(path: &str, methods: &[Method]) {
    if let Ok(mut registered) = REGISTERED.lock() {
        for m in methods {
            registered.insert((m.as_str().to_owned(), path.to_owned()));
        }
    }
}

/// A resource at `prefix` + `path` (registered as `path` inside the prefix's scope),
/// answering other methods with a JSON 405 that lists the allowed ones.
pub(crate) fn resource(prefix: &str, path: &str, methods: &[Method]) -> Resource {
    record_route(&format!("{prefix}{path}"), methods);
    let mut allowed: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if methods.contains(&Method::GET) {
        allowed.insert(1, Method::HEAD.as_str());
    }
    let allow = allowed.join(", ");
    web::resource(path).default_service(web::to(move || {
        let allow = allow.clone();
        async move {
            let mut resp = ApiError::MethodNotAllowed.error_response();
            if let Ok(value) = header::HeaderValue::from_str(&allow) {
                resp.headers_mut().insert(header::ALLOW, value);
            }
            resp
        }
    }))
}

/// Any path no route claims.
pub async fn not_found() -> HttpResponse {
    ApiError::RouteNotFound.error_response()
}
