//! bcrypt hashing on a pool of idle-priority threads, one per core: when request threads need the CPU
//! the scheduler gives it to them, and when they do not, logins use every core. Idle priority
//! (SCHED_IDLE), not merely a high nice value, is what keeps request latency flat under a login
//! storm (BENCHMARKS.md measures it).

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::priority::lowest_priority;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    jobs: Arc<Mutex<Sender<Job>>>,
}

impl PasswordHasher {
    pub fn new(cost: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..cores.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("bcrypt-{i}")).spawn(move || {
                lowest_priority();
                loop {
                    let job = match queue.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        PasswordHasher { cost, jobs: Arc::new(Mutex::new(jobs)) }
    }

    /// Queues a job; synchronous so no lock guard lives across an await.
    fn submit(&self, job: Job) -> anyhow::Result<()> {
        let jobs = self.jobs.lock().map_err(|_| anyhow::anyhow!("hashing pool poisoned"))?;
        jobs.send(job).map_err(|_| anyhow::anyhow!("hashing pool stopped"))
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let (done, result) = oneshot::channel();
        self.submit(Box::new(move || {
            let _ = done.send(work());
        }))?;
        Ok(result.await?)
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let cost = self.cost;
        Ok(self.run(move || bcrypt::hash(password, cost)).await??)
    }

    /// True when the password matches; `$2a$`, `$2b$` and `$2y$` hashes are accepted.
    pub async fn verify(&self, password: String, hash: String) -> anyhow::Result<bool> {
        Ok(self.run(move || bcrypt::verify(password, &hash)).await?.unwrap_or(false))
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
