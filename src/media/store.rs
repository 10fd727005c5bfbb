//! Where media bytes live: a directory under the data directory by default, or an
//! S3-compatible bucket that several Postgate processes share. Writes are streamed: nothing
//! holds a whole video in memory.

use crate::config::{MediaSettings, MediaStore};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Writes up to this size are one PUT; bigger ones are multipart uploads of parts this big
/// (S3 wants at least 5 MiB per part but the last).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight at once per upload.
const PARTS_IN_FLIGHT: usize = 2;
/// How much of a file is read at a time.
const READ_BYTES: usize = 256 * 1024;

/// Where in a bucket media is kept.
pub const S3_PREFIX: &str = "postgate/media";

pub type StoreError = object_store::Error;

/// The configured object store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
}

impl Store {
    /// The store `settings` names; a local one is rooted at `<data_dir>/media`.
    pub fn open(settings: &MediaSettings, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let inner: Arc<dyn ObjectStore> = match &settings.store {
            MediaStore::Local => {
                let root = data_dir.join("media");
                std::fs::create_dir_all(&root).map_err(|e| {
                    anyhow::anyhow!("cannot create the media directory {}: {e}", root.display())
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true))
            }
            MediaStore::S3(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(id) = &s3.access_key_id {
                    builder = builder.with_access_key_id(id);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose());
                }
                // Only this prefix is ours: the sweeper deletes what it finds there.
                Arc::new(PrefixStore::new(builder.build()?, S3_PREFIX))
            }
        };
        Ok(Self { inner })
    }

    /// A streaming writer of a new object.
    pub fn writer(&self, key: &str) -> Writer {
        Writer {
            store: self.clone(),
            path: Path::from(key),
            state: WriterState::Buffer(Vec::new()),
            written: 0,
        }
    }

    /// Stores a file, streamed from disk. Returns its size.
    pub async fn put_file(&self, key: &str, file: &std::path::Path) -> Result<u64, StoreError> {
        let mut reader = tokio::fs::File::open(file)
            .await
            .map_err(|e| io_error(file, e))?;
        let mut writer = self.writer(key);
        let mut buf = vec![0u8; READ_BYTES];
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    writer.abort().await;
                    return Err(io_error(file, e));
                }
            };
            if let Err(e) = writer.write(&buf[..n]).await {
                writer.abort().await;
                return Err(e);
            }
        }
        writer.finish().await
    }

    /// The first `n` bytes (fewer if the object is shorter).
    pub async fn head(&self, key: &str, n: u64, size: u64) -> Result<Bytes, StoreError> {
        let end = n.min(size);
        if end == 0 {
            return Ok(Bytes::new());
        }
        self.range(key, 0..end).await
    }

    /// Bytes `range` of the object.
    pub async fn range(&self, key: &str, range: std::ops::Range<u64>) -> Result<Bytes, StoreError> {
        self.inner.get_range(&Path::from(key), range).await
    }

    /// The whole object in memory: photos and documents only.
    pub async fn read(&self, key: &str) -> Result<Bytes, StoreError> {
        self.inner.get(&Path::from(key)).await?.bytes().await
    }

    /// The object as a stream of chunks.
    pub async fn stream(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, StoreError>>, StoreError> {
        Ok(self.inner.get(&Path::from(key)).await?.into_stream())
    }

    /// Deletes an object; one already gone is fine.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.delete(&Path::from(key)).await {
            Err(StoreError::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The key of every object.
    pub async fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.inner
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .boxed()
            .try_collect()
            .await
    }
}

fn io_error(path: &std::path::Path, source: std::io::Error) -> StoreError {
    StoreError::Generic {
        store: "file",
        source: format!("{}: {source}", path.display()).into(),
    }
}

enum WriterState {
    /// Small so far: one PUT at the end.
    Buffer(Vec<u8>),
    /// Past one part: a multipart upload under way.
    Multipart(WriteMultipart),
}

/// Writes one object from chunks as they arrive: `finish` stores it, `abort` leaves nothing.
/// (Dropped without either, a multipart upload is left to the bucket's lifecycle rules.)
pub struct Writer {
    store: Store,
    path: Path,
    state: WriterState,
    written: u64,
}

impl Writer {
    pub fn written(&self) -> u64 {
        self.written
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.written += chunk.len() as u64;
        match &mut self.state {
            WriterState::Buffer(buf) if buf.len() + chunk.len() <= PART_BYTES => {
                buf.extend_from_slice(chunk);
            }
            WriterState::Buffer(buf) => {
                let upload = self.store.inner.put_multipart(&self.path).await?;
                let mut multipart = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                multipart.write(buf);
                multipart.write(chunk);
                self.state = WriterState::Multipart(multipart);
            }
            WriterState::Multipart(multipart) => {
                multipart.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                multipart.write(chunk);
            }
        }
        Ok(())
    }

    /// Completes the object; returns its size.
    pub async fn finish(self) -> Result<u64, StoreError> {
        match self.state {
            WriterState::Buffer(buf) => {
                self.store
                    .inner
                    .put(&self.path, PutPayload::from(buf))
                    .await?;
            }
            WriterState::Multipart(multipart) => {
                multipart.finish().await?;
            }
        }
        Ok(self.written)
    }

    /// Gives up: no object is left.
    pub async fn abort(self) {
        if let WriterState::Multipart(multipart) = self.state
            && let Err(e) = multipart.abort().await
        {
            tracing::warn!(error = %e, "cannot abort a multipart media upload");
        }
    }
}
