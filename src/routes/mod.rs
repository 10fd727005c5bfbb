//! The route table: every path the server answers, for the JSON API, the connect pages, the
//! static files and the sandbox, and the OpenAPI document that describes them. The only
//! module that knows both `api` and `connect`, which never import each other.

pub mod openapi;

use crate::error::ApiError;
use crate::metrics::{self, Scrape};
use crate::sandbox::{self, Sandbox};
use crate::web::get;
use crate::{api, connect};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, Uri, header};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{HttpResponse, Resource, ResponseError, web};
use std::collections::BTreeSet;
use std::sync::Mutex;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

const API: &str = "/api/uploadposts";

/// Every route of the app, with the platform emulators when the sandbox is on and
/// `/metrics` when metrics are.
pub fn configure(
    cfg: &mut web::ServiceConfig,
    sandbox: Option<Data<Sandbox>>,
    metrics: Option<Data<Scrape>>,
) {
    if let Some(sandbox) = sandbox {
        sandbox::configure(cfg, sandbox);
    }
    metrics_route(cfg, metrics);
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
    .service(resource("", "/healthz", &[Method::GET]).route(get().to(api::health::live)))
    .service(resource("", "/readyz", &[Method::GET]).route(get().to(api::health::ready)))
    .default_service(web::to(not_found));
    // Before the API's scope, which would otherwise claim `/api/uploadposts/media-uploads`.
    media_routes(cfg);
    api_routes(cfg);
    upload_routes(cfg);
    static_files(cfg);
    pages(cfg);
}

/// `/metrics` is documented whether or not this process serves it: that is configuration.
fn metrics_route(cfg: &mut web::ServiceConfig, scrape: Option<Data<Scrape>>) {
    const PATH: &str = "/metrics";
    match scrape {
        Some(scrape) => {
            cfg.service(
                resource("", PATH, &[Method::GET])
                    .app_data(scrape)
                    .route(get().to(metrics::endpoint::scrape)),
            );
        }
        None => record_route(PATH, &[Method::GET]),
    }
}

fn api_routes(cfg: &mut web::ServiceConfig) {
    use api::{
        accounts, deliveries, links, me, notifications, posts, preferences, queue, schedule,
        targets, upload_reports, usage, users,
    };
    cfg.service(
        web::scope(API)
            .wrap(actix_web::middleware::from_fn(crate::limits::quota_headers))
            .service(resource(API, "/me", &[Method::GET]).route(get().to(me::get)))
            .service(resource(API, "/usage", &[Method::GET]).route(get().to(usage::get)))
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
                resource(API, "/status", &[Method::GET]).route(get().to(upload_reports::status)),
            )
            .service(
                resource(API, "/history", &[Method::GET]).route(get().to(upload_reports::history)),
            )
            .service(resource(API, "/schedule", &[Method::GET]).route(get().to(schedule::list)))
            .service(
                resource(API, "/posts/retry", &[Method::POST]).route(web::post().to(posts::retry)),
            )
            .service(
                resource(API, "/posts/unpublish", &[Method::POST])
                    .route(web::post().to(posts::unpublish)),
            )
            // POST is n8n's "Edit Scheduled": an alias of PATCH.
            .service(
                resource(
                    API,
                    "/schedule/{job_id}",
                    &[Method::DELETE, Method::PATCH, Method::POST],
                )
                .route(web::delete().to(schedule::cancel))
                .route(web::patch().to(schedule::edit))
                .route(web::post().to(schedule::edit_by_post)),
            )
            .service(
                resource(API, "/schedule/{job_id}/preview", &[Method::GET])
                    .route(get().to(schedule::preview)),
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
                resource(API, "/queue/settings", &[Method::GET, Method::POST])
                    .route(get().to(queue::get_settings))
                    .route(web::post().to(queue::update_settings)),
            )
            .service(
                resource(API, "/queue/preview", &[Method::GET]).route(get().to(queue::preview)),
            )
            .service(
                resource(API, "/queue/next-slot", &[Method::GET]).route(get().to(queue::next_slot)),
            )
            .service(
                resource(API, "/queue/slot-full", &[Method::POST, Method::DELETE])
                    .route(web::post().to(queue::mark_slot_full))
                    .route(web::delete().to(queue::free_slot)),
            )
            .service(
                resource(API, "/oauth/{platform}/start", &[Method::POST])
                    .route(web::post().to(accounts::start)),
            )
            // Two pages live under the API's prefix: the platforms send browsers back here.
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

/// Staged uploads under the API, and the signed media URLs they and publishers hand out.
/// The four upload endpoints, at `/api/…` beside the `uploadposts` scope, as Upload-Post
/// has them.
fn upload_routes(cfg: &mut web::ServiceConfig) {
    use api::uploads;
    let upload = |path| {
        resource("", path, &[Method::POST])
            .wrap(actix_web::middleware::from_fn(crate::limits::quota_headers))
    };
    cfg.service(upload("/api/upload_text").route(web::post().to(uploads::upload_text)))
        .service(upload("/api/upload_photos").route(web::post().to(uploads::upload_photos)))
        .service(upload("/api/upload").route(web::post().to(uploads::upload_video)))
        .service(upload("/api/upload_document").route(web::post().to(uploads::upload_document)));
}

fn media_routes(cfg: &mut web::ServiceConfig) {
    use api::media_uploads;
    cfg.service(
        web::scope(&format!("{API}/media-uploads"))
            .wrap(actix_web::middleware::from_fn(crate::limits::quota_headers))
            .service(
                resource(&format!("{API}/media-uploads"), "", &[Method::POST])
                    .route(web::post().to(media_uploads::create)),
            )
            .service(
                resource(
                    &format!("{API}/media-uploads"),
                    "/{id}",
                    &[Method::GET, Method::DELETE],
                )
                .route(get().to(media_uploads::get))
                .route(web::delete().to(media_uploads::delete)),
            )
            .service(
                resource(
                    &format!("{API}/media-uploads"),
                    "/{id}/complete",
                    &[Method::POST],
                )
                .route(web::post().to(media_uploads::complete)),
            ),
    )
    .service(
        resource("", "/media/{id}", &[Method::GET, Method::PUT])
            .route(get().to(media_uploads::serve))
            .route(web::put().to(media_uploads::receive)),
    );
}

/// The page's stylesheet, script and images. Only these are compressed: pages carry secrets
/// (link and CSRF tokens) next to text, which compression would expose to BREACH-style
/// guessing.
fn static_files(cfg: &mut web::ServiceConfig) {
    record_route("/static/{name}", &[Method::GET]);
    cfg.service(
        web::resource("/static/{name}")
            .wrap(actix_web::middleware::Compress::default())
            .route(get().to(crate::assets::serve)),
    );
}

/// The hosted connect page and the forms it posts.
fn pages(cfg: &mut web::ServiceConfig) {
    use connect::{accounts, accounts_tab, calendar_tab, page as toolkit};
    const PAGES: &str = "/connect";
    let page = |path: &str, methods: &[Method]| {
        record_route(&format!("{PAGES}{path}"), methods);
        web::resource(path)
    };
    cfg.service(
        web::scope(PAGES)
            .wrap(actix_web::middleware::from_fn(
                connect::headers::page_headers,
            ))
            .app_data(web::FormConfig::default().error_handler(|_, req| toolkit::bad_request(req)))
            .app_data(web::QueryConfig::default().error_handler(|_, req| toolkit::bad_request(req)))
            .service(page("", &[Method::GET]).route(get().to(accounts_tab::connect)))
            .service(page("/calendar", &[Method::GET]).route(get().to(calendar_tab::calendar)))
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
            .service(
                page("/calendar/cancel", &[Method::POST])
                    .route(web::post().to(calendar_tab::cancel)),
            )
            .default_service(web::to(toolkit::not_found)),
    );
}

/// Middleware: a request that still carries `public_url`'s path prefix (a proxy that passes
/// the path through) is routed as if the proxy had stripped it. `Urls::OWN_SEGMENTS` keeps a
/// prefix from shadowing a route of ours.
pub async fn strip_prefix(
    prefix: std::sync::Arc<str>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let rest = req
        .path()
        .strip_prefix(&*prefix)
        .filter(|rest| !prefix.is_empty() && (rest.is_empty() || rest.starts_with('/')));
    if let Some(rest) = rest {
        let path = if rest.is_empty() { "/" } else { rest };
        let target = match req.query_string() {
            "" => path.to_owned(),
            q => format!("{path}?{q}"),
        };
        // The rest of a path that parsed is a path that parses.
        if let Ok(uri) = target.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    next.call(req).await
}

/// Middleware: a URL of the JSON API that encodes a NUL byte (`%00`) in its path or query is
/// refused before any handler reads it: no backend can store one, and PostgreSQL would answer
/// with an error. (A raw NUL byte never gets this far: the HTTP parser refuses it.) The HTML
/// pages and the OAuth return pages answer in HTML; they store nothing from their URLs.
pub async fn refuse_nul_in_url(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let url = req.uri().path_and_query().map_or("", |pq| pq.as_str());
    let html = [
        "/connect",
        "/api/uploadposts/oauth/callback/",
        "/api/uploadposts/oauth/bounce",
    ]
    .iter()
    .any(|p| req.path().starts_with(p));
    if !html && url.as_bytes().windows(3).any(|w| w == b"%00") {
        let refused = ApiError::UnstorableText("The URL".to_owned()).error_response();
        return Ok(req.into_response(refused).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Every route the app registers, as (method, path), recorded as the routes are built: the
/// test that compares the app with its OpenAPI document reads it.
static REGISTERED: Mutex<BTreeSet<(String, String)>> = Mutex::new(BTreeSet::new());

pub fn registered_routes() -> BTreeSet<(String, String)> {
    REGISTERED.lock().map(|r| r.clone()).unwrap_or_default()
}

/// Notes that `path` (in full) answers `methods`.
fn record_route(path: &str, methods: &[Method]) {
    if let Ok(mut registered) = REGISTERED.lock() {
        for m in methods {
            registered.insert((m.as_str().to_owned(), path.to_owned()));
        }
    }
}

/// A resource at `prefix` + `path` (registered as `path` inside the prefix's scope),
/// answering other methods with a JSON 405 that lists the allowed ones.
fn resource(prefix: &str, path: &str, methods: &[Method]) -> Resource {
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
async fn not_found() -> HttpResponse {
    ApiError::RouteNotFound.error_response()
}
