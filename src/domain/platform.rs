//! The social platforms a profile can connect.

/// Every platform reported in `social_accounts`, in the order responses list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
}
