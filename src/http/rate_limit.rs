//! Per-client-IP request budgets (fixed windows), answering 429 with `Retry-After`.
//! Memory is bounded: expired windows are swept, and beyond a cap the oldest windows are dropped.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::extract::client_ip;
use crate::config::{RateLimit, RateLimits};
use crate::error::Chain;
use crate::http::error::AppError;
use crate::services::Services;
use crate::store::ephemeral::{Budget, Spend};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Scope {
    Auth,
    Refresh,
    Upload,
    Api,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Auth => "auth",
            Scope::Refresh => "refresh",
            Scope::Upload => "upload",
            Scope::Api => "api",
        }
    }
}

pub struct RateLimiter {
    limits: RateLimits,
    trust_proxy: bool,
    /// Spends from the budgets, kept by the store: shared by every instance on the same MongoDB,
    /// in memory on SQLite.
    services: Arc<Services>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits, trust_proxy: bool, services: Arc<Services>) -> Self {
        RateLimiter { limits, trust_proxy, services }
    }

    fn limit(&self, scope: Scope) -> RateLimit {
        match scope {
            Scope::Auth => self.limits.auth,
            Scope::Refresh => self.limits.refresh,
            Scope::Upload => self.limits.upload,
            Scope::Api => self.limits.api,
        }
    }

    /// Counts one request; `Err(seconds)` when the budget is spent until the window ends. A store
    /// that cannot answer lets the request through (logged): availability over the budget.
    async fn hit(&self, scope: Scope, ip: IpAddr) -> Result<(), u64> {
        let limit = self.limit(scope);
        let budget = Budget { requests: limit.requests, window: Duration::from_secs(limit.window_secs) };
        match self.services.spend_request_budget(&format!("{}|{ip}", scope.name()), budget).await {
            Ok(Spend::Allowed) => Ok(()),
            Ok(Spend::Refused { retry_after_secs }) => Err(retry_after_secs),
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "rate limit budget unavailable; request let through");
                Ok(())
            }
        }
    }
}

/// The budgets a request draws from, besides the general API budget.
fn scope_of(method: &Method, path: &str) -> Option<Scope> {
    let path = path.strip_prefix("/api/v1")?;
    match (method.as_str(), path) {
        ("POST", "/users/login" | "/users/register" | "/uploads/signature") => Some(Scope::Auth),
        ("POST", "/users/refresh-token") => Some(Scope::Refresh),
        ("POST", "/videos") | ("PATCH", "/users/avatar" | "/users/cover-image" | "/users/update-account") => {
            Some(Scope::Upload)
        }
        ("PATCH", p) if p.starts_with("/videos/") && !p.starts_with("/videos/toggle/") => Some(Scope::Upload),
        _ => None,
    }
}

pub async fn enforce(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !limiter.limits.enabled || !path.starts_with("/api/v1/") || path == "/api/v1/healthcheck" {
        return next.run(req).await;
    }
    let ip = client_ip(req.headers(), req.extensions(), limiter.trust_proxy);
    let scopes = [Some(Scope::Api), scope_of(req.method(), path)];
    for scope in scopes.into_iter().flatten() {
        if let Err(retry_after) = limiter.hit(scope, ip).await {
            return AppError::too_many_requests(retry_after).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_their_budgets() {
        assert_eq!(scope_of(&Method::POST, "/api/v1/users/login"), Some(Scope::Auth));
        assert_eq!(scope_of(&Method::POST, "/api/v1/users/refresh-token"), Some(Scope::Refresh));
        assert_eq!(scope_of(&Method::PATCH, "/api/v1/videos/abc"), Some(Scope::Upload));
        assert_eq!(scope_of(&Method::PATCH, "/api/v1/videos/toggle/publish/abc"), None);
        assert_eq!(scope_of(&Method::GET, "/api/v1/videos"), None);
    }
}
