//! `GET /metrics`: served only when `metrics = true`, behind `metrics_token` if one is set.

use crate::config::MetricsSettings;
use crate::db::outbox;
use crate::domain::secrets::{Credential, parse_authorization};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::http::{Method, header};
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PATH: &str = "/metrics";

/// Who may scrape: anyone, or holders of the token.
pub(crate) struct Access {
    token: Option<String>,
}

impl Access {
    /// Compares digests in constant time, so neither the token's bytes nor its length
    /// can be learned from timing.
    fn allows(&self, req: &HttpRequest) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_authorization);
        let Some(Credential::Bearer(presented)) = presented else {
            return false;
        };
        Sha256::digest(presented.as_bytes())
            .ct_eq(&Sha256::digest(token.as_bytes()))
            .into()
    }
}

/// Mounts `/metrics` when enabled. The route is recorded either way: the OpenAPI document
/// lists it, and whether a process serves it is configuration.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &MetricsSettings) {
    crate::api::record_route(PATH, &[Method::GET]);
    if !settings.enabled {
        return;
    }
    cfg.service(
        crate::api::resource("", PATH, &[Method::GET])
            .app_data(Data::new(Access {
                token: settings.token.clone(),
            }))
            .route(crate::api::get().to(scrape)),
    );
}

/// Prometheus metrics
///
/// The instruments of this process, and the webhook backlog of the whole database.
#[utoipa::path(get, path = "/metrics", tag = "health", responses(
    (status = 200, description = "Prometheus text format (0.0.4)", content_type = "text/plain", body = String),
    (status = 401, description = "`metrics_token` is set and the request does not carry it as `Authorization: Bearer <token>`", body = crate::api::openapi::ErrorBody),
    (status = 404, description = "Metrics are off (`metrics = false`)", body = crate::api::openapi::ErrorBody),
))]
pub(crate) async fn scrape(
    req: HttpRequest,
    access: Data<Access>,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !access.allows(&req) {
        return Err(ApiError::InvalidMetricsToken);
    }
    // Metrics matter most when the database struggles: without a count, still answer.
    let backlog = state
        .db
        .run(|conn| outbox::pending_count(conn).map_err(ApiError::from))
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "cannot count the webhook backlog"))
        .ok();
    let body = state.metrics.render(state.db.pool_state(), backlog);
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(body))
}
