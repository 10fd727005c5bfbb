//! Connecting and disconnecting: start (a single-use state with PKCE), finish (the platform's
//! redirect back: consume the state, exchange the code, read the identity, store), the
//! app-password sign-in, and disconnect (revoke at the platform, then wipe).

use super::provider::App;
use super::{Identity, OAuth, ProviderError, TokenSet, vault};
use crate::db::connections::{self, ConnectOutcome, Connection, SignedIn};
use crate::db::oauth_states::{self, OAuthState};
use crate::db::oauth_tokens;
use crate::domain::secrets::new_random_id;
use crate::domain::sign_in::{SignInCode, SignInOutcome};
use crate::domain::token_cipher::{CipherError, TokenCipher};
use crate::domain::webhooks::DisconnectReason;
use crate::domain::{Platform, time};
use crate::error::ApiError;
use chrono::Duration;
use oauth2::PkceCodeChallenge;
use sha2::{Digest, Sha256};
use url::Url;

/// How long a started sign-in may take.
pub const STATE_TTL_SECONDS: i64 = 15 * 60;
/// 32 characters of 62: about 190 bits.
const STATE_CHARS: usize = 32;

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

fn binding(state_id: &str, field: &str) -> String {
    format!("oauth_state:{state_id}:{field}")
}

/// Who is connecting, and where the browser goes afterwards.
pub struct StartRequest {
    pub account_id: String,
    pub profile_id: String,
    /// The connect link the sign-in is started with: revoking it stops the sign-in.
    pub link_id: Option<String>,
    pub return_to: Return,
    pub switch_account: bool,
}

/// Where the browser goes after the platform sent it back.
pub enum Return {
    /// The connect page at this URL, which reports the outcome from its own records.
    Page(String),
    /// The Connect API caller's `redirect_url`, with Upload-Post's `connect_status`
    /// parameters; without one, a page says how it went.
    Caller(Option<String>),
}

pub struct Started {
    /// The pending state's id (the bounce page's `id`).
    pub id: String,
    pub state: String,
    pub authorize_url: Url,
    pub expires_in: i64,
}

pub async fn start(oauth: &OAuth, app: &App, request: StartRequest) -> Result<Started, ApiError> {
    let id = new_random_id(22);
    let oauth_state = new_random_id(STATE_CHARS);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let authorize_url = app
        .authorize_url(&oauth_state, challenge, request.switch_account)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{}: {e}", app.platform().key())))?;
    let now = time::now();
    let (return_url, returns_to_page) = match request.return_to {
        Return::Page(url) => (Some(url), true),
        Return::Caller(url) => (url, false),
    };
    let row = OAuthState {
        state_hash: state_hash(&oauth_state),
        account_id: request.account_id,
        profile_id: request.profile_id,
        link_id: request.link_id,
        platform: app.platform().key().to_owned(),
        pkce_verifier: oauth.cipher.seal(&binding(&id, "pkce"), verifier.secret()),
        return_url: return_url.map(|u| oauth.cipher.seal(&binding(&id, "return"), &u)),
        returns_to_page,
        authorize_url: seal_authorize_url(&oauth.cipher, &id, authorize_url.as_str()),
        created_at: now,
        expires_at: now + Duration::seconds(STATE_TTL_SECONDS),
        used_at: None,
        outcome_status: None,
        outcome_code: None,
        outcome_detail: None,
        id: id.clone(),
    };
    let keep = oauth.settings.max_pending_states;
    oauth
        .db
        .run(move |conn| {
            oauth_states::make_room(conn, &row.profile_id, keep, now)?;
            oauth_states::insert(conn, &row).map_err(ApiError::from)
        })
        .await?;
    Ok(Started {
        id,
        state: oauth_state,
        authorize_url,
        expires_in: STATE_TTL_SECONDS,
    })
}

/// A pending sign-in's authorize URL as stored: it carries the state, so it is sealed like
/// the verifier.
pub fn seal_authorize_url(cipher: &TokenCipher, state_id: &str, url: &str) -> String {
    cipher.seal(&binding(state_id, "authorize"), url)
}

/// Where the mobile bounce page sends the browser for a pending sign-in.
pub fn open_authorize_url(
    cipher: &TokenCipher,
    pending: &OAuthState,
) -> Result<String, CipherError> {
    cipher.open(&binding(&pending.id, "authorize"), &pending.authorize_url)
}

/// Why a connection did not happen, in Upload-Post's `error_code` words where it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    Denied(Option<String>),
    InvalidState(&'static str),
    AlreadyLinked,
    MissingScopes(Vec<String>),
    Provider(ProviderError),
    /// The profile was deleted, or its link revoked, meanwhile.
    Gone,
}

impl ConnectError {
    pub fn code(&self) -> SignInCode {
        match self {
            ConnectError::Denied(_) => SignInCode::AccessDenied,
            ConnectError::InvalidState(_) => SignInCode::InvalidState,
            ConnectError::AlreadyLinked => SignInCode::AccountAlreadyLinked,
            ConnectError::MissingScopes(_) => SignInCode::MissingScopes,
            ConnectError::Provider(ProviderError::Rejected { .. }) => SignInCode::ProviderError,
            ConnectError::Provider(_) | ConnectError::Gone => SignInCode::ConnectionFailed,
        }
    }

    pub fn outcome(&self) -> SignInOutcome {
        let detail = match self {
            ConnectError::Denied(d) => d.clone(),
            ConnectError::MissingScopes(s) => Some(s.join(" ")),
            ConnectError::Provider(e) => e.platform_words(),
            ConnectError::InvalidState(why) => Some((*why).to_owned()),
            ConnectError::AlreadyLinked | ConnectError::Gone => None,
        };
        SignInOutcome::failed(self.code(), detail)
    }
}

/// What the platform sent back to the callback.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_reason: Option<String>,
}

/// Where the browser goes after the callback, and how it went.
pub struct Finished {
    pub state: Option<OAuthState>,
    pub return_url: Option<String>,
    pub outcome: SignInOutcome,
}

impl Finished {
    /// A callback no pending sign-in answers to.
    fn unknown(why: &'static str) -> Self {
        Self {
            state: None,
            return_url: None,
            outcome: ConnectError::InvalidState(why).outcome(),
        }
    }
}

pub async fn finish(
    oauth: &OAuth,
    platform: Platform,
    query: CallbackQuery,
) -> Result<Finished, ApiError> {
    let Some(raw_state) = query
        .state
        .clone()
        .filter(|s| !s.is_empty() && s.len() <= 256)
    else {
        return Ok(Finished::unknown("the platform sent no state"));
    };
    let now = time::now();
    let hash = state_hash(&raw_state);
    let (pending, link_live) = oauth
        .db
        .run(move |conn| {
            let s = oauth_states::consume(conn, &hash, now)?;
            let live = match &s {
                Some(s) => oauth_states::link_is_live(conn, s.link_id.as_deref(), now)?,
                None => false,
            };
            Ok::<_, ApiError>((s, live))
        })
        .await?;
    let Some(pending) = pending else {
        return Ok(Finished::unknown(
            "this sign-in was already used or never started",
        ));
    };
    let return_url = pending
        .return_url
        .as_deref()
        .and_then(|u| oauth.cipher.open(&binding(&pending.id, "return"), u).ok());
    let outcome = match complete(oauth, platform, &pending, link_live, query_parts(query)).await {
        Ok(_) => SignInOutcome::Connected,
        Err(e) => e.outcome(),
    };
    let (id, recorded) = (pending.id.clone(), outcome.clone());
    oauth
        .db
        .run(move |conn| oauth_states::record_outcome(conn, &id, &recorded).map_err(ApiError::from))
        .await?;
    Ok(Finished {
        state: Some(pending),
        return_url,
        outcome,
    })
}

struct Returned {
    code: Option<String>,
    error: Option<String>,
    description: Option<String>,
}

fn query_parts(q: CallbackQuery) -> Returned {
    Returned {
        code: q.code.filter(|c| !c.is_empty()),
        error: q.error.filter(|e| !e.is_empty()),
        description: q.error_description.or(q.error_reason),
    }
}

async fn complete(
    oauth: &OAuth,
    platform: Platform,
    pending: &OAuthState,
    link_live: bool,
    returned: Returned,
) -> Result<Connection, ConnectError> {
    if pending.platform != platform.key() {
        return Err(ConnectError::InvalidState(
            "the state belongs to another platform",
        ));
    }
    if pending.expires_at <= time::now() {
        return Err(ConnectError::InvalidState("the sign-in took too long"));
    }
    if !link_live {
        return Err(ConnectError::Gone);
    }
    let app =
        oauth
            .platforms
            .get(platform)
            .ok_or(ConnectError::Provider(ProviderError::malformed(
                "the platform is no longer configured",
            )))?;
    if let Some(error) = returned.error {
        // Shortened where it is shown (`ConnectError::outcome`).
        let description = returned.description;
        return Err(
            if matches!(
                error.as_str(),
                "access_denied" | "user_cancelled_login" | "user_cancelled_authorize"
            ) {
                ConnectError::Denied(description)
            } else {
                ConnectError::Provider(ProviderError::Rejected {
                    code: error,
                    description,
                })
            },
        );
    }
    let code = returned.code.ok_or(ConnectError::InvalidState(
        "the platform sent neither a code nor an error",
    ))?;
    let verifier = oauth
        .cipher
        .open(&binding(&pending.id, "pkce"), &pending.pkce_verifier)
        .map_err(|_| ConnectError::InvalidState("the sign-in's verifier cannot be read"))?;
    let tokens = app
        .provider
        .exchange(app, &code, &verifier)
        .await
        .map_err(ConnectError::Provider)?;
    if let Some(granted) = &tokens.scopes {
        let missing: Vec<String> = app
            .provider
            .required_scopes()
            .iter()
            .filter(|s| !granted.iter().any(|g| g == *s))
            .map(|s| (*s).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(ConnectError::MissingScopes(missing));
        }
    }
    let identity = app
        .provider
        .identity(app, &tokens)
        .await
        .map_err(ConnectError::Provider)?;
    let signer = Signer {
        account_id: &pending.account_id,
        profile_id: &pending.profile_id,
        link_id: pending.link_id.as_deref(),
    };
    store(oauth, app, signer, tokens, identity).await
}

/// Whose sign-in it is: the profile, and the connect link it came through (which must still
/// be live when the connection is stored).
pub struct Signer<'a> {
    pub account_id: &'a str,
    pub profile_id: &'a str,
    pub link_id: Option<&'a str>,
}

/// Signs in with a handle and an app password (Bluesky) and stores the connection.
pub async fn password_sign_in(
    oauth: &OAuth,
    app: &App,
    signer: Signer<'_>,
    identifier: &str,
    password: &str,
) -> Result<Connection, ConnectError> {
    let (tokens, identity) = app
        .provider
        .password_sign_in(app, identifier, password)
        .await
        .map_err(|e| match e {
            ProviderError::Rejected { code, description } if code == "AuthenticationRequired" => {
                ConnectError::Denied(description)
            }
            other => ConnectError::Provider(other),
        })?;
    store(oauth, app, signer, tokens, identity).await
}

async fn store(
    oauth: &OAuth,
    app: &App,
    signer: Signer<'_>,
    tokens: TokenSet,
    identity: Identity,
) -> Result<Connection, ConnectError> {
    let signed_in = SignedIn {
        account_id: signer.account_id.to_owned(),
        profile_id: signer.profile_id.to_owned(),
        link_id: signer.link_id.map(str::to_owned),
        platform: app.platform().key().to_owned(),
        platform_user_id: identity.id,
        handle: identity.handle,
        display_name: identity.display_name,
        avatar_url: identity.avatar_url,
        capabilities: identity
            .capabilities
            .map(|c| serde_json::Value::from(c).to_string()),
    };
    let now = time::now();
    let due = vault::refresh_due(&tokens, app.provider.renewal(), now);
    let cipher = oauth.cipher.clone();
    let outcome = oauth
        .db
        .run_queueing(move |conn| {
            let seal = |id: &str| vault::seal(&cipher, id, &tokens, due, now);
            connections::connect(conn, &signed_in, &seal).map_err(ApiError::from)
        })
        .await
        .map_err(|e| {
            e.log_if_ours();
            ConnectError::Provider(ProviderError::Transient(
                "cannot store the connection".into(),
            ))
        })?;
    match outcome {
        ConnectOutcome::Connected(connected) => {
            let connections::Connected {
                connection,
                replaced,
            } = *connected;
            if let Some((old, Some(stored))) = replaced {
                revoke_stored(oauth, app, &old, &stored).await;
            }
            Ok(connection)
        }
        ConnectOutcome::AlreadyLinked => Err(ConnectError::AlreadyLinked),
        ConnectOutcome::Gone => Err(ConnectError::Gone),
    }
}

/// Revokes a grant at the platform, as far as it offers that. Failures are logged, not
/// raised: the tokens are wiped here either way.
async fn revoke_stored(
    oauth: &OAuth,
    app: &App,
    connection: &Connection,
    stored: &oauth_tokens::StoredTokens,
) -> bool {
    let Ok(tokens) = vault::open(&oauth.cipher, stored) else {
        return false;
    };
    match app.provider.revoke(app, &tokens).await {
        Ok(revoked) => revoked,
        Err(e) => {
            tracing::warn!(platform = %connection.platform, connection = %connection.id, error = %e, "revocation at the platform failed; the tokens are wiped anyway");
            false
        }
    }
}

/// Revokes the grants of connections that are already gone (a deleted profile's).
pub async fn revoke_all(
    oauth: &OAuth,
    removed: Vec<(Connection, Option<oauth_tokens::StoredTokens>)>,
) {
    for (connection, stored) in removed {
        let app = Platform::parse(&connection.platform).and_then(|p| oauth.platforms.get(p));
        if let (Some(app), Some(stored)) = (app, stored) {
            revoke_stored(oauth, app, &connection, &stored).await;
        }
    }
}

/// Revokes the connection's grant at the platform (where it can), then deletes the
/// connection and its tokens and reports `social_account_disconnected` with `reason`.
/// Returns whether the platform confirmed the revocation.
pub async fn disconnect(
    oauth: &OAuth,
    connection: Connection,
    reason: DisconnectReason,
) -> Result<bool, ApiError> {
    let id = connection.id.clone();
    let stored = oauth
        .db
        .run(move |conn| oauth_tokens::get(conn, &id).map_err(ApiError::from))
        .await?;
    let revoked = match (
        Platform::parse(&connection.platform).and_then(|p| oauth.platforms.get(p)),
        stored,
    ) {
        (Some(app), Some(stored)) => revoke_stored(oauth, app, &connection, &stored).await,
        _ => false,
    };
    oauth
        .db
        .run_queueing(move |conn| {
            connections::disconnect(conn, &connection, reason).map_err(ApiError::from)
        })
        .await?;
    Ok(revoked)
}

/// The connection's tokens, decrypted, for calls to the platform.
pub async fn tokens_of(oauth: &OAuth, connection_id: &str) -> Result<Option<TokenSet>, ApiError> {
    let id = connection_id.to_owned();
    let stored = oauth
        .db
        .run(move |conn| oauth_tokens::get(conn, &id).map_err(ApiError::from))
        .await?;
    stored
        .map(|s| vault::open(&oauth.cipher, &s))
        .transpose()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("tokens of {connection_id}: {e}")))
}
