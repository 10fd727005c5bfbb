//! Response headers of every HTML page: a strict CSP, no sniffing, no framing, no referrer
//! (connect-page URLs carry the link token) and no caching.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// Scripts, styles and images from our own files (the platforms' logos); images also from
/// https (the customer's logo, avatars).
pub const DEFAULT_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' https: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The default policy, plus image origins that `https:` does not cover (images served over
/// http from loopback: development, the sandbox; each from a validated `PageUrl`), and the
/// origins forms may lead to: browsers apply `form-action` to the redirect after a form
/// post, and Connect redirects to the platform's consent page.
pub fn page_csp(image_origins: &[String], form_origins: &[String]) -> String {
    let mut csp = DEFAULT_CSP.to_owned();
    if !image_origins.is_empty() {
        csp = csp.replace(
            "img-src 'self'",
            &format!("img-src 'self' {}", image_origins.join(" ")),
        );
    }
    if !form_origins.is_empty() {
        csp = csp.replace(
            "form-action 'self'",
            &format!("form-action 'self' {}", form_origins.join(" ")),
        );
    }
    csp
}

pub async fn page_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
