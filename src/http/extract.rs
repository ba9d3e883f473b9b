//! Extractors: `AuthUser` (required login), `AccessToken` (the token alone, checked by the service), `ModeratorUser` and `AdminUser` (a role), `AuthSession` (with its session), `MaybeAuthUser` (optional, per PUBLIC_READS), `ClientIp`,
//! `PathParams` (typed path parameters).

use std::net::{IpAddr, SocketAddr};

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, header};

use super::AppState;
use super::cookies::{self, ACCESS_COOKIE, REFRESH_COOKIE};
use crate::domain::Id;
use crate::domain::user::{Identity, Role, UserAccount};
use crate::http::error::AppError;
use crate::http::input::InputError;
use crate::services::roles::Staff;
use serde::de::DeserializeOwned;

/// The access token of a request (docs/api.md §1.7): a real `Authorization: Bearer` value first,
/// the `accessToken` cookie only when the header counts as absent.
fn access_token(headers: &HeaderMap) -> Option<String> {
    match bearer_token(headers) {
        Some(token) => Some(token),
        None => cookies::read(headers, ACCESS_COOKIE),
    }
}

/// The token of an `Authorization: Bearer <token>` header. `None` when the header counts as
/// absent: missing, empty, another scheme, or `Bearer` followed by nothing, `null` or `undefined`
/// (any case). Bytes that are not UTF-8 are kept (as U+FFFD), so such a token fails verification.
/// This is the one decision "header or cookie": [`access_token`] (the extractors) and
/// [`authenticated_by_cookie`] (the cross-site guard) both take it from here and nowhere else.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = String::from_utf8_lossy(headers.get(header::AUTHORIZATION)?.as_bytes()).into_owned();
    let value = value.trim_matches([' ', '\t']);
    let (scheme, token) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    let token = token.trim_matches([' ', '\t']);
    let placeholder = ["", "null", "undefined"].iter().any(|p| token.eq_ignore_ascii_case(p));
    (scheme.eq_ignore_ascii_case("bearer") && !placeholder).then(|| token.to_owned())
}

/// Whether cookies authenticate this request: the one rule the cross-site guard shares with the
/// token extraction above (docs/api.md §1.7, §1.15), so the two cannot disagree.
/// - Without a `Bearer` token (see [`bearer_token`]) the `accessToken` cookie is the access token,
///   and a `refreshToken` cookie is read by logout and refresh: either cookie counts.
/// - With one, the access cookie is never read; the refresh cookie still is by `POST
///   /users/refresh-token`, which ignores the header, so it counts on that route.
pub fn authenticated_by_cookie(path: &str, headers: &HeaderMap) -> bool {
    let has = |name| cookies::read(headers, name).is_some();
    match bearer_token(headers) {
        None => has(ACCESS_COOKIE) || has(REFRESH_COOKIE),
        Some(_) => path == REFRESH_PATH && has(REFRESH_COOKIE),
    }
}

/// The one route that takes its credential from the `refreshToken` cookie whatever the
/// `Authorization` header says (as routed: trailing slash already removed, docs/api.md §1.1).
const REFRESH_PATH: &str = "/api/v1/users/refresh-token";

/// A logged-in caller (`Services::caller`); 401 otherwise.
pub struct AuthUser(pub Identity);

impl AuthUser {
    pub fn id(&self) -> Id {
        self.0.id
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = access_token(&parts.headers);
        Ok(AuthUser(state.services.caller(token.as_deref()).await?))
    }
}

/// The request's access token, not yet verified: for a route whose service verifies it and reads the
/// caller's standing with its own data (one read instead of two); refused as `AuthUser` by it.
pub struct AccessToken(pub Option<String>);

impl FromRequestParts<AppState> for AccessToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(AccessToken(access_token(&parts.headers)))
    }
}

/// A logged-in caller's whole account, read once (routes that show it): refused as `AuthUser`.
pub struct AuthAccount(pub UserAccount);

impl FromRequestParts<AppState> for AuthAccount {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = access_token(&parts.headers);
        Ok(AuthAccount(state.services.caller_account(token.as_deref()).await?))
    }
}

/// A caller whose role includes moderator (docs/api.md §3.15): 401 as `AuthUser`, then 403.
pub struct ModeratorUser(pub Staff);

impl FromRequestParts<AppState> for ModeratorUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = access_token(&parts.headers);
        Ok(ModeratorUser(state.services.staff(token.as_deref(), Role::Moderator).await?))
    }
}

/// A caller whose role is admin (docs/api.md §3.15): 401 as `AuthUser`, then 403.
pub struct AdminUser(pub Staff);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = access_token(&parts.headers);
        Ok(AdminUser(state.services.staff(token.as_deref(), Role::Admin).await?))
    }
}

/// A logged-in caller with the session (device) its access token was issued for, `None` for tokens
/// issued before sessions had ids.
pub struct AuthSession(pub Identity, pub Option<Id>);

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = access_token(&parts.headers);
        let (account, session) = state.services.caller_session(token.as_deref()).await?;
        Ok(AuthSession(account, session))
    }
}

/// An optional login (`Services::viewer`): anonymous without a token, 401 with a bad one; required
/// when PUBLIC_READS is off.
pub struct MaybeAuthUser(pub Option<Identity>);

impl MaybeAuthUser {
    pub fn id(&self) -> Option<Id> {
        self.0.as_ref().map(|a| a.id)
    }
}

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = access_token(&parts.headers);
        Ok(MaybeAuthUser(state.services.viewer(token.as_deref()).await?))
    }
}

/// The client address: the left-most `X-Forwarded-For` entry when TRUST_PROXY is on, else the peer.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(&parts.headers, &parts.extensions, state.services.config().trust_proxy)))
    }
}

/// The left-most `X-Forwarded-For` address when the proxy is trusted, else the socket peer.
pub fn client_ip(headers: &HeaderMap, extensions: &Extensions, trust_proxy: bool) -> IpAddr {
    let forwarded = trust_proxy
        .then(|| headers.get("x-forwarded-for")?.to_str().ok()?.split(',').next()?.trim().parse().ok())
        .flatten();
    forwarded
        .or_else(|| extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The path parameters read into the shape `T` (a `Deserialize` struct beside the handler),
/// after authentication (docs/api.md §1.4 step 5). An id parameter that is not 24 hex digits
/// answers 400 `Invalid <name>`, the first in path order; a parameter that does not decode to text
/// answers 400 `Invalid path parameter`.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(params)) => Ok(PathParams(params)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(match e.kind() {
                ErrorKind::DeserializeError { key, .. } | ErrorKind::ParseErrorAtKey { key, .. } => {
                    InputError::InvalidId(key.clone())
                }
                _ => InputError::InvalidPathParameter,
            }
            .into()),
            Err(_) => Err(InputError::InvalidPathParameter.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(authorization: &[u8], cookie: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_bytes(authorization).unwrap());
        if !cookie.is_empty() {
            headers.insert(header::COOKIE, HeaderValue::from_static(cookie));
        }
        headers
    }

    #[test]
    fn placeholders_and_other_schemes_count_as_absent() {
        for value in
            ["", " ", "Bearer", "bearer ", "Bearer null", "BEARER Undefined", "Bearer \t  nULL ", "Basic x", "null"]
        {
            let h = headers(value.as_bytes(), "accessToken=c");
            assert_eq!(bearer_token(&h), None, "{value:?}");
            assert_eq!(access_token(&h).as_deref(), Some("c"), "{value:?}");
            assert!(authenticated_by_cookie("/api/v1/tweets", &h), "{value:?}");
        }
    }

    #[test]
    fn a_bearer_token_beats_the_cookies_except_the_refresh_cookie_on_refresh() {
        for (value, token) in [("Bearer a.b.c", "a.b.c"), ("bearer    nullx ", "nullx"), ("Bearer\tx y", "x y")] {
            let h = headers(value.as_bytes(), "accessToken=c; refreshToken=r");
            assert_eq!(access_token(&h).as_deref(), Some(token), "{value:?}");
            assert!(!authenticated_by_cookie("/api/v1/tweets", &h), "{value:?}");
            assert!(authenticated_by_cookie(REFRESH_PATH, &h), "{value:?}");
        }
        let h = headers(b"Bearer \xe9", "accessToken=c");
        assert_eq!(access_token(&h).as_deref(), Some("\u{fffd}"));
        assert!(!authenticated_by_cookie(REFRESH_PATH, &headers(b"Bearer t", "accessToken=c; refreshToken=")));
        assert!(!authenticated_by_cookie("/api/v1/tweets", &headers(b"Bearer null", "accessToken=")));
    }
}
