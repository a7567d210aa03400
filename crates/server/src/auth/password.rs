use crate::config::{Argon2Cost, DEFAULT_HASH_QUEUE};
use crate::domain::Password;
use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// Hashes and verifies passwords with argon2id.
///
/// Hashing is CPU- and memory-hard on purpose, so it runs on a few threads of its own (one per
/// core), and a semaphore caps how many hashes are in flight: a burst of logins costs waiting
/// time, not `n × 19 MiB` of memory.
///
/// Own threads, not tokio's blocking pool: the pool grows a thread per concurrent task, and
/// glibc gives each new thread its own malloc arena, which keeps its 19 MiB block after the
/// hash is done. `cargo xtask bench` measured RSS 89 → 376 MB after 200 concurrent logins, and
/// it stayed there. A fixed set of threads reuses the same blocks at every hash.
///
/// The queue in front of the threads is bounded too ([`DEFAULT_HASH_QUEUE`]): past it a hash is
/// refused at once with [`HasherBusy`] (the login answers 503 `server_busy`), so a flood of
/// logins cannot pile up requests without end.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password, verified against when the email is unknown so that an
    /// unknown email costs the same time as a wrong password (no account enumeration by timing).
    dummy_hash: Arc<str>,
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::SyncSender<Job>,
    /// Hashes waiting for a thread, and how many may.
    waiting: Arc<AtomicUsize>,
    queue: usize,
}

/// The hashing queue is full: refused without being queued.
#[derive(Debug, thiserror::Error)]
#[error("the password hashing queue is full")]
pub struct HasherBusy;

/// A place in the queue, given back when dropped.
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn enter(waiting: &Arc<AtomicUsize>, limit: usize) -> Option<Waiting> {
        let before = waiting.fetch_add(1, Ordering::AcqRel);
        let place = Waiting(Arc::clone(waiting));
        (before < limit).then_some(place)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `threads` hashing threads that share one job queue. They end when the last
/// [`PasswordHasher`] handle is dropped.
fn start_threads(threads: usize) -> anyhow::Result<std::sync::mpsc::SyncSender<Job>> {
    let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(threads);
    let queue = Arc::new(std::sync::Mutex::new(queue));
    for index in 0..threads {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{index}"))
            .spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job, never while hashing.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .context("failed to start a password hashing thread")?;
    }
    Ok(jobs)
}

impl PasswordHasher {
    /// Builds the hasher (hashes the dummy password once, so call it at start-up).
    pub fn new(cost: Argon2Cost) -> anyhow::Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|error| anyhow::anyhow!("invalid argon2 parameters: {error}"))?;
        let dummy: [u8; 16] = rand::random();
        let dummy_hash = hash_blocking(&params, &dummy)?;
        let threads = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .max(2);
        Ok(Self {
            params,
            dummy_hash: dummy_hash.into(),
            permits: Arc::new(Semaphore::new(threads)),
            jobs: start_threads(threads)?,
            waiting: Arc::new(AtomicUsize::new(0)),
            queue: DEFAULT_HASH_QUEUE,
        })
    }

    /// The same hasher with at most `queue` hashes waiting for a thread.
    pub fn with_queue(mut self, queue: usize) -> Self {
        self.queue = queue;
        self
    }

    /// Runs `work` on a hashing thread. The permit travels with the job and is released when
    /// the hash is done, not when the caller goes away: at most one job per thread is ever
    /// queued or running, so handing it over never blocks or fails.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let _place = Waiting::enter(&self.waiting, self.queue)
                    .ok_or(anyhow::Error::new(HasherBusy))?;
                self.permits.clone().acquire_owned().await?
            }
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a password hashing job panicked")));
            drop(permit);
            let _ = reply.send(outcome);
        });
        self.jobs
            .try_send(job)
            .map_err(|_| anyhow::anyhow!("the password hashing threads are gone"))?;
        answer.await.context("a password hashing job was dropped")?
    }

    /// Hashes a new password into a PHC string (algorithm, parameters and salt included).
    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let params = self.params.clone();
        let secret = password.secret().clone();
        self.run(move || hash_blocking(&params, secret.expose_secret().as_bytes()))
            .await
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no stored
    /// hash (unknown user), in which case the answer is always `false`.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let secret = password.clone();
        let matches = self
            .run(move || {
                let parsed = PasswordHash::new(&hash)
                    .map_err(|error| anyhow::anyhow!("stored password hash is invalid: {error}"))?;
                Ok(Argon2::default()
                    .verify_password(secret.expose_secret().as_bytes(), &parsed)
                    .is_ok())
            })
            .await?;
        Ok(known && matches)
    }
}

fn hash_blocking(params: &Params, password: &[u8]) -> anyhow::Result<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|error| anyhow::anyhow!("salt encoding failed: {error}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    Ok(argon2
        .hash_password(password, &salt)
        .map_err(|error| anyhow::anyhow!("password hashing failed: {error}"))?
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(text: &str) -> Password {
        Password::parse(SecretString::from(text)).unwrap()
    }

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hasher = PasswordHasher::new(Argon2Cost::TESTS).unwrap();
        let hash = hasher.hash(&password("colloque-demo")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        let good = SecretString::from("colloque-demo");
        let bad = SecretString::from("colloque-demO");
        assert!(hasher.verify(&good, Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify(&bad, Some(hash)).await.unwrap());
    }

    /// Callers that go away (clients hanging up mid-login) must not free a hashing slot while
    /// their hash still runs: the next login would find the queue full and fail.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_logins_do_not_make_the_next_one_fail() {
        let hasher = PasswordHasher::new(Argon2Cost::OWASP).unwrap();
        let hash = hasher.hash(&password("colloque-demo")).await.unwrap();
        for _ in 0..12 {
            let (hasher, hash) = (hasher.clone(), hash.clone());
            let abandoned = tokio::spawn(async move {
                let any = SecretString::from("colloque-demo");
                hasher.verify(&any, Some(hash)).await
            });
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            abandoned.abort();
        }
        let good = SecretString::from("colloque-demo");
        assert!(hasher.verify(&good, Some(hash)).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_its_queue_the_hasher_refuses_at_once_and_serves_again_after() {
        let hasher = PasswordHasher::new(Argon2Cost::OWASP)
            .unwrap()
            .with_queue(3);
        let hash = hasher.hash(&password("colloque-demo")).await.unwrap();
        let threads = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .max(2);
        let verifies = (0..threads + 3 + 20).map(|_| {
            let (hasher, hash) = (hasher.clone(), hash.clone());
            tokio::spawn(async move {
                let good = SecretString::from("colloque-demo");
                hasher.verify(&good, Some(hash)).await
            })
        });
        let outcomes = futures_util::future::join_all(verifies).await;
        let busy = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(Err(e)) if e.is::<HasherBusy>()))
            .count();
        let verified = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(Ok(true))))
            .count();
        assert_eq!(
            busy + verified,
            outcomes.len(),
            "each one verified or refused as busy"
        );
        assert!(
            verified >= threads + 3,
            "the threads and the queue were served: {verified}"
        );
        assert!(busy >= 1, "past the queue, refused");
        let good = SecretString::from("colloque-demo");
        assert!(
            hasher.verify(&good, Some(hash)).await.unwrap(),
            "and serving again"
        );
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new(Argon2Cost::TESTS).unwrap();
        let any = SecretString::from("colloque-demo");
        assert!(!hasher.verify(&any, None).await.unwrap());
    }
}
