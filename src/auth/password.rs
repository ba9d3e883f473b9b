//! bcrypt hashing off the async workers, with concurrency bounded so logins cannot starve other requests.

use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    pub fn new(cost: u32) -> Self {
        // One hash per core at most: bcrypt is pure CPU, more in parallel only adds latency elsewhere.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        PasswordHasher { cost, permits: Arc::new(Semaphore::new(cores)) }
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let cost = self.cost;
        let _permit = self.permits.acquire().await?;
        Ok(tokio::task::spawn_blocking(move || bcrypt::hash(password, cost)).await??)
    }

    /// True when the password matches; `$2a$`, `$2b$` and `$2y$` hashes are accepted.
    pub async fn verify(&self, password: String, hash: String) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let verdict = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash)).await?;
        Ok(verdict.unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_other_prefixes_are_accepted() {
        let hasher = PasswordHasher::new(4);
        let hash = hasher.hash("s3cret".into()).await.unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert!(hasher.verify("s3cret".into(), hash.clone()).await.unwrap());
        assert!(!hasher.verify("wrong".into(), hash.clone()).await.unwrap());
        for prefix in ["$2a$", "$2y$"] {
            let other = hash.replacen("$2b$", prefix, 1);
            assert!(hasher.verify("s3cret".into(), other).await.unwrap(), "{prefix}");
        }
        assert!(!hasher.verify("s3cret".into(), "not a hash".into()).await.unwrap());
    }
}
