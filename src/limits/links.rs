//! Rate limits on what a link token or a pending sign-in opens: the connect pages and forms,
//! the Bearer Connect API, OAuth starts, callbacks and the bounce page, and the app-password
//! sign-in. Counted per link and per client address, so that neither one link used from many
//! machines nor one machine cycling through links can hammer the server. Failed app-password
//! sign-ins are counted apart and tightly: the page must not serve as a password-guessing
//! proxy against the platform.

use super::{FailureGuard, FixedWindow, network};
use crate::config::LimitSettings;
use crate::error::ApiError;
use std::net::IpAddr;

pub struct LinkLimits {
    per_link: FixedWindow<String>,
    per_address: FixedWindow<IpAddr>,
    signin_failures: FailureGuard<Guesser>,
}

/// Who failed an app-password sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Guesser {
    Link(String),
    Address(IpAddr),
}

impl LinkLimits {
    pub fn new(limits: &LimitSettings) -> Self {
        Self {
            per_link: FixedWindow::new(limits.link_rate_limit_per_minute, 60),
            per_address: FixedWindow::new(limits.link_rate_limit_per_address_per_minute, 60),
            signin_failures: FailureGuard::new(
                limits.signin_failure_limit,
                limits.signin_block_seconds,
            ),
        }
    }

    /// Counts one request from `ip` for the link `link` (`None`: a sign-in state, or a token
    /// whose signature does not hold).
    pub fn admit(&self, link: Option<&str>, ip: Option<IpAddr>, now: u64) -> Result<(), ApiError> {
        let by_address = ip.and_then(|ip| self.per_address.hit(network(ip), now));
        let by_link = || link.and_then(|l| self.per_link.hit(l.to_owned(), now));
        for quota in [by_address, by_link()].into_iter().flatten() {
            if !quota.allowed {
                return Err(ApiError::RateLimited {
                    limit: quota.limit,
                    retry_after: quota.retry_after(now),
                });
            }
        }
        Ok(())
    }

    /// Refuses an app-password sign-in while its link or its address is blocked.
    pub fn signin_allowed(&self, link: &str, ip: Option<IpAddr>, now: u64) -> Result<(), ApiError> {
        let blocked = guessers(link, ip)
            .filter_map(|g| self.signin_failures.blocked_for(g, now))
            .max();
        match blocked {
            Some(retry_after) => Err(ApiError::AuthBlocked { retry_after }),
            None => Ok(()),
        }
    }

    /// Counts a sign-in the platform refused against the link and the address.
    pub fn signin_failed(&self, link: &str, ip: Option<IpAddr>, now: u64) {
        for guesser in guessers(link, ip) {
            self.signin_failures.failed(guesser, now);
        }
    }
}

fn guessers(link: &str, ip: Option<IpAddr>) -> impl Iterator<Item = Guesser> {
    std::iter::once(Guesser::Link(link.to_owned()))
        .chain(ip.map(|ip| Guesser::Address(network(ip))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_link: u32, per_address: u32, failures: u32) -> LinkLimits {
        LinkLimits::new(&LimitSettings {
            link_rate_limit_per_minute: per_link,
            link_rate_limit_per_address_per_minute: per_address,
            signin_failure_limit: failures,
            signin_block_seconds: 600,
            rate_limit_per_minute: 0,
            auth_failure_limit: 0,
            auth_block_seconds: 1,
        })
    }

    #[test]
    fn counts_per_link_and_per_address() {
        let l = limits(2, 3, 0);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert!(l.admit(Some("one"), Some(a), 0).is_ok());
        assert!(l.admit(Some("one"), Some(b), 0).is_ok());
        // The link is used up, from any address.
        assert!(matches!(
            l.admit(Some("one"), Some(b), 1),
            Err(ApiError::RateLimited {
                limit: 2,
                retry_after: 59
            })
        ));
        // `b` has one request left, whatever the link.
        assert!(l.admit(Some("two"), Some(b), 1).is_ok());
        assert!(l.admit(None, Some(b), 1).is_err());
        assert!(l.admit(Some("three"), Some(a), 1).is_ok());
        assert!(l.admit(Some("one"), Some(a), 60).is_ok());
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        let l = limits(0, 1, 0);
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.admit(None, Some(first), 0).is_ok());
        assert!(l.admit(None, Some(same_64), 0).is_err());
        assert!(l.admit(None, Some(other_64), 0).is_ok());
        assert_eq!(
            network("::ffff:192.0.2.1".parse().unwrap()),
            network("192.0.2.1".parse().unwrap())
        );
    }

    #[test]
    fn failed_signins_block_the_link_and_the_address() {
        let l = limits(0, 0, 2);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        l.signin_failed("one", Some(a), 0);
        assert!(l.signin_allowed("one", Some(a), 0).is_ok());
        l.signin_failed("one", Some(a), 1);
        assert!(matches!(
            l.signin_allowed("one", Some(b), 1),
            Err(ApiError::AuthBlocked { retry_after: 600 })
        ));
        assert!(l.signin_allowed("two", Some(a), 1).is_err());
        assert!(l.signin_allowed("two", Some(b), 1).is_ok());
        assert!(l.signin_allowed("one", Some(a), 601).is_ok());
    }
}
