//! The social platforms a profile can connect.

/// Every platform reported in `social_accounts`, in the order responses list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    Tiktok,
    Instagram,
    Facebook,
    Linkedin,
    Youtube,
    X,
    Threads,
    GoogleBusiness,
    Pinterest,
    Bluesky,
    Reddit,
}

impl Platform {
    pub const ALL: [Platform; 11] = [
        Platform::Tiktok,
        Platform::Instagram,
        Platform::Facebook,
        Platform::Linkedin,
        Platform::Youtube,
        Platform::X,
        Platform::Threads,
        Platform::GoogleBusiness,
        Platform::Pinterest,
        Platform::Bluesky,
        Platform::Reddit,
    ];

    /// The key used in `social_accounts` and upload requests.
    pub fn key(self) -> &'static str {
        match self {
            Platform::Tiktok => "tiktok",
            Platform::Instagram => "instagram",
            Platform::Facebook => "facebook",
            Platform::Linkedin => "linkedin",
            Platform::Youtube => "youtube",
            Platform::X => "x",
            Platform::Threads => "threads",
            Platform::GoogleBusiness => "google_business",
            Platform::Pinterest => "pinterest",
            Platform::Bluesky => "bluesky",
            Platform::Reddit => "reddit",
        }
    }

    /// A platform named by a client: its key, or a spelling real clients also use
    /// (`twitter`, `google-business`), in any case.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase().replace('-', "_");
        match name.as_str() {
            "twitter" => Some(Platform::X),
            _ => Self::ALL.into_iter().find(|p| p.key() == name),
        }
    }

    /// The platform's own name for itself, as the connect page shows it.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Tiktok => "TikTok",
            Platform::Instagram => "Instagram",
            Platform::Facebook => "Facebook",
            Platform::Linkedin => "LinkedIn",
            Platform::Youtube => "YouTube",
            Platform::X => "X",
            Platform::Threads => "Threads",
            Platform::GoogleBusiness => "Google Business Profile",
            Platform::Pinterest => "Pinterest",
            Platform::Bluesky => "Bluesky",
            Platform::Reddit => "Reddit",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<_> = Platform::ALL.iter().map(|p| p.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Platform::ALL.len());
    }

    #[test]
    fn names_clients_send() {
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.key()), Some(p));
        }
        assert_eq!(Platform::parse("twitter"), Some(Platform::X));
        assert_eq!(
            Platform::parse("Google-Business"),
            Some(Platform::GoogleBusiness)
        );
        assert_eq!(Platform::parse("myspace"), None);
    }
}
