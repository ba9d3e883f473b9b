//! Extractors: `AuthUser` (required login), `MaybeAuthUser` (optional, per PUBLIC_READS), `ClientIp`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, header};

use super::AppState;
use super::cookies::{self, ACCESS_COOKIE};
use crate::auth::TokenKind;
use crate::domain::Id;
use crate::domain::user::UserAccount;
use crate::error::AppError;

/// The access token: `Authorization: Bearer` first, the `accessToken` cookie only without that header.
fn access_token(parts: &Parts) -> Option<String> {
    let bearer = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
    });
    match bearer {
        Some(token) => Some(token).filter(|t| !t.is_empty()),
        None => cookies::read(&parts.headers, ACCESS_COOKIE),
    }
}

async fn authenticate(token: &str, state: &AppState) -> Result<UserAccount, AppError> {
    let verified = state.services.tokens.verify(token, TokenKind::Access).map_err(|e| AppError::unauthorized(e.0))?;
    state
        .services
        .store
        .users
        .by_id(verified.user_id)
        .await?
        .ok_or_else(|| AppError::unauthorized("Invalid Access Token"))
}

/// A logged-in caller; 401 otherwise.
pub struct AuthUser(pub UserAccount);

impl AuthUser {
    pub fn id(&self) -> Id {
        self.0.user.id
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = access_token(parts).ok_or_else(|| AppError::unauthorized("Unauthorized request"))?;
        authenticate(&token, state).await.map(AuthUser)
    }
}

/// An optional login: anonymous without a token, 401 with a bad one; required when PUBLIC_READS is off.
pub struct MaybeAuthUser(pub Option<UserAccount>);

impl MaybeAuthUser {
    pub fn id(&self) -> Option<Id> {
        self.0.as_ref().map(|a| a.user.id)
    }
}

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match access_token(parts) {
            Some(token) => authenticate(&token, state).await.map(|a| MaybeAuthUser(Some(a))),
            None if state.services.config.public_reads => Ok(MaybeAuthUser(None)),
            None => Err(AppError::unauthorized("Unauthorized request")),
        }
    }
}

/// The client address: the left-most `X-Forwarded-For` entry when TRUST_PROXY is on, else the peer.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(&parts.headers, &parts.extensions, state.services.config.trust_proxy)))
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

/// Path parameters as percent-decoded strings, in path order; validated by the handler after
/// authentication (docs/api.md §1.4 step 3).
pub struct Params(pub Vec<String>);

impl Params {
    /// The `index`-th parameter as an id, or 400 `Invalid <name>`.
    pub fn id(&self, index: usize, name: &str) -> Result<Id, AppError> {
        parse_id(self.0.get(index).map_or("", String::as_str), name)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(values) = Path::<Vec<String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::bad_request("Invalid path parameter"))?;
        Ok(Params(values))
    }
}

/// Parses a path or query id, answering 400 `Invalid <name>` when malformed.
pub fn parse_id(raw: &str, name: &str) -> Result<Id, AppError> {
    Id::parse(raw).ok_or_else(|| AppError::bad_request(format!("Invalid {name}")))
}
