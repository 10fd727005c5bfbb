//! One module per platform: its documented endpoints, scopes, and how to read its answers.

mod bluesky;
mod facebook;
mod google;
mod instagram;
mod linkedin;
mod meta;
mod pinterest;
#[cfg(test)]
mod recorded;
mod reddit;
mod threads;
mod tiktok;
mod x;

use super::provider::Provider;
use crate::domain::Platform;

/// The LinkedIn `/rest` version every LinkedIn call speaks (publishing too).
pub use linkedin::API_VERSION as LINKEDIN_API_VERSION;

/// The provider of a platform.
pub fn for_platform(platform: Platform) -> &'static dyn Provider {
    match platform {
        Platform::Facebook => &facebook::Facebook,
        Platform::Instagram => &instagram::INSTAGRAM,
        Platform::Threads => &threads::THREADS,
        Platform::Linkedin => &linkedin::Linkedin,
        Platform::Tiktok => &tiktok::Tiktok,
        Platform::Youtube => &google::YOUTUBE,
        Platform::GoogleBusiness => &google::BUSINESS,
        Platform::X => &x::X,
        Platform::Pinterest => &pinterest::Pinterest,
        Platform::Reddit => &reddit::Reddit,
        Platform::Bluesky => &bluesky::Bluesky,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_is_its_platform_and_names_the_endpoints_the_flow_needs() {
        for platform in Platform::ALL {
            let p = for_platform(platform);
            assert_eq!(p.platform(), platform);
            let names: Vec<&str> = p.endpoints().iter().map(|(n, _)| *n).collect();
            let needed: &[&str] = match p.sign_in() {
                crate::oauth::provider::SignIn::OAuth => &["authorize", "token"],
                crate::oauth::provider::SignIn::AppPassword => &["create_session"],
            };
            for n in needed {
                assert!(names.contains(n), "{platform:?} lacks {n}");
            }
            for (name, url) in p.endpoints() {
                let url = url::Url::parse(url).unwrap();
                assert_eq!(url.scheme(), "https", "{platform:?} {name}");
            }
            assert!(!p.scopes().is_empty() || p.sign_in() != crate::oauth::provider::SignIn::OAuth);
            for s in p.required_scopes() {
                assert!(
                    p.scopes().contains(s),
                    "{platform:?} requires unrequested {s}"
                );
            }
        }
    }
}
