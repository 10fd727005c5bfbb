//! A fixed-window counter per key: the request quota of API accounts, and the rate limits of
//! link tokens per link and per client address.

use super::MAX_TRACKED_KEYS;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Where a key stands in the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Unix time at which the window resets.
    pub reset: u64,
    /// Whether the hit that was just counted fits in the window.
    pub allowed: bool,
}

impl Quota {
    pub fn retry_after(&self, now: u64) -> u64 {
        self.reset.saturating_sub(now).max(1)
    }
}

/// At most `limit` hits per key in each window of `seconds`. `limit == 0` turns it off.
pub struct FixedWindow<K> {
    limit: u32,
    seconds: u64,
    counts: Mutex<HashMap<K, (u64, u32)>>,
}

impl<K: Hash + Eq> FixedWindow<K> {
    pub fn new(limit: u32, seconds: u64) -> Self {
        Self {
            limit,
            seconds: seconds.max(1),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one hit of `key`. `None` when the limit is off.
    pub fn hit(&self, key: K, now: u64) -> Option<Quota> {
        if self.limit == 0 {
            return None;
        }
        let window = now / self.seconds;
        let reset = (window + 1) * self.seconds;
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= MAX_TRACKED_KEYS && !counts.contains_key(&key) {
            counts.retain(|_, (w, _)| *w == window);
            if counts.len() >= MAX_TRACKED_KEYS {
                // Memory stays bounded: a key that finds no room is let through uncounted
                // rather than turning a flood of keys into a refusal for everyone.
                return Some(Quota {
                    limit: self.limit,
                    remaining: self.limit,
                    reset,
                    allowed: true,
                });
            }
        }
        let entry = counts.entry(key).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < self.limit;
        if allowed {
            entry.1 += 1;
        }
        Some(Quota {
            limit: self.limit,
            remaining: self.limit.saturating_sub(entry.1),
            reset,
            allowed,
        })
    }

    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_per_window() {
        let limiter = FixedWindow::new(3, 60);
        let t = 600; // a window start
        assert_eq!(
            limiter.hit("a", t),
            Some(Quota {
                limit: 3,
                remaining: 2,
                reset: 660,
                allowed: true
            })
        );
        assert!(limiter.hit("a", t + 1).unwrap().allowed);
        let last = limiter.hit("a", t + 2).unwrap();
        assert!(last.allowed && last.remaining == 0);
        let over = limiter.hit("a", t + 30).unwrap();
        assert!(!over.allowed);
        assert_eq!(over.retry_after(t + 30), 30);
        // Other keys and the next window are unaffected.
        assert!(limiter.hit("b", t + 30).unwrap().allowed);
        assert!(limiter.hit("a", t + 60).unwrap().allowed);
        assert_eq!(FixedWindow::new(0, 60).hit("a", t), None);
    }

    #[test]
    fn memory_is_bounded_whatever_the_number_of_keys() {
        let limiter = FixedWindow::new(1, 60);
        for n in 0..(MAX_TRACKED_KEYS as u32 + 10) {
            limiter.hit(n, 0);
        }
        assert_eq!(limiter.tracked(), MAX_TRACKED_KEYS);
        // The next window makes room again.
        assert!(limiter.hit(u32::MAX, 60).unwrap().allowed);
        assert!(!limiter.hit(u32::MAX, 61).unwrap().allowed);
        assert_eq!(limiter.tracked(), 1);
    }
}
