//! Pure types and rules: parse constructors for everything that comes from outside, no actix
//! and no SQL.

pub mod calendar;
pub mod connect_settings;
pub mod database_url;
pub mod language;
pub mod link_token;
pub mod plan;
pub mod platform;
pub mod platform_list;
pub mod profile_fields;
pub mod queue;
pub mod schedule;
pub mod secret;
pub mod secrets;
pub mod sign_in;
pub mod text;
pub mod tid;
pub mod time;
pub mod token_cipher;
pub mod upload;
pub mod usage;
pub mod username;
pub mod webhooks;
pub(crate) mod wire;

pub use plan::{Limit, Plan};
pub use platform::Platform;
pub use secret::Secret;
pub use username::{Username, UsernameError};

/// Every parser of untrusted text, fed a few thousand generated inputs from a fixed seed:
/// none may panic, and the ones with a canonical form must round-trip. (The HTTP surface is
/// fuzzed by schemathesis; this reaches what it cannot, such as token internals.)
#[cfg(test)]
mod untrusted_input {
    use super::connect_settings::{ConnectRequest, PageUrl, UiLabels};
    use super::language::Language;
    use super::link_token::{LinkClaims, LinkSigner};
    use super::platform_list::PlatformList;
    use super::queue::SettingsChange;
    use super::schedule::{ScheduledDate, TimeZoneName};
    use super::secrets::parse_authorization;
    use super::upload::Fields;
    use super::webhooks::{Switches, WebhookUrl};
    use super::{Platform, Username};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use serde_json::{Value, json};

    const ROUNDS: usize = 4000;
    /// Characters that matter to the parsers, plus a few that should never be accepted.
    const ALPHABET: &[char] = &[
        'a', 'Z', '0', '9', '.', '_', '-', '/', ':', '?', '#', '@', '%', '=', '&', ' ', '\t', '\n',
        '\0', '\u{7f}', '\u{200b}', 'é', 'ğ', '😀', '"', '\\', '{', '}', '[', ']', ',', '+', '*',
        'e', 'y', 'J',
    ];

    fn text(rng: &mut StdRng, max: usize) -> String {
        let n = rng.random_range(0..=max);
        (0..n)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
            .collect()
    }

    /// A request's platforms from generated values: never a panic, and an accepted list is
    /// never empty and names each platform once.
    fn platform_list(values: &[String]) {
        let mut fields = Fields::new();
        for v in values {
            fields.push("platform[]", v.as_str());
        }
        if let Ok(list) = PlatformList::from_fields(&fields) {
            let platforms = list.as_slice();
            assert!(!platforms.is_empty(), "{values:?}");
            let mut unique = platforms.to_vec();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), platforms.len(), "{values:?}");
        }
    }

    fn value(rng: &mut StdRng, depth: u32) -> Value {
        match rng.random_range(0..if depth > 2 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.random()),
            2 => json!(rng.random_range(-1_000_000i64..1_000_000)),
            3 | 4 => Value::String(text(rng, 40)),
            5 => Value::Array(
                (0..rng.random_range(0..4))
                    .map(|_| value(rng, depth + 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.random_range(0..4))
                    .map(|_| (text(rng, 12), value(rng, depth + 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn no_parser_panics_on_generated_text() {
        let mut rng = StdRng::seed_from_u64(20261124);
        let signer = LinkSigner::new("robustness-test-signing-key-0123456789", &[]).unwrap();
        let good = signer.sign(&LinkClaims::new("l", "p", "a", 0, i64::MAX));
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        for _ in 0..ROUNDS {
            let s = text(&mut rng, 60);
            let _ = parse_authorization(&s);
            if let Ok(u) = Username::parse(&s) {
                assert_eq!(Username::parse(u.as_str()).unwrap(), u, "{s:?}");
            }
            let _ = Platform::parse(&s);
            let _ = Language::parse(&s);
            let _ = Language::from_accept_language(&s);
            let _ = PageUrl::parse("f", &s);
            let _ = WebhookUrl::parse("f", &s, false);
            let _ = crate::domain::calendar::Month::parse(&s);
            // Real names spliced in, so that some lists are accepted.
            let name = Platform::ALL[rng.random_range(0..Platform::ALL.len())].key();
            platform_list(&[s.clone(), format!("{name},{s}"), format!("{s}{name}")]);
            platform_list(&[name.to_owned(), name.to_uppercase()]);
            if let Ok(zone) = TimeZoneName::parse(&s) {
                assert_eq!(TimeZoneName::parse(zone.as_str()).unwrap(), zone, "{s:?}");
            }
            // Digits, separators and zone names where the date parser looks for them.
            let date = format!(
                "2026-0{}-1{}T{s}",
                rng.random_range(0..=9),
                rng.random_range(0..=9)
            );
            let zone =
                ["", "Europe/Berlin", "America/New_York", s.as_str()][rng.random_range(0..4)];
            for raw in [s.as_str(), date.as_str()] {
                if let Ok(d) = ScheduledDate::parse(raw, Some(zone), now) {
                    let again = ScheduledDate::parse(&d.wire(), None, now).unwrap();
                    assert_eq!(again.utc(), d.utc(), "{raw:?} in {zone:?}");
                }
                let _ = crate::domain::queue::slot_instant("slot_datetime", raw);
            }
            assert!(signer.verify(&s, 1).is_err(), "{s:?}");
            // Splice generated text into a real token, where a decoder is most fragile.
            let at = rng.random_range(0..=good.len());
            let spliced = format!("{}{s}{}", &good[..at], &good[at..]);
            if !s.is_empty() {
                assert!(signer.verify(&spliced, 1).is_err(), "{spliced:?}");
            }
        }
    }

    #[test]
    fn no_body_parser_panics_on_generated_json() {
        let mut rng = StdRng::seed_from_u64(1124);
        for _ in 0..ROUNDS {
            let v = value(&mut rng, 0);
            let _ = UiLabels::change_from_json(Some(&v));
            let _ = Switches::from_json("f", Some(&v));
            let _ = Username::from_json(Some(&v));
            platform_list(&[v.to_string()]);
            if let Value::Object(map) = &v {
                let _ = SettingsChange::from_json(map);
            }
            let _ = SettingsChange::from_json(
                &[
                    ("slots".to_owned(), v.clone()),
                    ("days_of_week".to_owned(), v.clone()),
                ]
                .into_iter()
                .collect(),
            );
            let body = match &v {
                Value::Object(map) => map.clone(),
                other => [("ui_labels".to_owned(), other.clone())]
                    .into_iter()
                    .collect(),
            };
            let _ = ConnectRequest::from_json(&body);
        }
    }
}
