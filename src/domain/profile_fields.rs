//! Optional profile attributes beyond the Upload-Post `username`: a display name, the caller's
//! own external id and free-form metadata (the Synposter/Mallary model).

use super::text;
use serde_json::{Map, Value};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EXTERNAL_ID_CHARS: usize = 255;
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// A field that failed validation, named as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    /// "`field` `problem`", e.g. "name must be a string".
    pub fn new(field: &'static str, problem: impl std::fmt::Display) -> Self {
        Self::worded(field, format!("{field} {problem}"))
    }

    /// A message worded in full, for the texts Upload-Post documents verbatim.
    pub fn worded(field: &'static str, message: String) -> Self {
        Self { field, message }
    }
}

/// A human label for the profile; defaults to the username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileName(String);

impl ProfileName {
    pub fn from_json(value: Option<&Value>) -> Result<Option<Self>, FieldError> {
        Ok(text_field("name", value, MAX_NAME_CHARS)?.map(Self))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The caller's own id for its end user, unique within the API account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn from_json(value: Option<&Value>) -> Result<Option<Self>, FieldError> {
        match text_field("external_id", value, MAX_EXTERNAL_ID_CHARS)? {
            Some(id) if text::has_invisible(&id) => Err(FieldError::new(
                "external_id",
                "must not contain invisible formatting characters",
            )),
            id => Ok(id.map(Self)),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Any JSON object, stored and returned exactly as given.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata(Map<String, Value>);

impl Metadata {
    pub fn from_json(value: Option<&Value>) -> Result<Option<Self>, FieldError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => {
                let size = serde_json::to_vec(map)
                    .map(|v| v.len())
                    .unwrap_or(usize::MAX);
                if size > MAX_METADATA_BYTES {
                    return Err(FieldError::new(
                        "metadata",
                        format!("must be at most {MAX_METADATA_BYTES} bytes of JSON"),
                    ));
                }
                Ok(Some(Self(map.clone())))
            }
            Some(_) => Err(FieldError::new("metadata", "must be a JSON object")),
        }
    }

    /// The stored text form.
    pub fn to_json_text(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// An optional, non-blank, bounded string without control characters.
pub fn text_field(
    field: &'static str,
    value: Option<&Value>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    let s = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(FieldError::new(field, "must be a string")),
    };
    if s.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if s.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(s.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_and_external_id() {
        assert_eq!(ProfileName::from_json(None), Ok(None));
        assert_eq!(ProfileName::from_json(Some(&json!(null))), Ok(None));
        assert!(
            ProfileName::from_json(Some(&json!("Alice's Brand")))
                .unwrap()
                .is_some()
        );
        assert!(ProfileName::from_json(Some(&json!("  "))).is_err());
        assert!(ProfileName::from_json(Some(&json!(3))).is_err());
        assert!(ExternalId::from_json(Some(&json!("a\u{7}"))).is_err());
        assert!(ExternalId::from_json(Some(&json!("x".repeat(256)))).is_err());
    }

    #[test]
    fn metadata_is_kept_verbatim() {
        let v = json!({"z": 1, "a": {"nested": [1, 2.5, "x"]}});
        let m = Metadata::from_json(Some(&v)).unwrap().unwrap();
        assert_eq!(m.to_json_text(), r#"{"z":1,"a":{"nested":[1,2.5,"x"]}}"#);
        assert!(Metadata::from_json(Some(&json!([1]))).is_err());
        let big = json!({"k": "x".repeat(MAX_METADATA_BYTES)});
        assert!(Metadata::from_json(Some(&big)).is_err());
    }
}
