//! Small actix helpers shared by the JSON API, the pages and the sandbox: nothing here knows
//! a route or a resource.

use crate::domain::secrets::{Credential, parse_authorization};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Route, guard, web};

/// A route answering GET, and HEAD with it (actix sends no body for HEAD).
pub fn get() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The token of `Authorization: Bearer <token>`, if that is the scheme the request uses.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_authorization)
        .and_then(|c| match c {
            Credential::Bearer(token) => Some(token.to_owned()),
            Credential::ApiKey(_) => None,
        })
}

/// A template rendered as an HTML response: the one place a page becomes one.
pub fn html(
    status: StatusCode,
    page: &impl askama::Template,
) -> Result<HttpResponse, askama::Error> {
    let body = page.render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// A 303 to `location` (after a form post, or to another page).
pub fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
