//! The JSON API: routes, one file per resource.

pub mod extract;
pub mod health;
pub mod me;
pub mod users;
pub mod views;

use crate::error::ApiError;
use actix_web::{HttpResponse, Resource, ResponseError, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::PathConfig::default()
            .error_handler(|e, _| ApiError::InvalidQuery(e.to_string()).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| ApiError::InvalidQuery(e.to_string()).into()),
    )
    .service(resource("/healthz").route(web::get().to(health::live)))
    .service(resource("/readyz").route(web::get().to(health::ready)))
    .service(
        web::scope("/api/uploadposts")
            .service(resource("/me").route(web::get().to(me::get)))
            .service(
                resource("/users")
                    .route(web::get().to(users::list))
                    .route(web::post().to(users::create))
                    .route(web::delete().to(users::delete)),
            )
            .service(resource("/users/{username}").route(web::get().to(users::get_one))),
    );
}

/// A resource whose other methods get a JSON 405.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> HttpResponse {
    ApiError::MethodNotAllowed.error_response()
}

/// Any path no route claims.
pub async fn not_found() -> HttpResponse {
    ApiError::RouteNotFound.error_response()
}
