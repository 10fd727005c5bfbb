//! Webhooks as Upload-Post defines them: target URLs (and which of them we refuse), event
//! subscriptions in both shapes clients send, signing, and the event bodies.

use super::profile_fields::FieldError;
use super::secrets::new_random_id;
use super::wire::wire_names;
use chrono::NaiveDateTime;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use std::net::IpAddr;
use url::Url;

wire_names! {
    /// Every webhook event: the `event` of its body, the `X-Upload-Post-Event` header, the
    /// name clients subscribe to, and the deliveries' `event` column.
    pub enum Event {
        UploadCompleted = "upload_completed",
        SocialAccountConnected = "social_account_connected",
        SocialAccountDisconnected = "social_account_disconnected",
        SocialAccountReauthRequired = "social_account_reauth_required",
        /// What `POST …/notifications/test` sends; delivered whatever the subscription says.
        WebhookTest = "webhook_test",
    }
}

impl Event {
    /// Whether a subscription decides if it is sent (every event but the test).
    pub fn is_subscribable(self) -> bool {
        self != Event::WebhookTest
    }

    /// The names of the events clients subscribe to, as settings list them.
    pub fn subscribable() -> impl Iterator<Item = &'static str> {
        Event::ALL
            .iter()
            .filter(|e| e.is_subscribable())
            .map(|e| e.as_str())
    }
}

wire_names! {
    /// Why `social_account_disconnected` was sent: its body's `reason`.
    pub enum DisconnectReason {
        /// Disconnected through the API or on the connect page.
        ManualDisconnect = "manual_disconnect",
        /// Another identity signed in on the same profile and platform.
        Replaced = "replaced",
        ProfileDeleted = "profile_deleted",
    }
}
/// Notification channels clients configure. Only `webhook` delivers from Postgate.
pub const CHANNELS: [&str; 4] = ["webhook", "telegram", "slack", "whatsapp"];
pub const MAX_URL_CHARS: usize = 2000;
const SECRET_PREFIX: &str = "whsec_";
const SECRET_RANDOM_CHARS: usize = 32;

/// A new signing secret, `whsec_` and 32 random characters.
pub fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", new_random_id(SECRET_RANDOM_CHARS))
}

/// `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"), the
/// `X-Upload-Post-Signature` header.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether an address is on the public internet. Loopback, private, link-local (cloud
/// metadata), shared, documentation, multicast and unspecified addresses are not.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064 && v6.segments()[1] == 0xff9b)
        }
    }
}

/// Where webhooks are sent: an absolute http(s) URL without credentials. Unless private
/// targets are allowed, a literal or obviously local host is refused here; hostnames are
/// checked again on the resolved address at every delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub fn parse(field: &'static str, raw: &str, allow_private: bool) -> Result<Self, FieldError> {
        let bad = |why: &str| FieldError::new(field, why);
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(bad(&format!("must be at most {MAX_URL_CHARS} characters")));
        }
        let url = Url::parse(raw.trim()).map_err(|_| bad("must be an absolute http(s) URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad("must be an absolute http(s) URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not contain a user name or password"));
        }
        if !allow_private && !host_may_be_public(&url) {
            return Err(bad(
                "must not point at a private, loopback or link-local address",
            ));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// False for IP literals that are not public and for local names.
pub fn host_may_be_public(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            !(d == "localhost"
                || d.ends_with(".localhost")
                || d.ends_with(".local")
                || d.ends_with(".internal")
                || !d.contains('.'))
        }
        None => false,
    }
}

/// A set of names switched on or off, sent as a list of the names that are on or as a map
/// of booleans. `None` means "all" (Upload-Post: omitted or `null` enables every event).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Switches(Option<Map<String, Value>>);

impl Switches {
    pub fn all() -> Self {
        Self(None)
    }

    /// `Ok(None)` when the field is absent (keep what is stored).
    pub fn from_json(
        field: &'static str,
        value: Option<&Value>,
    ) -> Result<Option<Self>, FieldError> {
        let valid_name = |n: &str| {
            !n.is_empty()
                && n.len() <= 64
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        let bad_name = |n: &str| {
            FieldError::worded(
                field,
                format!("{field}: '{n}' is not an event or channel name"),
            )
        };
        let map = match value {
            None => return Ok(None),
            Some(Value::Null) => return Ok(Some(Self::all())),
            Some(Value::Array(items)) => {
                let mut map = Map::new();
                for item in items {
                    let name = item.as_str().ok_or_else(|| {
                        FieldError::new(field, "must be a list of names or a map of booleans")
                    })?;
                    if !valid_name(name) {
                        return Err(bad_name(name));
                    }
                    map.insert(name.to_owned(), Value::Bool(true));
                }
                map
            }
            Some(Value::Object(given)) => {
                for (name, on) in given {
                    if !valid_name(name) {
                        return Err(bad_name(name));
                    }
                    if !on.is_boolean() {
                        return Err(FieldError::worded(
                            field,
                            format!("{field}['{name}'] must be true or false"),
                        ));
                    }
                }
                given.clone()
            }
            Some(_) => {
                return Err(FieldError::new(
                    field,
                    "must be a list of names or a map of booleans",
                ));
            }
        };
        Ok(Some(Self(Some(map))))
    }

    pub fn from_stored(text: Option<&str>) -> Self {
        Self(text.and_then(|t| serde_json::from_str(t).ok()))
    }

    pub fn to_stored(&self) -> Option<String> {
        self.0
            .as_ref()
            .map(|m| Value::Object(m.clone()).to_string())
    }

    pub fn is_on(&self, name: &str) -> bool {
        match &self.0 {
            None => true,
            Some(map) => map.get(name).and_then(Value::as_bool).unwrap_or(false),
        }
    }

    /// Every known name with its state, then any other name the client stored.
    pub fn to_json<'a>(&self, known: impl IntoIterator<Item = &'a str>) -> Value {
        let mut out: Map<String, Value> = known
            .into_iter()
            .map(|n| (n.to_owned(), Value::Bool(self.is_on(n))))
            .collect();
        if let Some(map) = &self.0 {
            for (name, on) in map {
                out.entry(name.clone()).or_insert_with(|| on.clone());
            }
        }
        Value::Object(out)
    }

    pub fn set(&mut self, name: &str, on: bool) {
        let map = self.0.get_or_insert_with(Map::new);
        map.insert(name.to_owned(), Value::Bool(on));
    }
}

/// What happened to a connected account, with the reason its event gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionChange<'a> {
    Connected,
    Disconnected(DisconnectReason),
    /// The platform ended the grant; `reason` is its own error code.
    ReauthRequired {
        reason: &'a str,
    },
}

impl ConnectionChange<'_> {
    pub fn event(self) -> Event {
        match self {
            ConnectionChange::Connected => Event::SocialAccountConnected,
            ConnectionChange::Disconnected(_) => Event::SocialAccountDisconnected,
            ConnectionChange::ReauthRequired { .. } => Event::SocialAccountReauthRequired,
        }
    }

    /// The body's `status`.
    fn status(self) -> &'static str {
        match self {
            ConnectionChange::Connected => "connected",
            ConnectionChange::Disconnected(_) => "disconnected",
            ConnectionChange::ReauthRequired { .. } => "reauth_required",
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            ConnectionChange::Connected => None,
            ConnectionChange::Disconnected(reason) => Some(reason.as_str()),
            ConnectionChange::ReauthRequired { reason } => Some(reason),
        }
    }
}

/// What a connection event says about the account it concerns.
#[derive(Debug, Clone)]
pub struct ConnectionEvent<'a> {
    pub change: ConnectionChange<'a>,
    pub user_email: Option<&'a str>,
    pub platform: &'a str,
    /// The handle, else the platform's id.
    pub account_name: &'a str,
    pub profile_username: &'a str,
}

/// Upload-Post's timestamp in event bodies: ISO-8601 with microseconds, no zone.
fn event_time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

impl ConnectionEvent<'_> {
    pub fn body(&self, at: NaiveDateTime) -> Value {
        let mut body = json!({
            "event": self.change.event(),
            "user_email": self.user_email,
            "platform": self.platform,
            "account_name": self.account_name,
            "status": self.change.status(),
            "profile_username": self.profile_username,
            "created_at": event_time(at),
        });
        if let Some(reason) = self.change.reason() {
            body["reason"] = reason.into();
        }
        body
    }
}

/// The body of a test delivery.
pub fn test_body(user_email: Option<&str>, at: NaiveDateTime) -> Value {
    json!({
        "event": Event::WebhookTest,
        "user_email": user_email,
        "message": "Test notification from Postgate: your webhook is reachable.",
        "created_at": event_time(at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn connection_event_bodies() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_micro_opt(10, 0, 0, 5)
            .unwrap();
        let event = |change| ConnectionEvent {
            change,
            user_email: Some("ops@example.com"),
            platform: "tiktok",
            account_name: "dancer",
            profile_username: "alice",
        };
        let body = event(ConnectionChange::Disconnected(
            DisconnectReason::ProfileDeleted,
        ))
        .body(at);
        assert_eq!(
            body,
            json!({"event": "social_account_disconnected", "user_email": "ops@example.com",
                   "platform": "tiktok", "account_name": "dancer", "status": "disconnected",
                   "profile_username": "alice", "created_at": "2026-11-24T10:00:00.000005",
                   "reason": "profile_deleted"})
        );
        let connected = event(ConnectionChange::Connected).body(at);
        assert_eq!(
            (
                &connected["event"],
                &connected["status"],
                connected.get("reason")
            ),
            (
                &json!("social_account_connected"),
                &json!("connected"),
                None
            )
        );
        let flagged = event(ConnectionChange::ReauthRequired {
            reason: "invalid_grant",
        })
        .body(at);
        assert_eq!(
            (&flagged["event"], &flagged["status"], &flagged["reason"]),
            (
                &json!("social_account_reauth_required"),
                &json!("reauth_required"),
                &json!("invalid_grant")
            )
        );
        assert_eq!(test_body(None, at)["event"], "webhook_test");
    }

    #[test]
    fn wire_names_are_pinned() {
        let events: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            events,
            [
                "upload_completed",
                "social_account_connected",
                "social_account_disconnected",
                "social_account_reauth_required",
                "webhook_test"
            ]
        );
        assert_eq!(
            Event::subscribable().collect::<Vec<_>>(),
            &events[..4],
            "the test event is not subscribed to"
        );
        let reasons: Vec<&str> = DisconnectReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            reasons,
            ["manual_disconnect", "replaced", "profile_deleted"]
        );
        super::super::wire::assert_round_trips(Event::ALL, Event::as_str, Event::parse);
        super::super::wire::assert_round_trips(
            DisconnectReason::ALL,
            DisconnectReason::as_str,
            DisconnectReason::parse,
        );
    }

    #[test]
    fn signatures_match_the_documented_recipe() {
        // Python: hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        let sig = signature("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(
            sig,
            "sha256=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, r#"{"a":1}"#));
        assert!(new_secret().starts_with("whsec_"));
    }

    #[test]
    fn public_and_private_addresses() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "192.0.2.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls() {
        let ok = |u: &str| WebhookUrl::parse("webhook_url", u, false).is_ok();
        assert!(ok("https://hooks.example.com/x?y=1"));
        assert!(ok("http://hooks.example.com/x"));
        for bad in [
            "ftp://example.com",
            "/relative",
            "https://user:pw@example.com",
            "http://127.0.0.1:9000/",
            "http://[::1]/",
            "http://169.254.169.254/latest",
            "http://localhost/",
            "http://metadata.google.internal/",
            "http://intranet/",
            "http://10.0.0.5/",
            "javascript:alert(1)",
        ] {
            assert!(!ok(bad), "{bad}");
        }
        assert!(WebhookUrl::parse("webhook_url", "http://127.0.0.1:9000/", true).is_ok());
    }

    #[test]
    fn switches_in_both_shapes() {
        let list = Switches::from_json("e", Some(&json!(["social_account_connected"])))
            .unwrap()
            .unwrap();
        assert!(list.is_on("social_account_connected"));
        assert!(!list.is_on("upload_completed"));
        let map = Switches::from_json("e", Some(&json!({"upload_completed": false})))
            .unwrap()
            .unwrap();
        assert!(!map.is_on("upload_completed"));
        assert!(!map.is_on("social_account_connected"));
        assert_eq!(Switches::from_json("e", None).unwrap(), None);
        let all = Switches::from_json("e", Some(&json!(null)))
            .unwrap()
            .unwrap();
        assert!(all.is_on("anything"));
        assert!(Switches::from_json("e", Some(&json!({"x": "yes"}))).is_err());
        assert!(Switches::from_json("e", Some(&json!(["Bad Name"]))).is_err());
        assert!(Switches::from_json("e", Some(&json!("x"))).is_err());
        assert_eq!(
            list.to_json(Event::subscribable())["social_account_disconnected"],
            json!(false)
        );
    }
}
