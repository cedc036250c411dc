//! RFC 8292 VAPID: the server's P-256 key, whose public half browsers are given as the
//! `applicationServerKey`, signs for each push a short-lived ES256 JWT naming the push
//! service's origin (`aud`), an expiry (`exp`, at most 24 h ahead) and a contact (`sub`).

use crate::{PushError, b64_decode, b64_encode, b64_fixed};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use rand_core::OsRng;

/// The server's VAPID key pair.
#[derive(Clone)]
pub struct VapidKey {
    signing: SigningKey,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private half.
        f.debug_struct("VapidKey").field("public_key", &self.public_key()).finish()
    }
}

/// The server's key: the operator's (`configured`, base64url) if given, else the one kept
/// at `path`, else a new one written there (readable by the owner only, 0600) so that
/// subscriptions survive restarts: browsers subscribed with its public half.
pub fn load_or_create(path: &std::path::Path, configured: Option<&str>) -> Result<VapidKey, String> {
    if let Some(text) = configured {
        return VapidKey::from_base64url(text).map_err(|e| format!("the configured VAPID private key: {e}"));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => VapidKey::from_base64url(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = VapidKey::generate();
            write_private(path, &key.private_key()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(key)
        }
        Err(error) => Err(format!("cannot read {}: {error}", path.display())),
    }
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    // create_new: two nodes sharing a data dir never overwrite each other's key.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// What a VAPID JWT says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub aud: String,
    pub exp: u64,
    pub sub: String,
}

impl VapidKey {
    pub fn generate() -> Self {
        VapidKey { signing: SigningKey::random(&mut OsRng) }
    }

    /// From the private scalar, 32 bytes in base64url (what `private_key` writes, and what
    /// `web-push generate-vapid-keys` and most tools print).
    pub fn from_base64url(text: &str) -> Result<Self, PushError> {
        let bytes: [u8; 32] = b64_fixed("the VAPID private key", text)?;
        let signing = SigningKey::from_bytes(&bytes.into()).map_err(|_| PushError::BadPrivateKey)?;
        Ok(VapidKey { signing })
    }

    /// The private scalar in base64url, to keep it.
    pub fn private_key(&self) -> String {
        b64_encode(&self.signing.to_bytes())
    }

    /// The public key, an uncompressed point in base64url: the `applicationServerKey`.
    pub fn public_key(&self) -> String {
        b64_encode(self.signing.verifying_key().to_encoded_point(false).as_bytes())
    }

    /// The `Authorization` header's value for a push to a service at `audience` (the
    /// endpoint's origin, `https://host[:port]`).
    pub fn authorization(&self, audience: &str, subject: &str, expires_at: u64) -> String {
        let header = b64_encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({"aud": audience, "exp": expires_at, "sub": subject});
        let claims = b64_encode(claims.to_string().as_bytes());
        let input = format!("{header}.{claims}");
        let signature: Signature = self.signing.sign(input.as_bytes());
        format!("vapid t={input}.{}, k={}", b64_encode(&signature.to_bytes()), self.public_key())
    }
}

/// Checks an `Authorization: vapid t=…, k=…` value as a push service does: the JWT is
/// ES256, signed by the key `k`. Returns its claims and `k`.
pub fn verify(authorization: &str) -> Result<(Claims, String), PushError> {
    let rest = authorization.strip_prefix("vapid ").ok_or(PushError::BadAuthorization("not the vapid scheme"))?;
    let mut token = None;
    let mut key = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(t) = part.strip_prefix("t=") {
            token = Some(t);
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k);
        }
    }
    let (token, key) = token.zip(key).ok_or(PushError::BadAuthorization("t or k missing"))?;
    let point = b64_decode("k", key)?;
    let verifying = VerifyingKey::from_sec1_bytes(&point).map_err(|_| PushError::NotAPoint("k"))?;
    let (input, signature) = token.rsplit_once('.').ok_or(PushError::BadAuthorization("not a JWT"))?;
    let signature: [u8; 64] = b64_fixed("the signature", signature)?;
    let signature = Signature::from_slice(&signature).map_err(|_| PushError::BadAuthorization("bad signature"))?;
    verifying.verify(input.as_bytes(), &signature).map_err(|_| PushError::BadAuthorization("bad signature"))?;
    let (header, claims) = input.split_once('.').ok_or(PushError::BadAuthorization("not a JWT"))?;
    let header: serde_json::Value = serde_json::from_slice(&b64_decode("the JWT header", header)?)
        .map_err(|_| PushError::BadAuthorization("the header is not JSON"))?;
    if header["alg"] != "ES256" {
        return Err(PushError::BadAuthorization("not ES256"));
    }
    let claims: serde_json::Value = serde_json::from_slice(&b64_decode("the JWT claims", claims)?)
        .map_err(|_| PushError::BadAuthorization("the claims are not JSON"))?;
    let claims = Claims {
        aud: claims["aud"].as_str().unwrap_or_default().to_owned(),
        exp: claims["exp"].as_u64().unwrap_or_default(),
        sub: claims["sub"].as_str().unwrap_or_default().to_owned(),
    };
    Ok((claims, key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_authorization_verifies_with_its_key_and_says_its_claims() {
        let key = VapidKey::generate();
        let header = key.authorization("https://push.example.net", "mailto:ops@example.org", 1_700_000_000);
        let (claims, k) = verify(&header).unwrap();
        assert_eq!(k, key.public_key());
        assert_eq!(
            claims,
            Claims { aud: "https://push.example.net".into(), exp: 1_700_000_000, sub: "mailto:ops@example.org".into() }
        );
        assert_eq!(b64_decode("k", &k).unwrap().len(), 65);
        // Another key's k does not verify this signature.
        let other = VapidKey::generate();
        let forged = header.replace(&key.public_key(), &other.public_key());
        assert_eq!(verify(&forged).unwrap_err(), PushError::BadAuthorization("bad signature"));
    }

    #[test]
    fn a_key_is_made_once_kept_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("hubbub-vapid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("vapid_private_key");
        let _ = std::fs::remove_file(&path);
        let first = load_or_create(&path, None).unwrap();
        let again = load_or_create(&path, None).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let operator = VapidKey::generate();
        let chosen = load_or_create(&path, Some(&operator.private_key())).unwrap();
        assert_eq!(chosen.public_key(), operator.public_key());
        assert!(load_or_create(&path, Some("nope")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_private_key_round_trips_and_bad_ones_are_refused() {
        let key = VapidKey::generate();
        let again = VapidKey::from_base64url(&key.private_key()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert!(matches!(VapidKey::from_base64url("AAAA"), Err(PushError::BadLength { .. })));
        let zero = b64_encode(&[0u8; 32]);
        assert_eq!(VapidKey::from_base64url(&zero).unwrap_err(), PushError::BadPrivateKey);
        assert!(!format!("{key:?}").contains(&key.private_key()));
    }
}
