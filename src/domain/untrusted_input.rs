//! Property tests of every parser of outside input: auth headers, link tokens, usernames,
//! connect settings and ui_labels, platform lists, form fields, dates and zones, URLs and
//! webhook switches. None may panic on anything, and the ones with a canonical form must
//! round-trip. (The HTTP surface is fuzzed by schemathesis; this reaches what it cannot, such
//! as token internals.) The strategies are shared with the parsers of platform answers
//! (`oauth::http`).
//!
//! The seed is fixed so CI is repeatable; `PROPTEST_RNG_SEED=<n>` or `PROPTEST_CASES=<n>`
//! explore further.

use super::connect_settings::{ConnectRequest, PageUrl, UiLabels};
use super::language::Language;
use super::link_token::{LinkClaims, LinkSigner};
use super::platform_list::PlatformList;
use super::profile_fields::{ExternalId, Metadata, ProfileName};
use super::queue::SettingsChange;
use super::schedule::{ScheduledDate, TimeZoneName};
use super::secrets::parse_authorization;
use super::upload::Fields;
use super::webhooks::{Switches, WebhookUrl};
use super::{Platform, Username, text};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{Map, Value, json};

/// Repeatable in CI unless the environment asks for another seed.
pub(crate) fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(20_261_124);
    }
    config
}

/// Characters that matter to the parsers, plus some that must never be accepted.
const ALPHABET: &[char] = &[
    'a', 'Z', '0', '9', '.', '_', '-', '/', ':', '?', '#', '@', '%', '=', '&', ' ', '\t', '\n',
    '\0', '\u{7f}', '\u{200b}', '\u{feff}', '\u{301}', 'e', '\u{e9}', 'ğ', '😀', '"', '\\', '{',
    '}', '[', ']', ',', '+', '*', 'y', 'J', 'T', 'Z',
];

/// Text as a hostile client sends it: mostly the characters parsers look at, sometimes any
/// Unicode at all.
pub(crate) fn outside_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => vec(proptest::sample::select(ALPHABET), 0..60)
            .prop_map(|chars| chars.into_iter().collect()),
        1 => any::<String>(),
    ]
}

/// Any JSON, with the numbers that break arithmetic (huge, negative, fractional, exponents).
pub(crate) fn outside_json() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        (-100_000i64..100_000).prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n.to_string())),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        outside_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(outside_text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object whose members, some of the time, have the names `names` the parser looks
/// for, so that its deeper branches are reached.
pub(crate) fn outside_object(
    names: &'static [&'static str],
) -> impl Strategy<Value = Map<String, Value>> {
    let name = prop_oneof![
        3 => proptest::sample::select(names).prop_map(str::to_owned),
        1 => outside_text(),
    ];
    btree_map(name, outside_json(), 0..6).prop_map(|m| m.into_iter().collect())
}

/// A request's platforms from outside values: never a panic, and an accepted list is never
/// empty and names each platform once.
fn check_platform_list(values: &[String]) -> Result<(), TestCaseError> {
    let mut fields = Fields::new();
    for v in values {
        fields.push("platform[]", v.as_str());
    }
    if let Ok(list) = PlatformList::from_fields(&fields) {
        let platforms = list.as_slice();
        prop_assert!(!platforms.is_empty(), "{values:?}");
        let mut unique = platforms.to_vec();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), platforms.len(), "{:?}", values);
    }
    Ok(())
}

fn platform_name() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(Platform::ALL.to_vec()).prop_map(Platform::key)
}

fn signer() -> LinkSigner {
    LinkSigner::new("robustness-test-signing-key-0123456789", &[]).unwrap()
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn authorization_headers(header in outside_text()) {
        let _ = parse_authorization(&header);
    }

    #[test]
    fn usernames_are_canonical_and_visible(raw in outside_text()) {
        if let Ok(u) = Username::parse(&raw) {
            prop_assert_eq!(&Username::parse(u.as_str()).unwrap(), &u);
            prop_assert!(!text::has_invisible(u.as_str()), "{:?}", raw);
            let normalised = text::nfc(u.as_str());
            prop_assert_eq!(normalised.as_ref(), u.as_str());
        }
        let _ = Username::from_json(Some(&Value::String(raw)));
    }

    #[test]
    fn names_languages_and_urls(raw in outside_text()) {
        let _ = Platform::parse(&raw);
        let _ = Language::parse(&raw);
        let _ = Language::from_accept_language(&raw);
        let _ = PageUrl::parse("f", &raw);
        for allow_private in [false, true] {
            let _ = WebhookUrl::parse("f", &raw, allow_private);
        }
        let _ = crate::domain::calendar::Month::parse(&raw);
        let _ = crate::domain::database_url::DatabaseUrl::parse(&raw);
    }

    #[test]
    fn platform_lists(
        raw in outside_text(),
        name in platform_name(),
        repeated in vec(outside_text(), 0..4),
    ) {
        check_platform_list(&[raw.clone(), format!("{name},{raw}"), format!("{raw}{name}")])?;
        check_platform_list(&[name.to_owned(), name.to_uppercase()])?;
        check_platform_list(&repeated)?;
        check_platform_list(&[format!("[\"{name}\",{raw}]")])?;
    }

    #[test]
    fn form_fields(name in outside_text(), values in vec(outside_text(), 0..4)) {
        let mut fields = Fields::new();
        for v in &values {
            fields.push(&name, v.as_str());
        }
        let _ = fields.flag(&name);
        let _ = fields.number(&name);
        let _ = fields.json(&name);
        for separators in [&[","][..], &["||", "|"][..]] {
            let _ = fields.list(&name, separators);
        }
    }

    #[test]
    fn dates_and_zones(
        raw in outside_text(),
        month in 0u32..=19,
        day in 0u32..=39,
        zone in prop_oneof![
            Just(String::new()),
            Just("Europe/Berlin".to_owned()),
            Just("America/New_York".to_owned()),
            outside_text(),
        ],
        now_seconds in -10_000_000_000i64..10_000_000_000,
    ) {
        if let Ok(z) = TimeZoneName::parse(&raw) {
            prop_assert_eq!(TimeZoneName::parse(z.as_str()).unwrap(), z);
        }
        let Some(now) = chrono::DateTime::from_timestamp(now_seconds, 0) else {
            return Ok(());
        };
        // Digits and separators where the date parser looks for them.
        let date = format!("2026-{month:02}-{day:02}T{raw}");
        for text in [raw.as_str(), date.as_str()] {
            if let Ok(d) = ScheduledDate::parse(text, Some(&zone), now) {
                let again = ScheduledDate::parse(&d.wire(), None, now).unwrap();
                prop_assert_eq!(again.utc(), d.utc(), "{:?} in {:?}", text, zone);
            }
            let _ = crate::domain::queue::slot_instant("slot_datetime", text);
        }
    }

    #[test]
    fn link_tokens_are_never_forged(raw in outside_text(), at in any::<prop::sample::Index>()) {
        let signer = signer();
        prop_assert!(signer.verify(&raw, 1).is_err(), "{:?}", raw);
        // Text spliced into a real token, where a decoder is most fragile.
        let good = signer.sign(&LinkClaims::new("l", "p", "a", 0, i64::MAX));
        let at = at.index(good.len() + 1);
        let spliced = format!("{}{raw}{}", &good[..at], &good[at..]);
        if !raw.is_empty() && spliced != good {
            prop_assert!(signer.verify(&spliced, 1).is_err(), "{:?}", spliced);
        }
    }

    #[test]
    fn connect_settings_and_labels(
        body in outside_object(&[
            "ui_labels", "redirect_url", "platforms", "logo_image", "language",
            "connect_title", "connect_description", "redirect_button_text",
            "show_calendar", "readonly_calendar", "username", "name", "external_id", "metadata",
        ]),
        any_value in outside_json(),
    ) {
        let _ = ConnectRequest::from_json(&body);
        let _ = UiLabels::change_from_json(Some(&any_value));
        let _ = UiLabels::change_from_json(body.get("ui_labels"));
        let _ = Switches::from_json("f", Some(&any_value));
        let _ = Username::from_json(Some(&any_value));
        let _ = ProfileName::from_json(Some(&any_value));
        let _ = ExternalId::from_json(Some(&any_value));
        let _ = Metadata::from_json(Some(&any_value));
        check_platform_list(&[any_value.to_string()])?;
    }

    #[test]
    fn queue_settings(
        body in outside_object(&["slots", "days_of_week", "timezone", "enabled", "max_posts"]),
    ) {
        let _ = SettingsChange::from_json(&body);
    }
}
