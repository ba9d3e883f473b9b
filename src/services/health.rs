//! The healthcheck (docs/api.md §3.2): a bounded probe of each backend.

use std::time::Duration;

use super::Services;

/// How long each backend probe may take before it counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// One backend as the healthcheck reports it.
pub struct Probe {
    pub backend: &'static str,
    pub reachable: bool,
}

pub struct HealthReport {
    pub store: Probe,
    pub media: Probe,
}

impl Services {
    /// Probes the store and the media backend at once, each bounded by `PROBE_TIMEOUT`.
    pub async fn health(&self) -> HealthReport {
        let (store_ok, media_ok) = tokio::join!(
            tokio::time::timeout(PROBE_TIMEOUT, self.store.health.ping()),
            tokio::time::timeout(PROBE_TIMEOUT, self.media.ping()),
        );
        HealthReport {
            store: Probe { backend: self.store.health.backend(), reachable: store_ok.unwrap_or(false) },
            media: Probe { backend: self.media.backend(), reachable: media_ok.unwrap_or(false) },
        }
    }
}
