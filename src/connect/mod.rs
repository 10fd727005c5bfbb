//! The hosted connect page: server-rendered HTML for end users, reached through a connect
//! link's token.

pub mod accounts;
pub mod bounce;
pub mod calendar;
pub mod failure;
pub mod headers;
pub mod i18n;
pub mod pages;
pub mod templates;
mod translations;

use actix_web::http::Method;
use actix_web::{guard, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    let get = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    // Each page, noted for the OpenAPI comparison under its full path.
    let page = |path: &str, methods: &[Method]| {
        crate::api::record_route(&format!("/connect{path}"), methods);
        web::resource(path)
    };
    // Pages are never compressed (only static files are): they carry secrets (link and CSRF
    // tokens) next to text, which compression would expose to BREACH-style guessing.
    cfg.service(
        web::scope("/connect")
            .wrap(actix_web::middleware::from_fn(headers::page_headers))
            .app_data(web::FormConfig::default().error_handler(|_, req| pages::bad_request(req)))
            .app_data(web::QueryConfig::default().error_handler(|_, req| pages::bad_request(req)))
            .service(page("", &[Method::GET]).route(get().to(pages::connect)))
            .service(page("/calendar", &[Method::GET]).route(get().to(pages::calendar)))
            .service(page("/start", &[Method::POST]).route(web::post().to(accounts::start)))
            .service(
                page("/disconnect", &[Method::POST]).route(web::post().to(accounts::disconnect)),
            )
            .service(page("/pin", &[Method::POST]).route(web::post().to(accounts::pin)))
            .service(
                page("/signin", &[Method::GET, Method::POST])
                    .route(get().to(accounts::signin_page))
                    .route(web::post().to(accounts::signin)),
            )
            .service(page("/calendar/cancel", &[Method::POST]).route(web::post().to(pages::cancel)))
            .default_service(web::to(pages::not_found)),
    );
}
