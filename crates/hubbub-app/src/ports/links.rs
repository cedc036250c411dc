//! The link preview port: fetching what a link points at, and what a use case attaches.

use super::*;

/// Fetches the preview of one http(s) URL: the page's title, description and site name, and
/// its image already re-encoded and stored by the media pipeline. Chosen once at start-up
/// and held as `Arc<dyn LinkFetcher>` (`hubbub_links::HttpLinkFetcher` over HTTP, with its
/// SSRF guard); none configured means link previews are off.
#[async_trait]
pub trait LinkFetcher: Send + Sync + 'static {
    /// What `url` shows, or why there is nothing to show. The image, if any, is stored
    /// before this returns; the caller owns that file from then on (it references it or
    /// deletes it).
    async fn fetch(&self, url: &str) -> Result<FetchedLink, LinkFetchError>;
}

/// A page's preview as the fetcher found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedLink {
    pub title: String,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// The `og:image`, re-encoded and stored.
    pub image: Option<PhotoInput>,
}

/// Why a link has no preview. Each has a stable machine code (`code`), for the log.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LinkFetchError {
    /// Not an http(s) URL on port 80 or 443, or a host that resolves to an address the
    /// server must not reach (loopback, private, link-local, ...), first or after a redirect.
    #[error("refused: {0}")]
    Refused(String),
    /// Over the time limit, or over the size limit of the page or its image.
    #[error("over the limit: {0}")]
    TooLarge(String),
    #[error("timed out")]
    Timeout,
    /// Not an HTML page, or one without anything to show (no title).
    #[error("nothing to preview: {0}")]
    Nothing(String),
    /// The host could not be reached or answered with an error.
    #[error("fetch failed: {0}")]
    Failed(String),
}

impl LinkFetchError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            LinkFetchError::Refused(_) => "link_refused",
            LinkFetchError::TooLarge(_) => "link_too_large",
            LinkFetchError::Timeout => "link_timeout",
            LinkFetchError::Nothing(_) => "link_nothing",
            LinkFetchError::Failed(_) => "link_failed",
        }
    }
}

/// The image of a preview to attach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkImage {
    /// Just stored by the pipeline for this preview: the store records it.
    Fresh(PhotoInput),
    /// Stored for an earlier preview of the same URL (the cache): its record must still be
    /// there, or the write is refused (`StoreError::NotFound`: the file may be gone).
    Cached(PhotoInput),
}

impl LinkImage {
    pub fn photo(&self) -> &PhotoInput {
        match self {
            LinkImage::Fresh(photo) | LinkImage::Cached(photo) => photo,
        }
    }
}

/// A preview to attach to a message (`Store::set_link_preview`).
#[derive(Clone, Debug)]
pub struct NewLinkPreview {
    pub url: String,
    pub title: String,
    pub description: Option<String>,
    pub site_name: Option<String>,
    pub image: Option<LinkImage>,
}

/// A link preview taken away (`Store::clear_link_preview`).
#[derive(Clone, Debug)]
pub struct ClearedLinkPreview {
    /// The message as it now is, without a preview.
    pub message: Message,
    pub committed: Committed,
    /// Its image's file, when nothing uses it any more (its record is gone; the caller
    /// deletes the file).
    pub unreferenced: Option<String>,
}
