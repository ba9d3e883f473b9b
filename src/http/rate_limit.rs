//! Per-client-IP request budgets (fixed windows), answering 429 with `Retry-After`.
//! Memory is bounded: expired windows are swept, and beyond a cap the oldest windows are dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::extract::client_ip;
use crate::config::{RateLimit, RateLimits};
use crate::error::AppError;

const MAX_TRACKED: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Scope {
    Auth,
    Refresh,
    Upload,
    Api,
}

struct Window {
    started: Instant,
    count: u32,
}

pub struct RateLimiter {
    limits: RateLimits,
    trust_proxy: bool,
    windows: Mutex<HashMap<(Scope, IpAddr), Window>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits, trust_proxy: bool) -> Self {
        RateLimiter { limits, trust_proxy, windows: Mutex::new(HashMap::new()) }
    }

    fn limit(&self, scope: Scope) -> RateLimit {
        match scope {
            Scope::Auth => self.limits.auth,
            Scope::Refresh => self.limits.refresh,
            Scope::Upload => self.limits.upload,
            Scope::Api => self.limits.api,
        }
    }

    /// Counts one request; `Err(seconds)` when the budget is spent until the window ends.
    fn hit(&self, scope: Scope, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let limit = self.limit(scope);
        let window = Duration::from_secs(limit.window_secs);
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() >= MAX_TRACKED && !windows.contains_key(&(scope, ip)) {
            windows.retain(|(s, _), w| now.duration_since(w.started) < Duration::from_secs(self.limit(*s).window_secs));
            if windows.len() >= MAX_TRACKED {
                let oldest = windows.iter().min_by_key(|(_, w)| w.started).map(|(k, _)| *k);
                if let Some(key) = oldest {
                    windows.remove(&key);
                }
            }
        }
        let entry = windows.entry((scope, ip)).or_insert(Window { started: now, count: 0 });
        if now.duration_since(entry.started) >= window {
            *entry = Window { started: now, count: 0 };
        }
        if entry.count >= limit.requests {
            let remaining = window.saturating_sub(now.duration_since(entry.started));
            return Err(remaining.as_secs_f64().ceil().max(1.0) as u64);
        }
        entry.count += 1;
        Ok(())
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
    let now = Instant::now();
    let scopes = [Some(Scope::Api), scope_of(req.method(), path)];
    for scope in scopes.into_iter().flatten() {
        if let Err(retry_after) = limiter.hit(scope, ip, now) {
            let message = format!("Too many requests, please retry after {retry_after} seconds");
            let mut response = AppError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return response;
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(requests: u32, window_secs: u64) -> RateLimits {
        let limit = RateLimit { requests, window_secs };
        RateLimits { enabled: true, auth: limit, refresh: limit, upload: limit, api: limit }
    }

    #[test]
    fn budgets_are_per_ip_and_reset_with_the_window() {
        let limiter = RateLimiter::new(limits(2, 60), false);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::now();
        assert!(limiter.hit(Scope::Auth, a, t0).is_ok());
        assert!(limiter.hit(Scope::Auth, a, t0).is_ok());
        assert_eq!(limiter.hit(Scope::Auth, a, t0 + Duration::from_secs(15)), Err(45));
        assert!(limiter.hit(Scope::Auth, b, t0).is_ok(), "other addresses are unaffected");
        assert!(limiter.hit(Scope::Refresh, a, t0).is_ok(), "scopes are separate");
        assert!(limiter.hit(Scope::Auth, a, t0 + Duration::from_secs(60)).is_ok(), "new window");
    }

    #[test]
    fn memory_stays_bounded() {
        let limiter = RateLimiter::new(limits(1, 3600), false);
        let now = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 10) {
            let ip = IpAddr::from(i.to_be_bytes());
            assert!(limiter.hit(Scope::Api, ip, now).is_ok());
        }
        assert!(limiter.windows.lock().unwrap().len() <= MAX_TRACKED);
    }

    #[test]
    fn routes_map_to_their_budgets() {
        assert_eq!(scope_of(&Method::POST, "/api/v1/users/login"), Some(Scope::Auth));
        assert_eq!(scope_of(&Method::POST, "/api/v1/users/refresh-token"), Some(Scope::Refresh));
        assert_eq!(scope_of(&Method::PATCH, "/api/v1/videos/abc"), Some(Scope::Upload));
        assert_eq!(scope_of(&Method::PATCH, "/api/v1/videos/toggle/publish/abc"), None);
        assert_eq!(scope_of(&Method::GET, "/api/v1/videos"), None);
    }
}
