//! Every emulated endpoint, dispatched by platform and endpoint name. Answers use each
//! platform's documented field names and error shapes (`wire`).

use super::people::{self, PEOPLE};
use super::wire;
use super::{Fault, Grant, Issued, Sandbox, consent};
use crate::domain::secrets::new_random_id;
use crate::domain::{Platform, time};
use crate::oauth::provider::ClientAuth;
use crate::oauth::providers;
use crate::web::bearer_token;
use actix_web::http::{Method, StatusCode, header};
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Duration;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub async fn handle(
    platform: Platform,
    name: &'static str,
    req: HttpRequest,
    body: Bytes,
    sandbox: Data<Sandbox>,
) -> HttpResponse {
    let fault = sandbox.with(|e| {
        e.calls.push((platform, name, req.method().to_string()));
        e.faults
            .get_mut(&(platform, name.to_owned()))
            .and_then(std::collections::VecDeque::pop_front)
    });
    match fault {
        Some(Fault::ServerError) => {
            return wire::error(
                platform,
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "The service is temporarily unavailable",
            );
        }
        Some(Fault::RateLimited) => {
            return wire::error(
                platform,
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                "Too many requests",
            );
        }
        Some(Fault::InvalidGrant) => {
            return wire::invalid_grant(platform);
        }
        Some(Fault::Slow) => tokio::time::sleep(std::time::Duration::from_secs(30)).await,
        None => {}
    }
    let params = params(&req, &body);
    match name {
        "authorize" => consent::page(&sandbox, platform, &req),
        "token" | "long_lived" | "refresh" => token(&sandbox, platform, &req, &params),
        "revoke" | "delete_session" => revoke(&sandbox, platform, &req, &params),
        "permissions" if req.method() == Method::DELETE => {
            revoke(&sandbox, platform, &req, &params)
        }
        "create_session" => create_session(&sandbox, &body),
        "refresh_session" => refresh_session(&sandbox, &req),
        _ => api(&sandbox, platform, name, &req, &params),
    }
}

/// Query and form parameters together (the form wins).
fn params(req: &HttpRequest, body: &Bytes) -> HashMap<String, String> {
    let mut params: HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        params.extend(url::form_urlencoded::parse(body).into_owned());
    }
    params
}

/// Whether the request carries the sandbox app's credentials the way the platform wants.
fn client_ok(platform: Platform, req: &HttpRequest, params: &HashMap<String, String>) -> bool {
    let provider = providers::for_platform(platform);
    let id = format!(
        "{}{}",
        crate::oauth::registry::SANDBOX_CLIENT_PREFIX,
        platform.key()
    );
    let secret = format!(
        "{}{}",
        crate::oauth::registry::SANDBOX_SECRET_PREFIX,
        platform.key()
    );
    match provider.client_auth() {
        ClientAuth::Basic => {
            let expected = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
            req.headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                == Some(expected.as_str())
        }
        ClientAuth::Body => params.get("client_secret") == Some(&secret),
    }
}

fn lifetime(sandbox: &Sandbox, platform: Platform, long_lived: bool) -> i64 {
    sandbox
        .with(|e| e.expires_in.get(&platform).copied())
        .unwrap_or_else(|| wire::default_lifetime(platform, long_lived))
}

/// Issues an access token (and a refresh token where the platform has them) for `grant`.
fn issue(sandbox: &Sandbox, grant: &Grant, long_lived: bool) -> (String, Option<String>, i64) {
    let expires_in = lifetime(sandbox, grant.platform, long_lived);
    let access = format!("sbx-at-{}", new_random_id(40));
    let refresh =
        wire::has_refresh_token(grant.platform).then(|| format!("sbx-rt-{}", new_random_id(40)));
    let now = time::now();
    sandbox.with(|e| {
        e.access.insert(
            access.clone(),
            Issued {
                grant: grant.clone(),
                expires_at: now + Duration::seconds(expires_in),
            },
        );
        if let Some(r) = &refresh {
            e.refresh.insert(
                r.clone(),
                Issued {
                    grant: grant.clone(),
                    expires_at: now + Duration::days(365),
                },
            );
        }
    });
    (access, refresh, expires_in)
}

fn live_access(sandbox: &Sandbox, platform: Platform, token: &str) -> Option<Grant> {
    let now = time::now();
    sandbox.with(|e| {
        e.access
            .get(token)
            .filter(|i| i.grant.platform == platform && i.expires_at > now)
            .map(|i| i.grant.clone())
    })
}

fn token(
    sandbox: &Sandbox,
    platform: Platform,
    req: &HttpRequest,
    params: &HashMap<String, String>,
) -> HttpResponse {
    let grant_type = params.get("grant_type").map(String::as_str).unwrap_or("");
    let needs_client = matches!(
        grant_type,
        "authorization_code"
            | "refresh_token"
            | "fb_exchange_token"
            | "ig_exchange_token"
            | "th_exchange_token"
    );
    if needs_client && !client_ok(platform, req, params) {
        return wire::error(
            platform,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    match grant_type {
        "authorization_code" => {
            let Some(grant) = params.get("code").and_then(|c| sandbox.redeem(c)) else {
                return wire::invalid_grant(platform);
            };
            if grant.platform != platform
                || params.get("redirect_uri") != Some(&grant.redirect_uri)
                || grant.redirect_uri != sandbox.urls.oauth_callback(platform).as_str()
            {
                return wire::invalid_grant(platform);
            }
            if let Some(challenge) = &grant.challenge {
                let verifier = params
                    .get("code_verifier")
                    .map(String::as_str)
                    .unwrap_or("");
                if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
                    return wire::error(
                        platform,
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "code_verifier does not match the code_challenge",
                    );
                }
            }
            let (access, refresh, expires_in) = issue(sandbox, &grant, false);
            let id = people::platform_id(platform, grant.person);
            HttpResponse::Ok().json(wire::code_answer(
                platform,
                &grant.scopes,
                &access,
                refresh.as_deref(),
                expires_in,
                &id,
            ))
        }
        "refresh_token" => {
            let old = params.get("refresh_token").cloned().unwrap_or_default();
            let now = time::now();
            let Some(issued) = sandbox
                .with(|e| e.refresh.get(&old).cloned())
                .filter(|i| i.grant.platform == platform && i.expires_at > now)
            else {
                return wire::invalid_grant(platform);
            };
            let (access, refresh, expires_in) = issue(sandbox, &issued.grant, false);
            let refresh = if wire::rotates_refresh_token(platform) {
                sandbox.with(|e| e.refresh.remove(&old));
                refresh
            } else {
                if let Some(r) = refresh {
                    sandbox.with(|e| e.refresh.remove(&r));
                }
                wire::repeats_refresh_token(platform).then_some(old)
            };
            let id = people::platform_id(platform, issued.grant.person);
            HttpResponse::Ok().json(wire::refresh_answer(
                platform,
                &issued.grant.scopes,
                &access,
                refresh.as_deref(),
                expires_in,
                &id,
            ))
        }
        "fb_exchange_token" | "ig_exchange_token" | "th_exchange_token" | "ig_refresh_token"
        | "th_refresh_token" => {
            let presented = params
                .get("fb_exchange_token")
                .or_else(|| params.get("access_token"))
                .cloned()
                .unwrap_or_default();
            let Some(grant) = live_access(sandbox, platform, &presented) else {
                return wire::error(
                    platform,
                    StatusCode::BAD_REQUEST,
                    "OAuthException",
                    "Error validating access token: Session has expired",
                );
            };
            let (access, _, expires_in) = issue(sandbox, &grant, true);
            HttpResponse::Ok().json(
                json!({"access_token": access, "token_type": "bearer", "expires_in": expires_in}),
            )
        }
        _ => wire::error(
            platform,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type is not supported",
        ),
    }
}

/// Ends every token of the grant the presented token belongs to.
fn revoke(
    sandbox: &Sandbox,
    platform: Platform,
    req: &HttpRequest,
    params: &HashMap<String, String>,
) -> HttpResponse {
    let presented = params
        .get("token")
        .or_else(|| params.get("access_token"))
        .cloned()
        .or_else(|| bearer_token(req))
        .unwrap_or_default();
    let found = sandbox.with(|e| {
        let grant = e
            .access
            .get(&presented)
            .or_else(|| e.refresh.get(&presented))
            .map(|i| i.grant.clone())
            .filter(|g| g.platform == platform)?;
        let same =
            |i: &Issued| i.grant.platform == grant.platform && i.grant.person == grant.person;
        e.access.retain(|_, i| !same(i));
        e.refresh.retain(|_, i| !same(i));
        Some(())
    });
    match (found, platform) {
        (_, Platform::Facebook) => HttpResponse::Ok().json(json!({"success": found.is_some()})),
        (_, Platform::X) => HttpResponse::Ok().json(json!({"revoked": true})),
        (_, Platform::Reddit) => HttpResponse::NoContent().finish(),
        (None, Platform::Bluesky) => wire::invalid_grant(platform),
        _ => HttpResponse::Ok().json(json!({})),
    }
}

fn fake_jwt(did: &str, seconds: i64) -> String {
    let now = time::now().and_utc().timestamp();
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"at+jwt","alg":"ES256K"}"#);
    let payload = URL_SAFE_NO_PAD.encode(json!({"scope": "com.atproto.appPass", "sub": did, "iat": now, "exp": now + seconds, "jti": new_random_id(12)}).to_string());
    format!("{header}.{payload}.{}", new_random_id(43))
}

/// Bluesky sessions: an access JWT and a refresh JWT, both recorded as tokens.
fn session(sandbox: &Sandbox, person: usize) -> Value {
    let platform = Platform::Bluesky;
    let did = people::platform_id(platform, person);
    let life = lifetime(sandbox, platform, false);
    let access = fake_jwt(&did, life);
    let refresh = fake_jwt(&did, 90 * 86_400);
    let grant = Grant {
        platform,
        person,
        scopes: Vec::new(),
        redirect_uri: String::new(),
        challenge: None,
    };
    let now = time::now();
    sandbox.with(|e| {
        e.access.insert(
            access.clone(),
            Issued {
                grant: grant.clone(),
                expires_at: now + Duration::seconds(life),
            },
        );
        e.refresh.insert(
            refresh.clone(),
            Issued {
                grant,
                expires_at: now + Duration::days(90),
            },
        );
    });
    json!({"did": did, "handle": people::handle(platform, person), "accessJwt": access, "refreshJwt": refresh, "active": true})
}

fn create_session(sandbox: &Sandbox, body: &Bytes) -> HttpResponse {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let identifier = request["identifier"]
        .as_str()
        .unwrap_or("")
        .trim_start_matches('@');
    let password = request["password"].as_str().unwrap_or("");
    let person = (0..PEOPLE.len()).find(|n| {
        identifier == people::handle(Platform::Bluesky, *n)
            || identifier == people::platform_id(Platform::Bluesky, *n)
    });
    // App passwords look like xxxx-xxxx-xxxx-xxxx.
    let app_password = password.len() == 19
        && password.split('-').count() == 4
        && password
            .split('-')
            .all(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_alphanumeric()));
    match person {
        Some(n) if app_password => HttpResponse::Ok().json(session(sandbox, n)),
        _ => HttpResponse::Unauthorized().json(
            json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
        ),
    }
}

fn refresh_session(sandbox: &Sandbox, req: &HttpRequest) -> HttpResponse {
    let presented = bearer_token(req).unwrap_or_default();
    let now = time::now();
    let Some(issued) = sandbox
        .with(|e| e.refresh.remove(&presented))
        .filter(|i| i.expires_at > now)
    else {
        return wire::invalid_grant(Platform::Bluesky);
    };
    HttpResponse::Ok().json(session(sandbox, issued.grant.person))
}

/// The account APIs: identity and listings, for a live access token.
fn api(
    sandbox: &Sandbox,
    platform: Platform,
    name: &str,
    req: &HttpRequest,
    params: &HashMap<String, String>,
) -> HttpResponse {
    let token = params
        .get("access_token")
        .cloned()
        .or_else(|| bearer_token(req))
        .unwrap_or_default();
    let Some(grant) = live_access(sandbox, platform, &token) else {
        return wire::unauthorized(platform);
    };
    let n = grant.person;
    let id = people::platform_id(platform, n);
    let handle = people::handle(platform, n);
    let avatar = consent::avatar_url(sandbox, platform, n);
    let person = &PEOPLE[n];
    let targets = people::targets(platform, n);
    let body = match (platform, name) {
        (Platform::Facebook, "permissions") => {
            json!({"data": grant.scopes.iter().map(|s| json!({"permission": s, "status": "granted"})).collect::<Vec<_>>()})
        }
        (Platform::Facebook, "accounts") => json!({
            "data": targets.iter().enumerate().map(|(i, (tid, tname, _))| json!({
                "id": tid, "name": tname, "access_token": format!("sbx-page-{}", new_random_id(20)),
                "picture": {"data": {"url": consent::avatar_url(sandbox, platform, (n + i + 1) % PEOPLE.len())}},
                "followers_count": 12_840 - 1000 * i as i64, "fan_count": 11_902 - 1000 * i as i64,
            })).collect::<Vec<_>>(),
            "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}},
        }),
        (Platform::Linkedin, "organization_acls") => json!({
            "paging": {"start": 0, "count": 10, "links": [], "total": targets.len()},
            "elements": targets.iter().map(|(urn, _, _)| json!({"roleAssignee": format!("urn:li:person:{id}"), "state": "APPROVED", "role": "ADMINISTRATOR", "organization": urn})).collect::<Vec<_>>(),
        }),
        (Platform::Linkedin, "organizations") => {
            let wanted = req.match_info().get("tail").unwrap_or("");
            match targets
                .iter()
                .find(|(urn, _, _)| urn.rsplit(':').next() == Some(wanted))
            {
                Some((urn, tname, vanity)) => {
                    json!({"id": urn.rsplit(':').next().and_then(|s| s.parse::<i64>().ok()), "localizedName": tname, "vanityName": vanity})
                }
                None => {
                    return HttpResponse::NotFound()
                        .json(json!({"status": 404, "message": "Not Found", "code": "NOT_FOUND"}));
                }
            }
        }
        (Platform::GoogleBusiness, "accounts") => {
            let mut accounts: Vec<String> = targets
                .iter()
                .filter_map(|(t, _, _)| t.split("/locations/").next().map(str::to_owned))
                .collect();
            accounts.dedup();
            json!({"accounts": accounts.iter().map(|a| json!({"name": a, "accountName": person.name, "type": "PERSONAL", "verificationState": "VERIFIED"})).collect::<Vec<_>>()})
        }
        (Platform::GoogleBusiness, "business_information") => {
            let tail = req.match_info().get("tail").unwrap_or("");
            let Some(account) = tail.strip_suffix("/locations") else {
                return wire::error(
                    platform,
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "Requested entity was not found.",
                );
            };
            json!({"locations": targets.iter().filter_map(|(t, title, _)| {
                let location = t.strip_prefix(&format!("{account}/"))?;
                Some(json!({"name": location, "title": title}))
            }).collect::<Vec<_>>()})
        }
        (Platform::Pinterest, "boards") => json!({
            "items": targets.iter().map(|(bid, bname, privacy)| json!({"id": bid, "name": bname, "description": "", "privacy": privacy, "owner": {"username": handle}})).collect::<Vec<_>>(),
            "bookmark": null,
        }),
        _ => wire::identity(platform, &id, &handle, person.name, &avatar),
    };
    HttpResponse::Ok().json(body)
}
