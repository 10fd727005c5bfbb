//! What a `generate-jwt` request may set: the link's page settings, and the profile's
//! language and `ui_labels`. Each field is checked here, with Upload-Post's wording where it
//! documents one.

use super::Platform;
use super::language::Language;
use super::profile_fields::{FieldError, text_field};
use serde_json::{Map, Value};
use std::net::IpAddr;
use url::Url;

pub const MAX_URL_CHARS: usize = 2000;
pub const MAX_BUTTON_TEXT_CHARS: usize = 100;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
pub const MAX_UI_LABELS: usize = 100;
pub const MAX_UI_LABEL_KEY_CHARS: usize = 200;
pub const MAX_UI_LABEL_CHARS: usize = 300;
/// Links live 48 hours unless the caller asks for less.
pub const LINK_LIFETIME_SECONDS: i64 = 48 * 3600;
pub const MIN_LINK_LIFETIME_SECONDS: i64 = 60;

/// A stored setting the request may keep, replace or clear.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    Keep,
    Set(T),
    Clear,
}

/// The page settings carried by one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSettings {
    pub redirect_url: Option<PageUrl>,
    pub logo_image: Option<PageUrl>,
    pub redirect_button_text: Option<String>,
    pub connect_title: Option<String>,
    pub connect_description: Option<String>,
    /// `None`: every platform.
    pub platforms: Option<Vec<Platform>>,
    pub show_calendar: bool,
    pub readonly_calendar: bool,
    pub language: Option<Language>,
}

/// A parsed `generate-jwt` body, less the username.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRequest {
    pub settings: LinkSettings,
    /// The profile's stored language, changed when the request names one (`null` clears).
    pub profile_language: Change<Language>,
    pub ui_labels: Change<UiLabels>,
    pub lifetime_seconds: i64,
}

impl ConnectRequest {
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, FieldError> {
        let language = match body.get("language") {
            None => Change::Keep,
            Some(Value::Null) => Change::Clear,
            Some(v) => Change::Set(parse_language(v)?),
        };
        let settings = LinkSettings {
            redirect_url: PageUrl::from_json("redirect_url", body.get("redirect_url"))?,
            logo_image: PageUrl::from_json("logo_image", body.get("logo_image"))?,
            redirect_button_text: optional_text(
                "redirect_button_text",
                body.get("redirect_button_text"),
                MAX_BUTTON_TEXT_CHARS,
            )?,
            connect_title: optional_text(
                "connect_title",
                body.get("connect_title"),
                MAX_TITLE_CHARS,
            )?,
            connect_description: optional_text(
                "connect_description",
                body.get("connect_description"),
                MAX_DESCRIPTION_CHARS,
            )?,
            platforms: parse_platforms(body.get("platforms"))?,
            show_calendar: flag("show_calendar", body.get("show_calendar"), true)?,
            readonly_calendar: flag("readonly_calendar", body.get("readonly_calendar"), false)?,
            language: match &language {
                Change::Set(l) => Some(*l),
                Change::Keep | Change::Clear => None,
            },
        };
        Ok(Self {
            settings,
            profile_language: language,
            ui_labels: UiLabels::change_from_json(body.get("ui_labels"))?,
            lifetime_seconds: lifetime(body.get("expires_in"))?,
        })
    }
}

/// Optional text; an empty string counts as absent (clients send `""` for "not set").
fn optional_text(
    field: &'static str,
    value: Option<&Value>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    match value {
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        _ => text_field(field, value, max_chars),
    }
}

fn flag(field: &'static str, value: Option<&Value>, default: bool) -> Result<bool, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(FieldError::new(field, "must be true or false")),
    }
}

fn parse_language(value: &Value) -> Result<Language, FieldError> {
    let codes: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
    value
        .as_str()
        .and_then(Language::parse)
        .ok_or_else(|| FieldError::new("language", format!("must be one of {}", codes.join(", "))))
}

fn parse_platforms(value: Option<&Value>) -> Result<Option<Vec<Platform>>, FieldError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(FieldError::new(
                "platforms",
                "must be a list of platform names",
            ));
        }
    };
    let mut platforms = Vec::with_capacity(items.len());
    for item in items {
        let name = item
            .as_str()
            .ok_or_else(|| FieldError::new("platforms", "must be a list of platform names"))?;
        let platform = Platform::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Platform::ALL.iter().map(|p| p.key()).collect();
            FieldError::worded(
                "platforms",
                format!(
                    "Unknown platform '{name}' in platforms. Supported: {}",
                    known.join(", ")
                ),
            )
        })?;
        if !platforms.contains(&platform) {
            platforms.push(platform);
        }
    }
    // An empty list means "not given" for every client (the SDKs drop it), so: all platforms.
    Ok((!platforms.is_empty()).then_some(platforms))
}

fn lifetime(value: Option<&Value>) -> Result<i64, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(LINK_LIFETIME_SECONDS),
        Some(v) => v
            .as_i64()
            .filter(|s| (MIN_LINK_LIFETIME_SECONDS..=LINK_LIFETIME_SECONDS).contains(s))
            .ok_or_else(|| {
                FieldError::new(
                    "expires_in",
                    format!(
                        "must be a whole number of seconds from {MIN_LINK_LIFETIME_SECONDS} to \
                         {LINK_LIFETIME_SECONDS}"
                    ),
                )
            }),
    }
}

/// `48h`, `90m` or `45s`: the `duration` Upload-Post reports, for any lifetime.
pub fn duration_text(seconds: i64) -> String {
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// A URL the page may link to or load: absolute `https`, or `http` to a loopback host (for
/// development), without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageUrl(Url);

impl PageUrl {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let bad = |why: &str| FieldError::new(field, why);
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(bad(&format!("must be at most {MAX_URL_CHARS} characters")));
        }
        let url = Url::parse(raw.trim()).map_err(|_| bad("must be an absolute https:// URL"))?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if loopback => {}
            _ => {
                return Err(bad(
                    "must be an absolute https:// URL (http:// only for localhost)",
                ));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not contain a user name or password"));
        }
        Ok(Self(url))
    }

    fn from_json(field: &'static str, value: Option<&Value>) -> Result<Option<Self>, FieldError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Self::parse(field, s).map(Some),
            Some(_) => Err(FieldError::new(field, "must be a string")),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

/// Most origins one account may allow.
pub const MAX_REDIRECT_ORIGINS: usize = 50;

/// Origins (`scheme://host[:port]`) a connect-link holder may send the browser back to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RedirectOrigins(Vec<String>);

impl RedirectOrigins {
    /// An origin as `PageUrl` accepts a URL (https, or http on loopback), with nothing after
    /// the host and port but an optional `/`.
    pub fn origin(field: &'static str, raw: &str) -> Result<String, FieldError> {
        let url = PageUrl::parse(field, raw)?;
        let u = url.url();
        if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
            return Err(FieldError::worded(
                field,
                format!("{field}: {raw:?} is not an origin like https://app.example.com"),
            ));
        }
        Ok(url.origin())
    }

    /// A list of origins, each as `origin` reads it; duplicates are kept once.
    pub fn parse<'a>(
        field: &'static str,
        raw: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, FieldError> {
        let mut origins = Vec::new();
        for r in raw {
            let origin = Self::origin(field, r)?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        if origins.len() > MAX_REDIRECT_ORIGINS {
            return Err(FieldError::worded(
                field,
                format!("{field} takes at most {MAX_REDIRECT_ORIGINS} origins"),
            ));
        }
        Ok(Self(origins))
    }

    /// A JSON array of origins; `null` or `[]` for none. `None` when the field is absent.
    pub fn from_json(
        field: &'static str,
        value: Option<&Value>,
    ) -> Result<Option<Self>, FieldError> {
        match value {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Self::default())),
            Some(Value::Array(items)) => {
                let texts = items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .ok_or_else(|| FieldError::new(field, "must be a list of origins"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Self::parse(field, texts).map(Some)
            }
            Some(_) => Err(FieldError::new(field, "must be a list of origins")),
        }
    }

    /// As stored: a JSON array, `None` when empty. What cannot be read allows nothing.
    pub fn from_stored(stored: Option<&str>) -> Self {
        let list: Vec<String> = stored
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        Self::parse("allowed_redirect_origins", list.iter().map(String::as_str)).unwrap_or_default()
    }

    pub fn to_stored(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| Value::from(self.0.clone()).to_string())
    }

    pub fn to_json(&self) -> Value {
        Value::from(self.0.clone())
    }

    pub fn contains(&self, url: &PageUrl) -> bool {
        self.0.contains(&url.origin())
    }
}

/// Connect-page text overrides: a flat map from i18n keys to replacement text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UiLabels(Map<String, Value>);

impl UiLabels {
    /// Omitted keeps the stored labels; `null` or `{}` clears them; an object replaces them.
    pub fn change_from_json(value: Option<&Value>) -> Result<Change<Self>, FieldError> {
        let map = match value {
            None => return Ok(Change::Keep),
            Some(Value::Null) => return Ok(Change::Clear),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(FieldError::new(
                    "ui_labels",
                    "must be an object mapping label keys to strings",
                ));
            }
        };
        if map.is_empty() {
            return Ok(Change::Clear);
        }
        if map.len() > MAX_UI_LABELS {
            return Err(FieldError::new(
                "ui_labels",
                format!("may contain at most {MAX_UI_LABELS} entries"),
            ));
        }
        for (key, text) in map {
            let key_ok = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !key_ok {
                return Err(FieldError::worded(
                    "ui_labels",
                    format!(
                        "Invalid ui_labels key '{key}'. Keys may only contain letters, numbers, \
                         dots and underscores"
                    ),
                ));
            }
            if key.len() > MAX_UI_LABEL_KEY_CHARS {
                return Err(FieldError::worded(
                    "ui_labels",
                    format!(
                        "Invalid ui_labels key '{key}'. Keys may be at most \
                         {MAX_UI_LABEL_KEY_CHARS} characters"
                    ),
                ));
            }
            let Some(text) = text.as_str() else {
                return Err(FieldError::worded(
                    "ui_labels",
                    format!("ui_labels['{key}'] must be a string"),
                ));
            };
            if text.chars().count() > MAX_UI_LABEL_CHARS {
                return Err(FieldError::worded(
                    "ui_labels",
                    format!("ui_labels['{key}'] must be at most {MAX_UI_LABEL_CHARS} characters"),
                ));
            }
        }
        Ok(Change::Set(Self(map.clone())))
    }

    /// Labels as stored; anything unreadable reads as no labels.
    pub fn from_stored(text: Option<&str>) -> Self {
        text.and_then(|t| serde_json::from_str::<Map<String, Value>>(t).ok())
            .map(Self)
            .unwrap_or_default()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    pub fn to_json_text(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ConnectRequest, FieldError> {
        ConnectRequest::from_json(v.as_object().unwrap())
    }

    #[test]
    fn defaults() {
        let r = parse(json!({})).unwrap();
        assert_eq!(r.settings.platforms, None);
        assert!(r.settings.show_calendar);
        assert!(!r.settings.readonly_calendar);
        assert_eq!(r.profile_language, Change::Keep);
        assert_eq!(r.ui_labels, Change::Keep);
        assert_eq!(r.lifetime_seconds, LINK_LIFETIME_SECONDS);
    }

    #[test]
    fn urls() {
        assert!(PageUrl::parse("f", "https://example.com/x?y=1").is_ok());
        assert!(PageUrl::parse("f", "http://127.0.0.1:3000/done").is_ok());
        assert!(PageUrl::parse("f", "http://localhost/done").is_ok());
        assert!(PageUrl::parse("f", "http://[::1]/done").is_ok());
        for bad in [
            "http://example.com",
            "javascript:alert(1)",
            "data:text/html,hi",
            "//example.com",
            "/relative",
            "https://user:pw@example.com",
            "ftp://example.com",
        ] {
            assert!(PageUrl::parse("f", bad).is_err(), "{bad}");
        }
        let long = format!("https://e.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(PageUrl::parse("f", &long).is_err());
    }

    #[test]
    fn redirect_origins() {
        let origins = RedirectOrigins::parse(
            "o",
            [
                "https://App.example.com/",
                "https://app.example.com",
                "http://localhost:3000",
            ],
        )
        .unwrap();
        assert_eq!(
            origins.to_json(),
            json!(["https://app.example.com", "http://localhost:3000"])
        );
        let url = |u: &str| PageUrl::parse("u", u).unwrap();
        assert!(origins.contains(&url("https://app.example.com/done?x=1")));
        assert!(!origins.contains(&url("https://app.example.com:8443/done")));
        assert!(!origins.contains(&url("https://evil.example/app.example.com")));
        for bad in [
            "https://a.example/path",
            "https://a.example/?q",
            "http://a.example",
            "a.example",
        ] {
            assert!(RedirectOrigins::origin("o", bad).is_err(), "{bad}");
        }
        let stored = origins.to_stored();
        assert_eq!(RedirectOrigins::from_stored(stored.as_deref()), origins);
        assert_eq!(RedirectOrigins::default().to_stored(), None);
        assert_eq!(
            RedirectOrigins::from_json("o", Some(&Value::Null)).unwrap(),
            Some(RedirectOrigins::default())
        );
        assert!(RedirectOrigins::from_json("o", Some(&json!("https://a.example"))).is_err());
        assert!(RedirectOrigins::from_json("o", Some(&json!([1]))).is_err());
    }

    #[test]
    fn platforms_and_flags() {
        let r = parse(json!({"platforms": ["tiktok", "Twitter", "google-business", "tiktok"]}))
            .unwrap();
        assert_eq!(
            r.settings.platforms,
            Some(vec![
                Platform::Tiktok,
                Platform::X,
                Platform::GoogleBusiness
            ])
        );
        assert_eq!(
            parse(json!({"platforms": []})).unwrap().settings.platforms,
            None
        );
        assert!(parse(json!({"platforms": ["myspace"]})).is_err());
        assert!(parse(json!({"platforms": "tiktok"})).is_err());
        assert!(parse(json!({"show_calendar": "yes"})).is_err());
        assert!(parse(json!({"readonly_calendar": 1})).is_err());
    }

    #[test]
    fn languages() {
        let r = parse(json!({"language": "tr"})).unwrap();
        assert_eq!(r.settings.language, Some(Language::Tr));
        assert_eq!(r.profile_language, Change::Set(Language::Tr));
        assert_eq!(
            parse(json!({"language": null})).unwrap().profile_language,
            Change::Clear
        );
        assert!(parse(json!({"language": "it"})).is_err());
        assert!(parse(json!({"language": 7})).is_err());
    }

    #[test]
    fn labels() {
        let msg = |v: Value| parse(json!({ "ui_labels": v })).unwrap_err().to_string();
        assert_eq!(
            msg(json!({"bad key!": "x"})),
            "Invalid ui_labels key 'bad key!'. Keys may only contain letters, numbers, dots and underscores"
        );
        assert_eq!(
            msg(json!({"connect.x": 3})),
            "ui_labels['connect.x'] must be a string"
        );
        let many: Map<String, Value> = (0..=MAX_UI_LABELS)
            .map(|i| (format!("k{i}"), json!("v")))
            .collect();
        assert!(msg(Value::Object(many)).contains("at most 100"));
        assert!(msg(json!({"k": "x".repeat(301)})).contains("at most 300"));
        assert!(parse(json!({"ui_labels": {"k": "x".repeat(300)}})).is_ok());
        assert_eq!(
            parse(json!({"ui_labels": {}})).unwrap().ui_labels,
            Change::Clear
        );
        assert_eq!(
            parse(json!({"ui_labels": null})).unwrap().ui_labels,
            Change::Clear
        );
        assert!(parse(json!({"ui_labels": ["a"]})).is_err());
        assert_eq!(UiLabels::from_stored(Some("not json")), UiLabels::default());
    }

    #[test]
    fn lifetimes() {
        assert_eq!(
            parse(json!({"expires_in": 3600})).unwrap().lifetime_seconds,
            3600
        );
        assert!(parse(json!({"expires_in": 59})).is_err());
        assert!(parse(json!({"expires_in": LINK_LIFETIME_SECONDS + 1})).is_err());
        assert!(parse(json!({"expires_in": "3600"})).is_err());
        assert_eq!(duration_text(172_800), "48h");
        assert_eq!(duration_text(5400), "90m");
        assert_eq!(duration_text(61), "61s");
    }
}
