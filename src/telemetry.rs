//! Logs to stderr, pretty or JSON, filtered by `POSTGATE_LOG` (or `RUST_LOG`), and the
//! request id that ties a response to its log lines.

use crate::config::LogFormat;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 64;

pub fn init(filter: &str, format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_new(filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests) is harmless: keep the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// A request's id: the client's `X-Request-Id` when it is a sane token, else a new UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// 1–64 of `[A-Za-z0-9._-]`: safe to echo in a header and to write in a log line.
    pub fn parse(raw: &str) -> Option<Self> {
        let valid = (1..=MAX_REQUEST_ID_LEN).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        valid.then(|| Self(raw.to_owned()))
    }

    fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    fn of(req: &ServiceRequest) -> Self {
        req.headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(Self::parse)
            .unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The root span of each request: method, route template, target and status as in
/// tracing-actix-web's default span, and our `request_id` (echoed or generated) in place of
/// its UUID, so every log line of the request has it.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(req: &ServiceRequest) -> Span {
        let id = RequestId::of(req);
        let route = req.match_pattern().unwrap_or_else(|| "default".to_owned());
        // The fields `DefaultRootSpanBuilder::on_request_end` fills in are declared here.
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %req.method(),
            http.route = %route,
            http.target = %req.uri().path_and_query().map_or("", |p| p.as_str()),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
            request_id = %id.as_str(),
        );
        req.extensions_mut().insert(id);
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Middleware: returns the request id as `X-Request-Id`, so a client's report can be
/// matched to the server's log lines. Must sit inside `TracingLogger<RequestSpan>`, which
/// sets it.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    let id = res.request().extensions().get::<RequestId>().cloned();
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(id.as_str()).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_short_plain_tokens() {
        for ok in ["a", "req-1.2_3", &"x".repeat(64)] {
            assert_eq!(RequestId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", &"x".repeat(65), "a b", "a\"b", "é", "a/b", "a\nb"] {
            assert_eq!(RequestId::parse(bad), None, "{bad:?}");
        }
        assert_eq!(RequestId::generate().as_str().len(), 36);
    }
}
