//! Request extractors that fail with `ApiError`, so even a malformed request gets our JSON.

use crate::db::accounts::Account;
use crate::db::api_keys;
use crate::domain::secrets::{Credential, parse_authorization};
use crate::domain::text;
use crate::error::ApiError;
use crate::limits::{client_ip, network, unix_now};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

/// Largest JSON body we read.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// A JSON object body, read whatever the `Content-Type` says (real clients are sloppy about
/// it). An empty body reads as `{}`: the Python SDK sends no body when it has nothing to say.
/// Unknown members are simply never looked at.
#[derive(Debug, Default)]
pub struct JsonObject(pub Map<String, Value>);

impl JsonObject {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => match unstorable_member(&map) {
                Some(member) => Err(ApiError::UnstorableText(member)),
                None => Ok(Self(map)),
            },
            Ok(Value::Null) => Ok(Self::default()),
            Ok(_) => Err(ApiError::BodyNotAnObject),
            Err(e) => Err(ApiError::InvalidJson(e.to_string())),
        }
    }
}

impl FromRequest for JsonObject {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > BODY_LIMIT_BYTES as u64) {
                return Err(ApiError::PayloadTooLarge(BODY_LIMIT_BYTES));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::InvalidJson(e.to_string()))?;
                if body.len() + chunk.len() > BODY_LIMIT_BYTES {
                    return Err(ApiError::PayloadTooLarge(BODY_LIMIT_BYTES));
                }
                body.extend_from_slice(&chunk);
            }
            JsonObject::parse(&body)
        })
    }
}

/// The first member (as a path: `metadata.k`, `platforms[1]`) holding a string that
/// cannot be stored, member names included.
fn unstorable_member(map: &Map<String, Value>) -> Option<String> {
    fn within(path: String, v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !text::is_storable(s) => Some(path),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| within(format!("{path}[{i}]"), item)),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                if text::is_storable(k) {
                    within(format!("{path}.{k}"), v)
                } else {
                    Some(format!("A member name in {path}"))
                }
            }),
            _ => None,
        }
    }
    map.iter().find_map(|(k, v)| {
        if text::is_storable(k) {
            within(k.clone(), v)
        } else {
            Some("A member name".to_owned())
        }
    })
}

/// The API account behind `Authorization: Apikey <key>`, counted against its request quota.
/// Addresses that keep presenting bad keys are blocked for a while before any lookup.
pub struct Authenticated(pub Account);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))?;
            let now = unix_now();
            let ip = client_ip(&req, state.trust_proxy_headers).map(network);
            if let Some(retry_after) = ip.and_then(|ip| state.auth_guard.blocked_for(ip, now)) {
                return Err(ApiError::AuthBlocked { retry_after });
            }
            let key = match req.headers().get(header::AUTHORIZATION) {
                None => return Err(ApiError::MissingCredentials),
                Some(value) => match value.to_str().ok().and_then(parse_authorization) {
                    Some(Credential::ApiKey(key)) => key.to_owned(),
                    Some(Credential::Bearer(_)) | None => return Err(ApiError::InvalidApiKey),
                },
            };
            let account = state
                .db
                .run(move |conn| api_keys::authenticate(conn, &key).map_err(ApiError::from))
                .await?;
            let Some(account) = account else {
                if let Some(ip) = ip {
                    state.auth_guard.failed(ip, now);
                }
                return Err(ApiError::InvalidApiKey);
            };
            if let Some(quota) = state.requests.check(&account.id, now) {
                req.extensions_mut().insert(quota);
                if !quota.allowed {
                    return Err(ApiError::RateLimited {
                        limit: quota.limit,
                        retry_after: quota.retry_after(now),
                    });
                }
            }
            Ok(Authenticated(account))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies() {
        assert!(JsonObject::parse(b"").unwrap().0.is_empty());
        assert!(JsonObject::parse(b"  \n").unwrap().0.is_empty());
        assert!(JsonObject::parse(b"null").unwrap().0.is_empty());
        assert_eq!(
            JsonObject::parse(br#"{"a":1}"#).unwrap().get("a"),
            Some(&Value::from(1))
        );
        assert!(matches!(
            JsonObject::parse(b"[1]"),
            Err(ApiError::BodyNotAnObject)
        ));
        assert!(matches!(
            JsonObject::parse(b"\"s\""),
            Err(ApiError::BodyNotAnObject)
        ));
        assert!(matches!(
            JsonObject::parse(b"{oops"),
            Err(ApiError::InvalidJson(_))
        ));
        assert!(matches!(
            JsonObject::parse(&[0xff, 0xfe]),
            Err(ApiError::InvalidJson(_))
        ));
    }

    #[test]
    fn nul_bytes_are_refused_naming_their_member() {
        let refused = |body: &str| match JsonObject::parse(body.as_bytes()) {
            Err(ApiError::UnstorableText(member)) => member,
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(refused(r#"{"name":"a\u0000b"}"#), "name");
        assert_eq!(
            refused(r#"{"metadata":{"k":["ok","\u0000"]}}"#),
            "metadata.k[1]"
        );
        assert_eq!(
            refused(r#"{"metadata":{"k\u0000":1}}"#),
            "A member name in metadata"
        );
        assert_eq!(refused(r#"{"\u0000":1}"#), "A member name");
        // An escaped NUL inside a string that is itself JSON text is just text.
        assert!(JsonObject::parse(br#"{"name":"a\\u0000b"}"#).is_ok());
        // A lone surrogate is not text at all.
        assert!(matches!(
            JsonObject::parse(br#"{"name":"\ud800"}"#),
            Err(ApiError::InvalidJson(_))
        ));
    }
}
