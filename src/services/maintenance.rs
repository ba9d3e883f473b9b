//! Background upkeep: removing stored media that no record references (left by a crash between
//! storing media and committing its record, or by a failed best-effort delete), hourly view
//! records older than the widest trending window, notifications older than their retention, and
//! expired resumable uploads.

use std::time::Duration;

use super::{ServiceError, Services};
use crate::domain::Timestamp;
use crate::domain::trending::oldest_kept_hour;
use crate::error::Chain;
use crate::media;

/// Candidates are checked against the store in batches so memory stays small.
const BATCH: usize = 500;

impl Services {
    /// Deletes media objects older than the grace period that no record references; returns how many.
    pub async fn reconcile_media(&self) -> Result<usize, ServiceError> {
        let grace = Duration::from_secs(self.config.media_orphan_grace_secs);
        let candidates = self.media.keys_older_than(grace).await?;
        let mut removed = 0;
        for batch in candidates.chunks(BATCH) {
            let orphans = self.store.media_index.unreferenced(batch).await?;
            for key in &orphans {
                tracing::warn!(%key, "removing orphaned media object");
            }
            removed += orphans.len();
            media::delete_quietly(self.media.as_ref(), orphans).await;
        }
        Ok(removed)
    }

    /// Deletes the hourly view records no trending window can reach any more; returns how many.
    pub async fn prune_view_hours(&self) -> Result<u64, ServiceError> {
        Ok(self.store.videos.prune_view_hours(oldest_kept_hour(Timestamp::now())).await?)
    }

    /// Runs the upkeep (media reconciliation, pruning of old view records, the sweep of expired
    /// resumable uploads) now and then on the configured interval, for the life of the process.
    pub fn spawn_maintenance(&self) {
        let services = self.clone();
        let every = Duration::from_secs(self.config.media_reconcile_interval_secs);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                match services.reconcile_media().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "orphaned media reconciliation finished"),
                    Err(e) => tracing::error!(error = %Chain(&e), "orphaned media reconciliation failed"),
                }
                match services.prune_view_hours().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "old hourly view records pruned"),
                    Err(e) => tracing::error!(error = %Chain(&e), "pruning hourly view records failed"),
                }
                match services.prune_notifications().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "old notifications pruned"),
                    Err(e) => tracing::error!(error = %Chain(&e), "pruning old notifications failed"),
                }
                if let Err(e) = services.sweep_uploads().await {
                    tracing::error!(error = %Chain(&e), "sweep of expired resumable uploads failed");
                }
            }
        });
    }
}
