//! Server secrets that the embedded default generates for itself: created once in the data
//! directory, readable by the owner only, and required from configuration in production.

use crate::config::{Environment, Settings};
use crate::domain::database_url::Backend;
use crate::domain::link_token::LinkSigner;
use crate::domain::secrets::new_random_id;
use crate::domain::token_cipher::TokenCipher;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::Path;

const GENERATED_SECRET_CHARS: usize = 64;
pub const LINK_SIGNING_KEY_FILE: &str = "link-signing.key";

pub const TOKEN_ENCRYPTION_KEY_FILE: &str = "token-encryption.key";

/// The connect-link signer from configuration, or from the generated key file.
pub fn link_signer(settings: &Settings) -> anyhow::Result<LinkSigner> {
    let current = configured_or_generated(
        settings,
        settings.link_signing_key.as_ref(),
        LINK_SIGNING_KEY_FILE,
        "link_signing_key",
        "links will fail on the others",
    )?;
    LinkSigner::new(&current, &settings.link_signing_previous_keys)
        .map_err(|e| anyhow::anyhow!("link_signing_key: {e}"))
}

/// The cipher of OAuth tokens at rest, from configuration or the generated key file.
pub fn token_cipher(settings: &Settings) -> anyhow::Result<TokenCipher> {
    let current = configured_or_generated(
        settings,
        settings.token_encryption_key.as_ref(),
        TOKEN_ENCRYPTION_KEY_FILE,
        "token_encryption_key",
        "the others cannot read the tokens this one stores",
    )?;
    Ok(TokenCipher::new(
        &current,
        &settings.token_encryption_previous_keys,
    ))
}

/// The configured secret, else the one in the data directory (generated on first use).
fn configured_or_generated(
    settings: &Settings,
    configured: Option<&String>,
    file: &str,
    setting: &str,
    what_breaks: &str,
) -> anyhow::Result<String> {
    if let Some(key) = configured {
        return Ok(key.clone());
    }
    if settings.database.backend() == Backend::Postgres {
        tracing::warn!(
            "{setting} is not configured, so this process uses the key in its data directory; \
             every process serving this PostgreSQL database must use the same key (set \
             POSTGATE_{}) or {what_breaks}",
            setting.to_ascii_uppercase()
        );
    }
    secret_from_file(settings, file, setting)
}

/// Reads `<data_dir>/<file>`, creating it with a fresh random secret first if needed.
/// Several processes starting together agree: only one creation can win, the rest read it.
fn secret_from_file(settings: &Settings, file: &str, setting: &str) -> anyhow::Result<String> {
    if settings.env == Environment::Production {
        bail!(
            "{setting} is not set. In production every secret must come from configuration \
             (POSTGATE_{})",
            setting.to_ascii_uppercase()
        );
    }
    let path = settings.data_dir.join(file);
    if !path.exists() {
        create_secret_file(&settings.data_dir, &path)?;
    }
    let secret = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        bail!(
            "{} is empty; delete it to have a new secret generated",
            path.display()
        );
    }
    Ok(secret)
}

/// Writes a fresh secret to a private temporary file, then links it into place: the file
/// appears complete or not at all, and if another process got there first its secret stays.
fn create_secret_file(dir: &Path, path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let temp = dir.join(format!(".{}.tmp", new_random_id(12)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&temp)
        .and_then(|mut f| {
            writeln!(f, "{}", new_random_id(GENERATED_SECRET_CHARS))?;
            f.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match written {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new secret");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawSettings;
    use crate::domain::link_token::LinkClaims;

    fn settings(dir: &Path, env: Environment) -> Settings {
        Settings::from_raw(RawSettings {
            env,
            data_dir: dir.join("data"),
            ..RawSettings::default()
        })
        .unwrap()
    }

    #[test]
    fn generated_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), Environment::Development);
        let a = link_signer(&s).unwrap();
        let b = link_signer(&s).unwrap();
        let claims = LinkClaims::new("l", "p", "a", 0, i64::MAX);
        assert!(b.verify(&a.sign(&claims), 1).is_ok());
        let path = s.data_dir.join(LINK_SIGNING_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn concurrent_first_starts_agree() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), Environment::Development);
        let claims = LinkClaims::new("l", "p", "a", 0, i64::MAX);
        let tokens: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| link_signer(&s).unwrap().sign(&claims)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            tokens.windows(2).all(|w| w[0] == w[1]),
            "every thread read the same key"
        );
        let leftovers = std::fs::read_dir(&s.data_dir).unwrap().count();
        assert_eq!(leftovers, 1, "only the key file remains");
    }

    #[test]
    fn token_key_generated_once_next_to_the_link_key() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), Environment::Development);
        let sealed = token_cipher(&s).unwrap().seal("row", "tok");
        assert_eq!(
            token_cipher(&s).unwrap().open("row", &sealed).unwrap(),
            "tok"
        );
        assert!(s.data_dir.join(TOKEN_ENCRYPTION_KEY_FILE).exists());
        let prod = settings(dir.path(), Environment::Production);
        let err = token_cipher(&prod).unwrap_err();
        assert!(err.to_string().contains("POSTGATE_TOKEN_ENCRYPTION_KEY"));
    }

    #[test]
    fn production_requires_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let err = link_signer(&settings(dir.path(), Environment::Production)).unwrap_err();
        assert!(err.to_string().contains("POSTGATE_LINK_SIGNING_KEY"));
        assert!(!dir.path().join("data").exists());
    }
}
