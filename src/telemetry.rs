//! Logs to stderr, pretty or JSON, filtered by `POSTGATE_LOG` (or `RUST_LOG`), and the
//! request id that ties a response to its log lines.
//!
//! What a request puts in the log is bounded and secret-free: its target with the values of
//! credential-like query members redacted, values from outside cut at `MAX_LOGGED_CHARS` with
//! control characters escaped (a newline cannot forge a line), and an error's message (its
//! `Display`), never its `Debug`.

use crate::config::LogFormat;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;

const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 64;
/// Longest value from outside written to the log, in characters.
const MAX_LOGGED_CHARS: usize = 300;
/// Query members whose values are credentials when their name contains one of these: link
/// tokens, OAuth codes and states, signatures of media URLs, keys, passwords.
const SECRET_MEMBER_PARTS: &[&str] = &[
    "token", "jwt", "code", "state", "sig", "key", "secret", "pass", "auth", "csrf",
];

/// `raw` fit for a log line: control characters escaped, at most `MAX_LOGGED_CHARS`
/// characters (then "…").
pub fn loggable(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_LOGGED_CHARS + 8));
    for (i, c) in raw.chars().enumerate() {
        if i == MAX_LOGGED_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A request target as logged: the path, and the query with the values of credential-like
/// members replaced by `[redacted]`; bounded like every logged value.
pub fn loggable_target(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return loggable(path_and_query);
    };
    let query: Vec<String> = query
        .split('&')
        .map(|member| match member.split_once('=') {
            Some((name, _)) if is_secret_member(name) => format!("{name}=[redacted]"),
            _ => member.to_owned(),
        })
        .collect();
    loggable(&format!("{path}?{}", query.join("&")))
}

fn is_secret_member(name: &str) -> bool {
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    SECRET_MEMBER_PARTS.iter().any(|part| name.contains(part))
}

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
            http.target = %loggable_target(req.uri().path_and_query().map_or("", |p| p.as_str())),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            request_id = %id.as_str(),
        );
        req.extensions_mut().insert(id);
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error) = match outcome {
            Ok(response) => (
                response.status(),
                response.response().error().map(ToString::to_string),
            ),
            Err(e) => (e.as_response_error().status_code(), Some(e.to_string())),
        };
        span.record("http.status_code", status.as_u16());
        span.record(
            "otel.status_code",
            if status.is_server_error() {
                "ERROR"
            } else {
                "OK"
            },
        );
        if let Some(error) = error {
            let message = loggable(&error);
            span.record("exception.message", message.as_str());
            // Failures of ours are logged where they happen (`ApiError::log_if_ours`).
            span.in_scope(
                || tracing::debug!(status = status.as_u16(), error = %message, "request refused"),
            );
        }
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
    fn logged_values_are_escaped_and_bounded() {
        assert_eq!(loggable("plain"), "plain");
        assert_eq!(loggable("a\nb\r\u{0}c"), "a\\nb\\r\\u{0}c");
        let long = loggable(&"x".repeat(10_000));
        assert_eq!(long.chars().count(), MAX_LOGGED_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn credentials_in_targets_are_redacted() {
        assert_eq!(
            loggable_target("/connect?token=eyJ.x.y&tab=calendar"),
            "/connect?token=[redacted]&tab=calendar"
        );
        assert_eq!(
            loggable_target("/cb?code=C&state=S&error_description=no"),
            "/cb?code=[redacted]&state=[redacted]&error_description=no"
        );
        assert_eq!(
            loggable_target("/media/m1?exp=1&sig=abc"),
            "/media/m1?exp=1&sig=[redacted]"
        );
        assert_eq!(loggable_target("/x?%74oken=t"), "/x?%74oken=[redacted]");
        assert_eq!(
            loggable_target("/x?Access_Token=t"),
            "/x?Access_Token=[redacted]"
        );
        assert_eq!(loggable_target("/users/a%0Ab"), "/users/a%0Ab");
    }

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
