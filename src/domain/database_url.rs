//! A database URL whose backend is known from its scheme, and that never prints its password.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A database URL whose backend is known: `postgres://`/`postgresql://`, `sqlite://path`,
/// `sqlite:path`, `file:path` or a plain file path.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    url: String,
}

impl fmt::Debug for DatabaseUrl {
    // The URL may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({}, {})", self.backend, self.redacted())
    }
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                url: raw.to_owned(),
            });
        }
        let has_scheme = lower.split_once("://").is_some_and(|(s, _)| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        if has_scheme && !lower.starts_with("sqlite://") {
            let scheme = raw.split("://").next().unwrap_or_default();
            return Err(format!(
                "unsupported scheme {scheme:?}: use sqlite://PATH, a file path, or postgres://..."
            ));
        }
        if raw.is_empty() {
            return Err("is empty".into());
        }
        Ok(Self {
            backend: Backend::Sqlite,
            url: raw.to_owned(),
        })
    }

    /// The URL as given, password included: only for opening connections.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with any password replaced, for logs and messages.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.url.clone(),
        }
    }

    /// The file a SQLite URL points at, if it is a file (not `:memory:`).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let path = ["sqlite://", "sqlite:", "file:"]
            .iter()
            .find_map(|p| self.url.strip_prefix(p))
            .unwrap_or(&self.url);
        let path = path.split('?').next().unwrap_or(path);
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        let b = |s| DatabaseUrl::parse(s).map(|u| u.backend());
        assert_eq!(b("postgres://u@h/db"), Ok(Backend::Postgres));
        assert_eq!(b("PostgreSQL://u@h/db"), Ok(Backend::Postgres));
        assert_eq!(b("sqlite://data/x.db"), Ok(Backend::Sqlite));
        assert_eq!(b("./x.db"), Ok(Backend::Sqlite));
        assert_eq!(b("/abs/x.db"), Ok(Backend::Sqlite));
        assert!(b("mysql://h/db").unwrap_err().contains("mysql"));
        assert!(b("").is_err());
    }

    #[test]
    fn sqlite_file_and_redaction() {
        let f = |s| DatabaseUrl::parse(s).unwrap().sqlite_file();
        assert_eq!(f("sqlite://data/x.db"), Some(PathBuf::from("data/x.db")));
        assert_eq!(
            f("sqlite:///abs/x.db?mode=rwc"),
            Some(PathBuf::from("/abs/x.db"))
        );
        assert_eq!(f("x.db"), Some(PathBuf::from("x.db")));
        assert_eq!(f(":memory:"), None);
        let pg = DatabaseUrl::parse("postgres://u:secret@h/db").unwrap();
        assert!(!pg.redacted().contains("secret"));
        assert!(!format!("{pg:?}").contains("secret"));
    }
}
