//! The connect page's strings: English here, the other six languages in `translations`.
//! Every key can be overridden per profile with `ui_labels`; the README lists the keys.

use super::translations;
use crate::domain::connect_settings::UiLabels;
use crate::domain::language::Language;

/// English, the reference: every key, in the order the README lists them.
pub const EN: &[(&str, &str)] = &[
    ("connect.title", "Connect Social Media Accounts"),
    (
        "connect.subtitle",
        "Connect your social media accounts to manage your posts.",
    ),
    ("connect.accountsTab", "Accounts"),
    ("connect.calendarTab", "Calendar"),
    ("connect.platformsHeading", "Your accounts"),
    ("connect.progress", "{count} of {total} connected"),
    ("connect.connectButton", "Connect"),
    ("connect.reconnectButton", "Reconnect"),
    ("connect.connected", "Connected"),
    ("connect.notConnected", "Not connected"),
    ("connect.reauthRequired", "Reconnect needed"),
    (
        "connect.reauthHelp",
        "Access has expired. Reconnect to keep posting.",
    ),
    (
        "connect.noPlatforms",
        "No platforms are available for this link.",
    ),
    (
        "connect.secureNote",
        "You sign in on each platform's own site. We never see your password.",
    ),
    ("connect.redirectButton", "Logout connection"),
    ("calendar.title", "Calendar"),
    ("calendar.previousMonth", "Previous month"),
    ("calendar.nextMonth", "Next month"),
    ("calendar.thisMonth", "Today"),
    ("calendar.postsHeading", "Posts this month"),
    ("calendar.noPosts", "No posts this month."),
    ("calendar.scheduled", "Scheduled"),
    ("calendar.published", "Published"),
    ("calendar.failed", "Failed"),
    ("calendar.untitled", "(no text)"),
    ("calendar.cancelPost", "Cancel post"),
    (
        "calendar.readonlyNotice",
        "View only: posts cannot be changed here.",
    ),
    ("calendar.timesInUtc", "Times are shown in UTC."),
    ("calendar.day.0", "Sun"),
    ("calendar.day.1", "Mon"),
    ("calendar.day.2", "Tue"),
    ("calendar.day.3", "Wed"),
    ("calendar.day.4", "Thu"),
    ("calendar.day.5", "Fri"),
    ("calendar.day.6", "Sat"),
    ("calendar.month.1", "January"),
    ("calendar.month.2", "February"),
    ("calendar.month.3", "March"),
    ("calendar.month.4", "April"),
    ("calendar.month.5", "May"),
    ("calendar.month.6", "June"),
    ("calendar.month.7", "July"),
    ("calendar.month.8", "August"),
    ("calendar.month.9", "September"),
    ("calendar.month.10", "October"),
    ("calendar.month.11", "November"),
    ("calendar.month.12", "December"),
    ("error.linkTitle", "This link can't be used"),
    (
        "error.linkInvalid",
        "This connection link is invalid, has expired or was revoked.",
    ),
    (
        "error.askNewLink",
        "Please ask the service that sent you here for a new link.",
    ),
    ("error.notFoundTitle", "Page not found"),
    ("error.notFound", "There is nothing at this address."),
    ("error.readonlyTitle", "View only"),
    ("error.readonly", "This calendar is read-only."),
    ("error.formExpiredTitle", "Please try again"),
    (
        "error.formExpired",
        "This form has expired. Go back, reload the page and try again.",
    ),
    ("error.unavailableTitle", "Not available yet"),
    (
        "error.platformNotConfigured",
        "Connecting this platform is not set up on this server yet.",
    ),
    ("error.postNotFound", "This post can no longer be changed."),
    (
        "error.signinExpired",
        "This sign-in request has expired. Go back and press Connect again.",
    ),
    ("error.throttledTitle", "Too many attempts"),
    (
        "error.throttled",
        "Please wait a few minutes, then try again.",
    ),
    ("error.genericTitle", "Something went wrong"),
    ("error.generic", "Please try again in a moment."),
    ("error.back", "Back"),
    ("error.code", "Error code"),
    ("bounce.title", "Opening the sign-in page…"),
    ("bounce.help", "If nothing happens, tap the button below."),
    ("bounce.continue", "Continue to sign in"),
    ("common.skipToContent", "Skip to content"),
    ("connect.disconnectButton", "Disconnect"),
    ("connect.switchAccount", "Use another account"),
    ("connect.sandbox", "Sandbox"),
    (
        "connect.sandboxNote",
        "Sandbox: these platforms are simulated by this server. Nothing is posted anywhere.",
    ),
    ("notice.connected", "{platform} is connected."),
    (
        "notice.cancelled",
        "You cancelled signing in to {platform}. Nothing was changed.",
    ),
    ("notice.failed", "{platform} could not be connected."),
    ("notice.platformSaid", "{platform} said: {detail}"),
    (
        "notice.alreadyLinked",
        "This {platform} account is already connected to another workspace.",
    ),
    (
        "notice.missingScopes",
        "Please allow every permission {platform} asks for. Missing: {detail}",
    ),
    (
        "notice.expired",
        "The sign-in took too long or was already used. Please try again.",
    ),
    ("notice.disconnected", "{platform} was disconnected."),
    ("signin.title", "Connect {platform}"),
    ("signin.identifier", "Handle or email"),
    ("signin.password", "App password"),
    (
        "signin.passwordHelp",
        "Create an app password in {platform}'s settings (Privacy and security, App passwords). Never enter your main password here.",
    ),
    ("signin.submit", "Connect"),
    (
        "signin.failed",
        "{platform} did not accept this handle and app password.",
    ),
    ("error.signinFailedTitle", "Could not connect"),
    ("error.signinFailed", "The account could not be connected."),
    ("done.title", "Connected"),
    (
        "done.message",
        "{platform} is connected. You can close this window.",
    ),
    ("connect.pickPage", "Page to post to"),
    ("connect.pickLocation", "Location to post to"),
    ("connect.saveChoice", "Save"),
    ("notice.pinned", "Your choice for {platform} is saved."),
];

fn table(language: Language) -> &'static [(&'static str, &'static str)] {
    match language {
        Language::En => EN,
        Language::Es => translations::ES,
        Language::De => translations::DE,
        Language::Fr => translations::FR,
        Language::Pt => translations::PT,
        Language::Pl => translations::PL,
        Language::Tr => translations::TR,
    }
}

fn lookup(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The strings of one page view: the profile's overrides, then the language, then English.
#[derive(Debug, Clone)]
pub struct Texts {
    pub language: Language,
    labels: UiLabels,
}

impl Texts {
    pub fn new(language: Language, labels: UiLabels) -> Self {
        Self { language, labels }
    }

    /// The text for `key`; the key itself if no table has it (a bug the tests catch).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.labels
            .get(key)
            .or_else(|| lookup(table(self.language), key))
            .or_else(|| lookup(EN, key))
            .unwrap_or(key)
    }

    /// `get` with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        values
            .iter()
            .fold(self.get(key).to_owned(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_language_has_exactly_the_english_keys() {
        for language in Language::ALL {
            let t = table(language);
            for (key, _) in EN {
                let text = lookup(t, key);
                assert!(
                    text.is_some_and(|s| !s.trim().is_empty()),
                    "{language:?} lacks {key}"
                );
            }
            for (key, text) in t {
                assert!(
                    lookup(EN, key).is_some(),
                    "{language:?} has unknown key {key}"
                );
                let placeholders = |s: &str| s.matches('{').count();
                assert_eq!(
                    placeholders(text),
                    placeholders(lookup(EN, key).unwrap()),
                    "{language:?} {key} placeholders"
                );
            }
            assert_eq!(t.len(), EN.len(), "{language:?} has duplicate keys");
        }
    }

    #[test]
    fn readme_lists_every_key() {
        let readme = include_str!("../../README.md");
        for (key, _) in EN {
            let listed = readme.contains(&format!("`{key}`"))
                || key.rsplit_once('.').is_some_and(|(prefix, n)| {
                    n.parse::<u32>().is_ok()
                        && (readme.contains(&format!("`{prefix}.0`"))
                            || readme.contains(&format!("`{prefix}.1`")))
                });
            assert!(listed, "README does not list the ui_labels key {key}");
        }
    }

    #[test]
    fn overrides_then_language_then_english() {
        let labels = match crate::domain::connect_settings::UiLabels::change_from_json(Some(
            &json!({"connect.connectButton": "Bağlan"}),
        ))
        .unwrap()
        {
            crate::domain::connect_settings::Change::Set(l) => l,
            _ => unreachable!(),
        };
        let t = Texts::new(Language::De, labels);
        assert_eq!(t.get("connect.connectButton"), "Bağlan");
        assert_ne!(t.get("connect.title"), lookup(EN, "connect.title").unwrap());
        assert_eq!(t.get("no.such.key"), "no.such.key");
        let en = Texts::new(Language::En, UiLabels::default());
        assert_eq!(
            en.fill("connect.progress", &[("count", "2"), ("total", "5")]),
            "2 of 5 connected"
        );
    }
}
