//! Console passwords: argon2id hashes (PHC strings) only, computed off the async threads and
//! a few at a time, since each hash is deliberately slow and memory-hungry.

use super::language::{text, text_with};
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes in flight at once: a burst of logins queues instead of exhausting memory.
static HASHING: Semaphore = Semaphore::const_new(2);
/// One more hash in flight, only for logins from clients with no recent failure, so that a
/// flood of wrong passwords cannot queue a real login behind it.
static RESERVED: Semaphore = Semaphore::const_new(1);
/// How long a login waits for a hashing slot before it is answered 429 rather than queued.
const HASH_WAIT: Duration = Duration::from_secs(2);

/// What is wrong with a new password, if anything.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Some(text_with("setup-password-too-short", &[("min", &MIN_PASSWORD_CHARS)]));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Some(text_with("setup-password-too-long", &[("max", &MAX_PASSWORD_BYTES)]));
    }
    None
}

/// An argon2id hash of `password` with a fresh random salt.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    let _permit = HASHING.acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_now(&password)).await.map_err(|e| ApiError::Internal(e.to_string()))?
}

fn hash_now(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
}

/// True when `password` matches `hash`. Without a hash (no such user) a dummy hash is checked
/// anyway, so a wrong name takes as long to refuse as a wrong password.
/// `trusted` logins (from a client with no recent failure) may also use the reserved slot; a
/// login that finds no slot within [`HASH_WAIT`] is refused with a 429.
pub(crate) async fn verify_password(password: String, hash: Option<String>, trusted: bool) -> Result<bool, ApiError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let _permit = login_permit(trusted).await?;
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = match hash {
            Some(h) => h,
            None => dummy_hash()?.to_string(),
        };
        let parsed = PasswordHash::new(&hash).map_err(|e| ApiError::Internal(format!("stored password hash: {e}")))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

async fn login_permit(trusted: bool) -> Result<SemaphorePermit<'static>, ApiError> {
    let permit = async {
        if trusted {
            tokio::select! {
                p = HASHING.acquire() => p,
                p = RESERVED.acquire() => p,
            }
        } else {
            HASHING.acquire().await
        }
    };
    match tokio::time::timeout(HASH_WAIT, permit).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(closed)) => Err(ApiError::Internal(closed.to_string())),
        Err(_) => Err(ApiError::TooManyRequests(text("login-server-busy"))),
    }
}

fn dummy_hash() -> Result<&'static str, ApiError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let h = hash_now("herald-dummy-password-never-matches")?;
    Ok(DUMMY.get_or_init(|| h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse battery".into()).await.unwrap();
        let b = hash_password("correct horse battery".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(!a.contains("correct horse"));
        assert!(verify_password("correct horse battery".into(), Some(a.clone()), true).await.unwrap());
        assert!(!verify_password("correct horse battery!".into(), Some(a), false).await.unwrap());
        assert!(!verify_password("anything at all".into(), None, true).await.unwrap());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(password_problem("short").unwrap().contains("at least 10"));
        assert_eq!(password_problem("long enough pass"), None);
        assert_eq!(password_problem(&"x".repeat(1025)).as_deref(), Some("must be at most 1024 bytes"));
    }
}
