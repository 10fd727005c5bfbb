//! Bluesky's PDS for posts: `com.atproto.repo.uploadBlob`, `createRecord`, `getRecord`,
//! `deleteRecord` of `app.bsky.feed.post` and of the gates that restrict a post's replies
//! (`app.bsky.feed.threadgate`) and quotes (`app.bsky.feed.postgate`), and
//! `com.atproto.identity.resolveHandle`, checked as a PDS checks them and answered as XRPC
//! answers.
//!
//! Every record is a row of the sandbox's posts: a post under its record key (which its page
//! and replies name it by), a gate under its repo path `<collection>/<rkey>`, so that a
//! record key is unique within its collection as in a repo, and a repeated create collides.

pub mod video;

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
const THREADGATE: &str = "app.bsky.feed.threadgate";
const POSTGATE: &str = "app.bsky.feed.postgate";
/// The collections stored here.
const COLLECTIONS: [&str; 3] = [POST, THREADGATE, POSTGATE];

/// The endpoints emulated here.
pub const ENDPOINTS: [&str; 8] = [
    "upload_blob",
    "create_record",
    "get_record",
    "delete_record",
    "resolve_handle",
    "service_auth",
    "upload_video",
    "video_job_status",
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
    cid_of_digest(codec, &Sha256::digest(bytes))
}

/// The CID of bytes whose sha2-256 digest is `digest` (hashed as they streamed in).
fn cid_of_digest(codec: u8, digest: &[u8]) -> String {
    let mut raw = vec![0x01, codec, 0x12, 0x20];
    raw.extend_from_slice(digest);
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

fn uri(person: usize, collection: &str, rkey: &str) -> String {
    format!(
        "at://{}/{collection}/{rkey}",
        people::platform_id(BSKY, person)
    )
}

/// The key a record is stored under (see the module's comment).
fn stored_key(collection: &str, rkey: &str) -> String {
    if collection == POST {
        rkey.to_owned()
    } else {
        format!("{collection}/{rkey}")
    }
}

/// The collection named `name`, when it is one of those stored here.
fn collection_of(name: &str) -> Option<&'static str> {
    COLLECTIONS.into_iter().find(|c| *c == name)
}

/// The collection a write names, in the caller's own repo; else the PDS's refusal (an
/// `InvalidRequest` message).
fn writable_collection(request: &Value, person: usize) -> Result<&'static str, String> {
    if request["repo"].as_str().and_then(repo_owner) != Some(person) {
        return Err("Input/repo must be the authenticated account".to_owned());
    }
    request["collection"]
        .as_str()
        .and_then(collection_of)
        .ok_or_else(unknown_collection_message)
}

fn unknown_collection_message() -> String {
    format!("The sandbox stores {} records only", COLLECTIONS.join(", "))
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
        "video_job_status" => return video::job_status(sandbox, &query).await,
        "service_auth" => return video::service_auth(sandbox, req, &query).await,
        // Uploads have a streaming route of their own (`video::UPLOAD_ROUTE`).
        "upload_video" => return Ok(xrpc_error("InvalidRequest", "Upload to the video service")),
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

/// A refusal of a record, as `(error, message)`.
type Problem = Option<(&'static str, String)>;

fn invalid(message: impl Into<String>) -> Problem {
    Some(("InvalidRecord", message.into()))
}

/// What a PDS refuses in a record of `collection` stored under `rkey` in `person`'s repo.
fn record_problem(collection: &str, rkey: &str, person: usize, record: &Value) -> Problem {
    if record["$type"] != collection {
        return invalid(format!("Record/$type must be {collection}"));
    }
    if record["createdAt"].as_str().is_none() {
        return invalid("Record must have the property \"createdAt\"");
    }
    match collection {
        POST => post_problem(record),
        // A gate applies to the post under its own record key, and to no other.
        _ => gate_problem(collection, record, &uri(person, POST, rkey)),
    }
}

/// What a PDS refuses in a post record.
fn post_problem(record: &Value) -> Problem {
    let Some(text) = record["text"].as_str() else {
        return invalid("Record must have the property \"text\"");
    };
    if !Measure::BLUESKY.fits(text) || text.len() > MAX_TEXT_BYTES {
        return invalid("Record/text must not be longer than 300 graphemes");
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
    if !reply.is_null() && ["root", "parent"].iter().any(|k| !is_strong_ref(&reply[k])) {
        return invalid("Record/reply must have root and parent, each with uri and cid");
    }
    embed_problem(&record["embed"]).or_else(|| labels_problem(&record["labels"]))
}

fn is_strong_ref(value: &Value) -> bool {
    value["uri"].as_str().is_some() && value["cid"].as_str().is_some()
}

/// What a PDS refuses in a post's embed (of those the sandbox takes: not video).
fn embed_problem(embed: &Value) -> Problem {
    match embed["$type"].as_str() {
        None if embed.is_null() => None,
        Some("app.bsky.embed.images" | "app.bsky.embed.external" | "app.bsky.embed.video") => {
            media_problem(embed)
        }
        Some("app.bsky.embed.record") if is_strong_ref(&embed["record"]) => None,
        Some("app.bsky.embed.record") => invalid("Record/embed/record must have uri and cid"),
        Some("app.bsky.embed.recordWithMedia") => {
            if !is_strong_ref(&embed["record"]["record"]) {
                return invalid("Record/embed/record/record must have uri and cid");
            }
            match embed["media"]["$type"].as_str() {
                Some(
                    "app.bsky.embed.images" | "app.bsky.embed.external" | "app.bsky.embed.video",
                ) => media_problem(&embed["media"]),
                _ => invalid("Record/embed/media must be app.bsky.embed.images, external or video"),
            }
        }
        _ => invalid(
            "Record/embed must be app.bsky.embed.images, external, record or recordWithMedia",
        ),
    }
}

/// What a PDS refuses in images or a link card.
fn media_problem(media: &Value) -> Problem {
    if media["$type"] == "app.bsky.embed.video" {
        if media["video"]["ref"]["$link"].as_str().is_none() {
            return invalid("Record/embed/video must be a blob");
        }
        let ratio = &media["aspectRatio"];
        let positive = |k: &str| ratio[k].as_u64().is_some_and(|n| n > 0);
        let ratio_fits = ratio.is_null() || (positive("width") && positive("height"));
        if !ratio_fits {
            return invalid("Record/embed/aspectRatio must have a positive width and height");
        }
        return None;
    }
    if media["$type"] == "app.bsky.embed.external" {
        let card = &media["external"];
        return ["uri", "title", "description"]
            .iter()
            .find(|k| card[**k].as_str().is_none())
            .and_then(|k| {
                invalid(format!(
                    "Record/embed/external must have the property \"{k}\""
                ))
            });
    }
    let Some(images) = media["images"].as_array() else {
        return invalid("Record/embed must have the property \"images\"");
    };
    if images.len() > MAX_IMAGES {
        return invalid("Record/embed/images must not have more than 4 elements");
    }
    images
        .iter()
        .find(|i| i["image"]["ref"]["$link"].as_str().is_none() || i["alt"].as_str().is_none())
        .and_then(|_| invalid("Record/embed/images must each have an image blob and an alt"))
}

/// Self-labels: `com.atproto.label.defs#selfLabels`, at most 10 values.
fn labels_problem(labels: &Value) -> Problem {
    if labels.is_null() {
        return None;
    }
    if labels["$type"] != "com.atproto.label.defs#selfLabels" {
        return invalid("Record/labels must be com.atproto.label.defs#selfLabels");
    }
    match labels["values"].as_array() {
        Some(values)
            if values.len() <= 10
                && values.iter().all(|v| {
                    v["val"]
                        .as_str()
                        .is_some_and(|s| !s.is_empty() && s.len() <= 128)
                }) =>
        {
            None
        }
        _ => invalid("Record/labels/values must be at most 10 labels, each with a val"),
    }
}

/// What a PDS refuses in a threadgate or postgate of the post at `post_uri`.
fn gate_problem(collection: &str, record: &Value, post_uri: &str) -> Problem {
    let Some(post) = record["post"].as_str() else {
        return invalid("Record must have the property \"post\"");
    };
    if post != post_uri {
        return invalid(format!(
            "Record/post must be the post with the gate's record key: {post_uri}"
        ));
    }
    let (field, allowed): (&str, &[&str]) = if collection == THREADGATE {
        (
            "allow",
            &["mentionRule", "followerRule", "followingRule", "listRule"],
        )
    } else {
        ("embeddingRules", &["disableRule"])
    };
    let rules = &record[field];
    if rules.is_null() {
        return None;
    }
    let known = |rule: &Value| {
        rule["$type"].as_str().is_some_and(|t| {
            t.strip_prefix(collection)
                .and_then(|r| r.strip_prefix('#'))
                .is_some_and(|r| allowed.contains(&r))
        }) && (rule["$type"] != format!("{THREADGATE}#listRule") || rule["list"].is_string())
    };
    match rules.as_array() {
        Some(rules) if rules.len() <= 5 && rules.iter().all(known) => None,
        _ => invalid(format!(
            "Record/{field} must be at most 5 rules of {}",
            allowed
                .iter()
                .map(|r| format!("{collection}#{r}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The blobs a record embeds, with their alt texts (a quote's too).
fn embedded_images(record: &Value) -> Vec<(String, String)> {
    let embed = &record["embed"];
    let media = if embed["media"].is_null() {
        embed
    } else {
        &embed["media"]
    };
    if let Some(video) = media["video"]["ref"]["$link"].as_str() {
        let alt = media["alt"].as_str().unwrap_or("");
        return vec![(video.to_owned(), alt.to_owned())];
    }
    embed["images"]
        .as_array()
        .or_else(|| embed["media"]["images"].as_array())
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

/// The post a record quotes, alone or with media.
fn quoted(record: &Value) -> Option<&str> {
    let embed = &record["embed"];
    embed["record"]["uri"]
        .as_str()
        .or_else(|| embed["record"]["record"]["uri"].as_str())
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
    let collection = match writable_collection(request, person) {
        Ok(collection) => collection,
        Err(why) => return Ok(xrpc_error("InvalidRequest", &why)),
    };
    let rkey = match request["rkey"].as_str() {
        Some(key) if is_tid(key) => key.to_owned(),
        Some(_) => {
            return Ok(xrpc_error(
                "InvalidRequest",
                &format!("Invalid rkey: {collection} records take a TID"),
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
    if let Some((error, message)) = record_problem(collection, &rkey, person, record) {
        return Ok(xrpc_error(error, &message));
    }
    let images = embedded_images(record);
    let blobs: Vec<String> = images.iter().map(|(id, _)| id.clone()).collect();
    let delay = sandbox.processing_delay(BSKY).await?;
    let missing = {
        let blobs = blobs.clone();
        sandbox
            .run(move |conn| {
                for id in &blobs {
                    let found = state::find_media(conn, BSKY, Some(person_id(person)), id)?;
                    if !found.is_some_and(|m| video::embeddable(&m, delay)) {
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
    let uri = uri(person, collection, &rkey);
    let key = stored_key(collection, &rkey);
    let stored = store_post(
        sandbox,
        NewPost {
            platform: BSKY.key().to_owned(),
            person: person_id(person),
            post_id: key.clone(),
            text: record["text"].as_str().unwrap_or("").to_owned(),
            reply_to: record["reply"]["parent"]["uri"].as_str().and_then(rkey_of),
            quote_of: quoted(record).and_then(rkey_of),
            media_ids: json!(blobs).to_string(),
            client_key: Some(key),
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

fn record_view(person: usize, collection: &str, rkey: &str, post: &Post) -> Value {
    let extra = post.extra();
    json!({"uri": uri(person, collection, rkey), "cid": extra["cid"], "value": extra["record"]})
}

async fn get_record(
    sandbox: &Sandbox,
    query: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    let repo = query.get("repo").map(String::as_str).unwrap_or("");
    let collection = query.get("collection").map(String::as_str).unwrap_or("");
    let rkey = query.get("rkey").cloned().unwrap_or_default();
    let not_found = || {
        xrpc_error(
            "RecordNotFound",
            &format!("Could not locate record: at://{repo}/{collection}/{rkey}"),
        )
    };
    let (Some(person), Some(collection)) = (repo_owner(repo), collection_of(collection)) else {
        return Ok(not_found());
    };
    let key = stored_key(collection, &rkey);
    let found = sandbox
        .run(move |conn| state::find_post_by_key(conn, BSKY, person_id(person), &key))
        .await?;
    Ok(match found {
        Some(post) => HttpResponse::Ok().json(record_view(person, collection, &rkey, &post)),
        None => not_found(),
    })
}

/// Deleting is idempotent at a PDS: a record that is not there is deleted already.
async fn delete_record(
    sandbox: &Sandbox,
    person: usize,
    request: &Value,
) -> Result<HttpResponse, Down> {
    let collection = match writable_collection(request, person) {
        Ok(collection) => collection,
        Err(why) => return Ok(xrpc_error("InvalidRequest", &why)),
    };
    let key = stored_key(collection, request["rkey"].as_str().unwrap_or(""));
    sandbox
        .run(move |conn| state::delete_post(conn, BSKY, person_id(person), &key, time::now()))
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
        assert_eq!(post_problem(&ok), None);
        let mut split_char = ok.clone();
        split_char["facets"][0]["index"]["byteEnd"] = 2.into();
        assert!(post_problem(&split_char).is_some(), "inside the é");
        let mut long = ok.clone();
        long["text"] = "a".repeat(301).into();
        assert!(post_problem(&long).is_some());
        let mut langs = ok.clone();
        langs["langs"] = json!(["en", "de", "fr", "es"]);
        assert!(post_problem(&langs).is_some());
        let mut labelled = ok.clone();
        labelled["labels"] = json!({"$type": "com.atproto.label.defs#selfLabels",
            "values": [{"val": "porn"}]});
        assert_eq!(post_problem(&labelled), None);
        labelled["labels"]["$type"] = "com.atproto.label.defs#label".into();
        assert!(post_problem(&labelled).is_some());
        assert!(record_problem(THREADGATE, "3jz", 0, &ok).is_some(), "$type");
    }

    #[test]
    fn embeds_are_checked_as_a_pds_does() {
        let quote = json!({"uri": "at://did:plc:x/app.bsky.feed.post/3jz", "cid": "bafy"});
        let card = json!({"$type": "app.bsky.embed.external",
            "external": {"uri": "https://example.com", "title": "", "description": ""}});
        let good = [
            json!({"$type": "app.bsky.embed.record", "record": quote}),
            card.clone(),
            json!({"$type": "app.bsky.embed.recordWithMedia",
                "record": {"$type": "app.bsky.embed.record", "record": quote}, "media": card}),
        ];
        for embed in &good {
            assert_eq!(embed_problem(embed), None, "{embed}");
        }
        let bad = [
            json!({"$type": "app.bsky.embed.record", "record": {"uri": "at://x"}}),
            json!({"$type": "app.bsky.embed.external", "external": {"uri": "https://x"}}),
            json!({"$type": "app.bsky.embed.recordWithMedia", "record": {"record": quote},
                "media": {"$type": "app.bsky.embed.record", "record": quote}}),
            json!({"$type": "app.bsky.embed.gif"}),
        ];
        for embed in &bad {
            assert!(embed_problem(embed).is_some(), "{embed}");
        }
        let with_media = json!({"embed": good[2]});
        assert_eq!(
            quoted(&with_media),
            Some("at://did:plc:x/app.bsky.feed.post/3jz")
        );
    }

    #[test]
    fn a_gate_belongs_to_the_post_under_its_record_key() {
        let rkey = "3jzfcijpj2z2a";
        let post = uri(0, POST, rkey);
        let gate = json!({"$type": THREADGATE, "post": post, "createdAt": "2026-01-01T00:00:00Z",
            "allow": [{"$type": "app.bsky.feed.threadgate#mentionRule"}]});
        assert_eq!(record_problem(THREADGATE, rkey, 0, &gate), None);
        assert!(
            record_problem(THREADGATE, "3jzfcijpj2z2b", 0, &gate).is_some(),
            "another record key"
        );
        assert!(
            record_problem(THREADGATE, rkey, 1, &gate).is_some(),
            "another repo"
        );
        let mut unknown_rule = gate.clone();
        unknown_rule["allow"][0]["$type"] = "app.bsky.feed.postgate#disableRule".into();
        assert!(record_problem(THREADGATE, rkey, 0, &unknown_rule).is_some());
        let mut nobody = gate.clone();
        nobody["allow"] = json!([]);
        assert_eq!(record_problem(THREADGATE, rkey, 0, &nobody), None);
        let postgate = json!({"$type": POSTGATE, "post": post, "createdAt": "2026-01-01T00:00:00Z",
            "embeddingRules": [{"$type": "app.bsky.feed.postgate#disableRule"}]});
        assert_eq!(record_problem(POSTGATE, rkey, 0, &postgate), None);
        let mut no_post = postgate;
        no_post.as_object_mut().unwrap().remove("post");
        assert!(record_problem(POSTGATE, rkey, 0, &no_post).is_some());
        assert_eq!(stored_key(POST, rkey), rkey);
        assert_eq!(stored_key(POSTGATE, rkey), format!("{POSTGATE}/{rkey}"));
    }
}
