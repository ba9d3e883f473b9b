//! The request budgets the rate limiter draws from (docs/api.md §1.14), kept by the store so that
//! every instance on one database shares them.

use super::{ServiceError, Services};
use crate::store::ephemeral::{Budget, Spend};

impl Services {
    /// Spends one request from the budget named `key`, kept where every instance sees it (the
    /// store's `EphemeralState`).
    pub async fn spend_request_budget(&self, key: &str, budget: Budget) -> Result<Spend, ServiceError> {
        Ok(self.store.ephemeral.spend(key, budget).await?)
    }
}
