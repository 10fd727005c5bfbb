//! Bluesky's PDS for posts: `com.atproto.repo.uploadBlob`, `createRecord`, `getRecord`,
//! `deleteRecord` of `app.bsky.feed.post`, and `com.atproto.identity.resolveHandle`,
//! checked as a PDS checks them and answered as XRPC answers.

use super::super::{Down, Sandbox, people, wire};
use super::{NewMedia, caller, person_id, store_media, store_post};
use crate::db::sandbox::{self as state, NewPost, Post};
use crate::domain::tid::{is_tid, tid};
use crate::domain::{Platform, time};
use crate::publish::text::Measure;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const BSKY: Platform = Platform::Bluesky;
const POST: &str = "app.bsky.feed.post";

/// The endpoints emulated here.
pub const ENDPOINTS: [&str; 5] = [
    "upload_blob",
    "create_record",
    "get_record",
    "delete_record",
    "resolve_handle",
];

/// Largest image blob a post may embed.
const MAX_BLOB_BYTES: usize = 1_000_000;
const MAX_IMAGES: usize = 4;
const MAX_TEXT_BYTES: usize = 3000;

/// An XRPC error.
fn xrpc_error(error: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": error, "message": message}))
}

/// A CIDv1 (sha2-256) of `bytes` with `codec`, in base32 as atproto writes them.
fn cid(codec: u8, bytes: &[u8]) -> String {
    let mut raw = vec![0x01, codec, 0x12, 0x20];
    raw.extend_from_slice(&Sha256::digest(bytes));
    format!("b{}", base32(&raw))
}

/// RFC 4648 base32, lower case, without padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The person a repo (a DID or a handle) belongs to.
fn repo_owner(repo: &str) -> Option<usize> {
    (0..people::PEOPLE.len())
        .find(|n| people::platform_id(BSKY, *n) == repo || people::handle(BSKY, *n) == repo)
}

fn uri(person: usize, rkey: &str) -> String {
    format!("at://{}/{POST}/{rkey}", people::platform_id(BSKY, person))
}

pub async fn answer(
    sandbox: &Sandbox,
    name: &str,
    req: &HttpRequest,
    body: &Bytes,
) -> Result<HttpResponse, Down> {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    // Reads are public; writes need the account's session.
    match name {
        "get_record" => return get_record(sandbox, &query).await,
        "resolve_handle" => return Ok(resolve_handle(&query)),
        _ => {}
    }
    let Some(person) = caller(sandbox, BSKY, req).await? else {
        return Ok(wire::unauthorized(BSKY));
    };
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match name {
        "upload_blob" => upload_blob(sandbox, person, req, body).await,
        "create_record" => create_record(sandbox, person, &request).await,
        _ => delete_record(sandbox, person, &request).await,
    }
}

fn resolve_handle(query: &HashMap<String, String>) -> HttpResponse {
    let handle = query.get("handle").map(String::as_str).unwrap_or("");
    match (0..people::PEOPLE.len()).find(|n| people::handle(BSKY, *n) == handle) {
        Some(n) => HttpResponse::Ok().json(json!({"did": people::platform_id(BSKY, n)})),
        None => xrpc_error("InvalidRequest", "Unable to resolve handle"),
    }
}

async fn upload_blob(
    sandbox: &Sandbox,
    person: usize,
    req: &HttpRequest,
    body: &Bytes,
) -> Result<HttpResponse, Down> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    if body.is_empty() {
        return Ok(xrpc_error("InvalidRequest", "A blob body is required"));
    }
    if body.len() > MAX_BLOB_BYTES {
        return Ok(xrpc_error(
            "BlobTooLarge",
            &format!(
                "This file is too large. It is {} bytes but the maximum size is {MAX_BLOB_BYTES} bytes.",
                body.len()
            ),
        ));
    }
    let id = cid(0x55, body);
    store_media(
        sandbox,
        NewMedia {
            platform: BSKY,
            person,
            id: &id,
            content_type: &content_type,
            bytes: body.clone(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({"blob": {
        "$type": "blob", "ref": {"$link": id}, "mimeType": content_type, "size": body.len(),
    }})))
}

/// What a PDS refuses in a post record, as `(error, message)`.
fn record_problem(record: &Value) -> Option<(&'static str, String)> {
    let invalid = |m: &str| Some(("InvalidRecord", m.to_owned()));
    if record["$type"] != POST {
        return invalid("Record/$type must be app.bsky.feed.post");
    }
    let Some(text) = record["text"].as_str() else {
        return invalid("Record must have the property \"text\"");
    };
    if !Measure::BLUESKY.fits(text) || text.len() > MAX_TEXT_BYTES {
        return invalid("Record/text must not be longer than 300 graphemes");
    }
    if record["createdAt"].as_str().is_none() {
        return invalid("Record must have the property \"createdAt\"");
    }
    for facet in record["facets"].as_array().into_iter().flatten() {
        let index = &facet["index"];
        let (Some(start), Some(end)) = (index["byteStart"].as_u64(), index["byteEnd"].as_u64())
        else {
            return invalid("Record/facets/index must have byteStart and byteEnd");
        };
        let (start, end) = (start as usize, end as usize);
        if start >= end || end > text.len() || text.get(start..end).is_none() {
            return invalid("Record/facets/index must be a byte range of the text");
        }
    }
    if let Some(langs) = record["langs"].as_array()
        && langs.len() > 3
    {
        return invalid("Record/langs must not have more than 3 elements");
    }
    let reply = &record["reply"];
    if !reply.is_null()
        && ["root", "parent"]
            .iter()
            .any(|k| reply[k]["uri"].as_str().is_none() || reply[k]["cid"].as_str().is_none())
    {
        return invalid("Record/reply must have root and parent, each with uri and cid");
    }
    None
}

/// The blobs a record embeds, with their alt texts.
fn embedded_images(record: &Value) -> Vec<(String, String)> {
    record["embed"]["images"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|image| {
            (
                image["image"]["ref"]["$link"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                image["alt"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The record key at the end of an `at://` URI.
fn rkey_of(uri: &str) -> Option<String> {
    uri.rsplit('/').next().map(str::to_owned)
}

async fn create_record(
    sandbox: &Sandbox,
    person: usize,
    request: &Value,
) -> Result<HttpResponse, Down> {
    if request["repo"].as_str().and_then(repo_owner) != Some(person) {
        return Ok(xrpc_error(
            "InvalidRequest",
            "Input/repo must be the authenticated account",
        ));
    }
    if request["collection"] != POST {
        return Ok(xrpc_error(
            "InvalidRequest",
            "The sandbox stores app.bsky.feed.post records only",
        ));
    }
    let rkey = match request["rkey"].as_str() {
        Some(key) if is_tid(key) => key.to_owned(),
        Some(_) => {
            return Ok(xrpc_error(
                "InvalidRequest",
                "Invalid rkey: posts take a TID",
            ));
        }
        None => {
            let micros = time::now().and_utc().timestamp_micros();
            tid(
                u64::try_from(micros).unwrap_or_default(),
                rand::random::<u16>(),
            )
        }
    };
    let record = &request["record"];
    if let Some((error, message)) = record_problem(record) {
        return Ok(xrpc_error(error, &message));
    }
    let images = embedded_images(record);
    if images.len() > MAX_IMAGES {
        return Ok(xrpc_error(
            "InvalidRecord",
            "Record/embed/images must not have more than 4 elements",
        ));
    }
    let blobs: Vec<String> = images.iter().map(|(id, _)| id.clone()).collect();
    let missing = {
        let blobs = blobs.clone();
        sandbox
            .run(move |conn| {
                for id in &blobs {
                    if state::find_media(conn, BSKY, Some(person_id(person)), id)?.is_none() {
                        return Ok(Some(id.clone()));
                    }
                }
                Ok(None)
            })
            .await?
    };
    if let Some(id) = missing {
        return Ok(xrpc_error(
            "InvalidRequest",
            &format!("Could not find blob: {id}"),
        ));
    }
    let record_cid = cid(0x71, record.to_string().as_bytes());
    let uri = uri(person, &rkey);
    let stored = store_post(
        sandbox,
        NewPost {
            platform: BSKY.key().to_owned(),
            person: person_id(person),
            post_id: rkey.clone(),
            text: record["text"].as_str().unwrap_or("").to_owned(),
            reply_to: record["reply"]["parent"]["uri"].as_str().and_then(rkey_of),
            quote_of: record["embed"]["record"]["uri"].as_str().and_then(rkey_of),
            media_ids: json!(blobs).to_string(),
            client_key: Some(rkey),
            extra: json!({
                "record": record,
                "cid": record_cid,
                "alt_texts": images.iter().map(|(_, alt)| alt).collect::<Vec<_>>(),
            })
            .to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    if !stored {
        return Ok(xrpc_error(
            "RecordAlreadyExists",
            &format!("Record already exists: {uri}"),
        ));
    }
    Ok(HttpResponse::Ok().json(json!({
        "uri": uri, "cid": record_cid,
        "commit": {"cid": cid(0x71, uri.as_bytes()), "rev": tid(0, 0)},
        "validationStatus": "valid",
    })))
}

fn record_view(person: usize, post: &Post) -> Value {
    let extra = post.extra();
    json!({"uri": uri(person, &post.post_id), "cid": extra["cid"], "value": extra["record"]})
}

async fn get_record(
    sandbox: &Sandbox,
    query: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let repo = query.get("repo").map(String::as_str).unwrap_or("");
    let rkey = query.get("rkey").cloned().unwrap_or_default();
    let not_found = || {
        xrpc_error(
            "RecordNotFound",
            &format!("Could not locate record: at://{repo}/{POST}/{rkey}"),
        )
    };
    let (Some(person), Some(POST)) = (
        repo_owner(repo),
        query.get("collection").map(String::as_str),
    ) else {
        return Ok(not_found());
    };
    let key = rkey.clone();
    let found = sandbox
        .run(move |conn| state::find_post_by_key(conn, BSKY, person_id(person), &key))
        .await?;
    Ok(match found {
        Some(post) => HttpResponse::Ok().json(record_view(person, &post)),
        None => not_found(),
    })
}

/// Deleting is idempotent at a PDS: a record that is not there is deleted already.
async fn delete_record(
    sandbox: &Sandbox,
    person: usize,
    request: &Value,
) -> Result<HttpResponse, Down> {
    if request["repo"].as_str().and_then(repo_owner) != Some(person) {
        return Ok(xrpc_error(
            "InvalidRequest",
            "Input/repo must be the authenticated account",
        ));
    }
    let rkey = request["rkey"].as_str().unwrap_or("").to_owned();
    sandbox
        .run(move |conn| state::delete_post(conn, BSKY, person_id(person), &rkey, time::now()))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"commit": {"cid": cid(0x71, b"delete"), "rev": tid(0, 0)}})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cids_look_like_atproto_cids() {
        let blob = cid(0x55, b"hello");
        assert!(blob.starts_with("bafkrei"), "{blob}");
        assert_eq!(blob.len(), 59);
        assert!(cid(0x71, b"{}").starts_with("bafyrei"));
        assert_eq!(base32(b"f"), "my");
    }

    #[test]
    fn records_are_checked_as_a_pds_does() {
        let ok = json!({"$type": POST, "text": "héllo", "createdAt": "2026-01-01T00:00:00Z",
            "facets": [{"index": {"byteStart": 0, "byteEnd": 6}, "features": []}]});
        assert_eq!(record_problem(&ok), None);
        let mut split_char = ok.clone();
        split_char["facets"][0]["index"]["byteEnd"] = 2.into();
        assert!(record_problem(&split_char).is_some(), "inside the é");
        let mut long = ok.clone();
        long["text"] = "a".repeat(301).into();
        assert!(record_problem(&long).is_some());
        let mut langs = ok;
        langs["langs"] = json!(["en", "de", "fr", "es"]);
        assert!(record_problem(&langs).is_some());
    }
}
