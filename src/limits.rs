//! Limits on what one client can make this server do: request quotas per API account, rate
//! limits on link tokens per link and per client address, guards against guessing keys and
//! passwords, and deadlines for slow request bodies.
//!
//! All live in process memory: with several Postgate processes behind a load balancer each
//! enforces its own share (documented in the README).

pub mod body;
mod guard;
pub mod links;
mod window;

pub use guard::FailureGuard;
pub use links::LinkLimits;
pub use window::{FixedWindow, Quota};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};
use std::net::{IpAddr, Ipv6Addr};

/// Keys each limiter tracks at most: memory stays bounded whatever number of addresses an
/// attacker sends from.
const MAX_TRACKED_KEYS: usize = 100_000;

/// A fixed one-minute window per account. `per_minute == 0` disables it.
pub struct RequestLimiter(FixedWindow<String>);

impl RequestLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self(FixedWindow::new(per_minute, 60))
    }

    /// Counts one request. `None` when limiting is off.
    pub fn check(&self, account: &str, now: u64) -> Option<Quota> {
        self.0.hit(account.to_owned(), now)
    }
}

/// Bad API keys per client address.
pub type AuthGuard = FailureGuard<IpAddr>;

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The peer address, or behind a trusted proxy the address it appended last to
/// `X-Forwarded-For` (earlier entries are whatever the client claimed).
pub fn client_ip(req: &HttpRequest, trust_proxy_headers: bool) -> Option<IpAddr> {
    if trust_proxy_headers {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|ip| ip.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.peer_addr().map(|a| a.ip())
}

/// The address as counted: an IPv6 host usually holds a whole /64, and could otherwise cycle
/// through it.
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// Middleware: puts the `X-RateLimit-*` headers on every response whose request was
/// counted (the extractor leaves the `Quota` in the request's extensions).
pub async fn quota_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let quota = res.request().extensions().get::<Quota>().copied();
    if let Some(q) = quota {
        let headers = res.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", q.limit.to_string()),
            ("x-ratelimit-remaining", q.remaining.to_string()),
            ("x-ratelimit-reset", q.reset.to_string()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
    Ok(res)
}
