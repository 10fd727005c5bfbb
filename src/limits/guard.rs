//! Blocking whoever keeps failing to authenticate: addresses guessing API keys, and links and
//! addresses guessing app passwords through the connect page.

use super::MAX_TRACKED_KEYS;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Blocks a key for `block_seconds` after `max_failures` failures within a window of
/// `block_seconds`. A success does not reset the count: an attacker holding one key cannot
/// interleave it to keep guessing others. `max_failures == 0` turns it off.
pub struct FailureGuard<K> {
    max_failures: u32,
    block_seconds: u64,
    state: Mutex<HashMap<K, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    /// When the current window began.
    since: u64,
    count: u32,
    blocked_until: u64,
}

impl<K: Hash + Eq> FailureGuard<K> {
    pub fn new(max_failures: u32, block_seconds: u64) -> Self {
        Self {
            max_failures,
            block_seconds,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds left on the key's block, if it is blocked.
    pub fn blocked_for(&self, key: impl Borrow<K>, now: u64) -> Option<u64> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .get(key.borrow())
            .map(|f| f.blocked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    pub fn failed(&self, key: K, now: u64) {
        if self.max_failures == 0 {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.len() >= MAX_TRACKED_KEYS && !state.contains_key(&key) {
            let window = self.block_seconds;
            state.retain(|_, f| f.blocked_until > now || f.since + window > now);
            if state.len() >= MAX_TRACKED_KEYS {
                // Still full of live windows: blocks are kept, counts of unblocked ones go.
                state.retain(|_, f| f.blocked_until > now);
            }
            if state.len() >= MAX_TRACKED_KEYS {
                return;
            }
        }
        let entry = state.entry(key).or_insert(Failures {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn blocks_after_failures_in_a_window_whatever_succeeds_between() {
        let guard = FailureGuard::new(3, 300);
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
        let guard = FailureGuard::new(10, 300);
        for n in 0..(MAX_TRACKED_KEYS as u32 + 50_000) {
            guard.failed(IpAddr::from(n.to_be_bytes()), 0);
        }
        assert!(guard.tracked() <= MAX_TRACKED_KEYS);
        // Once their windows are over, room is made for new addresses.
        let late: IpAddr = "198.51.100.7".parse().unwrap();
        for _ in 0..10 {
            guard.failed(late, 1000);
        }
        assert_eq!(guard.blocked_for(late, 1000), Some(300));
        assert!(guard.tracked() <= MAX_TRACKED_KEYS);
    }
}
