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
/// Every secret starts with it, and no sealed one does.
pub const SECRET_PREFIX: &str = "whsec_";
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

/// IPv4 networks that are not the public internet (RFC 6890 and its successors), as
/// (network, prefix length).
const NOT_PUBLIC_V4: [([u8; 4], u32); 16] = [
    ([0, 0, 0, 0], 8),          // "this network"
    ([10, 0, 0, 0], 8),         // private
    ([100, 64, 0, 0], 10),      // shared address space (carrier-grade NAT)
    ([127, 0, 0, 0], 8),        // loopback
    ([169, 254, 0, 0], 16),     // link-local, cloud metadata
    ([172, 16, 0, 0], 12),      // private
    ([192, 0, 0, 0], 24),       // IETF protocol assignments
    ([192, 0, 2, 0], 24),       // documentation
    ([192, 88, 99, 0], 24),     // 6to4 relay anycast
    ([192, 168, 0, 0], 16),     // private
    ([198, 18, 0, 0], 15),      // benchmarking
    ([198, 51, 100, 0], 24),    // documentation
    ([203, 0, 113, 0], 24),     // documentation
    ([224, 0, 0, 0], 4),        // multicast
    ([240, 0, 0, 0], 4),        // reserved
    ([255, 255, 255, 255], 32), // broadcast
];

/// IPv6 networks inside global unicast (2000::/3) that are not the public internet. Outside
/// 2000::/3 nothing is: loopback, unspecified, IPv4-compatible, IPv4-translated, NAT64
/// (64:ff9b::/96, 64:ff9b:1::/48), discard, unique-local, site-local, link-local, multicast.
const NOT_PUBLIC_V6: [(u128, u32); 4] = [
    // IETF protocol assignments: Teredo, benchmarking, ORCHID, ...
    (0x2001_0000 << 96, 23),
    (0x2001_0db8 << 96, 32), // documentation
    (0x2002 << 112, 16),     // 6to4, a tunnel to any IPv4 address
    (0x3fff << 112, 20),     // documentation
];

fn in_network(ip: u128, bits: u32, network: u128, prefix: u32) -> bool {
    let shift = bits - prefix;
    ip >> shift == network >> shift
}

/// Whether an address is on the public internet. IPv4 addresses mapped into IPv6
/// (`::ffff:a.b.c.d`) are judged as the IPv4 address they reach; every other IPv6 address
/// must be global unicast outside the special ranges.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let ip = u128::from(u32::from(v4));
            !NOT_PUBLIC_V4
                .iter()
                .any(|&(net, prefix)| in_network(ip, 32, u32::from_be_bytes(net).into(), prefix))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let ip = u128::from(v6);
                in_network(ip, 128, 0x2000 << 112, 3)
                    && !NOT_PUBLIC_V6
                        .iter()
                        .any(|&(net, prefix)| in_network(ip, 128, net, prefix))
            }
        },
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
    fn public_addresses() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "2001:200::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn every_special_range_is_refused() {
        for (ip, range) in [
            ("0.0.0.0", "this network"),
            ("0.255.255.255", "this network"),
            ("10.1.2.3", "private"),
            ("100.64.0.1", "shared"),
            ("100.127.255.255", "shared"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("169.254.169.254", "link-local"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("192.88.99.1", "6to4 relay"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.255", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::127.0.0.1", "IPv4-compatible"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
            ("::ffff:10.0.0.1", "IPv4-mapped private"),
            ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
            ("::ffff:0:127.0.0.1", "IPv4-translated"),
            ("::ffff:0:8.8.8.8", "IPv4-translated"),
            ("64:ff9b::7f00:1", "NAT64"),
            ("64:ff9b::808:808", "NAT64"),
            ("64:ff9b:1::1", "local NAT64"),
            ("100::1", "discard"),
            ("2001::1", "Teredo"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("2001:2::1", "benchmarking"),
            ("2001:10::1", "ORCHID"),
            ("2001:20::1", "ORCHIDv2"),
            ("2001:db8::1", "documentation"),
            ("2002:7f00:1::1", "6to4"),
            ("2002:808:808::1", "6to4"),
            ("3fff::1", "documentation"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("feff::1", "site-local"),
            ("ff02::1", "multicast"),
            ("ff0e::1", "multicast"),
            ("4000::1", "reserved, outside global unicast"),
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} ({range})");
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
