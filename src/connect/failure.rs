//! What a page shows when it cannot do what was asked: a localized HTML page with the right
//! status, an error code for support, and nothing internal.

use super::i18n::Texts;
use super::templates::ErrorPage;
use crate::assets::AssetUrls;
use crate::domain::Platform;
use crate::domain::sign_in::{SignInCode, SignInOutcome};
use crate::error::ApiError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use std::sync::Arc;

#[derive(Debug)]
pub enum Failure {
    /// Missing, forged, expired or revoked link token.
    InvalidLink,
    NotFound,
    Readonly,
    /// The form's CSRF token does not belong to the link.
    FormExpired,
    /// A form or query the page never produces.
    BadRequest,
    /// The link is restricted to other platforms.
    PlatformNotOffered,
    PlatformNotConfigured,
    PostGone,
    SigninExpired,
    /// The platform sent the browser back without a connection, and there is no page to
    /// return to.
    SigninFailed(Platform, SignInOutcome),
    /// Over a rate limit of the link or the address, or blocked after failed sign-ins.
    Throttled {
        code: &'static str,
        retry_after: u64,
    },
    Internal(ApiError),
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Failure::InvalidLink => StatusCode::UNAUTHORIZED,
            Failure::NotFound | Failure::PostGone | Failure::SigninExpired => StatusCode::NOT_FOUND,
            Failure::Readonly | Failure::FormExpired | Failure::PlatformNotOffered => {
                StatusCode::FORBIDDEN
            }
            Failure::BadRequest => StatusCode::BAD_REQUEST,
            Failure::PlatformNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            Failure::SigninFailed(..) => StatusCode::BAD_REQUEST,
            Failure::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Failure::Internal(e) => e.status_code(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Failure::InvalidLink => "INVALID_TOKEN",
            Failure::NotFound => "NOT_FOUND",
            Failure::Readonly => "READONLY_CALENDAR",
            Failure::FormExpired => "CSRF_FAILED",
            Failure::BadRequest => "BAD_REQUEST",
            Failure::PlatformNotOffered => "PLATFORM_NOT_OFFERED",
            Failure::PlatformNotConfigured => "PLATFORM_NOT_CONFIGURED",
            Failure::PostGone => "POST_NOT_FOUND",
            Failure::SigninExpired => "OAUTH_STATE_NOT_FOUND",
            Failure::SigninFailed(_, outcome) => outcome
                .code()
                .unwrap_or(SignInCode::ConnectionFailed)
                .as_str(),
            Failure::Throttled { code, .. } => code,
            Failure::Internal(e) => e.code(),
        }
    }

    /// The heading, message and hint, in `t`'s language.
    fn texts(&self, t: &Texts) -> (String, String, Option<String>) {
        if let Failure::SigninFailed(platform, outcome) = self {
            let (message, hint) = signin_notice(t, *platform, outcome);
            return (t.get("error.signinFailedTitle").to_owned(), message, hint);
        }
        let (heading, message, hint) = self.keys();
        (
            t.get(heading).to_owned(),
            t.get(message).to_owned(),
            hint.map(|k| t.get(k).to_owned()),
        )
    }

    /// (heading, message, hint) keys.
    fn keys(&self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Failure::InvalidLink => (
                "error.linkTitle",
                "error.linkInvalid",
                Some("error.askNewLink"),
            ),
            Failure::NotFound => ("error.notFoundTitle", "error.notFound", None),
            Failure::Readonly => ("error.readonlyTitle", "error.readonly", None),
            Failure::FormExpired | Failure::BadRequest => {
                ("error.formExpiredTitle", "error.formExpired", None)
            }
            Failure::PlatformNotOffered | Failure::PlatformNotConfigured => (
                "error.unavailableTitle",
                "error.platformNotConfigured",
                None,
            ),
            Failure::PostGone => ("error.genericTitle", "error.postNotFound", None),
            Failure::SigninExpired => ("error.linkTitle", "error.signinExpired", None),
            Failure::SigninFailed(..) => ("error.signinFailedTitle", "error.signinFailed", None),
            Failure::Throttled { .. } => ("error.throttledTitle", "error.throttled", None),
            Failure::Internal(_) => ("error.genericTitle", "error.generic", None),
        }
    }
}

/// How a sign-in ended, in words: the message, and the platform's own words if it gave any.
pub fn signin_notice(
    t: &Texts,
    platform: Platform,
    outcome: &SignInOutcome,
) -> (String, Option<String>) {
    let name = [("platform", platform.display_name())];
    let SignInOutcome::Failed { code, detail } = outcome else {
        return (t.fill("notice.connected", &name), None);
    };
    let with_detail = [
        ("platform", platform.display_name()),
        ("detail", detail.as_deref().unwrap_or_default()),
    ];
    let message = match code {
        SignInCode::AccessDenied => t.fill("notice.cancelled", &name),
        SignInCode::AccountAlreadyLinked => t.fill("notice.alreadyLinked", &name),
        SignInCode::MissingScopes => return (t.fill("notice.missingScopes", &with_detail), None),
        SignInCode::InvalidState => t.fill("notice.expired", &name),
        SignInCode::ProviderError | SignInCode::ConnectionFailed => t.fill("notice.failed", &name),
    };
    let platform_said = (*code != SignInCode::InvalidState && detail.is_some())
        .then(|| t.fill("notice.platformSaid", &with_detail));
    (message, platform_said)
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::RateLimited { retry_after, .. } | ApiError::AuthBlocked { retry_after } => {
                Failure::Throttled {
                    code: e.code(),
                    retry_after,
                }
            }
            // A link's scope (`links::scope`): the page's own words for it.
            ApiError::ReadonlyCalendar => Failure::Readonly,
            ApiError::PlatformNotOffered(_) => Failure::PlatformNotOffered,
            e => Failure::Internal(e),
        }
    }
}

/// A failure with the texts to tell it in, and where "Back" leads. Boxed: handlers return it
/// in every `Result`.
#[derive(Debug)]
pub struct PageError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    failure: Failure,
    texts: Texts,
    assets: Arc<AssetUrls>,
    back_href: Option<String>,
}

impl PageError {
    pub fn new(failure: Failure, texts: Texts, assets: Arc<AssetUrls>) -> Self {
        Self(Box::new(Inner {
            failure,
            texts,
            assets,
            back_href: None,
        }))
    }

    /// Adds a "Back" button leading to `href`.
    pub fn with_back(mut self, href: String) -> Self {
        self.0.back_href = Some(href);
        self
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.failure.code())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.failure.status()
    }

    fn error_response(&self) -> HttpResponse {
        let Inner {
            failure,
            texts: t,
            assets,
            back_href,
        } = &*self.0;
        if let Failure::Internal(e) = failure {
            e.log_if_ours();
        }
        let (heading, message, hint) = failure.texts(t);
        let page = ErrorPage {
            heading,
            message,
            hint,
            code: failure.code(),
            back_href: back_href.clone(),
            t: t.clone(),
            assets: assets.clone(),
        };
        match crate::web::html(self.status_code(), &page) {
            Ok(mut resp) => {
                if let Failure::Throttled { retry_after, .. } = failure {
                    resp.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
                }
                resp
            }
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body("Internal server error")
            }
        }
    }
}
