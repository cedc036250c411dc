//! `WebPushSender`, the app's `PushSender` port over HTTP: the subscription checked, the
//! payload encrypted (`ece`), signed for (`vapid`), and POSTed behind the SSRF guard.
//!
//! The guard: an endpoint must be `https` (no credentials in it) on a public address
//! (`hubbub_app::addr::is_public`). An address literal is checked before anything else; a
//! name is resolved by the client's resolver at each send, which refuses it if any of its
//! addresses is not public and hands the connector only the addresses it checked (no second
//! lookup for a DNS rebinding to answer). No redirect is followed: a push service answers,
//! it does not redirect. `allow_insecure` (the operator's `--push-allow-insecure`, for
//! tests) lifts the https and address rules.

use crate::{SubscriptionKeys, VapidKey};
use async_trait::async_trait;
use hubbub_app::addr;
use hubbub_app::ports::{PushOutcome, PushSender, PushSubscription};
use hubbub_links::guard::GuardedResolver;
use reqwest::Url;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a VAPID JWT is valid (RFC 8292 allows at most 24 hours).
const JWT_LIFETIME: Duration = Duration::from_secs(12 * 3600);

#[derive(Clone, Debug)]
pub struct SenderConfig {
    /// Tests only: allows http and loopback or private addresses. Never on in production.
    pub allow_insecure: bool,
    /// The VAPID `sub`: a `mailto:` or `https:` contact for push services.
    pub subject: String,
    pub timeout: Duration,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            allow_insecure: false,
            subject: "mailto:hubbub@localhost".into(),
            timeout: Duration::from_secs(10),
        }
    }
}

pub struct WebPushSender {
    key: VapidKey,
    client: reqwest::Client,
    config: SenderConfig,
}

impl WebPushSender {
    pub fn new(key: VapidKey, config: SenderConfig) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver { allow_private: config.allow_insecure }))
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("Hubbub/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(WebPushSender { key, client, config })
    }

    /// The endpoint's URL if the guard lets it through (see the module's doc).
    fn endpoint(&self, endpoint: &str) -> Result<Url, String> {
        let url = Url::parse(endpoint).map_err(|_| "endpoint: not a URL".to_owned())?;
        let allowed = if self.config.allow_insecure { &["https", "http"][..] } else { &["https"][..] };
        if !allowed.contains(&url.scheme()) {
            return Err("endpoint: must be an https URL".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("endpoint: credentials in the URL".into());
        }
        let host = url.host_str().ok_or_else(|| "endpoint: no host".to_owned())?;
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if !self.config.allow_insecure
            && let Ok(ip) = literal.parse::<IpAddr>()
            && !addr::is_public(ip)
        {
            return Err("endpoint: not a public address".into());
        }
        Ok(url)
    }
}

#[async_trait]
impl PushSender for WebPushSender {
    fn public_key(&self) -> String {
        self.key.public_key()
    }

    fn check(&self, subscription: &PushSubscription) -> Result<(), String> {
        self.endpoint(&subscription.endpoint)?;
        SubscriptionKeys::parse(&subscription.p256dh, &subscription.auth).map_err(|e| e.to_string())?;
        Ok(())
    }

    async fn send(&self, subscription: &PushSubscription, payload: &[u8], ttl_seconds: u32) -> PushOutcome {
        let url = match self.endpoint(&subscription.endpoint) {
            Ok(url) => url,
            Err(why) => return PushOutcome::Failed(why),
        };
        let keys = match SubscriptionKeys::parse(&subscription.p256dh, &subscription.auth) {
            Ok(keys) => keys,
            Err(error) => return PushOutcome::Failed(error.to_string()),
        };
        let body = match crate::encrypt(payload, &keys) {
            Ok(body) => body,
            Err(error) => return PushOutcome::Failed(error.to_string()),
        };
        // RFC 8292 §2: the audience is the push resource's origin.
        let audience = url.origin().ascii_serialization();
        let expires = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + JWT_LIFETIME;
        let authorization = self.key.authorization(&audience, &self.config.subject, expires.as_secs());
        let sent = self
            .client
            .post(url)
            .header("Authorization", authorization)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("TTL", ttl_seconds.to_string())
            // A chat message is what "high" is for (RFC 8030 §5.3: incoming chat message).
            .header("Urgency", "high")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => outcome(response.status().as_u16()),
            Err(error) if is_refused(&error) => PushOutcome::Failed(format!("refused: {error}")),
            Err(error) => PushOutcome::Retry(error.to_string()),
        }
    }
}

/// What a push service's status means for the job.
pub fn outcome(status: u16) -> PushOutcome {
    match status {
        200..=299 => PushOutcome::Delivered,
        404 | 410 => PushOutcome::Gone,
        429 | 500..=599 => PushOutcome::Retry(format!("status {status}")),
        300..=399 => PushOutcome::Failed(format!("a redirect ({status}), not followed")),
        _ => PushOutcome::Failed(format!("status {status}")),
    }
}

fn is_refused(error: &reqwest::Error) -> bool {
    hubbub_links::guard::blocked(error).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(allow_insecure: bool) -> WebPushSender {
        WebPushSender::new(VapidKey::generate(), SenderConfig { allow_insecure, ..Default::default() }).unwrap()
    }

    const P256DH: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    fn subscription(endpoint: &str) -> PushSubscription {
        PushSubscription { endpoint: endpoint.into(), p256dh: P256DH.into(), auth: AUTH.into() }
    }

    #[tokio::test]
    async fn only_https_on_public_addresses_unless_allowed() {
        let strict = sender(false);
        assert!(strict.check(&subscription("https://push.example.net/abc")).is_ok());
        for endpoint in [
            "http://push.example.net/abc",
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https://10.1.2.3/x",
            "https://169.254.169.254/x",
            "https://user:pw@push.example.net/x",
            "ftp://push.example.net/x",
            "not a url",
        ] {
            assert!(strict.check(&subscription(endpoint)).is_err(), "{endpoint}");
        }
        // A name is resolved at send time, and refused there.
        let refused = strict.send(&subscription("https://localhost/x"), b"{}", 60).await;
        assert!(matches!(refused, PushOutcome::Failed(ref why) if why.starts_with("refused")), "{refused:?}");
        assert!(sender(true).check(&subscription("http://127.0.0.1:9/x")).is_ok());
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(outcome(201), PushOutcome::Delivered);
        assert_eq!(outcome(410), PushOutcome::Gone);
        assert_eq!(outcome(404), PushOutcome::Gone);
        assert!(matches!(outcome(503), PushOutcome::Retry(_)));
        assert!(matches!(outcome(429), PushOutcome::Retry(_)));
        assert!(matches!(outcome(301), PushOutcome::Failed(_)));
        assert!(matches!(outcome(400), PushOutcome::Failed(_)));
    }
}
