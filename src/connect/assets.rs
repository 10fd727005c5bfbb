//! The page's CSS and JS, compiled into the binary and served with long-lived caching: their
//! URLs carry a hash of the content, so a new build never serves stale files.

use actix_web::http::header;
use actix_web::web::Path;
use actix_web::{HttpResponse, ResponseError};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use crate::error::ApiError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "connect.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../static/connect.css"),
    },
    Asset {
        name: "bounce.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/bounce.js"),
    },
];

/// The versioned URLs templates link to.
#[derive(Debug)]
pub struct AssetUrls {
    pub css: String,
    pub bounce_js: String,
}

fn versioned(name: &str) -> String {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .expect("every linked asset is in ASSETS");
    let hash = hex::encode(&Sha256::digest(asset.body.as_bytes())[..6]);
    format!("/static/{name}?v={hash}")
}

pub static URLS: LazyLock<AssetUrls> = LazyLock::new(|| AssetUrls {
    css: versioned("connect.css"),
    bounce_js: versioned("bounce.js"),
});

#[utoipa::path(get, path = "/static/{name}", tag = "pages", params(("name" = String, Path, description = "connect.css or bounce.js")), responses((status = 200, description = "The file, cached for a year", content_type = "text/css"), (status = 404, description = "No such file", body = crate::error::ErrorBody)))]
pub async fn serve(name: Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|a| a.name == name.as_str()) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(asset.body),
        None => ApiError::RouteNotFound.error_response(),
    }
}

/// Bytes of every asset, for the page-weight figure in the README.
pub fn total_bytes() -> usize {
    ASSETS.iter().map(|a| a.body.len()).sum()
}
