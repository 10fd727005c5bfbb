//! The platforms an upload request names.
//!
//! Clients name them as repeated `platform[]` ([py]), repeated `platform`, one JSON array
//! string ([npm]) or a comma list, in any case, with `twitter` for `x` (traps T2, T3, T18).
//! Only `platform` counts: `platforms=a,b` is another endpoint's shape (T2).

use super::Platform;
use super::upload::Fields;

/// Why a request's platforms cannot be used; the handler answers 400 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformListError {
    #[error("At least one platform is required")]
    Missing,
    /// The names as the client sent them, each once, in order.
    #[error("Invalid platforms: [{}]", .0.join(", "))]
    Unknown(Vec<String>),
}

/// At least one platform, each once, in the order the request first named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformList(Vec<Platform>);

impl PlatformList {
    pub fn from_fields(fields: &Fields) -> Result<Self, PlatformListError> {
        let mut platforms = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for name in fields.list("platform", &[","]) {
            match Platform::parse(&name) {
                Some(p) if !platforms.contains(&p) => platforms.push(p),
                Some(_) => {}
                None if !unknown.contains(&name) => unknown.push(name),
                None => {}
            }
        }
        if !unknown.is_empty() {
            return Err(PlatformListError::Unknown(unknown));
        }
        if platforms.is_empty() {
            return Err(PlatformListError::Missing);
        }
        Ok(Self(platforms))
    }

    pub fn as_slice(&self) -> &[Platform] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Platform::{Bluesky, Linkedin, X};

    fn list(pairs: &[(&str, &str)]) -> Result<Vec<Platform>, PlatformListError> {
        let mut fields = Fields::new();
        for (k, v) in pairs {
            fields.push(k, *v);
        }
        PlatformList::from_fields(&fields).map(|l| l.as_slice().to_vec())
    }

    #[test]
    fn every_encoding_clients_use() {
        assert_eq!(
            list(&[("platform[]", "x"), ("platform[]", "bluesky")]),
            Ok(vec![X, Bluesky])
        );
        assert_eq!(
            list(&[("platform", "x"), ("platform", "bluesky")]),
            Ok(vec![X, Bluesky])
        );
        assert_eq!(
            list(&[("platform", r#"["x","bluesky"]"#)]),
            Ok(vec![X, Bluesky])
        );
        assert_eq!(list(&[("platform", "x, bluesky")]), Ok(vec![X, Bluesky]));
    }

    #[test]
    fn case_aliases_and_duplicates() {
        assert_eq!(
            list(&[
                ("platform[]", "LinkedIn"),
                ("platform[]", "twitter"),
                ("platform[]", "X"),
                ("platform[]", "linkedin"),
            ]),
            Ok(vec![Linkedin, X])
        );
    }

    #[test]
    fn unknown_names_are_listed_once_each() {
        let err = list(&[
            ("platform[]", "x"),
            ("platform[]", "myspace"),
            ("platform[]", "orkut"),
            ("platform[]", "myspace"),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            PlatformListError::Unknown(vec!["myspace".into(), "orkut".into()])
        );
        assert_eq!(err.to_string(), "Invalid platforms: [myspace, orkut]");
    }

    #[test]
    fn none_is_its_own_error() {
        for pairs in [
            &[][..],
            &[("platform[]", "")][..],
            &[("platform", "[]")][..],
            &[("platform", " , ")][..],
            // Another endpoint's shape names no platform here.
            &[("platforms", "x,bluesky")][..],
        ] {
            let err = list(pairs).unwrap_err();
            assert_eq!(err, PlatformListError::Missing, "{pairs:?}");
            assert_eq!(err.to_string(), "At least one platform is required");
        }
    }
}
