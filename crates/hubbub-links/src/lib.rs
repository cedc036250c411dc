//! The link preview fetcher: `HttpLinkFetcher`, the app's `LinkFetcher` port over HTTP(S).
//!
//! The SSRF guard, in the order a fetch meets it:
//! - only `http`/`https` URLs without credentials, on port 80 or 443;
//! - a host written as an IP address must be public (`addr::is_public`); a host name is
//!   resolved by the client's resolver, `GuardedResolver`, which refuses the name if any
//!   address it resolves to is not public, and hands the checked addresses to the
//!   connector, which connects to one of them: there is no second lookup that a DNS
//!   rebinding could answer differently;
//! - redirects are followed here, not by the client: at most `redirects_max`, each target
//!   checked as the first URL was;
//! - the page must be `text/html` and at most `html_max` bytes (refused as soon as its
//!   `Content-Length` or what was read passes that), the image `image/*` and at most
//!   `image_max` bytes, re-encoded by the media pipeline before it is stored;
//! - everything on the network, redirects and image included, within `timeout` in all
//!   (the image gets what the page left; a page without its image is still a preview).
//!
//! No proxy from the environment is used, and no cookie is kept.

// The public-address check is the app's, shared with the Web Push sender.
pub use hubbub_app::addr;
pub mod charset;
pub mod guard;
pub mod html;

use guard::GuardedResolver;

use async_trait::async_trait;
use bytes::Bytes;
use hubbub_app::ports::{FetchedLink, LinkFetchError, LinkFetcher, PhotoInput};
use hubbub_media::{ImageOptimizer, MediaPurpose, PutSource};
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Response, Url};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The limits of a fetch, and the test-only escape from the address guard.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// Tests only: allows private and loopback addresses and any port (a test server on
    /// 127.0.0.1 and a random port). Never on in production.
    pub allow_private: bool,
    pub timeout: Duration,
    pub html_max: usize,
    pub image_max: usize,
    pub redirects_max: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            allow_private: false,
            timeout: Duration::from_secs(5),
            html_max: 512 * 1024,
            image_max: 5 * 1024 * 1024,
            redirects_max: 3,
        }
    }
}

pub struct HttpLinkFetcher {
    client: reqwest::Client,
    config: LinkConfig,
    optimizer: Arc<ImageOptimizer>,
}

impl HttpLinkFetcher {
    /// A fetcher whose images go through `optimizer` (the pipeline uploads use).
    pub fn new(config: LinkConfig, optimizer: Arc<ImageOptimizer>) -> Result<Self, LinkFetchError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_private: config.allow_private }))
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("HubbubLinkPreview/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LinkFetchError::Failed(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpLinkFetcher { client, config, optimizer })
    }

    /// Refuses what the guard refuses before any connection (see the crate's doc).
    fn check(&self, url: &Url) -> Result<(), LinkFetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(LinkFetchError::Refused(format!("scheme {}", url.scheme())));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(LinkFetchError::Refused("credentials in the URL".into()));
        }
        let host = url.host_str().ok_or_else(|| LinkFetchError::Refused("no host".into()))?;
        if self.config.allow_private {
            return Ok(());
        }
        if !matches!(url.port_or_known_default(), Some(80 | 443)) {
            return Err(LinkFetchError::Refused("a port other than 80 and 443".into()));
        }
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            Ok(ip) if !addr::is_public(ip) => Err(LinkFetchError::Refused(format!("address {ip}"))),
            _ => Ok(()),
        }
    }

    /// GET with the redirects followed and checked here.
    async fn get(&self, url: &str, accept: &'static str) -> Result<Response, LinkFetchError> {
        let mut url = Url::parse(url).map_err(|e| LinkFetchError::Refused(format!("not a URL: {e}")))?;
        for hop in 0..=self.config.redirects_max {
            self.check(&url)?;
            let response = self.client.get(url.clone()).header(ACCEPT, accept).send().await.map_err(fetch_error)?;
            let status = response.status();
            if status.is_redirection() {
                if hop == self.config.redirects_max {
                    return Err(LinkFetchError::Failed("too many redirects".into()));
                }
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| LinkFetchError::Failed(format!("a {status} without a Location")))?;
                url = url.join(location).map_err(|e| LinkFetchError::Refused(format!("bad redirect: {e}")))?;
                continue;
            }
            if !status.is_success() {
                return Err(LinkFetchError::Failed(format!("status {status}")));
            }
            return Ok(response);
        }
        Err(LinkFetchError::Failed("too many redirects".into()))
    }

    async fn page(&self, url: &str) -> Result<(Url, html::PageMeta), LinkFetchError> {
        let response = self.get(url, "text/html").await?;
        if media_type(&response).is_none_or(|t| t != "text/html") {
            return Err(LinkFetchError::Nothing("not an HTML page".into()));
        }
        let final_url = response.url().clone();
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = read_limited(response, self.config.html_max).await?;
        Ok((final_url, html::parse(&charset::decode(&body, content_type.as_deref()))))
    }

    async fn image(&self, url: &str) -> Result<Bytes, LinkFetchError> {
        let response = self.get(url, "image/*").await?;
        if media_type(&response).is_none_or(|t| !t.starts_with("image/")) {
            return Err(LinkFetchError::Nothing("not an image".into()));
        }
        read_limited(response, self.config.image_max).await
    }

    /// Re-encodes and stores the image; `None` (logged) if the pipeline refuses it.
    async fn store_image(&self, bytes: Bytes) -> Option<PhotoInput> {
        match self.optimizer.put_image(PutSource::Bytes(bytes), MediaPurpose::Message).await {
            Ok(stored) => Some(PhotoInput {
                media_name: stored.name.as_str().to_owned(),
                content_type: stored.content_type().to_owned(),
                size_bytes: stored.size,
                width: stored.width,
                height: stored.height,
            }),
            Err(error) => {
                tracing::debug!(%error, "a link preview's image was refused by the pipeline");
                None
            }
        }
    }
}

#[async_trait]
impl LinkFetcher for HttpLinkFetcher {
    async fn fetch(&self, url: &str) -> Result<FetchedLink, LinkFetchError> {
        let deadline = Instant::now() + self.config.timeout;
        let (page_url, meta) =
            tokio::time::timeout_at(deadline, self.page(url)).await.map_err(|_| LinkFetchError::Timeout)??;
        let title = meta.title.ok_or_else(|| LinkFetchError::Nothing("no title".into()))?;
        let image_url = meta.image.and_then(|src| page_url.join(&src).ok());
        let image_bytes = match image_url {
            Some(image_url) => match tokio::time::timeout_at(deadline, self.image(image_url.as_str())).await {
                Ok(Ok(bytes)) => Some(bytes),
                Ok(Err(error)) => {
                    tracing::debug!(code = error.code(), %error, "a link preview without its image");
                    None
                }
                Err(_) => {
                    tracing::debug!("a link preview without its image: out of time");
                    None
                }
            },
            None => None,
        };
        // Outside the deadline: a put cut short could leave a file nothing knows of.
        let image = match image_bytes {
            Some(bytes) => self.store_image(bytes).await,
            None => None,
        };
        Ok(FetchedLink { title, description: meta.description, site_name: meta.site_name, image })
    }
}

/// The media type of a response (`text/html` of `text/html; charset=utf-8`), lowercased.
fn media_type(response: &Response) -> Option<String> {
    let value = response.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// The body, refused as soon as it is known to be over `max` bytes.
async fn read_limited(mut response: Response, max: usize) -> Result<Bytes, LinkFetchError> {
    if response.content_length().is_some_and(|length| length > max as u64) {
        return Err(LinkFetchError::TooLarge(format!("over {max} bytes")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(fetch_error)? {
        if body.len() + chunk.len() > max {
            return Err(LinkFetchError::TooLarge(format!("over {max} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

fn fetch_error(error: reqwest::Error) -> LinkFetchError {
    if error.is_timeout() {
        return LinkFetchError::Timeout;
    }
    if let Some(blocked) = guard::blocked(&error) {
        return LinkFetchError::Refused(blocked.to_string());
    }
    LinkFetchError::Failed(error.without_url().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fetcher(config: LinkConfig) -> (HttpLinkFetcher, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let disk = Arc::new(hubbub_media::LocalDiskStorage::new(dir.path()).await.unwrap());
        (HttpLinkFetcher::new(config, Arc::new(ImageOptimizer::new(disk))).unwrap(), dir)
    }

    /// Each is refused before any connection is made: by scheme, credentials, port, an
    /// address literal, or a name the resolver finds private (`localhost`).
    #[tokio::test]
    async fn private_names_and_literals_bad_ports_and_schemes_are_refused() {
        let (fetcher, _dir) = fetcher(LinkConfig::default()).await;
        for url in [
            "http://localhost/",
            "https://localhost/",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0/",
            "https://192.168.1.1/",
            "http://10.1.2.3:443/",
            "http://example.com:8080/",
            "http://example.com:22/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "http://user:pw@example.com/",
            "not a url",
        ] {
            let result = fetcher.fetch(url).await;
            assert!(matches!(result, Err(LinkFetchError::Refused(_))), "{url}: {result:?}");
        }
    }

    #[tokio::test]
    async fn the_test_flag_still_refuses_other_schemes_and_credentials() {
        let (fetcher, _dir) = fetcher(LinkConfig { allow_private: true, ..LinkConfig::default() }).await;
        for url in ["file:///etc/passwd", "ftp://127.0.0.1/", "http://a:b@127.0.0.1/"] {
            assert!(matches!(fetcher.fetch(url).await, Err(LinkFetchError::Refused(_))), "{url}");
        }
    }
}
