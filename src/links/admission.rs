//! Rate limits applied where a link token is presented: counted against the link and the
//! client address before the link's row is looked up.

use crate::error::ApiError;
use crate::limits::{client_ip, unix_now};
use crate::state::AppState;
use crate::web::bearer_token;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpRequest};

/// Counts a request that presents `token` (a link token; `None` for one that names a pending
/// sign-in instead) against its link and its client address.
pub fn admit(state: &AppState, req: &HttpRequest, token: Option<&str>) -> Result<(), ApiError> {
    let now = unix_now();
    // Only the signature is checked here: the link's row is for the handler to look up.
    let link = token
        .and_then(|t| state.link_signer.verify(t.trim(), now as i64).ok())
        .map(|claims| claims.jti);
    state.link_limits.admit(
        link.as_deref(),
        client_ip(req, state.trust_proxy_headers),
        now,
    )
}

/// Middleware: API requests that carry a link as `Authorization: Bearer` are counted before
/// anything else happens (the API's handlers take the token in several places).
pub async fn bearer_links(
    state: Data<AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if req.path().starts_with("/api/")
        && let Some(token) = bearer_token(req.request())
        && let Err(refused) = admit(&state, req.request(), Some(&token))
    {
        return Ok(req.error_response(refused).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
