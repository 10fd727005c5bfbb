//! The emulator's consent page (the platform's `authorize` endpoint), the decision it posts,
//! and the fake accounts' avatars.

use super::Sandbox;
use super::people::{self, PEOPLE};
use crate::assets::AssetUrls;
use crate::db::sandbox as state;
use crate::domain::secrets::new_random_id;
use crate::domain::{Platform, time};
use crate::oauth::providers;
use crate::oauth::registry;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use std::collections::HashMap;

/// How long a code may wait to be redeemed (platforms allow minutes; ten is the common
/// figure). Lapsed codes are deleted when new ones are stored.
const CODE_LIFETIME_SECONDS: i64 = 600;

#[derive(Template)]
#[template(path = "sandbox/consent.html")]
struct ConsentPage {
    css: String,
    action: String,
    platform_name: &'static str,
    client_name: &'static str,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    people: Vec<(&'static str, String)>,
    scopes: Vec<String>,
}

fn bad_request(why: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/plain; charset=utf-8")
        .body(format!("Sandbox: {why}"))
}

/// `GET <authorize>`: checks the request as the platform would, then asks who signs in.
pub fn page(sandbox: &Sandbox, platform: Platform, req: &HttpRequest) -> HttpResponse {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let provider = providers::for_platform(platform);
    let expected_client = format!("{}{}", registry::SANDBOX_CLIENT_PREFIX, platform.key());
    if query.get(provider.client_id_param()) != Some(&expected_client) {
        return bad_request("unknown client_id");
    }
    let expected_redirect = sandbox.urls.oauth_callback(platform);
    let Some(redirect_uri) = query
        .get("redirect_uri")
        .filter(|r| **r == expected_redirect.as_str())
    else {
        return bad_request("redirect_uri does not match the one registered for this app");
    };
    if query.get("response_type").map(String::as_str) != Some("code") {
        return bad_request("response_type must be code");
    }
    let Some(oauth_state) = query.get("state").filter(|s| !s.is_empty()) else {
        return bad_request("state is required");
    };
    if query.contains_key("code_challenge")
        && query.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return bad_request("code_challenge_method must be S256");
    }
    let scopes = query
        .get("scope")
        .map(|s| {
            s.split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let page = ConsentPage {
        css: AssetUrls::new(&sandbox.urls).css,
        action: format!("{}/_consent", sandbox.urls.sandbox(platform).path()),
        platform_name: platform.display_name(),
        client_name: "Postgate",
        redirect_uri: redirect_uri.clone(),
        state: oauth_state.clone(),
        code_challenge: query.get("code_challenge").cloned().unwrap_or_default(),
        people: (0..PEOPLE.len())
            .map(|n| (PEOPLE[n].name, people::handle(platform, n)))
            .collect(),
        scopes,
    };
    match crate::web::html(StatusCode::OK, &page) {
        Ok(mut resp) => {
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

/// `POST /sandbox/<platform>/_consent`: allow (a code) or deny (the platform's own denial
/// parameters), back to the redirect URI.
pub async fn decide(sandbox: Data<Sandbox>, platform: Path<String>, body: Bytes) -> HttpResponse {
    let Some(platform) = Platform::parse(&platform) else {
        return HttpResponse::NotFound().finish();
    };
    let mut form: HashMap<String, String> = HashMap::new();
    let mut scopes = Vec::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        if k == "scope" {
            scopes.push(v.into_owned());
        } else {
            form.insert(k.into_owned(), v.into_owned());
        }
    }
    let expected_redirect = sandbox.urls.oauth_callback(platform);
    if form.get("redirect_uri").map(String::as_str) != Some(expected_redirect.as_str()) {
        return bad_request("redirect_uri does not match the one registered for this app");
    }
    let mut back = expected_redirect;
    let oauth_state = form.get("state").cloned().unwrap_or_default();
    if form.get("decision").map(String::as_str) == Some("allow") {
        let person = form
            .get("person")
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|p| *p < PEOPLE.len())
            .unwrap_or(0);
        let code = new_random_id(32);
        let now = time::now();
        let stored = state::Code::new(
            &code,
            platform,
            i64::try_from(person).unwrap_or_default(),
            serde_json::json!(scopes).to_string(),
            back.to_string(),
            form.get("code_challenge")
                .filter(|c| !c.is_empty())
                .cloned(),
            now + chrono::Duration::seconds(CODE_LIFETIME_SECONDS),
        );
        if let Err(down) = sandbox
            .run(move |conn| state::insert_code(conn, &stored, now))
            .await
        {
            return down.answer(platform);
        }
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &oauth_state);
    } else {
        denial(platform, &mut back, &oauth_state);
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, back.to_string()))
        .finish()
}

/// How each platform reports "the person said no" on the redirect.
fn denial(platform: Platform, url: &mut url::Url, oauth_state: &str) {
    let mut q = url.query_pairs_mut();
    match platform {
        Platform::Facebook | Platform::Instagram | Platform::Threads => {
            q.append_pair("error", "access_denied")
                .append_pair("error_code", "200")
                .append_pair("error_description", "Permissions error")
                .append_pair("error_reason", "user_denied");
        }
        Platform::Linkedin => {
            q.append_pair("error", "user_cancelled_authorize")
                .append_pair("error_description", "The user cancelled the authorization");
        }
        Platform::Tiktok => {
            q.append_pair("error", "access_denied").append_pair(
                "error_description",
                "The user denied the authorization request",
            );
        }
        _ => {
            q.append_pair("error", "access_denied");
        }
    }
    q.append_pair("state", oauth_state);
}

/// A fake account's avatar: a coloured circle with an initial.
pub async fn avatar(path: Path<(String, usize)>) -> HttpResponse {
    let (_, n) = path.into_inner();
    let Some(person) = PEOPLE.get(n) else {
        return HttpResponse::NotFound().finish();
    };
    let colour = ["#3b5bdb", "#0b7285", "#c2255c"][n];
    let initial = person.name.chars().next().unwrap_or('?');
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><circle cx="48" cy="48" r="48" fill="{colour}"/><text x="48" y="62" font-family="sans-serif" font-size="44" text-anchor="middle" fill="#fff">{initial}</text></svg>"##
        ))
}

/// The URL of person `n`'s avatar on this server.
pub fn avatar_url(sandbox: &Sandbox, platform: Platform, n: usize) -> String {
    let base = sandbox.urls.sandbox(platform);
    format!("{}/_avatar/{n}", base.as_str().trim_end_matches('/'))
}
