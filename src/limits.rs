//! Request quotas per API account and brute-force protection per client address.
//!
//! Both live in process memory: with several Postgate processes behind a load balancer each
//! enforces its own share (documented in the README).

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Where an account stands in the current one-minute window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Unix time at which the window resets.
    pub reset: u64,
    /// Whether the request that was just counted fits in the window.
    pub allowed: bool,
}

impl Quota {
    pub fn retry_after(&self, now: u64) -> u64 {
        self.reset.saturating_sub(now).max(1)
    }
}

/// A fixed one-minute window per account. `per_minute == 0` disables it.
pub struct RequestLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl RequestLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request. `None` when limiting is off.
    pub fn check(&self, account: &str, now: u64) -> Option<Quota> {
        if self.per_minute == 0 {
            return None;
        }
        let window = now / 60;
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (w, _)| *w == window);
        }
        let entry = windows.entry(account.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < self.per_minute;
        if allowed {
            entry.1 += 1;
        }
        Some(Quota {
            limit: self.per_minute,
            remaining: self.per_minute.saturating_sub(entry.1),
            reset: (window + 1) * 60,
            allowed,
        })
    }
}

/// Blocks an address for a while after too many consecutive failed authentications.
pub struct AuthGuard {
    max_failures: u32,
    block_seconds: u64,
    // address -> (consecutive failures, blocked until)
    state: Mutex<HashMap<IpAddr, (u32, u64)>>,
}

impl AuthGuard {
    pub fn new(max_failures: u32, block_seconds: u64) -> Self {
        Self {
            max_failures,
            block_seconds,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds left on the address's block, if it is blocked.
    pub fn blocked_for(&self, ip: IpAddr, now: u64) -> Option<u64> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .get(&ip)
            .map(|(_, until)| *until)
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    pub fn failed(&self, ip: IpAddr, now: u64) {
        if self.max_failures == 0 {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.len() > 100_000 {
            state.retain(|_, (count, until)| *until > now || *count > 0);
        }
        let entry = state.entry(ip).or_insert((0, 0));
        entry.0 += 1;
        if entry.0 >= self.max_failures {
            *entry = (0, now + self.block_seconds);
        }
    }

    pub fn succeeded(&self, ip: IpAddr) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.remove(&ip);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_per_window() {
        let limiter = RequestLimiter::new(3);
        let t = 600; // a window start
        assert_eq!(
            limiter.check("a", t),
            Some(Quota {
                limit: 3,
                remaining: 2,
                reset: 660,
                allowed: true
            })
        );
        assert!(limiter.check("a", t + 1).unwrap().allowed);
        let last = limiter.check("a", t + 2).unwrap();
        assert!(last.allowed && last.remaining == 0);
        let over = limiter.check("a", t + 30).unwrap();
        assert!(!over.allowed);
        assert_eq!(over.retry_after(t + 30), 30);
        // Other accounts and the next window are unaffected.
        assert!(limiter.check("b", t + 30).unwrap().allowed);
        assert!(limiter.check("a", t + 60).unwrap().allowed);
        assert_eq!(RequestLimiter::new(0).check("a", t), None);
    }

    #[test]
    fn blocks_after_consecutive_failures() {
        let guard = AuthGuard::new(3, 300);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        guard.failed(ip, 0);
        guard.failed(ip, 0);
        guard.succeeded(ip);
        guard.failed(ip, 0);
        guard.failed(ip, 0);
        assert_eq!(guard.blocked_for(ip, 0), None);
        guard.failed(ip, 10);
        assert_eq!(guard.blocked_for(ip, 10), Some(300));
        assert_eq!(guard.blocked_for(ip, 309), Some(1));
        assert_eq!(guard.blocked_for(ip, 310), None);
        assert_eq!(guard.blocked_for(other, 10), None);
    }
}
