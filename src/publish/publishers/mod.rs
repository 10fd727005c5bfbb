//! One publisher per platform that Postgate can publish to.

mod facebook;
mod graph;
mod linkedin;
// mod threads;

use super::publisher::{PublishError, Published, Publisher};
use crate::domain::Platform;
use crate::oauth::provider::App;
use url::Url;

/// The publisher of `platform`, when Postgate publishes there.
pub fn for_platform(platform: Platform) -> Option<&'static dyn Publisher> {
    match platform {
        Platform::Linkedin => Some(&linkedin::Linkedin),
        Platform::Facebook => Some(&facebook::Facebook),
        //        Platform::Threads => Some(&threads::Threads),
        _ => None,
    }
}

/// A named endpoint of the platform's app. Every provider lists its publishing endpoints, so
/// a missing one is a configuration that cannot publish there.
fn endpoint(app: &App, name: &str) -> Result<Url, PublishError> {
    app.url(name).map_err(|e| {
        PublishError::unsupported("endpoint_missing", format!("cannot publish here: {e}"))
    })
}

/// Notes how a first comment went: `first_comment_posted` when it was made, a warning when
/// not — a first comment never fails its post.
fn note_first_comment(published: &mut Published, outcome: Result<(), PublishError>) {
    match outcome {
        Ok(()) => {
            published
                .extra
                .insert("first_comment_posted".to_owned(), true.into());
        }
        Err(e) => {
            published
                .extra
                .insert("first_comment_posted".to_owned(), false.into());
            published
                .warnings
                .push(format!("The first comment was not posted: {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_first_comment_is_a_warning() {
        let mut p = Published::default();
        note_first_comment(&mut p, Err(PublishError::refused("x", "no", false)));
        assert_eq!(p.extra["first_comment_posted"], false);
        assert_eq!(p.warnings, ["The first comment was not posted: no"]);
        let mut p = Published::default();
        note_first_comment(&mut p, Ok(()));
        assert_eq!(p.extra["first_comment_posted"], true);
        assert!(p.warnings.is_empty());
    }
}
