//! Every URL Postgate hands out, built from `public_url` in one place.
//!
//! `public_url` may carry a path prefix (`https://example.com/postgate/`) when a reverse proxy
//! serves Postgate under it. Links, redirects, form actions and registered OAuth redirect URIs
//! all carry the prefix; requests are accepted with the prefix (a proxy that passes the path
//! through) or without it (a proxy that strips it), see `routes::strip_prefix`.

use crate::domain::Platform;
use url::Url;
use url::form_urlencoded::Serializer;

/// The first path segments Postgate itself serves: a prefix may not be one of them, or
/// stripping it would change which route answers.
pub const OWN_SEGMENTS: [&str; 7] = [
    "api", "connect", "static", "sandbox", "healthz", "readyz", "media",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    /// Scheme, host and port, with no path.
    origin: Url,
    /// `""` or `/segment[/segment…]`, without a trailing slash.
    prefix: String,
}

impl Urls {
    pub fn new(public_url: &Url) -> Self {
        let mut origin = public_url.clone();
        origin.set_path("/");
        origin.set_query(None);
        origin.set_fragment(None);
        Self {
            origin,
            prefix: public_url.path().trim_end_matches('/').to_owned(),
        }
    }

    /// The path prefix: `""` or `/postgate`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `public_url` as configured (with a trailing slash).
    pub fn base(&self) -> Url {
        self.absolute("/")
    }

    /// A path of ours as our own pages link it (same origin): the prefix, then `path`.
    pub fn local(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// A path of ours as an absolute URL, for links that leave our pages.
    pub fn absolute(&self, path: &str) -> Url {
        let mut url = self.origin.clone();
        url.set_path(&self.local(path));
        url
    }

    /// The accounts tab of a connect link.
    pub fn connect_page(&self, token: &str) -> String {
        with_query(self.local("/connect"), &[("token", token)])
    }

    /// The connect page as `access_url` and sign-ins' return address give it.
    pub fn access_url(&self, token: &str) -> Url {
        let mut url = self.absolute("/connect");
        url.query_pairs_mut().append_pair("token", token);
        url
    }

    /// The calendar tab, at a month (`YYYY-MM`) or the current one.
    pub fn calendar(&self, token: &str, month: Option<&str>) -> String {
        let mut pairs = vec![("token", token)];
        pairs.extend(month.map(|m| ("month", m)));
        with_query(self.local("/connect/calendar"), &pairs)
    }

    /// The app-password form of a platform.
    pub fn signin_page(&self, token: &str, platform: Platform) -> String {
        with_query(
            self.local("/connect/signin"),
            &[("token", token), ("platform", platform.key())],
        )
    }

    /// Where a page's form posts: `/connect/<action>`.
    pub fn page_action(&self, action: &str) -> String {
        self.local(&format!("/connect/{action}"))
    }

    /// The phone bounce page of a pending sign-in.
    pub fn bounce(&self, state_id: &str) -> String {
        with_query(
            self.local("/api/uploadposts/oauth/bounce"),
            &[("id", state_id)],
        )
    }

    /// Where a platform sends the browser back to: the redirect URI to register with it.
    pub fn oauth_callback(&self, platform: Platform) -> Url {
        self.absolute(&format!(
            "/api/uploadposts/oauth/callback/{}",
            platform.key()
        ))
    }

    /// The emulator's base for a platform.
    pub fn sandbox(&self, platform: Platform) -> Url {
        self.absolute(&format!("/sandbox/{}", platform.key()))
    }

    /// A file under `/static/`.
    pub fn static_file(&self, name: &str) -> String {
        self.local(&format!("/static/{name}"))
    }
}

/// `path?k=v&…`, each value encoded.
fn with_query(path: String, pairs: &[(&str, &str)]) -> String {
    let mut query = Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    format!("{path}?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(base: &str) -> Urls {
        Urls::new(&Url::parse(base).unwrap())
    }

    #[test]
    fn without_a_prefix() {
        let u = urls("http://127.0.0.1:8080/");
        assert_eq!(u.prefix(), "");
        assert_eq!(u.connect_page("a.b.c"), "/connect?token=a.b.c");
        assert_eq!(
            u.access_url("a.b.c").as_str(),
            "http://127.0.0.1:8080/connect?token=a.b.c"
        );
        assert_eq!(
            u.calendar("t", Some("2026-12")),
            "/connect/calendar?token=t&month=2026-12"
        );
        assert_eq!(u.base().as_str(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn with_a_prefix_with_or_without_trailing_slash() {
        for base in [
            "https://example.com/postgate",
            "https://example.com/postgate/",
        ] {
            let u = urls(base);
            assert_eq!(u.prefix(), "/postgate");
            assert_eq!(u.connect_page("t"), "/postgate/connect?token=t");
            assert_eq!(
                u.access_url("t").as_str(),
                "https://example.com/postgate/connect?token=t"
            );
            assert_eq!(
                u.oauth_callback(Platform::X).as_str(),
                "https://example.com/postgate/api/uploadposts/oauth/callback/x"
            );
            assert_eq!(
                u.sandbox(Platform::Tiktok).as_str(),
                "https://example.com/postgate/sandbox/tiktok"
            );
            assert_eq!(u.page_action("start"), "/postgate/connect/start");
            assert_eq!(u.static_file("a.css"), "/postgate/static/a.css");
            assert_eq!(
                u.bounce("s1"),
                "/postgate/api/uploadposts/oauth/bounce?id=s1"
            );
            assert_eq!(u.base().as_str(), "https://example.com/postgate/");
        }
    }

    #[test]
    fn query_values_are_encoded() {
        let u = urls("http://localhost/");
        assert_eq!(u.connect_page("a&b=c\"<"), "/connect?token=a%26b%3Dc%22%3C");
        assert_eq!(
            u.signin_page("t", Platform::Bluesky),
            "/connect/signin?token=t&platform=bluesky"
        );
    }
}
