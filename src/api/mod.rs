//! The JSON API: routes, one file per resource.

pub mod deliveries;
pub mod extract;
pub mod health;
pub mod links;
pub mod me;
pub mod notifications;
pub mod preferences;
pub mod rate_limit;
pub mod users;
pub mod views;

use crate::connect;
use crate::error::ApiError;
use actix_web::http::{Method, header};
use actix_web::{HttpResponse, Resource, ResponseError, Route, guard, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::PathConfig::default()
            .error_handler(|e, _| ApiError::InvalidQuery(e.to_string()).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| ApiError::InvalidQuery(e.to_string()).into()),
    )
    .service(resource("/healthz", &[Method::GET]).route(get().to(health::live)))
    .service(resource("/readyz", &[Method::GET]).route(get().to(health::ready)))
    .service(
        web::scope("/api/uploadposts")
            .wrap(actix_web::middleware::from_fn(rate_limit::quota_headers))
            .service(resource("/me", &[Method::GET]).route(get().to(me::get)))
            .service(
                resource("/users", &[Method::GET, Method::POST, Method::DELETE])
                    .route(get().to(users::list))
                    .route(web::post().to(users::create))
                    .route(web::delete().to(users::delete)),
            )
            // Fixed paths before `/users/{username}`, which would otherwise claim them.
            .service(
                resource("/users/generate-jwt", &[Method::POST])
                    .route(web::post().to(links::generate)),
            )
            .service(
                resource("/users/validate-jwt", &[Method::GET, Method::POST])
                    .route(get().to(links::validate))
                    .route(web::post().to(links::validate)),
            )
            .service(
                resource("/users/revoke-jwt", &[Method::POST]).route(web::post().to(links::revoke)),
            )
            .service(
                resource("/users/preferences", &[Method::GET, Method::POST])
                    .route(get().to(preferences::get))
                    .route(web::post().to(preferences::update)),
            )
            .service(
                resource(
                    "/users/notifications",
                    &[Method::GET, Method::POST, Method::DELETE],
                )
                .route(get().to(notifications::get))
                .route(web::post().to(notifications::update))
                .route(web::delete().to(notifications::delete)),
            )
            .service(
                resource("/users/notifications/test", &[Method::POST])
                    .route(web::post().to(notifications::test)),
            )
            .service(
                resource("/notification-config", &[Method::GET, Method::POST])
                    .route(get().to(notifications::get))
                    .route(web::post().to(notifications::update)),
            )
            .service(
                resource("/users/webhook-secret", &[Method::POST])
                    .route(web::post().to(notifications::rotate_secret)),
            )
            .service(
                resource(
                    "/users/profile-webhook",
                    &[Method::GET, Method::POST, Method::DELETE],
                )
                .route(get().to(notifications::get_profile_webhook))
                .route(web::post().to(notifications::set_profile_webhook))
                .route(web::delete().to(notifications::delete_profile_webhook)),
            )
            .service(
                resource("/users/webhook-deliveries", &[Method::GET])
                    .route(get().to(deliveries::list)),
            )
            .service(
                resource("/users/webhook-deliveries/redeliver", &[Method::POST])
                    .route(web::post().to(deliveries::redeliver)),
            )
            .service(resource("/users/{username}", &[Method::GET]).route(get().to(users::get_one)))
            .service(
                resource("/oauth/bounce", &[Method::GET])
                    .wrap(actix_web::middleware::from_fn(
                        connect::headers::page_headers,
                    ))
                    .route(get().to(connect::bounce::page)),
            ),
    );
}

/// GET, and HEAD with it (actix sends no body for HEAD).
fn get() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// A resource answering other methods with a JSON 405 that lists the allowed ones.
fn resource(path: &str, methods: &[Method]) -> Resource {
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
