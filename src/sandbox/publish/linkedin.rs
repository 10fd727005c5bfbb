//! LinkedIn's Posts API as the emulator answers it: `images|documents?action=initializeUpload`
//! hands out an upload URL (a PUT of the bytes under `dms-uploads/`), `POST /rest/posts`
//! answers 201 with the URN in `x-restli-id`, `GET /rest/posts?q=author` lists, `DELETE
//! /rest/posts/{urn}` deletes, `socialActions/{urn}/comments` comments, and
//! `feed/update/{urn}/` — where LinkedIn shows a post — leads to the stored post's page.
//! Errors are Rest.li's `{status, code, message}`.

pub mod video;

use super::super::{Down, Fault, Sandbox, people, wire};
use super::{NewMedia, caller, person_id, snowflake, store_media, store_post};
use crate::db::sandbox::{self as state, NewPost};
use crate::domain::{Platform, time};
use actix_web::http::{Method, StatusCode, header};
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use chrono::DateTime;
use serde_json::{Value, json};

const PLATFORM: Platform = Platform::Linkedin;
const MAX_COMMENTARY: usize = 3000;
const VISIBILITIES: [&str; 4] = ["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"];
const MAX_MULTI_IMAGE: usize = 20;
const MAX_LISTED: i64 = 100;
/// Where upload URLs point, under the emulator's base (LinkedIn's are under
/// `www.linkedin.com/dms-uploads/`), and the route that takes them.
const UPLOAD_PATH: &str = "/dms-uploads/";
pub const UPLOAD_ROUTE: &str = "/sandbox/linkedin/dms-uploads/{urn}";
/// Documents are up to 100 MB; images far less.
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// Rest.li's error body.
fn rest_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .json(json!({"status": status.as_u16(), "code": code, "message": message}))
}

fn unprocessable(message: &str) -> HttpResponse {
    rest_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        message,
    )
}

fn denied(what: &str) -> HttpResponse {
    rest_error(
        StatusCode::FORBIDDEN,
        "ACCESS_DENIED",
        &format!("Not enough permissions to access: {what}"),
    )
}

/// A URN from a path segment, which clients send URL-encoded.
fn decoded(segment: &str) -> String {
    url::form_urlencoded::parse(format!("v={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The commentary as readers see it: LinkedIn's "little text" escapes removed.
fn unescape(commentary: &str) -> String {
    let mut out = String::with_capacity(commentary.len());
    let mut chars = commentary.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next)) if !next.is_alphanumeric() && !next.is_whitespace() => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The endpoints this module answers.
pub const ENDPOINTS: [&str; 6] = [
    "posts",
    "post",
    "images",
    "documents",
    "social_actions",
    "post_page",
];

/// The Videos API's endpoints (`video`), which answer the publish faults themselves.
pub const VIDEO_ENDPOINTS: [&str; 2] = ["videos", "video"];

/// A call of one of `ENDPOINTS`.
pub async fn answer(
    sandbox: &Sandbox,
    name: &str,
    req: &HttpRequest,
    body: &Bytes,
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    let tail = decoded(req.match_info().get("tail").unwrap_or(""));
    if name == "post_page" {
        let urn = tail.trim_end_matches('/');
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, sandbox.post_url(PLATFORM, urn)))
            .finish());
    }
    let Some(person) = caller(sandbox, PLATFORM, req).await? else {
        return Ok(wire::unauthorized(PLATFORM));
    };
    let has = |h: &str| {
        req.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if has("LinkedIn-Version").is_none() {
        return Ok(rest_error(
            StatusCode::BAD_REQUEST,
            "VERSION_MISSING",
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
        ));
    }
    if has("X-Restli-Protocol-Version").as_deref() != Some("2.0.0") {
        return Ok(rest_error(
            StatusCode::BAD_REQUEST,
            "ILLEGAL_ARGUMENT",
            "This API speaks Rest.li protocol 2.0.0 (X-Restli-Protocol-Version)",
        ));
    }
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if VIDEO_ENDPOINTS.contains(&name) {
        return video::answer(sandbox, person, name, req, &json, fault).await;
    }
    let method = req.method();
    Ok(match (name, method) {
        ("images" | "documents", &Method::POST) => initialize(req, name, person, &json),
        ("posts", &Method::POST) => create(sandbox, person, &json).await?,
        ("posts", &Method::GET) => list(sandbox, req, person).await?,
        ("post", &Method::DELETE) => delete(sandbox, person, &tail).await?,
        ("social_actions", &Method::POST) => comment(sandbox, person, &tail, &json).await?,
        _ => rest_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "The method is not allowed on this resource",
        ),
    })
}

/// `?action=initializeUpload`: a URN and where to PUT the bytes.
fn initialize(req: &HttpRequest, api: &str, person: usize, body: &Value) -> HttpResponse {
    if !req.query_string().contains("action=initializeUpload") {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "ILLEGAL_ARGUMENT",
            "Unknown action",
        );
    }
    let owner = body["initializeUploadRequest"]["owner"]
        .as_str()
        .unwrap_or("");
    if owner.is_empty() {
        return unprocessable("/initializeUploadRequest/owner :: field is required but not found");
    }
    if !urns(person).iter().any(|u| u == owner) {
        return denied(&format!("{api}.initializeUpload for owner {owner}"));
    }
    let (key, urn) = if api == "documents" {
        (
            "document",
            format!("urn:li:document:D4E10AQ{}", snowflake()),
        )
    } else {
        ("image", format!("urn:li:image:C4E10AQ{}", snowflake()))
    };
    let mut upload = req.full_url();
    let own_path = req.path().to_owned();
    let base = own_path
        .strip_suffix(&format!("/rest/{api}"))
        .unwrap_or(&own_path);
    let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
    upload.set_path(&format!("{base}{UPLOAD_PATH}{encoded}"));
    upload.set_query(None);
    let expires = (time::now() + chrono::Duration::hours(1))
        .and_utc()
        .timestamp_millis();
    HttpResponse::Ok().json(json!({"value": {
        "uploadUrlExpiresAt": expires, "uploadUrl": upload.as_str(), key: urn}}))
}

/// `PUT dms-uploads/{urn}`: the bytes of an image or document, kept for the caller.
pub async fn upload(
    sandbox: Data<Sandbox>,
    req: HttpRequest,
    path: Path<String>,
    body: Bytes,
) -> HttpResponse {
    let urn = decoded(&path.into_inner());
    let result = async {
        let Some(person) = caller(&sandbox, PLATFORM, &req).await? else {
            return Ok(wire::unauthorized(PLATFORM));
        };
        if urn.starts_with("urn:li:video:") {
            return video::put_part(&sandbox, person, &urn, &req, body).await;
        }
        let content_type = if urn.starts_with("urn:li:image:") {
            super::meta::sniff_image(&body)
        } else if urn.starts_with("urn:li:document:") {
            sniff_document(&body)
        } else {
            None
        };
        let Some(content_type) = content_type else {
            return Ok(rest_error(
                StatusCode::BAD_REQUEST,
                "INVALID_MEDIA",
                "The upload is not an image or document LinkedIn takes",
            ));
        };
        store_media(
            &sandbox,
            NewMedia {
                platform: PLATFORM,
                person,
                id: &urn,
                content_type,
                bytes: body,
            },
        )
        .await?;
        Ok(HttpResponse::Created().finish())
    }
    .await;
    result.unwrap_or_else(|down: Down| down.answer(PLATFORM))
}

/// PDF, or an Office file (OLE container for DOC/PPT, ZIP for DOCX/PPTX).
fn sniff_document(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        Some("application/x-ole-storage")
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some("application/zip")
    } else {
        None
    }
}

/// Whether an uploaded item of the caller's exists.
async fn uploaded(sandbox: &Sandbox, person: usize, urn: &str) -> Result<bool, Down> {
    let urn = urn.to_owned();
    let delay = sandbox.processing_delay(PLATFORM).await?;
    Ok(sandbox
        .run(move |conn| state::find_media(conn, PLATFORM, Some(person_id(person)), &urn))
        .await?
        .is_some_and(|m| video::available(&m, delay)))
}

/// The facets a target entity may name, and the URN each value must be (`""`: LinkedIn's
/// own codes; interface locales are objects).
const TARGET_FACETS: [(&str, &str); 9] = [
    ("geoLocations", "urn:li:geo:"),
    ("industries", "urn:li:industry:"),
    ("seniorities", "urn:li:seniority:"),
    ("jobFunctions", "urn:li:function:"),
    ("degrees", "urn:li:degree:"),
    ("fieldsOfStudy", "urn:li:fieldOfStudy:"),
    ("organizations", "urn:li:organization:"),
    ("staffCountRanges", ""),
    ("interfaceLocales", ""),
];

/// What LinkedIn says of `distribution.targetEntities` it would refuse: a list of objects of
/// known facets with well-formed values, and only on an organization's post.
fn targeting_problem(author: &str, entities: &Value) -> Option<&'static str> {
    let entities = match entities {
        Value::Null => return None,
        Value::Array(all) if all.is_empty() => return None,
        Value::Array(all) => all,
        _ => return Some("/distribution/targetEntities :: must be an array"),
    };
    if !author.starts_with("urn:li:organization:") {
        return Some("/distribution/targetEntities :: only organization posts can be targeted");
    }
    let well_formed = |facet: &str, prefix: &str, v: &Value| match facet {
        "interfaceLocales" => v["language"].is_string() && v["country"].is_string(),
        _ => v
            .as_str()
            .is_some_and(|s| s.starts_with(prefix) && s.len() > prefix.len()),
    };
    let fine = entities.iter().all(|entity| {
        entity.as_object().is_some_and(|facets| {
            !facets.is_empty()
                && facets.iter().all(|(facet, values)| {
                    TARGET_FACETS.iter().any(|(name, prefix)| {
                        name == facet
                            && values.as_array().is_some_and(|vs| {
                                !vs.is_empty() && vs.iter().all(|v| well_formed(facet, prefix, v))
                            })
                    })
                })
        })
    });
    (!fine).then_some("/distribution/targetEntities :: unknown facet or malformed value")
}

/// What LinkedIn says of a poll it would refuse: a question of at most 140 characters,
/// 2 to 4 options of at most 30, and one of its four durations.
fn poll_problem(poll: &Value) -> Option<&'static str> {
    let chars = |v: &Value| v.as_str().map(|s| s.chars().count());
    if !chars(&poll["question"]).is_some_and(|n| (1..=140).contains(&n)) {
        return Some("/content/poll/question :: 1 to 140 characters are required");
    }
    let options = poll["options"].as_array().map_or(&[][..], Vec::as_slice);
    if !(2..=4).contains(&options.len())
        || !options
            .iter()
            .all(|o| chars(&o["text"]).is_some_and(|n| (1..=30).contains(&n)))
    {
        return Some("/content/poll/options :: 2 to 4 options of 1 to 30 characters");
    }
    let durations = ["ONE_DAY", "THREE_DAYS", "SEVEN_DAYS", "FOURTEEN_DAYS"];
    if !poll["settings"]["duration"]
        .as_str()
        .is_some_and(|d| durations.contains(&d))
    {
        return Some("/content/poll/settings/duration :: not a poll duration");
    }
    None
}

/// The post's media ids and alt texts, or why the content is refused.
async fn content(
    sandbox: &Sandbox,
    person: usize,
    content: &Value,
) -> Result<Result<(Vec<String>, Vec<Value>), HttpResponse>, Down> {
    let items: Vec<&Value> = match content {
        Value::Null => return Ok(Ok((Vec::new(), Vec::new()))),
        c if c["media"].is_object() => {
            let media = &c["media"];
            if media["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("urn:li:document:"))
                && media["title"].as_str().is_none_or(str::is_empty)
            {
                return Ok(Err(unprocessable(
                    "/content/media/title :: a document needs a title",
                )));
            }
            vec![media]
        }
        c if c["multiImage"].is_object() => {
            let images: Vec<&Value> = c["multiImage"]["images"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            if !(2..=MAX_MULTI_IMAGE).contains(&images.len()) {
                return Ok(Err(unprocessable(&format!(
                    "/content/multiImage/images :: a multi-image post has 2 to {MAX_MULTI_IMAGE} images"
                ))));
            }
            images
        }
        c if c["article"].is_object() => {
            let article = &c["article"];
            let source_ok = article["source"]
                .as_str()
                .and_then(|s| url::Url::parse(s).ok())
                .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
            if !source_ok || article["title"].as_str().is_none_or(str::is_empty) {
                return Ok(Err(unprocessable(
                    "/content/article :: source (an http(s) URL) and title are required",
                )));
            }
            return Ok(Ok((Vec::new(), Vec::new())));
        }
        c if c["poll"].is_object() => {
            return Ok(match poll_problem(&c["poll"]) {
                Some(problem) => Err(unprocessable(problem)),
                None => Ok((Vec::new(), Vec::new())),
            });
        }
        _ => return Ok(Err(unprocessable("/content :: unknown content type"))),
    };
    let mut ids = Vec::new();
    let mut alts = Vec::new();
    for item in items {
        let id = item["id"].as_str().unwrap_or("");
        if !uploaded(sandbox, person, id).await? {
            return Ok(Err(unprocessable(&format!(
                "/content :: media {id} was not uploaded by this member"
            ))));
        }
        ids.push(id.to_owned());
        alts.push(item["altText"].clone());
    }
    Ok(Ok((ids, alts)))
}

async fn create(sandbox: &Sandbox, person: usize, body: &Value) -> Result<HttpResponse, Down> {
    let author = body["author"].as_str().unwrap_or("");
    if !urns(person).iter().any(|u| u == author) {
        return Ok(denied(&format!(
            "partnerApiPostsExternal.CREATE for author {author:?}"
        )));
    }
    let Some(commentary) = body["commentary"].as_str() else {
        return Ok(unprocessable(
            "/commentary :: field is required but not found",
        ));
    };
    if commentary.chars().count() > MAX_COMMENTARY {
        return Ok(unprocessable(&format!(
            "/commentary :: length exceeds {MAX_COMMENTARY}"
        )));
    }
    let visibility = body["visibility"].as_str().unwrap_or("");
    if !VISIBILITIES.contains(&visibility) {
        return Ok(unprocessable("/visibility :: not a valid visibility"));
    }
    if body["distribution"]["feedDistribution"].as_str().is_none() {
        return Ok(unprocessable(
            "/distribution/feedDistribution :: field is required but not found",
        ));
    }
    if let Some(problem) = targeting_problem(author, &body["distribution"]["targetEntities"]) {
        return Ok(unprocessable(problem));
    }
    if body["lifecycleState"] != "PUBLISHED" {
        return Ok(unprocessable(
            "/lifecycleState :: only PUBLISHED posts are supported",
        ));
    }
    let (media_ids, alt_texts) = match content(sandbox, person, &body["content"]).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    if commentary.trim().is_empty() && media_ids.is_empty() && body["content"].is_null() {
        return Ok(unprocessable(
            "/commentary :: a post without content needs commentary",
        ));
    }
    let urn = format!("urn:li:share:{}", snowflake());
    let extra = json!({
        "author": author, "commentary": commentary, "visibility": visibility,
        "content": body["content"], "alt_texts": alt_texts,
        "isReshareDisabledByAuthor": body["isReshareDisabledByAuthor"],
        "targetEntities": body["distribution"]["targetEntities"],
    });
    let stored = store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: urn.clone(),
            text: unescape(commentary),
            reply_to: None,
            quote_of: None,
            media_ids: json!(media_ids).to_string(),
            client_key: None,
            extra: extra.to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    if !stored {
        return Ok(unprocessable("Content is a duplicate"));
    }
    Ok(HttpResponse::Created()
        .insert_header(("x-restli-id", urn))
        .finish())
}

/// `GET /rest/posts?q=author&author=…`: the author's posts, newest first.
async fn list(sandbox: &Sandbox, req: &HttpRequest, person: usize) -> Result<HttpResponse, Down> {
    let query: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    let author = query.get("author").cloned().unwrap_or_default();
    if query.get("q").map(String::as_str) != Some("author") || author.is_empty() {
        return Ok(rest_error(
            StatusCode::BAD_REQUEST,
            "ILLEGAL_ARGUMENT",
            "q=author and author are required",
        ));
    }
    if !urns(person).contains(&author) {
        return Ok(denied(&format!("posts of {author}")));
    }
    let count = query
        .get("count")
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(10)
        .clamp(1, MAX_LISTED);
    let posts = sandbox
        .run(move |conn| {
            state::posts_since(
                conn,
                PLATFORM,
                person_id(person),
                DateTime::UNIX_EPOCH.naive_utc(),
                MAX_LISTED,
            )
        })
        .await?;
    let elements: Vec<Value> = posts
        .iter()
        .filter(|p| p.reply_to.is_none() && p.extra()["author"] == author.as_str())
        .take(usize::try_from(count).unwrap_or(10))
        .map(|p| {
            let extra = p.extra();
            let at = p.created_at.and_utc().timestamp_millis();
            json!({"id": p.post_id, "author": extra["author"], "commentary": extra["commentary"],
                "visibility": extra["visibility"], "lifecycleState": "PUBLISHED",
                "createdAt": at, "publishedAt": at, "lastModifiedAt": at,
                "distribution": {"feedDistribution": "MAIN_FEED"}})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "paging": {"start": 0, "count": count, "links": []}, "elements": elements})))
}

async fn delete(sandbox: &Sandbox, person: usize, urn: &str) -> Result<HttpResponse, Down> {
    let urn = urn.to_owned();
    let deleted = sandbox
        .run(move |conn| state::delete_post(conn, PLATFORM, person_id(person), &urn, time::now()))
        .await?;
    Ok(if deleted {
        HttpResponse::NoContent().finish()
    } else {
        rest_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Not Found")
    })
}

/// `POST socialActions/{urn}/comments`.
async fn comment(
    sandbox: &Sandbox,
    person: usize,
    tail: &str,
    body: &Value,
) -> Result<HttpResponse, Down> {
    let Some(urn) = tail.strip_suffix("/comments") else {
        return Ok(rest_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Not Found"));
    };
    let actor = body["actor"].as_str().unwrap_or("");
    if !urns(person).iter().any(|u| u == actor) {
        return Ok(denied(&format!("comments as {actor:?}")));
    }
    let Some(text) = body["message"]["text"]
        .as_str()
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok(unprocessable(
            "/message/text :: field is required but not found",
        ));
    };
    let target = urn.to_owned();
    if sandbox
        .run(move |conn| state::find_post(conn, PLATFORM, &target))
        .await?
        .is_none()
    {
        return Ok(rest_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The post does not exist",
        ));
    }
    let id = snowflake();
    let comment_urn = format!("urn:li:comment:({urn},{id})");
    store_post(
        sandbox,
        NewPost {
            platform: PLATFORM.key().to_owned(),
            person: person_id(person),
            post_id: comment_urn.clone(),
            text: unescape(text),
            reply_to: Some(urn.to_owned()),
            quote_of: None,
            media_ids: "[]".to_owned(),
            client_key: None,
            extra: json!({"author": actor}).to_string(),
            created_at: time::now(),
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("x-restli-id", comment_urn))
        .json(json!({"id": id, "actor": actor, "object": urn, "message": {"text": text}})))
}

/// The URNs a member may post as: theirs, and the organizations they administer.
pub fn urns(person: usize) -> Vec<String> {
    let mut urns = vec![format!(
        "urn:li:person:{}",
        people::platform_id(PLATFORM, person)
    )];
    urns.extend(
        people::targets(PLATFORM, person)
            .into_iter()
            .map(|(urn, _, _)| urn),
    );
    urns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_text_escapes_are_removed_for_readers() {
        assert_eq!(
            unescape(r"Read this \(really\) \_now\_ #rust"),
            "Read this (really) _now_ #rust"
        );
        assert_eq!(unescape(r"a\\b"), r"a\b");
        assert_eq!(unescape(r"keep \n"), r"keep \n");
    }

    #[test]
    fn polls_are_refused_as_linkedin_would() {
        let good = serde_json::json!({
            "question": "Q?",
            "options": [{"text": "a"}, {"text": "b"}],
            "settings": {"duration": "ONE_DAY"},
        });
        assert_eq!(poll_problem(&good), None);
        for (pointer, bad) in [
            ("/question", serde_json::json!("q".repeat(141))),
            ("/options", serde_json::json!([{"text": "a"}])),
            ("/options/1/text", serde_json::json!("o".repeat(31))),
            ("/settings/duration", serde_json::json!("TWO_DAYS")),
        ] {
            let mut poll = good.clone();
            *poll.pointer_mut(pointer).unwrap() = bad;
            assert!(poll_problem(&poll).is_some(), "{pointer}");
        }
    }

    #[test]
    fn targeting_is_for_organizations_and_known_facets() {
        let org = "urn:li:organization:42";
        let good = serde_json::json!([{
            "geoLocations": ["urn:li:geo:103644278"],
            "interfaceLocales": [{"language": "en", "country": "US"}],
            "staffCountRanges": ["SIZE_11_TO_50"],
        }]);
        assert_eq!(targeting_problem(org, &good), None);
        assert_eq!(
            targeting_problem("urn:li:person:a", &serde_json::json!([])),
            None
        );
        assert!(targeting_problem("urn:li:person:a", &good).is_some());
        for bad in [
            serde_json::json!({"geoLocations": []}),
            serde_json::json!([{"planets": ["urn:li:geo:1"]}]),
            serde_json::json!([{"industries": ["urn:li:geo:1"]}]),
            serde_json::json!([{"interfaceLocales": ["en_US"]}]),
            serde_json::json!([{}]),
        ] {
            assert!(targeting_problem(org, &bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn urns_in_paths_are_decoded() {
        assert_eq!(decoded("urn%3Ali%3Ashare%3A1"), "urn:li:share:1");
        assert_eq!(decoded("urn:li:share:1/"), "urn:li:share:1/");
    }
}
