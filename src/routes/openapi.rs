//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes, served
//! at `/api/openapi.json` with Swagger UI (from the binary, no CDN) at `/api/docs/`. A test
//! checks that it lists exactly the routes the app registers.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

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
        let page = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("text/html", ContentBuilder::new().build())
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let html = path.starts_with("/connect")
                || path.starts_with("/api/uploadposts/oauth/callback/")
                || path == "/api/uploadposts/oauth/bounce";
            // Health, metrics and static files touch neither the limits nor the database.
            let limited = !matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics")
                && !path.starts_with("/static/");
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.put,
            ];
            for op in operations.into_iter().flatten() {
                let responses = &mut op.responses.responses;
                // Every route: the body deadlines answer before any handler.
                responses
                    .entry("408".to_owned())
                    .or_insert_with(|| error("The request body came too slowly"));
                if limited {
                    for (status, description) in [
                        (
                            "429",
                            "Rate limited: per account, per link or per address, or blocked \
                             after failed authentication",
                        ),
                        (
                            "503",
                            "The database is unavailable; retry after Retry-After",
                        ),
                    ] {
                        let answer = if html {
                            page(description)
                        } else {
                            error(description)
                        };
                        responses.entry(status.to_owned()).or_insert(answer);
                    }
                }
                if !(path.starts_with("/api/upload") || path.starts_with("/media/")) {
                    continue;
                }
                for (status, description) in [
                    ("400", "Invalid input"),
                    ("401", "Missing or invalid credentials"),
                    ("404", "Not found"),
                    ("405", "Method not allowed"),
                    (
                        "403",
                        "Not allowed: a read-only link, a plan restriction, a bad signature",
                    ),
                    ("409", "Conflicts with the current state"),
                    ("413", "Body over 64 KiB, or a file over its limit"),
                    ("415", "A body or media type this route does not take"),
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
        crate::api::health::live,
        crate::api::health::ready,
        crate::metrics::endpoint::scrape,
        crate::api::me::get,
        crate::api::usage::get,
        crate::api::users::list,
        crate::api::users::create,
        crate::api::users::delete,
        crate::api::users::get_one,
        crate::api::links::generate,
        crate::api::links::validate,
        crate::api::links::revoke,
        crate::api::preferences::get,
        crate::api::preferences::update,
        crate::api::notifications::get,
        crate::api::notifications::update,
        crate::api::notifications::delete,
        crate::api::notifications::get_config,
        crate::api::notifications::update_config,
        crate::api::notifications::test,
        crate::api::notifications::rotate_secret,
        crate::api::notifications::get_profile_webhook,
        crate::api::notifications::set_profile_webhook,
        crate::api::notifications::delete_profile_webhook,
        crate::api::deliveries::list,
        crate::api::deliveries::redeliver,
        crate::api::accounts::start,
        crate::api::accounts::disconnect,
        crate::api::targets::facebook_pages,
        crate::api::targets::linkedin_pages,
        crate::api::targets::pinterest_boards,
        crate::api::targets::google_locations,
        crate::api::targets::select_google_location,
        crate::api::targets::get_facebook_page,
        crate::api::targets::set_facebook_page,
        crate::api::targets::delete_facebook_page,
        crate::api::targets::get_google_location,
        crate::api::targets::set_google_location,
        crate::api::targets::delete_google_location,
        crate::api::uploads::upload_text,
        crate::api::uploads::upload_photos,
        crate::api::uploads::upload_video,
        crate::api::uploads::upload_document,
        crate::api::posts::retry,
        crate::api::posts::unpublish,
        crate::api::schedule::list,
        crate::api::schedule::cancel,
        crate::api::schedule::edit,
        crate::api::schedule::edit_by_post,
        crate::api::schedule::preview,
        crate::api::upload_reports::status,
        crate::api::upload_reports::history,
        crate::api::queue::get_settings,
        crate::api::queue::update_settings,
        crate::api::queue::preview,
        crate::api::queue::next_slot,
        crate::api::queue::mark_slot_full,
        crate::api::queue::free_slot,
        crate::api::media_uploads::create,
        crate::api::media_uploads::get,
        crate::api::media_uploads::delete,
        crate::api::media_uploads::complete,
        crate::api::media_uploads::receive,
        crate::api::media_uploads::serve,
        crate::connect::bounce::page,
        crate::connect::accounts_tab::connect,
        crate::connect::calendar_tab::calendar,
        crate::connect::accounts::start,
        crate::connect::accounts::callback,
        crate::connect::accounts::signin_page,
        crate::connect::accounts::signin,
        crate::connect::accounts::disconnect,
        crate::connect::accounts::pin,
        crate::connect::calendar_tab::cancel,
        crate::assets::serve,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&Common),
)]
pub struct ApiDoc;
