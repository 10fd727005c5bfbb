//! Staged uploads (the MCP client's `media-uploads`): the client declares a file, PUTs its
//! bytes to a signed URL, then completes it; the bytes are sniffed and the upload becomes a
//! temporary `media_url` to pass as `video` or `photos[]`. Uncompleted or unused uploads
//! expire after 24 hours.

use super::{Library, MediaError, Purpose, RECEIVE, SERVE, sniff};
use crate::db::media::{self as rows, MediaObject, READY, STAGING, UPLOADED};
use crate::domain::secrets::new_random_id;
use crate::domain::time;
use crate::domain::upload::MediaKind;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};

/// How long a staged upload lives, from its creation.
pub const STAGING_HOURS: i64 = 24;
const MAX_FILENAME_CHARS: usize = 255;

/// What a client declares when it stages an upload.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub filename: String,
    pub content_type: String,
    pub content_length: u64,
    pub kind: MediaKind,
    pub source: Option<String>,
}

/// A staged upload and the URLs that go with its state.
#[derive(Debug, Clone)]
pub struct Staged {
    pub row: MediaObject,
    /// Where to PUT the bytes, until they are completed.
    pub upload_url: Option<String>,
    /// The temporary URL of the completed upload.
    pub media_url: Option<String>,
}

impl Library {
    /// Stages an upload: reserves its declared size against the disk budget.
    pub async fn stage(&self, account_id: &str, new: NewUpload) -> Result<Staged, MediaError> {
        if new.content_length == 0 {
            return Err(MediaError::BadRequest(
                "content_length must be a positive number of bytes".to_owned(),
            ));
        }
        if new.filename.trim().is_empty() || new.filename.chars().count() > MAX_FILENAME_CHARS {
            return Err(MediaError::BadRequest(format!(
                "filename is required (at most {MAX_FILENAME_CHARS} characters)"
            )));
        }
        let limit = self.limit(new.kind);
        if new.content_length > limit {
            return Err(MediaError::TooLarge {
                kind: Some(new.kind),
                limit_bytes: limit,
            });
        }
        let now = time::now();
        let id = new_random_id(super::ID_CHARS);
        let row = MediaObject {
            object_key: id.clone(),
            id,
            account_id: account_id.to_owned(),
            profile_id: None,
            kind: new.kind.as_str().to_owned(),
            content_type: new.content_type,
            size: i64::try_from(new.content_length).unwrap_or(i64::MAX),
            filename: Some(new.filename),
            state: STAGING.to_owned(),
            // Set on staged uploads only: it tells them from media a post carried.
            source: Some(new.source.unwrap_or_else(|| "api".to_owned())),
            expires_at: Some(now + chrono::Duration::hours(STAGING_HOURS)),
            created_at: now,
            video: None,
        };
        self.reserve(row.clone()).await?;
        self.report_usage().await;
        Ok(self.staged(row))
    }

    /// The account's staged upload.
    pub async fn upload(&self, account_id: &str, id: &str) -> Result<Staged, MediaError> {
        let (account, id) = (account_id.to_owned(), id.to_owned());
        let row = self
            .0
            .db
            .run(move |conn| rows::find_owned(conn, &account, &id).map_err(MediaError::from))
            .await?
            .filter(|r| r.source.is_some())
            .ok_or(MediaError::NotFound)?;
        Ok(self.staged(row))
    }

    /// Deletes the account's staged upload and its bytes.
    pub async fn delete_upload(&self, account_id: &str, id: &str) -> Result<(), MediaError> {
        let staged = self.upload(account_id, id).await?;
        self.delete(&[staged.row.id]).await
    }

    /// Receives the bytes of a staged upload, checked against the declared length while
    /// they stream to the store. The signed URL is the credential.
    pub async fn receive<S, E>(
        &self,
        id: &str,
        exp: i64,
        sig: &str,
        mut body: S,
    ) -> Result<MediaObject, MediaError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.verify(Purpose::Receive, id, exp, sig)?;
        let found = id.to_owned();
        let row = self
            .0
            .db
            .run(move |conn| rows::find(conn, &found).map_err(MediaError::from))
            .await?
            .filter(|r| r.source.is_some())
            .ok_or(MediaError::NotFound)?;
        if row.state == READY {
            return Err(MediaError::WrongState(
                "This upload is already complete".to_owned(),
            ));
        }
        let declared = u64::try_from(row.size).unwrap_or(0);
        let mut writer = self.0.store.writer(&row.object_key);
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    writer.abort().await;
                    return Err(MediaError::BadRequest(format!("The upload broke off: {e}")));
                }
            };
            if writer.written() + chunk.len() as u64 > declared {
                writer.abort().await;
                return Err(MediaError::BadRequest(format!(
                    "The body is longer than the declared content_length ({declared} bytes)"
                )));
            }
            if let Err(e) = writer.write(&chunk).await {
                writer.abort().await;
                return Err(e.into());
            }
        }
        if writer.written() != declared {
            let got = writer.written();
            writer.abort().await;
            return Err(MediaError::BadRequest(format!(
                "The body has {got} bytes, not the declared content_length ({declared} bytes)"
            )));
        }
        writer.finish().await?;
        let (id, from, content_type, size) = (
            row.id.clone(),
            row.state.clone(),
            row.content_type.clone(),
            row.size,
        );
        self.0
            .db
            .run(move |conn| {
                rows::advance(conn, &id, &from, UPLOADED, &content_type, size)
                    .map_err(MediaError::from)
            })
            .await?;
        Ok(MediaObject {
            state: UPLOADED.to_owned(),
            ..row
        })
    }

    /// Completes a staged upload: its bytes must be of the declared `media_type`.
    pub async fn complete(&self, account_id: &str, id: &str) -> Result<Staged, MediaError> {
        let staged = self.upload(account_id, id).await?;
        let row = staged.row;
        match row.state.as_str() {
            READY => return Ok(self.staged(row)),
            STAGING => {
                return Err(MediaError::WrongState(
                    "Nothing was uploaded yet: PUT the file to upload_url first".to_owned(),
                ));
            }
            _ => {}
        }
        let size = u64::try_from(row.size).unwrap_or(0);
        let head = self
            .0
            .store
            .head(&row.object_key, sniff::SNIFF_BYTES as u64, size)
            .await?;
        let declared = MediaKind::parse(&row.kind).unwrap_or(MediaKind::Document);
        let sniffed = self.check(
            sniff::sniff(&head, row.filename.as_deref()),
            size,
            &[declared],
        )?;
        let content_type = sniffed.content_type.to_owned();
        let (rid, ct) = (row.id.clone(), content_type.clone());
        let advanced = self
            .0
            .db
            .run(move |conn| {
                rows::advance(conn, &rid, UPLOADED, READY, &ct, row.size).map_err(MediaError::from)
            })
            .await?;
        if !advanced {
            // Another request completed it (or it was deleted) meanwhile.
            return self.upload(account_id, id).await;
        }
        let row = self
            .probed(MediaObject {
                state: READY.to_owned(),
                content_type,
                ..row
            })
            .await?;
        Ok(self.staged(row))
    }

    /// The row and its bytes for `GET /media/{id}`, if the signed URL holds.
    pub async fn open_signed(
        &self,
        id: &str,
        exp: i64,
        sig: &str,
    ) -> Result<(MediaObject, BoxStream<'static, Result<Bytes, MediaError>>), MediaError> {
        self.verify(Purpose::Serve, id, exp, sig)?;
        let found = id.to_owned();
        let row = self
            .0
            .db
            .run(move |conn| rows::find(conn, &found).map_err(MediaError::from))
            .await?
            .filter(|r| r.state == READY)
            .ok_or(MediaError::NotFound)?;
        let stream = self.0.store.stream(&row.object_key).await?;
        Ok((row, stream.map(|c| c.map_err(MediaError::from)).boxed()))
    }

    fn staged(&self, row: MediaObject) -> Staged {
        let exp = row
            .expires_at
            .unwrap_or_else(|| row.created_at + chrono::Duration::hours(STAGING_HOURS))
            .and_utc()
            .timestamp();
        let url = |purpose| Some(self.signed_url(purpose, &row.id, exp).to_string());
        let (upload_url, media_url) = if row.state == READY {
            (None, url(SERVE))
        } else {
            (url(RECEIVE), None)
        };
        Staged {
            row,
            upload_url,
            media_url,
        }
    }
}
