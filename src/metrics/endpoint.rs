//! `GET /metrics` (mounted by `routes` when `metrics = true`), behind `metrics_token` if
//! one is set.

use super::{Backlogs, Metrics};
use crate::config::MetricsSettings;
use crate::db::{Db, outbox, uploads};
use crate::domain::Secret;
use crate::error::ApiError;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a scrape reads, and who may scrape: anyone, or holders of the token.
pub struct Scrape {
    metrics: Metrics,
    db: Db,
    token: Option<Secret>,
}

impl Scrape {
    /// `None` when metrics are off.
    pub fn new(metrics: &Metrics, db: &Db, settings: &MetricsSettings) -> Option<Data<Self>> {
        settings.enabled.then(|| {
            Data::new(Self {
                metrics: metrics.clone(),
                db: db.clone(),
                token: settings.token.clone(),
            })
        })
    }

    /// Compares digests in constant time, so neither the token's bytes nor its length
    /// can be learned from timing.
    fn allows(&self, req: &HttpRequest) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let Some(presented) = crate::web::bearer_token(req) else {
            return false;
        };
        Sha256::digest(presented.as_bytes())
            .ct_eq(&Sha256::digest(token.expose().as_bytes()))
            .into()
    }
}

/// Prometheus metrics
///
/// The instruments of this process, and the webhook and publishing backlogs of the whole
/// database.
#[utoipa::path(get, path = "/metrics", tag = "health", responses(
    (status = 200, description = "Prometheus text format (0.0.4)", content_type = "text/plain", body = String),
    (status = 401, description = "`metrics_token` is set and the request does not carry it as `Authorization: Bearer <token>`", body = crate::error::ErrorBody),
    (status = 404, description = "Metrics are off (`metrics = false`)", body = crate::error::ErrorBody),
))]
pub async fn scrape(req: HttpRequest, scrape: Data<Scrape>) -> Result<HttpResponse, ApiError> {
    if !scrape.allows(&req) {
        return Err(ApiError::InvalidMetricsToken);
    }
    // Metrics matter most when the database struggles: without a count, still answer.
    let counted = |what: &'static str, r: Result<i64, ApiError>| {
        r.inspect_err(|e| tracing::warn!(error = %e, "cannot count the {what} backlog"))
            .ok()
    };
    let webhooks = scrape
        .db
        .run(|conn| outbox::pending_count(conn).map_err(ApiError::from))
        .await;
    let publishing = scrape
        .db
        .run(|conn| uploads::pending_count(conn).map_err(ApiError::from))
        .await;
    let backlogs = Backlogs {
        webhooks: counted("webhook", webhooks),
        publishing: counted("publishing", publishing),
    };
    let body = scrape.metrics.render(scrape.db.pool_state(), backlogs);
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(body))
}
