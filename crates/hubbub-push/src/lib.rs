//! Web Push, the parts a server needs: message encryption (RFC 8291 over RFC 8188's
//! `aes128gcm` content encoding) and VAPID (RFC 8292: an ES256 JWT signed with the
//! server's P-256 key, sent as `Authorization: vapid t=…, k=…`).
//!
//! Implemented here on RustCrypto's `p256` (ECDH and ECDSA), `hkdf`, `sha2` and `aes-gcm`
//! rather than with the `web-push` crate, which needs OpenSSL and brings an HTTP client
//! of its own; sending is the caller's (one HTTP client, one SSRF guard for the server).
//! The RFC 8291 Appendix A vector is a unit test, to the byte.
//!
//! The user agent's side (`decrypt`) is here too: tests use it to read what was sent.

pub mod ece;
pub mod send;
pub mod vapid;

pub use ece::{AUTH_LEN, P256DH_LEN, SubscriptionKeys, decrypt, encrypt};
pub use send::{SenderConfig, WebPushSender};
pub use vapid::VapidKey;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Why a key or a message could not be used. Each has a stable code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("{0} is not base64url")]
    NotBase64(&'static str),
    #[error("{what} must be {expected} bytes, not {got}")]
    BadLength { what: &'static str, expected: usize, got: usize },
    #[error("{0} is not a point of P-256")]
    NotAPoint(&'static str),
    #[error("the VAPID private key is not a P-256 scalar")]
    BadPrivateKey,
    #[error("the message cannot be decrypted: {0}")]
    Decrypt(&'static str),
    #[error("the payload is too large for one record")]
    TooLarge,
    #[error("the VAPID authorization is invalid: {0}")]
    BadAuthorization(&'static str),
}

impl PushError {
    pub fn code(&self) -> &'static str {
        match self {
            PushError::NotBase64(_) => "not_base64",
            PushError::BadLength { .. } => "bad_length",
            PushError::NotAPoint(_) => "not_a_point",
            PushError::BadPrivateKey => "bad_private_key",
            PushError::Decrypt(_) => "decrypt_failed",
            PushError::TooLarge => "too_large",
            PushError::BadAuthorization(_) => "bad_authorization",
        }
    }
}

/// base64url as browsers write it: `PushSubscription.toJSON()` leaves the padding out,
/// some libraries keep it; both are read.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn b64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn b64_decode(what: &'static str, text: &str) -> Result<Vec<u8>, PushError> {
    B64.decode(text.trim()).map_err(|_| PushError::NotBase64(what))
}

/// Decodes exactly `N` bytes.
pub(crate) fn b64_fixed<const N: usize>(what: &'static str, text: &str) -> Result<[u8; N], PushError> {
    let bytes = b64_decode(what, text)?;
    let got = bytes.len();
    bytes.try_into().map_err(|_| PushError::BadLength { what, expected: N, got })
}
