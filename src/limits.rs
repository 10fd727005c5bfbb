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

/// Addresses the brute-force guard tracks at most: memory stays bounded whatever number
/// of addresses an attacker sends from.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// Blocks an address for `block_seconds` after `max_failures` failed authentications within
/// a window of `block_seconds`. A valid key does not reset the count: an attacker holding one
/// key cannot interleave it to keep guessing others.
pub struct AuthGuard {
    max_failures: u32,
    block_seconds: u64,
    state: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    /// When the current window began.
    since: u64,
    count: u32,
    blocked_until: u64,
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
            .map(|f| f.blocked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    pub fn failed(&self, ip: IpAddr, now: u64) {
        if self.max_failures == 0 {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.len() >= MAX_TRACKED_ADDRESSES && !state.contains_key(&ip) {
            let window = self.block_seconds;
            state.retain(|_, f| f.blocked_until > now || f.since + window > now);
            if state.len() >= MAX_TRACKED_ADDRESSES {
                // Still full of live windows: blocks are kept, counts of unblocked ones go.
                state.retain(|_, f| f.blocked_until > now);
            }
            if state.len() >= MAX_TRACKED_ADDRESSES {
                return;
            }
        }
        let entry = state.entry(ip).or_insert(Failures {
            since: now,
            count: 0,
            blocked_until: 0,
        });
        if entry.since + self.block_seconds <= now {
            entry.since = now;
            entry.count = 0;
        }
        entry.count += 1;
        if entry.count >= self.max_failures {
            *entry = Failures {
                since: now,
                count: 0,
                blocked_until: now + self.block_seconds,
            };
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).len()
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
    fn blocks_after_failures_in_a_window_whatever_succeeds_between() {
        let guard = AuthGuard::new(3, 300);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        // A valid key in between does not wipe the count (there is no success hook).
        guard.failed(ip, 0);
        guard.failed(ip, 1);
        assert_eq!(guard.blocked_for(ip, 1), None);
        guard.failed(ip, 10);
        assert_eq!(guard.blocked_for(ip, 10), Some(300));
        assert_eq!(guard.blocked_for(ip, 309), Some(1));
        assert_eq!(guard.blocked_for(ip, 310), None);
        assert_eq!(guard.blocked_for(other, 10), None);
        // Failures further apart than the window do not add up.
        guard.failed(other, 1000);
        guard.failed(other, 1200);
        guard.failed(other, 1301);
        assert_eq!(guard.blocked_for(other, 1301), None);
    }

    #[test]
    fn memory_is_bounded_whatever_the_number_of_addresses() {
        let guard = AuthGuard::new(10, 300);
        for n in 0..(MAX_TRACKED_ADDRESSES as u32 + 50_000) {
            guard.failed(IpAddr::from(n.to_be_bytes()), 0);
        }
        assert!(guard.tracked() <= MAX_TRACKED_ADDRESSES);
        // Once their windows are over, room is made for new addresses.
        let late: IpAddr = "198.51.100.7".parse().unwrap();
        for _ in 0..10 {
            guard.failed(late, 1000);
        }
        assert_eq!(guard.blocked_for(late, 1000), Some(300));
        assert!(guard.tracked() <= MAX_TRACKED_ADDRESSES);
    }
}
