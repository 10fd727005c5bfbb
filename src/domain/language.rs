//! The connect page's languages and how one is chosen.

/// A language the connect page is translated into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    En,
    Es,
    De,
    Fr,
    Pt,
    Pl,
    Tr,
}

impl Language {
    pub const ALL: [Language; 7] = [
        Language::En,
        Language::Es,
        Language::De,
        Language::Fr,
        Language::Pt,
        Language::Pl,
        Language::Tr,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Pt => "pt",
            Language::Pl => "pl",
            Language::Tr => "tr",
        }
    }

    /// A language tag such as `de`, `DE` or `pt-BR`; only the primary subtag counts.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The best supported language of an `Accept-Language` header, by its q-values (ties
    /// keep the header's order).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite() && *q > 0.0);
            if let Some(q) = q
                && best.is_none_or(|(b, _)| q > b)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(Language::parse("de"), Some(Language::De));
        assert_eq!(Language::parse("PT-br"), Some(Language::Pt));
        assert_eq!(Language::parse("tr_TR"), Some(Language::Tr));
        assert_eq!(Language::parse("it"), None);
        assert_eq!(Language::parse(""), None);
    }

    #[test]
    fn accept_language() {
        let pick = Language::from_accept_language;
        assert_eq!(pick("fr-CH, fr;q=0.9, en;q=0.8"), Some(Language::Fr));
        assert_eq!(pick("it, de;q=0.5, pl;q=0.7"), Some(Language::Pl));
        assert_eq!(pick("en;q=0.2, es"), Some(Language::Es));
        assert_eq!(pick("es;q=0, it"), None);
        assert_eq!(pick("de;q=abc, tr"), Some(Language::Tr));
        assert_eq!(pick("*"), None);
        assert_eq!(pick(""), None);
    }
}
