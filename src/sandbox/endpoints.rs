//! Every emulated endpoint, dispatched by platform and endpoint name. Answers use each
//! platform's documented field names and error shapes (`wire`).

use super::people::{self, PEOPLE};
use super::publish;
use super::wire;
use super::{Down, Fault, Grant, Sandbox, consent};
use crate::db::sandbox::{self as state, Token, TokenKind};
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
use chrono::{Duration, NaiveDateTime};
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
    answer(platform, name, &req, &body, &sandbox)
        .await
        .unwrap_or_else(|down| down.answer(platform))
}

/// Records a call of `name` and takes its next scripted fault: `Err` with the answer when
/// the fault is answered here, else the fault its emulator answers itself, if any.
pub(super) async fn arrived(
    sandbox: &Sandbox,
    platform: Platform,
    name: &'static str,
    method: String,
) -> Result<Result<Option<Fault>, HttpResponse>, Down> {
    let fault = sandbox
        .run(move |conn| {
            state::record_call(conn, platform, name, &method, time::now())?;
            state::pop_fault(conn, platform, name)
        })
        .await?
        .and_then(|f| Fault::parse(&f));
    match fault {
        Some(Fault::ServerError) => {
            return Ok(Err(wire::error(
                platform,
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "The service is temporarily unavailable",
            )));
        }
        Some(Fault::RateLimited) => {
            return Ok(Err(wire::error(
                platform,
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                "Too many requests",
            )));
        }
        Some(Fault::InvalidGrant) => {
            return Ok(Err(wire::invalid_grant(platform)));
        }
        Some(Fault::TokenRevoked) => {
            return Ok(Err(wire::unauthorized(platform)));
        }
        Some(Fault::Slow) => tokio::time::sleep(std::time::Duration::from_secs(30)).await,
        Some(Fault::Delayed) => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
        Some(Fault::Pass) | None => {}
        // Answered by the publish emulators, where and as their platform would.
        Some(Fault::ChunkRejected | Fault::ProcessingFailed | Fault::QuotaExceeded) => {}
    }
    Ok(Ok(fault.filter(|f| f.is_the_emulators())))
}

async fn answer(
    platform: Platform,
    name: &'static str,
    req: &HttpRequest,
    body: &Bytes,
    sandbox: &Sandbox,
) -> Result<HttpResponse, Down> {
    let fault = match arrived(sandbox, platform, name, req.method().to_string()).await? {
        Ok(fault) => fault,
        Err(answered) => return Ok(answered),
    };
    let params = params(req, body);
    match name {
        "authorize" => Ok(consent::page(sandbox, platform, req)),
        "token" | "long_lived" | "refresh" => token(sandbox, platform, req, &params).await,
        "revoke" | "delete_session" => revoke(sandbox, platform, req, &params).await,
        "permissions" if req.method() == Method::DELETE => {
            revoke(sandbox, platform, req, &params).await
        }
        "create_session" => create_session(sandbox, body).await,
        "refresh_session" => refresh_session(sandbox, req).await,
        _ if publish::emulates(platform, name) => {
            let call = publish::Incoming {
                name,
                req,
                body,
                params: &params,
                fault,
            };
            publish::answer(sandbox, platform, &call).await
        }
        _ => api(sandbox, platform, name, req, &params).await,
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

/// Issues an access token (and, when `with_refresh` and the platform and its settings
/// allow, a refresh token) for `grant`: `(access, refresh, expires_in)`.
async fn issue(
    sandbox: &Sandbox,
    grant: &Grant,
    long_lived: bool,
    with_refresh: bool,
) -> Result<(String, Option<String>, i64), Down> {
    let grant = grant.clone();
    sandbox
        .run(move |conn| {
            let settings = state::settings(conn, grant.platform)?;
            let expires_in = settings
                .as_ref()
                .and_then(|s| s.expires_in)
                .unwrap_or_else(|| wire::default_lifetime(grant.platform, long_lived));
            let withheld = settings.is_some_and(|s| !s.refresh_tokens);
            let access = format!("sbx-at-{}", new_random_id(40));
            let refresh = (with_refresh && wire::has_refresh_token(grant.platform) && !withheld)
                .then(|| format!("sbx-rt-{}", new_random_id(40)));
            let now = time::now();
            let mut tokens = vec![token_row(
                TokenKind::Access,
                &access,
                &grant,
                // The control may script any lifetime, to test how Postgate reads absurd
                // ones; the emulator's own record of it stays within a century.
                now + Duration::seconds(expires_in.clamp(0, 100 * 366 * 24 * 3600)),
            )];
            if let Some(r) = &refresh {
                tokens.push(token_row(
                    TokenKind::Refresh,
                    r,
                    &grant,
                    now + Duration::days(365),
                ));
            }
            state::insert_tokens(conn, &tokens, now)?;
            Ok((access, refresh, expires_in))
        })
        .await
}

fn token_row(kind: TokenKind, token: &str, grant: &Grant, expires_at: NaiveDateTime) -> Token {
    Token::new(
        kind,
        token,
        grant.platform,
        grant.person(),
        grant.scopes_json(),
        expires_at,
    )
}

/// The grant of a live access token of `platform`.
pub(super) async fn live_access(
    sandbox: &Sandbox,
    platform: Platform,
    token: &str,
) -> Result<Option<Grant>, Down> {
    let token = token.to_owned();
    let found = sandbox
        .run(move |conn| state::find_token(conn, &token, platform))
        .await?;
    let now = time::now();
    Ok(found
        .filter(|t| t.is_live(TokenKind::Access, now))
        .map(|t| Grant::stored(platform, t.person, &t.scopes)))
}

async fn token(
    sandbox: &Sandbox,
    platform: Platform,
    req: &HttpRequest,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
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
        return Ok(wire::error(
            platform,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        ));
    }
    Ok(match grant_type {
        "authorization_code" => {
            let code = params.get("code").cloned().unwrap_or_default();
            let Some(code) = sandbox
                .run(move |conn| state::redeem_code(conn, &code, time::now()))
                .await?
            else {
                return Ok(wire::invalid_grant(platform));
            };
            if code.platform != platform.key()
                || params.get("redirect_uri") != Some(&code.redirect_uri)
                || code.redirect_uri != sandbox.urls.oauth_callback(platform).as_str()
            {
                return Ok(wire::invalid_grant(platform));
            }
            if let Some(challenge) = &code.challenge {
                let verifier = params
                    .get("code_verifier")
                    .map(String::as_str)
                    .unwrap_or("");
                if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
                    return Ok(wire::error(
                        platform,
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "code_verifier does not match the code_challenge",
                    ));
                }
            }
            let grant = Grant::stored(platform, code.person, &code.scopes);
            let (access, refresh, expires_in) = issue(sandbox, &grant, false, true).await?;
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
            let rotates = wire::rotates_refresh_token(platform);
            let presented = old.clone();
            // A rotated token is taken before its successor is issued, so that of two
            // refreshes racing with it only one succeeds.
            let found = sandbox
                .run(move |conn| {
                    let now = time::now();
                    if rotates {
                        state::take_refresh_token(conn, &presented, platform, now)
                    } else {
                        Ok(state::find_token(conn, &presented, platform)?
                            .filter(|t| t.is_live(TokenKind::Refresh, now)))
                    }
                })
                .await?;
            let Some(found) = found else {
                return Ok(wire::invalid_grant(platform));
            };
            let grant = Grant::stored(platform, found.person, &found.scopes);
            let (access, refresh, expires_in) = issue(sandbox, &grant, false, rotates).await?;
            let refresh = if rotates {
                refresh
            } else {
                wire::repeats_refresh_token(platform).then_some(old)
            };
            let id = people::platform_id(platform, grant.person);
            HttpResponse::Ok().json(wire::refresh_answer(
                platform,
                &grant.scopes,
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
            let Some(grant) = live_access(sandbox, platform, &presented).await? else {
                return Ok(wire::error(
                    platform,
                    StatusCode::BAD_REQUEST,
                    "OAuthException",
                    "Error validating access token: Session has expired",
                ));
            };
            let (access, _, expires_in) = issue(sandbox, &grant, true, false).await?;
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
    })
}

/// Ends every token of the grant the presented token belongs to.
async fn revoke(
    sandbox: &Sandbox,
    platform: Platform,
    req: &HttpRequest,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let presented = params
        .get("token")
        .or_else(|| params.get("access_token"))
        .cloned()
        .or_else(|| bearer_token(req))
        .unwrap_or_default();
    let found = sandbox
        .run(move |conn| {
            let Some(token) = state::find_token(conn, &presented, platform)? else {
                return Ok(false);
            };
            state::revoke_grant(conn, platform, token.person)?;
            Ok(true)
        })
        .await?;
    Ok(match (found, platform) {
        (_, Platform::Facebook) => HttpResponse::Ok().json(json!({"success": found})),
        (_, Platform::X) => HttpResponse::Ok().json(json!({"revoked": true})),
        (_, Platform::Reddit) => HttpResponse::NoContent().finish(),
        (false, Platform::Bluesky) => wire::invalid_grant(platform),
        _ => HttpResponse::Ok().json(json!({})),
    })
}

fn fake_jwt(did: &str, seconds: i64) -> String {
    let now = time::now().and_utc().timestamp();
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"at+jwt","alg":"ES256K"}"#);
    let payload = URL_SAFE_NO_PAD.encode(json!({"scope": "com.atproto.appPass", "sub": did, "iat": now, "exp": now + seconds, "jti": new_random_id(12)}).to_string());
    format!("{header}.{payload}.{}", new_random_id(43))
}

/// Bluesky sessions: an access JWT and a refresh JWT, both recorded as tokens.
async fn session(sandbox: &Sandbox, person: usize) -> Result<Value, Down> {
    let platform = Platform::Bluesky;
    let did = people::platform_id(platform, person);
    let grant = Grant {
        platform,
        person,
        scopes: Vec::new(),
    };
    let (access, refresh) = {
        let did = did.clone();
        sandbox
            .run(move |conn| {
                let life = state::settings(conn, platform)?
                    .and_then(|s| s.expires_in)
                    .unwrap_or_else(|| wire::default_lifetime(platform, false));
                let access = fake_jwt(&did, life);
                let refresh = fake_jwt(&did, 90 * 86_400);
                let now = time::now();
                let tokens = [
                    token_row(
                        TokenKind::Access,
                        &access,
                        &grant,
                        now + Duration::seconds(life),
                    ),
                    token_row(
                        TokenKind::Refresh,
                        &refresh,
                        &grant,
                        now + Duration::days(90),
                    ),
                ];
                state::insert_tokens(conn, &tokens, now)?;
                Ok((access, refresh))
            })
            .await?
    };
    Ok(
        json!({"did": did, "handle": people::handle(platform, person), "accessJwt": access, "refreshJwt": refresh, "active": true}),
    )
}

async fn create_session(sandbox: &Sandbox, body: &Bytes) -> Result<HttpResponse, Down> {
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
    Ok(match person {
        Some(n) if app_password => HttpResponse::Ok().json(session(sandbox, n).await?),
        _ => HttpResponse::Unauthorized().json(
            json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
        ),
    })
}

async fn refresh_session(sandbox: &Sandbox, req: &HttpRequest) -> Result<HttpResponse, Down> {
    let presented = bearer_token(req).unwrap_or_default();
    let Some(taken) = sandbox
        .run(move |conn| {
            state::take_refresh_token(conn, &presented, Platform::Bluesky, time::now())
        })
        .await?
    else {
        return Ok(wire::invalid_grant(Platform::Bluesky));
    };
    let person = Grant::stored(Platform::Bluesky, taken.person, &taken.scopes).person;
    Ok(HttpResponse::Ok().json(session(sandbox, person).await?))
}

/// The account APIs: identity and listings, for a live access token.
async fn api(
    sandbox: &Sandbox,
    platform: Platform,
    name: &str,
    req: &HttpRequest,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let token = params
        .get("access_token")
        .cloned()
        .or_else(|| bearer_token(req))
        .unwrap_or_default();
    let Some(grant) = live_access(sandbox, platform, &token).await? else {
        return Ok(wire::unauthorized(platform));
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
        (Platform::Facebook, "accounts") => {
            let ids: Vec<String> = targets.iter().map(|(tid, _, _)| tid.clone()).collect();
            let tokens = publish::facebook::page_tokens(sandbox, n, &ids).await?;
            json!({
            "data": targets.iter().zip(tokens).enumerate().map(|(i, ((tid, tname, _), token))| json!({
                "id": tid, "name": tname, "access_token": token,
                "picture": {"data": {"url": consent::avatar_url(sandbox, platform, (n + i + 1) % PEOPLE.len())}},
                "followers_count": 12_840 - 1000 * i as i64, "fan_count": 11_902 - 1000 * i as i64,
            })).collect::<Vec<_>>(),
            "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}},
            })
        }
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
                    return Ok(HttpResponse::NotFound().json(
                        json!({"status": 404, "message": "Not Found", "code": "NOT_FOUND"}),
                    ));
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
                return Ok(wire::error(
                    platform,
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "Requested entity was not found.",
                ));
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
    Ok(HttpResponse::Ok().json(body))
}
