//! Secrets: bearer tokens, WebSocket tickets and password hashes.
//!
//! Tokens are 256 random bits, handed out once and stored only as SHA-256 digests, so a
//! copy of the database cannot be replayed as credentials. Passwords are hashed with
//! Argon2id on the blocking pool: hashing costs tens of milliseconds of CPU and must not
//! stall the async runtime that delivers messages.

use crate::error::{AppError, AppResult};
use crate::ports::TokenDigest;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use hubbub_domain::Password;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use subtle::ConstantTimeEq;

/// A freshly issued secret: the text goes to the client, the digest to the store.
pub struct IssuedToken {
    pub text: String,
    pub digest: TokenDigest,
}

pub fn issue_token() -> IssuedToken {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).expect("the OS random source is available");
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let digest = digest_token(&text);
    IssuedToken { text, digest }
}

pub fn digest_token(text: &str) -> TokenDigest {
    Sha256::digest(text.as_bytes()).into()
}

/// Compares two digests without an early exit. Lookups go by digest, so this guards the
/// final equality check against timing, not the index lookup (which only ever sees digests).
pub fn digests_equal(a: &TokenDigest, b: &TokenDigest) -> bool {
    a.ct_eq(b).into()
}

fn argon2() -> Argon2<'static> {
    // The OWASP-recommended Argon2id parameters: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified against when the username is unknown, so that
/// an unknown username costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("not a real password, only for timing").expect("hashing works"));

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS random source is available");
    let hash: PasswordHash = argon2().hash_password_with_salt(password.as_bytes(), &salt)?;
    Ok(hash.to_string())
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// At most one hash per core at a time: each costs 19 MiB and a core for tens of
/// milliseconds, and a burst of registrations must not take all the memory or CPU.
static HASHING: LazyLock<tokio::sync::Semaphore> =
    LazyLock::new(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

async fn hashing_permit() -> AppResult<tokio::sync::SemaphorePermit<'static>> {
    HASHING.acquire().await.map_err(|_| AppError::Internal("hashing semaphore closed".into()))
}

pub async fn hash_password(password: &Password) -> AppResult<String> {
    let _permit = hashing_permit().await?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || hash_blocking(password.expose()))
        .await
        .map_err(|e| AppError::Internal(format!("hashing task failed: {e}")))?
        .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
}

/// Verifies `password` against `hash`, or against a dummy hash when there is none.
pub async fn verify_password(password: &str, hash: Option<String>) -> AppResult<bool> {
    let _permit = hashing_permit().await?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_blocking(&password, &hash),
        None => {
            verify_blocking(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(|e| AppError::Internal(format!("verification task failed: {e}")))
}

/// Warms the dummy hash at start-up so the first unknown-username login is not faster.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_digested() {
        let a = issue_token();
        let b = issue_token();
        assert_ne!(a.text, b.text);
        assert_eq!(a.text.len(), 43, "256 bits in URL-safe base64");
        assert!(digests_equal(&digest_token(&a.text), &a.digest));
        assert!(!digests_equal(&a.digest, &b.digest));
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_own_hash() {
        let password = Password::parse("correct horse battery", "password").unwrap();
        let hash = hash_password(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", Some(hash.clone())).await.unwrap());
        assert!(!verify_password("wrong horse battery", Some(hash)).await.unwrap());
        assert!(!verify_password("anything", None).await.unwrap());
    }
}
