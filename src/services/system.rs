//! What the HTTP edge needs from the backends besides the rules: the healthcheck probes
//! (docs/api.md §3.2) and the shared request budgets the rate limiter draws from.

use std::time::Duration;

use super::{ServiceError, Services};
use crate::store::ephemeral::{Budget, Spend};

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

    /// Spends one request from the budget named `key`, kept where every instance sees it (the
    /// store's `EphemeralState`).
    pub async fn spend_request_budget(&self, key: &str, budget: Budget) -> Result<Spend, ServiceError> {
        Ok(self.store.ephemeral.spend(key, budget).await?)
    }
}
