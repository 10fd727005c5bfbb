//! Media: the files and URLs clients publish, sniffed, limited in size, kept in the media
//! store (`store`) with a row each (`db::media`), served to platforms through signed,
//! expiring URLs, and swept once nothing needs them. Staged uploads (`staged`) add a
//! create / PUT / complete flow for big files.

pub mod fetch;
pub mod probe;
pub mod sniff;
pub mod staged;
pub mod store;
pub mod sweeper;

use crate::config::{MediaSettings, Settings};
use crate::db::media::{self as rows, MediaObject, READY};
use crate::db::{Db, DbError};
use crate::domain::link_token::LinkSigner;
use crate::domain::secrets::new_random_id;
use crate::domain::time;
use crate::domain::upload::MediaKind;
use crate::key_files;
use crate::metrics::MediaMetrics;
use crate::outbound::Guarded;
use crate::publish::publisher::{Media, MediaSource, PublishError};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Store;
use url::Url;

const ID_CHARS: usize = 24;
/// How long a URL `public_url` hands to a platform stays valid.
const PUBLIC_URL_HOURS: i64 = 6;
/// Signature purposes: a URL that serves an item, and one that receives a staged upload.
const SERVE: &str = "media";
const RECEIVE: &str = "media-upload";

/// Why media was refused or could not be handled. `api` maps it to the wire.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// More bytes than the limit of the kind (or, before the kind is known, of any kind
    /// the field accepts).
    #[error("{} is larger than the limit of {} MB", what(*.kind), .limit_bytes / (1024 * 1024))]
    TooLarge {
        kind: Option<MediaKind>,
        limit_bytes: u64,
    },
    #[error("{0}")]
    Unsupported(String),
    /// An unusable URL: malformed, private, unreachable, or an error answer.
    #[error("{0}")]
    BadUrl(String),
    #[error("Media storage is full; try again once older media has been deleted")]
    StorageFull,
    #[error("Media upload not found")]
    NotFound,
    /// A signed media URL that is forged, altered or expired.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A staged upload not in the state the call needs (completing before the PUT).
    #[error("{0}")]
    WrongState(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("media storage failed")]
    Internal(#[source] anyhow::Error),
    /// The database is unreachable: worth trying again later.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbError),
}

fn what(kind: Option<MediaKind>) -> String {
    match kind {
        Some(MediaKind::Image) => "The image".to_owned(),
        Some(MediaKind::Video) => "The video".to_owned(),
        Some(MediaKind::Document) => "The document".to_owned(),
        None => "The media".to_owned(),
    }
}

impl From<store::StoreError> for MediaError {
    fn from(e: store::StoreError) -> Self {
        MediaError::Internal(e.into())
    }
}

impl From<DbError> for MediaError {
    fn from(e: DbError) -> Self {
        if e.is_outage() {
            MediaError::Unavailable(e)
        } else {
            MediaError::Internal(e.into())
        }
    }
}

impl From<diesel::result::Error> for MediaError {
    fn from(e: diesel::result::Error) -> Self {
        match DbError::outage(&e) {
            Some(outage) => MediaError::Unavailable(outage),
            None => MediaError::Internal(e.into()),
        }
    }
}

/// Stored media and everything done with it. Cheap to clone.
#[derive(Clone)]
pub struct Library(Arc<Inner>);

struct Inner {
    db: Db,
    store: Store,
    settings: MediaSettings,
    /// Signs media URLs with the link signing keys, which every process shares.
    signer: LinkSigner,
    /// Postgate's public URL: media URLs are under it.
    base: crate::urls::Urls,
    /// Where fetches and uploads wait before they are stored.
    tmp_dir: PathBuf,
    fetcher: Guarded,
    metrics: MediaMetrics,
}

impl Library {
    pub fn open(
        settings: &Settings,
        db: Db,
        base: crate::urls::Urls,
        metrics: MediaMetrics,
    ) -> anyhow::Result<Self> {
        let tmp_dir = settings.data_dir.join("media-tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(|e| {
            anyhow::anyhow!("cannot create the directory {}: {e}", tmp_dir.display())
        })?;
        Ok(Self(Arc::new(Inner {
            store: Store::open(&settings.media, &settings.data_dir)?,
            fetcher: fetch::client(
                settings.media.fetch_timeout,
                settings.media.allow_private_urls,
            )?,
            signer: key_files::link_signer(settings)?,
            settings: settings.media.clone(),
            db,
            base,
            tmp_dir,
            metrics,
        })))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The largest item of `kind` accepted.
    pub fn limit(&self, kind: MediaKind) -> u64 {
        let s = &self.0.settings;
        match kind {
            MediaKind::Image => s.max_image_bytes,
            MediaKind::Video => s.max_video_bytes,
            MediaKind::Document => s.max_document_bytes,
        }
    }

    /// The most bytes kept at once.
    pub fn budget(&self) -> u64 {
        self.0.settings.max_stored_bytes
    }

    /// Stores a file the request carried. Its kind must be one of `allowed`.
    pub async fn ingest_file(
        &self,
        account_id: &str,
        profile_id: Option<&str>,
        path: &Path,
        filename: Option<&str>,
        allowed: &[MediaKind],
    ) -> Result<Media, MediaError> {
        let (sniffed, size) = sniff_file(path, filename).await?;
        let sniffed = self.check(sniffed, size, allowed)?;
        let id = new_random_id(ID_CHARS);
        let row = MediaObject {
            object_key: id.clone(),
            id,
            account_id: account_id.to_owned(),
            profile_id: profile_id.map(str::to_owned),
            kind: sniffed.kind.as_str().to_owned(),
            content_type: sniffed.content_type.to_owned(),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            filename: filename.map(str::to_owned),
            state: READY.to_owned(),
            source: None,
            expires_at: None,
            created_at: time::now(),
            video: None,
        };
        self.reserve(row.clone()).await?;
        if let Err(e) = self.0.store.put_file(&row.object_key, path).await {
            self.delete(std::slice::from_ref(&row.id)).await?;
            return Err(e.into());
        }
        self.report_usage().await;
        let row = self.probed(row).await?;
        Ok(media_of(&row))
    }

    /// Stores what an http(s) URL serves, fetched through the outbound guard. A media URL
    /// of this server naming a completed staged upload of the same account is that item,
    /// not fetched again.
    pub async fn ingest_url(
        &self,
        account_id: &str,
        profile_id: Option<&str>,
        url: &str,
        allowed: &[MediaKind],
    ) -> Result<Media, MediaError> {
        let url = Url::parse(url.trim())
            .map_err(|_| MediaError::BadUrl("The media URL is not a valid URL".to_owned()))?;
        if let Some(own) = self.own_item(&url) {
            return self.resolve_own(account_id, own?, allowed).await;
        }
        let most = allowed.iter().map(|&k| self.limit(k)).max().unwrap_or(0);
        let fetched = fetch::fetch(
            &self.0.fetcher,
            &url,
            most,
            self.0.settings.fetch_timeout,
            &self.0.tmp_dir,
        )
        .await?;
        self.ingest_file(
            account_id,
            profile_id,
            fetched.file.path(),
            fetched.filename.as_deref(),
            allowed,
        )
        .await
    }

    /// Deletes items and their objects. Ids that do not exist are ignored.
    pub async fn delete(&self, ids: &[String]) -> Result<(), MediaError> {
        let ids = ids.to_vec();
        let keys = self
            .0
            .db
            .run(move |conn| rows::delete(conn, &ids).map_err(MediaError::from))
            .await?;
        for key in keys {
            // A leftover object is an orphan the sweeper deletes later.
            if let Err(e) = self.0.store.delete(&key).await {
                tracing::warn!(error = %e, key, "cannot delete a media object");
            }
        }
        self.report_usage().await;
        Ok(())
    }

    /// Deletes items a caller no longer needs (a cancelled job's) now rather than at the
    /// next sweep. Their rows are already expired, so a failure here only delays it.
    pub async fn discard(&self, ids: &[String]) {
        if let Err(e) = self.delete(ids).await {
            tracing::warn!(error = %e, "cannot delete media now; the sweeper will");
        }
    }

    /// Bytes stored and reserved, across all processes.
    pub async fn usage(&self) -> Result<u64, MediaError> {
        let total = self
            .0
            .db
            .run(|conn| rows::total_size(conn).map_err(MediaError::from))
            .await?;
        let total = u64::try_from(total).unwrap_or(0);
        self.0.metrics.usage(total, self.budget());
        Ok(total)
    }

    /// Updates the metrics; a failure only costs a stale gauge.
    async fn report_usage(&self) {
        if let Err(e) = self.usage().await {
            tracing::warn!(error = %e, "cannot count stored media");
        }
    }

    /// The kind of a sniffed item if it is allowed and within its limit.
    fn check(
        &self,
        sniffed: Option<sniff::Sniffed>,
        size: u64,
        allowed: &[MediaKind],
    ) -> Result<sniff::Sniffed, MediaError> {
        let Some(sniffed) = sniffed else {
            return Err(MediaError::Unsupported(format!(
                "Unsupported media type: expected {} (JPEG, PNG, GIF, WEBP, MP4, MOV, PDF, \
                 PPT, PPTX, DOC or DOCX)",
                kind_names(allowed)
            )));
        };
        self.admit(sniffed.kind, size, allowed)?;
        Ok(sniffed)
    }

    /// Whether an item of `kind` and `size` may be used where `allowed` kinds are.
    fn admit(&self, kind: MediaKind, size: u64, allowed: &[MediaKind]) -> Result<(), MediaError> {
        if !allowed.contains(&kind) {
            return Err(MediaError::Unsupported(format!(
                "Unsupported media type: expected {}, got {kind}",
                kind_names(allowed),
            )));
        }
        let limit = self.limit(kind);
        if size > limit {
            return Err(MediaError::TooLarge {
                kind: Some(kind),
                limit_bytes: limit,
            });
        }
        Ok(())
    }

    /// Inserts a row unless the disk budget would be passed.
    async fn reserve(&self, row: MediaObject) -> Result<(), MediaError> {
        let budget = i64::try_from(self.budget()).unwrap_or(i64::MAX);
        let inserted = self
            .0
            .db
            .run(move |conn| {
                rows::insert_within_budget(conn, &row, budget).map_err(MediaError::from)
            })
            .await?;
        if inserted {
            Ok(())
        } else {
            Err(MediaError::StorageFull)
        }
    }

    /// A URL under `/media/{id}` signed for `purpose`, valid until `exp` (Unix seconds).
    fn signed_url(&self, purpose: &str, id: &str, exp: i64) -> Url {
        let mut url = self.0.base.absolute(&format!("/media/{id}"));
        url.query_pairs_mut()
            .append_pair("exp", &exp.to_string())
            .append_pair("sig", &self.0.signer.mac_hex(purpose, &subject(id, exp)));
        url
    }

    /// Checks a signed media URL's signature and expiry.
    pub fn verify(
        &self,
        purpose: Purpose,
        id: &str,
        exp: i64,
        sig: &str,
    ) -> Result<(), MediaError> {
        if !self
            .0
            .signer
            .mac_matches(purpose.as_str(), &subject(id, exp), sig)
        {
            return Err(MediaError::Forbidden("Invalid media URL signature"));
        }
        if exp <= time::now().and_utc().timestamp() {
            return Err(MediaError::Forbidden("This media URL has expired"));
        }
        Ok(())
    }

    /// `Some` when `url` is one of our media URLs: its id if the signature holds.
    fn own_item(&self, url: &Url) -> Option<Result<String, MediaError>> {
        let prefix = self.0.base.absolute("/media/");
        if url.origin() != prefix.origin() {
            return None;
        }
        let id = url.path().strip_prefix(prefix.path())?;
        if id.is_empty() || id.contains('/') {
            return None;
        }
        let query = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let exp = query("exp").and_then(|e| e.parse().ok()).unwrap_or(0);
        let sig = query("sig").unwrap_or_default();
        Some(
            self.verify(Purpose::Serve, id, exp, &sig)
                .map(|()| id.to_owned())
                .map_err(|e| MediaError::BadUrl(format!("Cannot use the media URL: {e}"))),
        )
    }

    /// A completed staged upload of this account, now held for the post that names it.
    async fn resolve_own(
        &self,
        account_id: &str,
        id: String,
        allowed: &[MediaKind],
    ) -> Result<Media, MediaError> {
        let account = account_id.to_owned();
        let row = self
            .0
            .db
            .run(move |conn| rows::find_owned(conn, &account, &id).map_err(MediaError::from))
            .await?
            .filter(|r| r.state == READY)
            .ok_or_else(|| {
                MediaError::BadUrl("The media URL names no media of yours".to_owned())
            })?;
        let media = media_of(&row);
        self.admit(media.kind, media.size, allowed)?;
        // The post needs it for as long as it runs: the engine releases it.
        let ids = vec![row.id];
        self.0
            .db
            .run(move |conn| rows::set_expiry(conn, &ids, None).map_err(MediaError::from))
            .await?;
        Ok(media)
    }
}

/// What a signed media URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `GET /media/{id}`: read the item.
    Serve,
    /// `PUT /media/{id}`: send a staged upload's bytes.
    Receive,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Serve => SERVE,
            Purpose::Receive => RECEIVE,
        }
    }
}

fn kind_names(kinds: &[MediaKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

fn subject(id: &str, exp: i64) -> String {
    format!("{id}.{exp}")
}

/// The type of a file from its first bytes, and its size.
async fn sniff_file(
    path: &Path,
    filename: Option<&str>,
) -> Result<(Option<sniff::Sniffed>, u64), MediaError> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| MediaError::Internal(e.into()))?;
    let size = file
        .metadata()
        .await
        .map_err(|e| MediaError::Internal(e.into()))?
        .len();
    let mut head = Vec::with_capacity(sniff::SNIFF_BYTES);
    file.take(sniff::SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .await
        .map_err(|e| MediaError::Internal(e.into()))?;
    Ok((sniff::sniff(&head, filename), size))
}

/// The publishing seam's view of a row. Rows hold kinds this code wrote.
fn media_of(row: &MediaObject) -> Media {
    Media {
        id: row.id.clone(),
        kind: MediaKind::parse(&row.kind).unwrap_or(MediaKind::Document),
        content_type: row.content_type.clone(),
        size: u64::try_from(row.size).unwrap_or(0),
        filename: row.filename.clone(),
        video: row
            .video
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok()),
    }
}

impl Library {
    /// A stored video's row with what probing found in it, recorded; other kinds as they are.
    async fn probed(&self, row: MediaObject) -> Result<MediaObject, MediaError> {
        if row.kind != MediaKind::Video.as_str() {
            return Ok(row);
        }
        let size = u64::try_from(row.size).unwrap_or(0);
        let Some(found) = probe::video(&self.0.store, &row.object_key, size).await else {
            return Ok(row);
        };
        let json = serde_json::to_string(&found).map_err(|e| MediaError::Internal(e.into()))?;
        let (id, recorded) = (row.id.clone(), json.clone());
        self.0
            .db
            .run(move |conn| rows::set_video(conn, &id, &recorded).map_err(MediaError::from))
            .await?;
        Ok(MediaObject {
            video: Some(json),
            ..row
        })
    }
}

/// A storage failure while publishing: a later attempt may read it.
fn unreadable(e: impl std::fmt::Display) -> PublishError {
    PublishError::refused("media_unreadable", format!("cannot read media: {e}"), true)
}

impl Library {
    /// Where a stored item's bytes are, for a publisher.
    async fn object_key(&self, media: &Media) -> Result<String, PublishError> {
        let id = media.id.clone();
        let row = self
            .0
            .db
            .run(move |conn| rows::find(conn, &id).map_err(MediaError::from))
            .await
            .map_err(unreadable)?
            .ok_or_else(|| PublishError::invalid("media_missing", "The media was deleted"))?;
        Ok(row.object_key)
    }
}

#[async_trait]
impl MediaSource for Library {
    async fn bytes(&self, media: &Media) -> Result<Bytes, PublishError> {
        let key = self.object_key(media).await?;
        self.0.store.read(&key).await.map_err(unreadable)
    }

    async fn range(&self, media: &Media, range: Range<u64>) -> Result<Bytes, PublishError> {
        let key = self.object_key(media).await?;
        self.0.store.range(&key, range).await.map_err(unreadable)
    }

    async fn stream(
        &self,
        media: &Media,
    ) -> Result<BoxStream<'static, Result<Bytes, PublishError>>, PublishError> {
        let key = self.object_key(media).await?;
        let chunks = self.0.store.stream(&key).await.map_err(unreadable)?;
        Ok(chunks.map(|c| c.map_err(unreadable)).boxed())
    }

    fn public_url(&self, media: &Media) -> String {
        let exp = time::now().and_utc().timestamp() + PUBLIC_URL_HOURS * 3600;
        self.signed_url(SERVE, &media.id, exp).to_string()
    }
}
