//! The sweeper: deletes media whose expiry passed (staged uploads never completed, items
//! a finished job released) and objects whose row is gone (a profile or account deleted
//! took its rows along). Every process runs one; repeats are harmless.

use super::{Library, MediaError};
use crate::db::media as rows;
use crate::domain::time;
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::watch;

/// Rows deleted, and keys checked, per query.
const BATCH: usize = 500;

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub expired: usize,
    pub orphans: usize,
}

impl Library {
    /// One sweep.
    pub async fn sweep(&self) -> Result<Swept, MediaError> {
        let mut swept = Swept::default();
        loop {
            let now = time::now();
            let ids = self
                .0
                .db
                .run(move |conn| rows::expired(conn, now, BATCH as i64).map_err(MediaError::from))
                .await?;
            if ids.is_empty() {
                break;
            }
            swept.expired += ids.len();
            self.delete(&ids).await?;
        }
        // Rows are written before their objects, so an object without a row is garbage,
        // never an upload still under way.
        let keys = self.0.store.keys().await?;
        for chunk in keys.chunks(BATCH) {
            let chunk = chunk.to_vec();
            let asked = chunk.clone();
            let known: HashSet<String> = self
                .0
                .db
                .run(move |conn| rows::known_keys(conn, &asked).map_err(MediaError::from))
                .await?
                .into_iter()
                .collect();
            for key in chunk.iter().filter(|k| !known.contains(*k)) {
                self.0.store.delete(key).await?;
                swept.orphans += 1;
            }
        }
        self.report_usage().await;
        Ok(swept)
    }
}

/// Sweeps every `interval` until `stop` turns true.
pub async fn run(library: Library, interval: Duration, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        match library.sweep().await {
            Ok(Swept {
                expired: 0,
                orphans: 0,
            }) => {}
            Ok(swept) => tracing::info!(?swept, "swept media"),
            Err(e) => tracing::warn!(error = %e, "cannot sweep media"),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
    }
}
