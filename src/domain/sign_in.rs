//! How an OAuth sign-in ended, as stored on its pending state and reported to the connect
//! page and to the API caller's `return_url`.

use super::wire::wire_names;

wire_names! {
    /// The `connect_status` a sign-in reports (and the `outcome_status` column).
    pub enum SignInStatus {
        Success = "success",
        Cancelled = "cancelled",
        Error = "error",
    }
}

wire_names! {
    /// Why a sign-in failed, in Upload-Post's `error_code` words (and the `outcome_code`
    /// column).
    pub enum SignInCode {
        AccessDenied = "ACCESS_DENIED",
        InvalidState = "INVALID_STATE",
        AccountAlreadyLinked = "ACCOUNT_ALREADY_LINKED",
        MissingScopes = "MISSING_SCOPES",
        ProviderError = "PROVIDER_ERROR",
        ConnectionFailed = "CONNECTION_FAILED",
    }
}

/// How a sign-in ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInOutcome {
    Connected,
    Failed {
        code: SignInCode,
        /// The platform's own words (or ours), at most 200 characters.
        detail: Option<String>,
    },
}

impl SignInOutcome {
    /// A failure, its detail shortened to what the page and the column hold.
    pub fn failed(code: SignInCode, detail: Option<String>) -> Self {
        Self::Failed {
            code,
            detail: detail.map(|d| d.chars().take(200).collect()),
        }
    }

    /// Declining at the platform is a cancellation, not an error.
    pub fn status(&self) -> SignInStatus {
        match self {
            Self::Connected => SignInStatus::Success,
            Self::Failed {
                code: SignInCode::AccessDenied,
                ..
            } => SignInStatus::Cancelled,
            Self::Failed { .. } => SignInStatus::Error,
        }
    }

    pub fn code(&self) -> Option<SignInCode> {
        match self {
            Self::Connected => None,
            Self::Failed { code, .. } => Some(*code),
        }
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Connected => None,
            Self::Failed { detail, .. } => detail.as_deref(),
        }
    }

    /// The outcome stored in these columns; `None` while the sign-in is unfinished. A code
    /// this version does not know reads as a failed connection.
    pub fn from_stored(
        status: Option<&str>,
        code: Option<&str>,
        detail: Option<&str>,
    ) -> Option<Self> {
        let status = status?;
        if SignInStatus::parse(status) == Some(SignInStatus::Success) {
            return Some(Self::Connected);
        }
        let fallback = if SignInStatus::parse(status) == Some(SignInStatus::Cancelled) {
            SignInCode::AccessDenied
        } else {
            SignInCode::ConnectionFailed
        };
        Some(Self::Failed {
            code: code.and_then(SignInCode::parse).unwrap_or(fallback),
            detail: detail.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::assert_round_trips;
    use super::*;

    #[test]
    fn wire_names_are_pinned() {
        let statuses: Vec<&str> = SignInStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(statuses, ["success", "cancelled", "error"]);
        let codes: Vec<&str> = SignInCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "ACCESS_DENIED",
                "INVALID_STATE",
                "ACCOUNT_ALREADY_LINKED",
                "MISSING_SCOPES",
                "PROVIDER_ERROR",
                "CONNECTION_FAILED"
            ]
        );
        assert_round_trips(SignInStatus::ALL, SignInStatus::as_str, SignInStatus::parse);
        assert_round_trips(SignInCode::ALL, SignInCode::as_str, SignInCode::parse);
    }

    #[test]
    fn status_follows_the_code() {
        assert_eq!(SignInOutcome::Connected.status(), SignInStatus::Success);
        let denied = SignInOutcome::failed(SignInCode::AccessDenied, None);
        assert_eq!(denied.status(), SignInStatus::Cancelled);
        let linked = SignInOutcome::failed(SignInCode::AccountAlreadyLinked, Some("x".repeat(300)));
        assert_eq!(linked.status(), SignInStatus::Error);
        assert_eq!(linked.detail().map(str::len), Some(200));
    }

    #[test]
    fn stored_outcomes_read_back() {
        for outcome in [
            SignInOutcome::Connected,
            SignInOutcome::failed(SignInCode::AccessDenied, Some("no".into())),
            SignInOutcome::failed(SignInCode::MissingScopes, Some("video.upload".into())),
            SignInOutcome::failed(SignInCode::InvalidState, None),
        ] {
            let read = SignInOutcome::from_stored(
                Some(outcome.status().as_str()),
                outcome.code().map(SignInCode::as_str),
                outcome.detail(),
            );
            assert_eq!(read, Some(outcome));
        }
        assert_eq!(SignInOutcome::from_stored(None, None, None), None);
        assert_eq!(
            SignInOutcome::from_stored(Some("error"), Some("SOMETHING_NEW"), None),
            Some(SignInOutcome::failed(SignInCode::ConnectionFailed, None))
        );
    }
}
