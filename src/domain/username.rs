//! The profile `username`: the caller's stable id for one of its end users.

use super::text;
use std::fmt;

/// Longest accepted username, in characters (not bytes).
pub const MAX_USERNAME_CHARS: usize = 100;

/// Names that would shadow a fixed sub-path of `/api/uploadposts/users/`, plus the path
/// segments every HTTP client normalises away.
const RESERVED: &[&str] = &[
    ".",
    "..",
    "generate-jwt",
    "validate-jwt",
    "revoke-jwt",
    "preferences",
    "notifications",
    "facebook-page",
    "google-business-location",
    "linkedin-page",
    "profile-webhook",
    "webhook-secret",
    "webhook-deliveries",
    "discord",
    "telegram",
    "social",
];

/// A validated, case-sensitive profile username.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("username is required")]
    Missing,
    #[error("username must be a string")]
    NotAString,
    #[error("username must not be empty")]
    Empty,
    #[error("username must be at most {MAX_USERNAME_CHARS} characters")]
    TooLong,
    #[error("username must not start or end with whitespace")]
    SurroundingWhitespace,
    #[error("username must not contain control or invisible formatting characters")]
    ControlCharacter,
    #[error("username must not contain '/'")]
    Slash,
    #[error("username '{0}' is reserved")]
    Reserved(String),
}

impl Username {
    /// Usernames are kept in NFC, so two spellings of what looks the same are one profile.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let raw = &*text::nfc(raw);
        if raw.is_empty() {
            return Err(UsernameError::Empty);
        }
        if raw.chars().count() > MAX_USERNAME_CHARS {
            return Err(UsernameError::TooLong);
        }
        if raw.trim() != raw {
            return Err(UsernameError::SurroundingWhitespace);
        }
        if text::has_invisible(raw) {
            return Err(UsernameError::ControlCharacter);
        }
        if raw.contains('/') {
            return Err(UsernameError::Slash);
        }
        if RESERVED.contains(&raw) {
            return Err(UsernameError::Reserved(raw.to_owned()));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Parses the `username` member of a JSON body.
    pub fn from_json(value: Option<&serde_json::Value>) -> Result<Self, UsernameError> {
        match value {
            None | Some(serde_json::Value::Null) => Err(UsernameError::Missing),
            Some(serde_json::Value::String(s)) => Self::parse(s),
            Some(_) => Err(UsernameError::NotAString),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Control characters plus the invisible ones that let two names look identical or reorder
/// text (zero-width, bidi overrides, BOM).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in [
            "u123",
            "José García",
            "a",
            "user@example.com",
            "x.y_z-1",
            "名前",
        ] {
            assert_eq!(Username::parse(ok).unwrap().as_str(), ok);
        }
        assert!(Username::parse(&"é".repeat(MAX_USERNAME_CHARS)).is_ok());
    }

    #[test]
    fn refuses_bad_names() {
        let cases = [
            ("", UsernameError::Empty),
            (" a", UsernameError::SurroundingWhitespace),
            ("a\t", UsernameError::SurroundingWhitespace),
            ("a\u{0}b", UsernameError::ControlCharacter),
            ("a\nb", UsernameError::ControlCharacter),
            ("a\u{202E}b", UsernameError::ControlCharacter),
            ("a/b", UsernameError::Slash),
            ("preferences", UsernameError::Reserved("preferences".into())),
            ("..", UsernameError::Reserved("..".into())),
        ];
        for (raw, err) in cases {
            assert_eq!(Username::parse(raw), Err(err), "{raw:?}");
        }
        assert_eq!(
            Username::parse(&"a".repeat(MAX_USERNAME_CHARS + 1)),
            Err(UsernameError::TooLong)
        );
    }

    #[test]
    fn reads_json_members() {
        use serde_json::json;
        assert_eq!(Username::from_json(None), Err(UsernameError::Missing));
        assert_eq!(
            Username::from_json(Some(&json!(null))),
            Err(UsernameError::Missing)
        );
        assert_eq!(
            Username::from_json(Some(&json!(12))),
            Err(UsernameError::NotAString)
        );
        assert_eq!(
            Username::from_json(Some(&json!(["a"]))),
            Err(UsernameError::NotAString)
        );
        assert!(Username::from_json(Some(&json!("ok"))).is_ok());
    }

    #[test]
    fn names_are_kept_in_nfc() {
        assert_eq!(
            Username::parse("Jose\u{301}").unwrap().as_str(),
            "Jos\u{e9}"
        );
        assert_eq!(
            Username::parse("Jose\u{301}").unwrap(),
            Username::parse("Jos\u{e9}").unwrap()
        );
        // Counted after composing: 100 decomposed "é" are 100 characters.
        assert!(Username::parse(&"e\u{301}".repeat(MAX_USERNAME_CHARS)).is_ok());
    }

    #[test]
    fn case_matters() {
        assert_ne!(
            Username::parse("Bob").unwrap(),
            Username::parse("bob").unwrap()
        );
    }
}
