//! The files in `static/` (the pages' CSS, the bounce script, the platforms' logos), compiled
//! into the binary and served under fingerprinted names: `connect.3f9a1c2b.css` carries a hash
//! of the file's content, so browsers may cache it for a year and a new build never serves a
//! stale file. Any other name, the bare one included, is a 404: pages are never cached, so
//! they always link the current name, and a name always means the same bytes.

use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::web::{Header, Path};
use actix_web::{HttpResponse, ResponseError};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use crate::domain::Platform;
use crate::error::ApiError;
use crate::urls::Urls;

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// A file of `static/`, by its path there.
macro_rules! source {
    ($path:literal, $content_type:expr) => {
        (
            $path,
            $content_type,
            include_bytes!(concat!("../static/", $path)) as &[u8],
        )
    };
}

const SOURCES: &[(&str, &str, &[u8])] = &[
    source!("connect.css", CSS),
    source!("bounce.js", JS),
    source!("platforms/tiktok.svg", SVG),
    source!("platforms/instagram.svg", SVG),
    source!("platforms/facebook.svg", SVG),
    source!("platforms/linkedin.svg", SVG),
    source!("platforms/youtube.svg", SVG),
    source!("platforms/x.svg", SVG),
    source!("platforms/threads.svg", SVG),
    source!("platforms/google_business.svg", SVG),
    source!("platforms/pinterest.svg", SVG),
    source!("platforms/bluesky.svg", SVG),
    source!("platforms/reddit.svg", SVG),
];

/// One file as it is served.
pub struct Asset {
    /// Its path in `static/`.
    pub source: &'static str,
    /// The fingerprinted name it is served under.
    pub name: String,
    content_type: &'static str,
    pub body: &'static [u8],
    hash: String,
}

impl Asset {
    fn new((source, content_type, body): (&'static str, &'static str, &'static [u8])) -> Self {
        let hash = hex::encode(&Sha256::digest(body)[..4]);
        // `platforms/x.svg` -> `x.<hash>.svg`: one path segment, as the route takes.
        let file = source.rsplit('/').next().unwrap_or(source);
        let name = match file.rsplit_once('.') {
            Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
            None => format!("{file}.{hash}"),
        };
        Self {
            source,
            name,
            content_type,
            body,
            hash,
        }
    }

    /// Weak: the compression middleware may serve the bytes gzipped under the same tag.
    fn etag(&self) -> EntityTag {
        EntityTag::new_weak(self.hash.clone())
    }
}

/// Every file, fingerprinted once, at first use.
pub static ASSETS: LazyLock<Vec<Asset>> =
    LazyLock::new(|| SOURCES.iter().copied().map(Asset::new).collect());

/// The fingerprinted URLs templates link to, under `public_url`'s prefix.
#[derive(Debug, Default)]
pub struct AssetUrls {
    pub css: String,
    pub bounce_js: String,
    /// In `Platform::ALL` order.
    logos: Vec<String>,
}

impl AssetUrls {
    pub fn new(urls: &Urls) -> Self {
        let url_of = |source: &str| {
            ASSETS
                .iter()
                .find(|a| a.source == source)
                .map(|a| urls.static_file(&a.name))
                .unwrap_or_default()
        };
        Self {
            css: url_of("connect.css"),
            bounce_js: url_of("bounce.js"),
            logos: Platform::ALL
                .iter()
                .map(|p| url_of(&format!("platforms/{}.svg", p.key())))
                .collect(),
        }
    }

    /// The platform's logo.
    pub fn logo(&self, platform: Platform) -> &str {
        let i = Platform::ALL.iter().position(|p| *p == platform);
        i.and_then(|i| self.logos.get(i)).map_or("", String::as_str)
    }
}

/// `GET /static/{name}`.
#[utoipa::path(get, path = "/static/{name}", tag = "pages", params(("name" = String, Path, description = "A fingerprinted file name as pages link it, e.g. connect.3f9a1c2b.css or tiktok.0b1d2e3f.svg")), responses((status = 200, description = "The file, cached for a year", content_type = "text/css"), (status = 304, description = "The client's copy (If-None-Match) is current"), (status = 404, description = "No such file, or not its current fingerprint", body = crate::error::ErrorBody)))]
pub async fn serve(name: Path<String>, if_none_match: Option<Header<IfNoneMatch>>) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name.as_str()) else {
        return ApiError::RouteNotFound.error_response();
    };
    let etag = asset.etag();
    let current = match if_none_match.as_deref() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&etag)),
        None => false,
    };
    let mut response = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header(header::ETag(etag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if current {
        response.finish()
    } else {
        response.content_type(asset.content_type).body(asset.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash_and_are_unique() {
        let css = ASSETS.iter().find(|a| a.source == "connect.css").unwrap();
        let hash = hex::encode(&Sha256::digest(css.body)[..4]);
        assert_eq!(css.name, format!("connect.{hash}.css"));
        let mut names: Vec<_> = ASSETS.iter().map(|a| a.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SOURCES.len());
    }

    #[test]
    fn every_platform_has_a_logo_under_the_prefix() {
        for (base, prefix) in [
            ("http://127.0.0.1:8080/", ""),
            ("https://example.com/postgate/", "/postgate"),
        ] {
            let urls = AssetUrls::new(&Urls::new(&url::Url::parse(base).unwrap()));
            assert!(urls.css.starts_with(&format!("{prefix}/static/connect.")));
            for p in Platform::ALL {
                let url = urls.logo(p);
                assert!(
                    url.starts_with(&format!("{prefix}/static/{}.", p.key()))
                        && url.ends_with(".svg"),
                    "{p:?}: {url:?}"
                );
            }
        }
    }

    /// Logos are third-party files: small, and nothing in them runs or loads anything.
    #[test]
    fn logos_are_small_inert_svgs() {
        for asset in ASSETS.iter().filter(|a| a.content_type == SVG) {
            let svg = std::str::from_utf8(asset.body).unwrap();
            assert!(svg.starts_with("<svg "), "{}", asset.source);
            assert!(asset.body.len() < 2048, "{}", asset.source);
            let lower = svg.to_ascii_lowercase();
            for banned in [
                "<script",
                "href",
                "url(",
                "<foreignobject",
                " on",
                "<style",
                "<image",
            ] {
                assert!(!lower.contains(banned), "{}: {banned}", asset.source);
            }
        }
    }
}
