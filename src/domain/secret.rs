//! `Secret`: a key or client secret from configuration. It prints as a fixed redaction, so a
//! `{:?}` of the settings (or of anything holding one) never shows it; the value is read
//! only through `expose()`, at the point where it is used.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

const REDACTED: &str = "[redacted]";

/// A secret string. Deliberately not `Serialize` and not `Display`-able as its value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `any`, so that a number or a boolean reaches the visitor below rather than an
        // error the deserializer words itself, value included.
        deserializer.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

/// Serde's default for a value of the wrong type quotes it in the error ("invalid type:
/// integer `123…`"), which would put the secret in a start-up error; these never do.
fn not_text<E: de::Error>() -> E {
    E::custom("a secret must be a string (quote it)")
}

impl Visitor<'_> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a secret string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
        Ok(Secret::new(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Secret, E> {
        Ok(Secret(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(not_text())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
        Err(not_text())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
        Err(not_text())
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Secret, E> {
        Err(not_text())
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Secret, E> {
        Err(not_text())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(not_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_only_the_redaction() {
        let secret = Secret::new("hunter2-but-longer");
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(format!("{secret}"), REDACTED);
        assert_eq!(
            format!("{:?}", Some(vec![secret.clone()])),
            "Some([[redacted]])"
        );
        assert_eq!(secret.expose(), "hunter2-but-longer");
    }

    #[test]
    fn deserializes_from_text_only_and_never_quotes_what_it_refused() {
        let secret: Secret = serde_json::from_str("\"from-json\"").unwrap();
        assert_eq!(secret.expose(), "from-json");
        for bad in ["98765432123456789", "-98765432123", "9876.54321", "true"] {
            let err = serde_json::from_str::<Secret>(bad).unwrap_err().to_string();
            assert!(err.contains("must be a string"), "{err}");
            assert!(!err.contains(bad), "{err}");
        }
    }
}
