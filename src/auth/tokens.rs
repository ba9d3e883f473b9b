//! HS256 JWTs with the original claims, verified step by step so each failure has its message of docs/api.md §1.7.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::user::User;
use crate::domain::{Id, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

/// A verification failure; the message is what the client sees with 401 (docs/api.md §1.7).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(pub &'static str);

/// Verified claims the server relies on.
#[derive(Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: Id,
    pub jti: Option<String>,
    /// The session (device) an access token was issued for; absent from tokens issued before sessions had ids.
    pub session: Option<Id>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessClaims<'a> {
    #[serde(rename = "_id")]
    id: String,
    email: &'a str,
    username: &'a str,
    full_name: &'a str,
    sid: String,
    iat: i64,
    exp: i64,
}

#[derive(Serialize)]
struct RefreshClaims<'a> {
    #[serde(rename = "_id")]
    id: String,
    jti: &'a str,
    iat: i64,
    exp: i64,
}

struct Key {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: u64,
}

impl Key {
    fn new(secret: &[u8], ttl_secs: u64) -> Self {
        Key { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), ttl_secs }
    }
}

pub struct Tokens {
    access: Key,
    refresh: Key,
}

impl Tokens {
    pub fn new(access_secret: &[u8], access_ttl: u64, refresh_secret: &[u8], refresh_ttl: u64) -> Self {
        Tokens { access: Key::new(access_secret, access_ttl), refresh: Key::new(refresh_secret, refresh_ttl) }
    }

    fn key(&self, kind: TokenKind) -> &Key {
        match kind {
            TokenKind::Access => &self.access,
            TokenKind::Refresh => &self.refresh,
        }
    }

    fn window(&self, kind: TokenKind) -> (i64, i64) {
        let iat = Timestamp::now().millis() / 1000;
        (iat, iat.saturating_add(self.key(kind).ttl_secs as i64))
    }

    /// An access token for `user` on session `session` (its `sid` claim).
    pub fn issue_access(&self, user: &User, session: Id) -> anyhow::Result<String> {
        let (iat, exp) = self.window(TokenKind::Access);
        let claims = AccessClaims {
            id: user.id.to_hex(),
            email: &user.email,
            username: &user.username,
            full_name: &user.full_name,
            sid: session.to_hex(),
            iat,
            exp,
        };
        sign(&claims, &self.access.encoding)
    }

    /// A refresh token for session `jti` and the moment it expires.
    pub fn issue_refresh(&self, user_id: Id, jti: &str) -> anyhow::Result<(String, Timestamp)> {
        let (iat, exp) = self.window(TokenKind::Refresh);
        let claims = RefreshClaims { id: user_id.to_hex(), jti, iat, exp };
        let token = sign(&claims, &self.refresh.encoding)?;
        Ok((token, Timestamp(exp * 1000)))
    }

    /// Steps 2–7 of docs/api.md §1.7, in order; the first failure decides the message.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<VerifiedToken, TokenError> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return Err(TokenError("jwt malformed"));
        };
        let header = decode_json(header).ok_or(TokenError("invalid token"))?;
        let claims = decode_json(payload).ok_or(TokenError("invalid token"))?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(TokenError("invalid algorithm"));
        }
        let message = &token[..token.len() - signature.len() - 1];
        let valid =
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), &self.key(kind).decoding, Algorithm::HS256)
                .unwrap_or(false);
        if !valid {
            return Err(TokenError("invalid signature"));
        }
        let exp = claims.get("exp").and_then(Value::as_f64).ok_or(TokenError("invalid token"))?;
        if exp * 1000.0 <= Timestamp::now().millis() as f64 {
            return Err(TokenError("jwt expired"));
        }
        let user_id =
            claims.get("_id").and_then(Value::as_str).and_then(Id::parse).ok_or(TokenError("invalid token"))?;
        let jti = claims.get("jti").and_then(Value::as_str).map(str::to_owned);
        if kind == TokenKind::Refresh && jti.is_none() {
            return Err(TokenError("invalid token"));
        }
        let session = claims.get("sid").and_then(Value::as_str).and_then(Id::parse);
        Ok(VerifiedToken { user_id, jti, session })
    }
}

/// Encodes with the header exactly as the original wrote it: `{"alg":"HS256","typ":"JWT"}`.
fn sign(claims: &impl Serialize, key: &EncodingKey) -> anyhow::Result<String> {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
    let message = format!("{header}.{payload}");
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, Algorithm::HS256)?;
    Ok(format!("{message}.{signature}"))
}

fn decode_json(segment: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&[1; 32], 60, &[2; 32], 60)
    }

    fn user() -> User {
        User {
            id: Id::generate(),
            username: "asha".into(),
            email: "asha@example.com".into(),
            full_name: "Asha Rao".into(),
            avatar: String::new(),
            cover_image: String::new(),
            watch_history: vec![],
            history_paused: false,
            role: crate::domain::user::Role::User,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn forge(header: &str, claims: &str, secret: &[u8]) -> String {
        let h = URL_SAFE_NO_PAD.encode(header);
        let c = URL_SAFE_NO_PAD.encode(claims);
        let sig = jsonwebtoken::crypto::sign(
            format!("{h}.{c}").as_bytes(),
            &EncodingKey::from_secret(secret),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{h}.{c}.{sig}")
    }

    #[test]
    fn issued_tokens_verify_with_their_own_key_only() {
        let t = tokens();
        let u = user();
        let session = Id::generate();
        let access = t.issue_access(&u, session).unwrap();
        assert!(access.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."), "{access}");
        let verified = t.verify(&access, TokenKind::Access).unwrap();
        assert_eq!((verified.user_id, verified.session), (u.id, Some(session)));
        assert_eq!(t.verify(&access, TokenKind::Refresh), Err(TokenError("invalid signature")));
        let (refresh, _) = t.issue_refresh(u.id, "session-1").unwrap();
        assert_eq!(t.verify(&refresh, TokenKind::Refresh).unwrap().jti.as_deref(), Some("session-1"));
    }

    #[test]
    fn each_failure_step_has_its_message() {
        let t = tokens();
        let id = Id::generate().to_hex();
        let far = Timestamp::now().millis() / 1000 + 100;
        let ok_header = r#"{"alg":"HS256","typ":"JWT"}"#;
        assert_eq!(t.verify("abc", TokenKind::Access), Err(TokenError("jwt malformed")));
        assert_eq!(t.verify("a.b.c.d", TokenKind::Access), Err(TokenError("jwt malformed")));
        assert_eq!(t.verify("!!.??.x", TokenKind::Access), Err(TokenError("invalid token")));
        let none_alg = forge(r#"{"alg":"none"}"#, &format!(r#"{{"_id":"{id}","exp":{far}}}"#), &[1; 32]);
        assert_eq!(t.verify(&none_alg, TokenKind::Access), Err(TokenError("invalid algorithm")));
        let wrong_key = forge(ok_header, &format!(r#"{{"_id":"{id}","exp":{far}}}"#), &[9; 32]);
        assert_eq!(t.verify(&wrong_key, TokenKind::Access), Err(TokenError("invalid signature")));
        let expired = forge(ok_header, &format!(r#"{{"_id":"{id}","exp":{}}}"#, far - 200), &[1; 32]);
        assert_eq!(t.verify(&expired, TokenKind::Access), Err(TokenError("jwt expired")));
        let bad_id = forge(ok_header, &format!(r#"{{"_id":"nope","exp":{far}}}"#), &[1; 32]);
        assert_eq!(t.verify(&bad_id, TokenKind::Access), Err(TokenError("invalid token")));
        let no_jti = forge(ok_header, &format!(r#"{{"_id":"{id}","exp":{far}}}"#), &[2; 32]);
        assert_eq!(t.verify(&no_jti, TokenKind::Refresh), Err(TokenError("invalid token")));
    }
}
