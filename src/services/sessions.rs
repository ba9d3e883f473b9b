//! Sessions: who is calling (access-token verification), login, refresh-session rotation, logout
//! and the caller's devices (docs/api.md §1.7, §1.8, §3.3.11).

use sha2::{Digest, Sha256};

use super::users::normalise;
use super::{ServiceError, Services};
use crate::auth::TokenKind;
use crate::domain::Id;
use crate::domain::user::{Identity, Session, Standing, User, UserAccount, suspended_message};
use crate::store::{NewSession, RefreshGrant};

pub struct Credentials {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

/// The longest `User-Agent` a session keeps, in characters.
const USER_AGENT_MAX_CHARS: usize = 200;

/// A fresh pair of tokens for one refresh session.
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

/// A suspended account's tokens and credentials are refused, 403 with the reason (docs/api.md
/// §3.15.3): the one place every route needing a login applies it.
pub(super) fn refuse_suspended(suspended_reason: &Option<String>) -> Result<(), ServiceError> {
    match suspended_reason {
        Some(reason) => Err(ServiceError::forbidden(suspended_message(reason))),
        None => Ok(()),
    }
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Services {
    /// The caller an access token identifies (docs/api.md §1.7): `Unauthorized request` without
    /// a token, the failed verification step's message, or `Invalid Access Token` when the token's
    /// user no longer exists.
    pub async fn caller(&self, access_token: Option<&str>) -> Result<Identity, ServiceError> {
        Ok(self.caller_session(access_token).await?.0)
    }

    /// The account a valid access token names, suspended or not, with the token's session.
    async fn authenticate(&self, access_token: Option<&str>) -> Result<(Standing, Option<Id>), ServiceError> {
        let verified = self.verify_access(access_token)?;
        let account = self.store.users.identity(verified.user_id).await?;
        let account = account.ok_or_else(|| ServiceError::unauthorized("Invalid Access Token"))?;
        Ok((account, verified.session))
    }

    pub(super) fn verify_access(
        &self,
        access_token: Option<&str>,
    ) -> Result<crate::auth::tokens::VerifiedToken, ServiceError> {
        let token = access_token.ok_or_else(|| ServiceError::unauthorized("Unauthorized request"))?;
        self.tokens.verify(token, TokenKind::Access).map_err(|e| ServiceError::unauthorized(e.0))
    }

    /// The caller's whole account, refused as [`Self::caller`] refuses; read once, for the routes
    /// that show it (the original API also read the user once, in its auth middleware).
    pub async fn caller_account(&self, access_token: Option<&str>) -> Result<UserAccount, ServiceError> {
        let verified = self.verify_access(access_token)?;
        let account = self.store.users.by_id(verified.user_id).await?;
        let account = account.ok_or_else(|| ServiceError::unauthorized("Invalid Access Token"))?;
        refuse_suspended(&account.suspended_reason)?;
        Ok(account)
    }

    /// [`Self::caller`] with the session its access token was issued for (`None` for tokens issued
    /// before sessions had ids).
    /// A suspended account's tokens are refused (403) on routes that need a login (docs/api.md
    /// §3.15.3).
    pub async fn caller_session(&self, access_token: Option<&str>) -> Result<(Identity, Option<Id>), ServiceError> {
        let (account, session) = self.authenticate(access_token).await?;
        refuse_suspended(&account.suspended_reason)?;
        Ok((account.identity, session))
    }

    /// An optional caller: anonymous without a token when PUBLIC_READS is on, else as [`Self::caller`];
    /// a suspended account's token counts as anonymous here (docs/api.md §3.15.3).
    pub async fn viewer(&self, access_token: Option<&str>) -> Result<Option<Identity>, ServiceError> {
        match access_token {
            None if self.config.public_reads => Ok(None),
            token => {
                let (account, _) = self.authenticate(token).await?;
                Ok(account.suspended_reason.is_none().then_some(account.identity))
            }
        }
    }

    /// Logs in and opens a session for the device named by `user_agent`.
    pub async fn login(&self, input: Credentials, user_agent: &str) -> Result<(User, TokenPair), ServiceError> {
        let username = input.username.filter(|u| !u.is_empty()).map(|u| normalise(&u));
        let email = input.email.filter(|e| !e.is_empty()).map(|e| normalise(&e));
        if username.is_none() && email.is_none() {
            return Err(ServiceError::invalid("username or email is required"));
        }
        let password =
            input.password.filter(|p| !p.is_empty()).ok_or_else(|| ServiceError::invalid("Password is required"))?;
        let mut account = None;
        if let Some(username) = &username {
            account = self.store.users.by_username(username).await?;
        }
        if account.is_none()
            && let Some(email) = &email
        {
            account = self.store.users.by_email(email).await?;
        }
        let account = account.ok_or_else(|| ServiceError::not_found("User does not exist"))?;
        if !self.hasher.verify(password, account.password_hash.clone()).await.map_err(ServiceError::internal)? {
            return Err(ServiceError::unauthorized("Invalid user credentials"));
        }
        refuse_suspended(&account.suspended_reason)?;
        let tokens = self.open_session(&account.user, user_agent).await?;
        Ok((account.user, tokens))
    }

    async fn open_session(&self, user: &User, user_agent: &str) -> Result<TokenPair, ServiceError> {
        let (refresh_token, grant) = self.new_grant(user.id)?;
        let session = NewSession {
            id: Id::generate(),
            user_id: user.id,
            user_agent: user_agent.chars().take(USER_AGENT_MAX_CHARS).collect(),
            grant,
        };
        let id = session.id;
        self.store.sessions.create(session, self.config.refresh_sessions_max).await?;
        let access_token = self.tokens.issue_access(user, id).map_err(ServiceError::internal)?;
        Ok(TokenPair { access_token, refresh_token })
    }

    /// A new refresh token for `user` and the grant that stores it (only its hash is kept).
    fn new_grant(&self, user: Id) -> Result<(String, RefreshGrant), ServiceError> {
        let jti = hex::encode(rand::random::<[u8; 16]>());
        let (refresh_token, expires_at) = self.tokens.issue_refresh(user, &jti).map_err(ServiceError::internal)?;
        let grant = RefreshGrant { jti, token_hash: hash_token(&refresh_token), expires_at };
        Ok((refresh_token, grant))
    }

    /// Rotates the refresh session: the presented token is consumed and a new pair issued.
    pub async fn refresh(&self, token: Option<String>) -> Result<TokenPair, ServiceError> {
        let token =
            token.filter(|t| !t.is_empty()).ok_or_else(|| ServiceError::unauthorized("unauthorized request"))?;
        let verified = self.tokens.verify(&token, TokenKind::Refresh).map_err(|e| ServiceError::unauthorized(e.0))?;
        let account = self.store.users.by_id(verified.user_id).await?;
        let account = account.ok_or_else(|| ServiceError::unauthorized("Invalid refresh token"))?;
        refuse_suspended(&account.suspended_reason)?;
        let (refresh_token, next) = self.new_grant(account.user.id)?;
        let old_jti = verified.jti.unwrap_or_default();
        let session = self.store.sessions.rotate(account.user.id, &old_jti, &hash_token(&token), next).await?;
        let session = session.ok_or_else(|| ServiceError::unauthorized("Refresh token is expired or used"))?;
        let access_token = self.tokens.issue_access(&account.user, session).map_err(ServiceError::internal)?;
        Ok(TokenPair { access_token, refresh_token })
    }

    /// Ends the session of the presented refresh token, or every session of the caller without one.
    pub async fn logout(&self, caller: &Identity, token: Option<String>) -> Result<(), ServiceError> {
        let own_session = token.as_deref().and_then(|t| {
            let verified = self.tokens.verify(t, TokenKind::Refresh).ok()?;
            (verified.user_id == caller.id).then(|| (verified.jti.unwrap_or_default(), hash_token(t)))
        });
        if let Some((jti, hash)) = own_session
            && self.store.sessions.delete(caller.id, &jti, &hash).await?
        {
            return Ok(());
        }
        self.store.sessions.delete_all(caller.id).await?;
        Ok(())
    }

    /// The caller's logged-in devices, newest first; `current` marks the one of `current`.
    pub async fn sessions(&self, caller: &Identity, current: Option<Id>) -> Result<Vec<Session>, ServiceError> {
        let mut sessions = self.store.sessions.list(caller.id).await?;
        for session in &mut sessions {
            session.current = Some(session.id) == current;
        }
        Ok(sessions)
    }

    /// Signs one device out: its refresh token stops working (access tokens already issued run out).
    pub async fn revoke_session(&self, caller: &Identity, session: Id) -> Result<(), ServiceError> {
        if !self.store.sessions.revoke(caller.id, session).await? {
            return Err(ServiceError::not_found("Session not found"));
        }
        Ok(())
    }
}
