//! The publish emulators: each platform's publishing endpoints, at the platform's paths and
//! with its bodies, plus what every emulator shares — who is calling, storing posts and
//! media, and the pages that show a stored post (`_posts/<id>`) and its media
//! (`_media/<id>`) so that a post made in the sandbox can be looked at.
//!
//! Posts and media rows are in the database (`db::sandbox`); media bytes are files under
//! the data directory, never held in memory beyond one request.

pub mod bluesky;
pub mod facebook;
mod google_business;
mod instagram;
pub mod linkedin;
mod meta;
mod page;
mod pinterest;
mod reddit;
pub mod s3;
mod threads;
pub mod tiktok;
mod x;
mod youtube;

use super::{Down, Fault, Sandbox, endpoints, people};
use crate::db::sandbox::{self as state, MEDIA_READY, NewPost};
use crate::domain::{Platform, time};
use crate::web::bearer_token;
use actix_web::web::{self, Bytes};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub use page::{media, post_page};

/// The largest body of an emulated call, unless its endpoint takes more: an X segment
/// (5 MB) with its multipart framing.
const MAX_CALL_BYTES: usize = 6 * 1024 * 1024;

/// Whether `name` is a publishing endpoint of `platform` emulated here.
pub fn emulates(platform: Platform, name: &str) -> bool {
    match platform {
        Platform::X => x::ENDPOINTS.contains(&name),
        Platform::Bluesky => bluesky::ENDPOINTS.contains(&name),
        Platform::Linkedin => {
            linkedin::ENDPOINTS.contains(&name) || linkedin::VIDEO_ENDPOINTS.contains(&name)
        }
        Platform::Youtube => youtube::ENDPOINTS.contains(&name),
        Platform::Pinterest => pinterest::ENDPOINTS.contains(&name),
        Platform::Reddit => reddit::ENDPOINTS.contains(&name),
        Platform::GoogleBusiness => name == google_business::ENDPOINT,
        // Graph's nodes and edges are all under its root.
        Platform::Facebook | Platform::Instagram | Platform::Threads => name == "graph",
        Platform::Tiktok => tiktok::ENDPOINTS.contains(&name),
    }
}

/// A call of an emulated publishing endpoint.
pub struct Incoming<'a> {
    /// The endpoint's name in the platform's provider (`media_upload`, `graph`, …).
    pub name: &'a str,
    pub req: &'a actix_web::HttpRequest,
    pub body: &'a Bytes,
    /// Query and form parameters together.
    pub params: &'a std::collections::HashMap<String, String>,
    /// A scripted fault that the emulator answers itself (`chunk_rejected`,
    /// `processing_failed`, `quota_exceeded`); the others were answered before.
    pub fault: Option<Fault>,
}

/// The largest request body an emulated endpoint takes (chunks of a resumable upload are
/// the largest).
pub fn body_limit(platform: Platform, name: &str) -> usize {
    match platform {
        Platform::Youtube => youtube::body_limit(name).unwrap_or(MAX_CALL_BYTES),
        _ => MAX_CALL_BYTES,
    }
}

/// Answers a call of a publishing endpoint (`emulates` said yes), after the fault and
/// call-log path every emulated endpoint goes through.
pub async fn answer(
    sandbox: &Sandbox,
    platform: Platform,
    call: &Incoming<'_>,
) -> Result<actix_web::HttpResponse, Down> {
    let Incoming {
        name,
        req,
        body,
        params,
        fault,
    } = *call;
    // Emulators that answer the publish faults they have a place for themselves.
    match (platform, fault) {
        (Platform::X, _) => return x::answer(sandbox, call).await,
        (Platform::Linkedin, _) if linkedin::VIDEO_ENDPOINTS.contains(&name) => {
            return linkedin::answer(sandbox, name, req, body, fault).await;
        }
        (Platform::Tiktok, _) => return tiktok::answer(sandbox, call).await,
        (Platform::Pinterest, _) => return pinterest::answer(sandbox, call).await,
        (Platform::Reddit, _) => return reddit::answer(sandbox, call).await,
        (Platform::GoogleBusiness, _) => return google_business::answer(sandbox, call).await,
        (Platform::Youtube, _) => {
            return youtube::answer(sandbox, name, req, body, params, fault).await;
        }
        (Platform::Instagram, _) => return instagram::graph(sandbox, req, params, fault).await,
        (Platform::Facebook, _) => return facebook::graph(sandbox, req, params, fault).await,
        (Platform::Threads, None | Some(Fault::ProcessingFailed)) => {
            return threads::graph(sandbox, req, params, fault).await;
        }
        (_, Some(fault)) => return Ok(fault_answer(platform, fault)),
        (_, None) => {}
    }
    match platform {
        Platform::Bluesky => bluesky::answer(sandbox, name, req, body).await,
        Platform::Linkedin => linkedin::answer(sandbox, name, req, body, None).await,
        _ => Ok(super::wire::error(
            platform,
            actix_web::http::StatusCode::NOT_FOUND,
            "not_found",
            "This endpoint is not emulated",
        )),
    }
}

/// How a platform whose emulator has no chunked upload or processing step of its own
/// answers the publish faults: as its API answers a refused request.
fn fault_answer(platform: Platform, fault: Fault) -> actix_web::HttpResponse {
    use actix_web::http::StatusCode;
    let (status, code, message) = match fault {
        Fault::QuotaExceeded => (
            StatusCode::TOO_MANY_REQUESTS,
            "quota_exceeded",
            "The daily publishing quota of this account is used up",
        ),
        Fault::ChunkRejected => (
            StatusCode::BAD_REQUEST,
            "chunk_rejected",
            "The uploaded part was rejected",
        ),
        _ => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "processing_failed",
            "The media could not be processed",
        ),
    };
    super::wire::error(platform, status, code, message)
}

/// The account behind the bearer token of a call: its person index, `None` when the
/// token is not a live access token of `platform`.
pub async fn caller(
    sandbox: &Sandbox,
    platform: Platform,
    req: &actix_web::HttpRequest,
) -> Result<Option<usize>, Down> {
    let token = bearer_token(req).unwrap_or_default();
    Ok(endpoints::live_access(sandbox, platform, &token)
        .await?
        .map(|grant| grant.person))
}

/// Stores a post. `false`: the account already has one with that id or client key.
pub async fn store_post(sandbox: &Sandbox, post: NewPost) -> Result<bool, Down> {
    sandbox
        .run(move |conn| state::insert_post(conn, &post))
        .await
}

/// An uploaded item that is ready to attach.
pub struct NewMedia<'a> {
    pub platform: Platform,
    pub person: usize,
    pub id: &'a str,
    pub content_type: &'a str,
    pub bytes: Bytes,
}

/// Writes an uploaded item's bytes to disk, then records it.
pub async fn store_media(sandbox: &Sandbox, media: NewMedia<'_>) -> Result<(), Down> {
    let path = sandbox.media_path(media.platform, media.id);
    let bytes = media.bytes;
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    web::block(move || write_file(&path, &bytes))
        .await
        .map_err(|e| Down::Disk(e.to_string()))?
        .map_err(|e| Down::Disk(e.to_string()))?;
    let row = state::Media {
        platform: media.platform.key().to_owned(),
        person: i64::try_from(media.person).unwrap_or_default(),
        id: media.id.to_owned(),
        content_type: media.content_type.to_owned(),
        size,
        alt_text: None,
        created_at: time::now(),
        state: MEDIA_READY.to_owned(),
        upload: "{}".to_owned(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await
}

/// Writes a part of an item's bytes at `offset` of its file (a chunk of a chunked
/// upload), dropping anything after it: a part sent again replaces itself.
pub async fn write_part(
    sandbox: &Sandbox,
    platform: Platform,
    id: &str,
    offset: u64,
    bytes: Bytes,
) -> Result<(), Down> {
    let path = sandbox.media_path(platform, id);
    web::block(move || {
        use std::io::{Seek, SeekFrom, Write};
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)?;
        file.set_len(offset)?;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(&bytes)?;
        file.sync_data()
    })
    .await
    .map_err(|e| Down::Disk(e.to_string()))?
    .map_err(|e| Down::Disk(e.to_string()))
}

/// Writes through a temporary file, so a reader never sees half a file.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

impl Sandbox {
    /// Where an item's bytes are kept: named by a hash of its platform and id, which are
    /// the platform's strings and may hold anything.
    fn media_path(&self, platform: Platform, id: &str) -> PathBuf {
        let name = hex::encode(Sha256::digest(format!("{}/{id}", platform.key())));
        self.media_dir.join(platform.key()).join(name)
    }

    /// The emulator's page of a post, as the account's audience would open it.
    pub fn post_url(&self, platform: Platform, post_id: &str) -> String {
        format!(
            "{}/_posts/{}",
            self.urls.sandbox(platform).as_str().trim_end_matches('/'),
            urlencoding(post_id)
        )
    }

    /// Where an uploaded item is served.
    pub fn media_url(&self, platform: Platform, id: &str) -> String {
        format!(
            "{}/_media/{}",
            self.urls.sandbox(platform).as_str().trim_end_matches('/'),
            urlencoding(id)
        )
    }
}

fn urlencoding(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// A person index as stored.
pub fn person_id(person: usize) -> i64 {
    i64::try_from(person).unwrap_or_default()
}

/// The account's handle and display name, for answers that name the author.
pub fn author(platform: Platform, person: usize) -> (String, &'static str) {
    (
        people::handle(platform, person),
        people::PEOPLE[person].name,
    )
}

/// A fresh id in the shape of X's (and many platforms') 64-bit snowflakes: milliseconds
/// since 2010-11-04 above 22 random bits, so ids grow with time.
pub fn snowflake() -> String {
    const EPOCH_MS: i64 = 1_288_834_974_657;
    let ms = time::now().and_utc().timestamp_millis() - EPOCH_MS;
    let random = i64::from(rand::random::<u32>() & 0x3f_ffff);
    ((ms << 22) | random).to_string()
}
