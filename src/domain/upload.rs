//! An upload request's fields as real clients send them, and the names of what an upload is.
//!
//! Clients disagree on encodings (publishing reference, traps T2–T6): repeated `name[]`,
//! one `name` holding a JSON array string, comma lists, `|`/`||` lists, booleans as
//! `"true"`/`"1"`/`"yes"`, and `""` for "not given". `Fields` keeps every value of every
//! name in order and answers each question in one place, so no publisher re-parses.

use super::wire::wire_names;
use std::collections::BTreeMap;

wire_names! {
    /// What an upload carries, as history's `media_type` spells it.
    pub enum PostKind {
        Text = "text",
        Photos = "photo",
        Video = "video",
        Document = "document",
    }
}

wire_names! {
    /// What one stored media item is, once its bytes were sniffed.
    pub enum MediaKind {
        Image = "image",
        Video = "video",
        Document = "document",
    }
}

/// A field that was given but cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid value for '{field}': {reason}")]
pub struct FieldValueError {
    pub field: String,
    pub reason: String,
}

impl FieldValueError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Every text field of a request, by name with any trailing `[]` removed, each name's values
/// in the order they came. Empty values are dropped on entry: `""` means absent (T6).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(BTreeMap<String, Vec<String>>);

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value as it arrived (`name[]` and `name` are the same field).
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if value.trim().is_empty() {
            return;
        }
        let name = name.strip_suffix("[]").unwrap_or(name);
        self.0.entry(name.to_owned()).or_default().push(value);
    }

    /// Removes a field (the engine drops what it consumed, such as `user`).
    pub fn remove(&mut self, name: &str) -> Vec<String> {
        self.0.remove(name).unwrap_or_default()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every raw value of a field.
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }

    /// The field's text: its first value.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.all(name).first().map(String::as_str)
    }

    /// The first of several names that is given (aliases, or `{platform}_x` before `x`).
    pub fn first_text(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.text(n))
    }

    /// A boolean, leniently (T5): true/false, 1/0, yes/no, on/off in any case.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, FieldValueError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(FieldValueError::new(name, "expected true or false")),
        }
    }

    /// A whole number (numbers travel as strings).
    pub fn number(&self, name: &str) -> Result<Option<i64>, FieldValueError> {
        self.text(name)
            .map(|raw| {
                raw.trim()
                    .parse::<i64>()
                    .map_err(|_| FieldValueError::new(name, "expected a whole number"))
            })
            .transpose()
    }

    /// A list in any of its four encodings (T3): repeated values, one JSON array string,
    /// a comma list, or a `||`/`|` list. `separators` says which plain separators this field
    /// may use (`&[","]` for tags, `&["||", "|"]` for alt texts): a comma inside an alt text
    /// is text, not a separator.
    pub fn list(&self, name: &str, separators: &[&str]) -> Vec<String> {
        let values = self.all(name);
        if values.len() > 1 {
            return values.iter().map(|v| v.trim().to_owned()).collect();
        }
        let Some(one) = values.first() else {
            return Vec::new();
        };
        let trimmed = one.trim();
        if trimmed.starts_with('[')
            && let Ok(serde_json::Value::Array(items)) = serde_json::from_str(trimmed)
        {
            return items
                .into_iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(s) => Some(s),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                })
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
        }
        for sep in separators {
            if trimmed.contains(sep) {
                return trimmed
                    .split(sep)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
        }
        vec![trimmed.to_owned()]
    }

    /// A field that carries JSON as a string (T4).
    pub fn json(&self, name: &str) -> Result<Option<serde_json::Value>, FieldValueError> {
        self.text(name)
            .map(|raw| {
                serde_json::from_str(raw)
                    .map_err(|_| FieldValueError::new(name, "expected a JSON value"))
            })
            .transpose()
    }

    /// The platform-specific spelling first, then the generic one: `x_title`, `title`.
    pub fn for_platform(&self, platform: &str, name: &str) -> Option<&str> {
        self.text(&format!("{platform}_{name}"))
            .or_else(|| self.text(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        let mut f = Fields::new();
        for (k, v) in pairs {
            f.push(k, *v);
        }
        f
    }

    #[test]
    fn brackets_and_empties() {
        let f = fields(&[
            ("platform[]", "x"),
            ("platform[]", "bluesky"),
            ("title", ""),
        ]);
        assert_eq!(f.all("platform"), ["x", "bluesky"]);
        assert_eq!(f.text("title"), None);
    }

    #[test]
    fn four_list_encodings() {
        let repeated = fields(&[("tags[]", "a"), ("tags[]", "b")]);
        let json = fields(&[("tags", r#"["a", "b"]"#)]);
        let csv = fields(&[("tags", "a, b")]);
        let pipes = fields(&[("alt", "one, with comma||two")]);
        assert_eq!(repeated.list("tags", &[","]), ["a", "b"]);
        assert_eq!(json.list("tags", &[","]), ["a", "b"]);
        assert_eq!(csv.list("tags", &[","]), ["a", "b"]);
        assert_eq!(pipes.list("alt", &["||", "|"]), ["one, with comma", "two"]);
        assert!(Fields::new().list("tags", &[","]).is_empty());
    }

    #[test]
    fn lenient_booleans_and_numbers() {
        let f = fields(&[("a", "TRUE"), ("b", "0"), ("c", "maybe"), ("n", " 42 ")]);
        assert_eq!(f.flag("a"), Ok(Some(true)));
        assert_eq!(f.flag("b"), Ok(Some(false)));
        assert!(f.flag("c").is_err());
        assert_eq!(f.flag("missing"), Ok(None));
        assert_eq!(f.number("n"), Ok(Some(42)));
        assert!(f.number("a").is_err());
    }

    #[test]
    fn platform_spelling_wins() {
        let f = fields(&[("title", "all"), ("x_title", "for x")]);
        assert_eq!(f.for_platform("x", "title"), Some("for x"));
        assert_eq!(f.for_platform("bluesky", "title"), Some("all"));
    }

    #[test]
    fn wire_names_are_pinned() {
        let kinds: Vec<&str> = PostKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, ["text", "photo", "video", "document"]);
    }
}
