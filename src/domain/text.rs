//! Rules every surface applies to text from outside: what may be stored at all, and what an
//! identifier (a username, a client-chosen id) may contain.

use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;
use std::borrow::Cow;

/// Whether `s` can be stored as text on both backends: PostgreSQL refuses NUL, so it is
/// refused everywhere, before any SQL, rather than answered with a database error.
pub fn is_storable(s: &str) -> bool {
    !s.contains('\0')
}

/// A character that is invisible or steers layout: controls, format characters (zero-width
/// spaces and joiners, bidi overrides and isolates, soft hyphen, tags), line and paragraph
/// separators, unassigned code points and the Hangul fillers that render blank. Two
/// identifiers that differ only by these look the same to a person.
pub fn is_invisible(c: char) -> bool {
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Unassigned
    ) || matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
}

/// Whether `s` has a character `is_invisible` names: refused in identifiers.
pub fn has_invisible(s: &str) -> bool {
    s.chars().any(is_invisible)
}

/// `s` in Unicode normalization form C: one spelling for what looks the same ("é" as one
/// code point, not "e" and a combining accent).
pub fn nfc(s: &str) -> Cow<'_, str> {
    ComposingNormalizerBorrowed::new_nfc().normalize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_not_storable() {
        assert!(is_storable("plain text, émoji 👩‍👩‍👧 and\ttabs\nnewlines"));
        assert!(!is_storable("a\0b"));
        assert!(!is_storable("\0"));
    }

    #[test]
    fn invisible_characters() {
        for c in [
            '\0',
            '\u{1}',
            '\u{7F}',
            '\u{85}',
            '\u{AD}',
            '\u{180E}',
            '\u{200B}',
            '\u{200D}',
            '\u{200E}',
            '\u{2028}',
            '\u{2029}',
            '\u{202E}',
            '\u{2060}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{115F}',
            '\u{3164}',
            '\u{FFA0}',
            '\u{10FFFF}',
        ] {
            assert!(is_invisible(c), "{c:?}");
        }
        for c in [
            'a', 'Z', '0', ' ', '@', '-', 'é', '名', 'ß', 'Ω', '😀', '\u{301}',
        ] {
            assert!(!is_invisible(c), "{c:?}");
        }
    }

    #[test]
    fn nfc_composes_and_leaves_composed_text_alone() {
        assert_eq!(nfc("Jose\u{301}"), "Jos\u{e9}");
        assert!(matches!(nfc("Jos\u{e9}"), Cow::Borrowed(_)));
        assert_eq!(
            nfc("\u{212B}"),
            "\u{C5}",
            "the Angstrom sign is A with ring"
        );
    }
}
