//! RFC 8291 message encryption: one `aes128gcm` record (RFC 8188) whose key comes from an
//! ECDH between a fresh key of ours and the subscription's `p256dh`, mixed with its `auth`.

use crate::{PushError, b64_fixed};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

/// An uncompressed P-256 point: 0x04, x, y.
pub const P256DH_LEN: usize = 65;
/// The subscription's authentication secret.
pub const AUTH_LEN: usize = 16;
const SALT_LEN: usize = 16;
/// The record size we announce; a push message is one record (RFC 8291 §4: at most 4096).
const RECORD_SIZE: u32 = 4096;
/// What the header takes: salt, record size, key id length, our public key.
const HEADER_LEN: usize = SALT_LEN + 4 + 1 + P256DH_LEN;
const TAG_LEN: usize = 16;
/// The most plaintext one 4096-byte record holds (one delimiter byte, the tag).
pub const PLAINTEXT_MAX: usize = RECORD_SIZE as usize - TAG_LEN - 1;

/// A subscription's keys, checked: `p256dh` a point of the curve, `auth` 16 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionKeys {
    pub p256dh: [u8; P256DH_LEN],
    pub auth: [u8; AUTH_LEN],
}

impl SubscriptionKeys {
    /// From the base64url strings of `PushSubscription.toJSON().keys`.
    pub fn parse(p256dh: &str, auth: &str) -> Result<Self, PushError> {
        let p256dh: [u8; P256DH_LEN] = b64_fixed("keys.p256dh", p256dh)?;
        let auth: [u8; AUTH_LEN] = b64_fixed("keys.auth", auth)?;
        // Uncompressed only (what browsers send), and on the curve.
        if p256dh[0] != 0x04 || PublicKey::from_sec1_bytes(&p256dh).is_err() {
            return Err(PushError::NotAPoint("keys.p256dh"));
        }
        Ok(SubscriptionKeys { p256dh, auth })
    }
}

/// Encrypts `plaintext` for a subscription, with a fresh key pair and salt.
pub fn encrypt(plaintext: &[u8], keys: &SubscriptionKeys) -> Result<Vec<u8>, PushError> {
    let ours = SecretKey::random(&mut OsRng);
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    encrypt_with(plaintext, keys, &ours, &salt)
}

/// The two keys RFC 8291 §3.4 derives, the content key and the nonce.
fn derive(
    ecdh_secret: &[u8],
    auth: &[u8; AUTH_LEN],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8],
) -> ([u8; 16], [u8; 12]) {
    // PRK_key = HMAC(auth, ecdh); IKM = HMAC(PRK_key, "WebPush: info" 0 ua as 1).
    let mut key_info = Vec::with_capacity(14 + 2 * P256DH_LEN);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), ecdh_secret).expand(&key_info, &mut ikm).expect("32 bytes is a valid length");
    // RFC 8188 §2.2: PRK = HMAC(salt, IKM); CEK and NONCE from it.
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).expect("16 bytes is a valid length");
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).expect("12 bytes is a valid length");
    (cek, nonce)
}

/// `encrypt` with our key and the salt given (the RFC's vector fixes both).
pub fn encrypt_with(
    plaintext: &[u8],
    keys: &SubscriptionKeys,
    ours: &SecretKey,
    salt: &[u8; SALT_LEN],
) -> Result<Vec<u8>, PushError> {
    if plaintext.len() > PLAINTEXT_MAX {
        return Err(PushError::TooLarge);
    }
    let theirs = PublicKey::from_sec1_bytes(&keys.p256dh).map_err(|_| PushError::NotAPoint("keys.p256dh"))?;
    let as_public = ours.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ours.to_nonzero_scalar(), theirs.as_affine());
    let (cek, nonce) = derive(shared.raw_secret_bytes(), &keys.auth, &keys.p256dh, as_public.as_bytes(), salt);
    // One record, the last: the plaintext, then the delimiter 0x02, no padding.
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(0x02);
    let sealed = Aes128Gcm::new(&cek.into())
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: &record, aad: &[] })
        .map_err(|_| PushError::TooLarge)?;
    let mut body = Vec::with_capacity(HEADER_LEN + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(P256DH_LEN as u8);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// The user agent's side: opens a one-record `aes128gcm` body with the subscription's
/// private key and `auth`.
pub fn decrypt(body: &[u8], ua_private: &SecretKey, auth: &[u8; AUTH_LEN]) -> Result<Vec<u8>, PushError> {
    if body.len() < HEADER_LEN + TAG_LEN {
        return Err(PushError::Decrypt("shorter than a header and a tag"));
    }
    let salt = &body[..SALT_LEN];
    let record_size = u32::from_be_bytes(body[SALT_LEN..SALT_LEN + 4].try_into().expect("4 bytes"));
    if body[SALT_LEN + 4] as usize != P256DH_LEN {
        return Err(PushError::Decrypt("the key id is not a P-256 point"));
    }
    let as_public = &body[SALT_LEN + 5..HEADER_LEN];
    let sealed = &body[HEADER_LEN..];
    if sealed.len() > record_size as usize {
        return Err(PushError::Decrypt("more than one record"));
    }
    let theirs = PublicKey::from_sec1_bytes(as_public).map_err(|_| PushError::Decrypt("the key id is not a point"))?;
    let ua_public = ua_private.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ua_private.to_nonzero_scalar(), theirs.as_affine());
    let (cek, nonce) = derive(shared.raw_secret_bytes(), auth, ua_public.as_bytes(), as_public, salt);
    let mut record = Aes128Gcm::new(&cek.into())
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: sealed, aad: &[] })
        .map_err(|_| PushError::Decrypt("authentication failed"))?;
    // Padding zeros, then the last record's delimiter.
    while record.last() == Some(&0) {
        record.pop();
    }
    if record.pop() != Some(0x02) {
        return Err(PushError::Decrypt("no last-record delimiter"));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{b64_decode, b64_encode};

    // RFC 8291 Appendix A.
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const AS_PUBLIC: &str = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const BODY: &str = concat!(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml",
        "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT",
        "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
    );

    fn secret(text: &str) -> SecretKey {
        SecretKey::from_slice(&b64_decode("key", text).unwrap()).unwrap()
    }

    #[test]
    fn the_rfc_8291_appendix_a_vector_encrypts_to_the_byte() {
        let keys = SubscriptionKeys::parse(UA_PUBLIC, AUTH).unwrap();
        let ours = secret(AS_PRIVATE);
        assert_eq!(b64_encode(ours.public_key().to_encoded_point(false).as_bytes()), AS_PUBLIC);
        let salt: [u8; 16] = b64_decode("salt", SALT).unwrap().try_into().unwrap();
        let body = encrypt_with(PLAINTEXT.as_bytes(), &keys, &ours, &salt).unwrap();
        assert_eq!(b64_encode(&body), BODY);
    }

    #[test]
    fn the_rfc_8291_vector_decrypts_and_a_changed_byte_does_not() {
        let auth: [u8; 16] = b64_decode("auth", AUTH).unwrap().try_into().unwrap();
        let mut body = b64_decode("body", BODY).unwrap();
        assert_eq!(decrypt(&body, &secret(UA_PRIVATE), &auth).unwrap(), PLAINTEXT.as_bytes());
        let last = body.len() - 1;
        body[last] ^= 1;
        assert_eq!(decrypt(&body, &secret(UA_PRIVATE), &auth), Err(PushError::Decrypt("authentication failed")));
    }

    #[test]
    fn a_fresh_encryption_round_trips_and_differs_each_time() {
        let ua = SecretKey::random(&mut OsRng);
        let p256dh = b64_encode(ua.public_key().to_encoded_point(false).as_bytes());
        let keys = SubscriptionKeys::parse(&p256dh, AUTH).unwrap();
        let one = encrypt(b"{\"title\":\"hi\"}", &keys).unwrap();
        let two = encrypt(b"{\"title\":\"hi\"}", &keys).unwrap();
        assert_ne!(one, two);
        assert_eq!(decrypt(&one, &ua, &keys.auth).unwrap(), b"{\"title\":\"hi\"}");
        assert_eq!(encrypt(&[b'x'; PLAINTEXT_MAX + 1], &keys), Err(PushError::TooLarge));
    }

    #[test]
    fn subscription_keys_are_checked() {
        assert!(matches!(SubscriptionKeys::parse("AAAA", AUTH), Err(PushError::BadLength { .. })));
        assert!(matches!(SubscriptionKeys::parse(UA_PUBLIC, "AAAA"), Err(PushError::BadLength { .. })));
        assert_eq!(SubscriptionKeys::parse("!!", AUTH), Err(PushError::NotBase64("keys.p256dh")));
        let mut off_curve = b64_decode("k", UA_PUBLIC).unwrap();
        off_curve[64] ^= 1;
        assert_eq!(SubscriptionKeys::parse(&b64_encode(&off_curve), AUTH), Err(PushError::NotAPoint("keys.p256dh")));
        // Padded base64url is read too.
        assert!(SubscriptionKeys::parse(UA_PUBLIC, "BTBZMqHH6r4Tts7J_aSIgg==").is_ok());
    }
}
