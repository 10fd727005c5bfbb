//! One publisher per platform that Postgate can publish to.

use super::publisher::Publisher;
use crate::domain::Platform;

/// The publisher of `platform`, when Postgate publishes there.
pub fn for_platform(platform: Platform) -> Option<&'static dyn Publisher> {
    match platform {
        _ => None,
    }
}
