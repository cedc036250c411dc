//! The `FileStorage` port: what the rest of Hubbub may do with stored files.
//!
//! Callers hold an `Arc<dyn FileStorage>` and never know whether it is the bare local disk,
//! the [`ImageOptimizer`](crate::ImageOptimizer) wrapped around it, or a future S3-compatible
//! adapter. Everything here is expressed in terms an object store can also provide: whole-object
//! put (never partial), ranged reads with a known total length, delete, stat, list.

use std::ops::Range;
use std::path::Path;
use std::pin::Pin;
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{MediaError, Result};
use crate::kind::{ContentKind, MediaPurpose, StoredName};
use crate::upload::TempUpload;

/// Where the bytes of a put come from.
#[derive(Debug)]
pub enum PutSource {
    /// A complete upload spooled by [`UploadSink`](crate::UploadSink). The temp file is
    /// removed when the put finishes, whatever the outcome.
    File(TempUpload),
    /// Bytes already in memory (small files, re-encoded output, tests).
    Bytes(Bytes),
}

impl From<TempUpload> for PutSource {
    fn from(t: TempUpload) -> Self {
        PutSource::File(t)
    }
}

impl From<Bytes> for PutSource {
    fn from(b: Bytes) -> Self {
        PutSource::Bytes(b)
    }
}

impl From<Vec<u8>> for PutSource {
    fn from(v: Vec<u8>) -> Self {
        PutSource::Bytes(Bytes::from(v))
    }
}

impl PutSource {
    /// Reads the whole source into memory. Uploads are bounded by the sink's limit
    /// (20 MiB by default), so this is bounded too.
    pub async fn into_bytes(self) -> Result<Bytes> {
        match self {
            PutSource::Bytes(b) => Ok(b),
            PutSource::File(t) => Ok(Bytes::from(tokio::fs::read(t.path()).await?)),
        }
    }
}

/// Per-put hints. Plain storage uses `kind` only to pick the extension; the optimizer uses
/// `purpose` to pick the target size.
#[derive(Debug, Clone, Copy)]
pub struct PutOptions {
    /// What the file is for.
    pub purpose: MediaPurpose,
    /// The type of the bytes if the caller already knows it; otherwise plain storage sniffs
    /// the magic bytes, and names unknown data `.bin`.
    pub kind: Option<ContentKind>,
}

impl PutOptions {
    /// Options for a photo of the given purpose, type to be decided from the bytes.
    pub fn new(purpose: MediaPurpose) -> Self {
        PutOptions { purpose, kind: None }
    }
}

/// What a put stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The new, never-before-used name.
    pub name: StoredName,
    /// `Content-Type` matching the stored bytes.
    pub content_type: &'static str,
    /// Stored size in bytes.
    pub size: u64,
    /// Pixel width, when the storage knows it (always, through the optimizer).
    pub width: Option<u32>,
    /// Pixel height, when the storage knows it (always, through the optimizer).
    pub height: Option<u32>,
}

/// Facts about a stored file, for `HEAD`, `ETag` and `Last-Modified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// Size in bytes.
    pub len: u64,
    /// Last modification (changes only when `hubbub media optimize` replaces the file).
    pub modified: Option<SystemTime>,
}

impl FileMeta {
    /// A strong ETag. Names are never reused, and a file's bytes change only when the
    /// optimizer replaces it in place, which changes the size and the mtime.
    pub fn etag(&self, name: &StoredName) -> String {
        let nanos =
            self.modified.and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        format!("\"{}-{:x}-{:x}\"", name.as_str().split('.').next().unwrap_or(""), self.len, nanos)
    }
}

/// A single byte range as asked for by an HTTP `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// The whole file.
    Full,
    /// `bytes=start-`.
    From(u64),
    /// `bytes=first-last`, both inclusive.
    Inclusive(u64, u64),
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a `Range` header value with a single range. Multi-range and malformed values
    /// return `None`, and the server should then answer 200 with the whole file (RFC 9110
    /// allows ignoring `Range`).
    pub fn parse_header(value: &str) -> Option<ByteRange> {
        let spec = value.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        match (a.is_empty(), b.is_empty()) {
            (true, false) => b.parse().ok().map(ByteRange::Suffix),
            (false, true) => a.parse().ok().map(ByteRange::From),
            (false, false) => {
                let (a, b) = (a.parse().ok()?, b.parse().ok()?);
                (a <= b).then_some(ByteRange::Inclusive(a, b))
            }
            (true, true) => None,
        }
    }

    /// The half-open byte range this selects in a file of `len` bytes, or
    /// [`MediaError::RangeNotSatisfiable`] (→ 416).
    pub fn resolve(self, len: u64) -> Result<Range<u64>> {
        let unsatisfiable = Err(MediaError::RangeNotSatisfiable { len });
        match self {
            ByteRange::Full => Ok(0..len),
            ByteRange::From(start) if start < len => Ok(start..len),
            ByteRange::Inclusive(first, last) if first <= last && first < len => {
                Ok(first..last.saturating_add(1).min(len))
            }
            ByteRange::Suffix(n) if n > 0 && len > 0 => Ok(len.saturating_sub(n)..len),
            _ => unsatisfiable,
        }
    }

    /// Whether the response is partial (206) rather than whole (200).
    pub fn is_partial(self) -> bool {
        !matches!(self, ByteRange::Full)
    }
}

/// An opened file (or part of one), ready to stream as a response body.
pub struct OpenedFile {
    /// Length of the whole file (for `Content-Range: bytes a-b/len` and `HEAD`).
    pub total_len: u64,
    /// The half-open range `body` yields.
    pub range: Range<u64>,
    /// Last modification, for `Last-Modified`.
    pub modified: Option<SystemTime>,
    /// `Content-Type` of the stored bytes.
    pub content_type: &'static str,
    /// Exactly `range.end - range.start` bytes. Wrap in `tokio_util::io::ReaderStream` for axum.
    pub body: Pin<Box<dyn AsyncRead + Send + Sync>>,
}

impl OpenedFile {
    /// Bytes that `body` will yield (the `Content-Length` of the response).
    pub fn content_length(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// The `Content-Range` header value for a 206 response.
    pub fn content_range(&self) -> String {
        if self.range.is_empty() {
            format!("bytes */{}", self.total_len)
        } else {
            format!("bytes {}-{}/{}", self.range.start, self.range.end - 1, self.total_len)
        }
    }

    /// Reads the body into memory (tests, small files).
    pub async fn read_to_vec(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.content_length()).unwrap_or(0));
        self.body.read_to_end(&mut out).await?;
        Ok(out)
    }
}

impl std::fmt::Debug for OpenedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedFile")
            .field("total_len", &self.total_len)
            .field("range", &self.range)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// The storage port. Object-safe: use it as `Arc<dyn FileStorage>`.
///
/// Contract every adapter keeps:
/// - a file appears under its name complete or not at all (no half files after a crash);
/// - `put` never overwrites: it picks a fresh random name, and fails rather than clobber;
/// - only [`replace`](FileStorage::replace) changes an existing file, atomically.
#[async_trait]
pub trait FileStorage: Send + Sync + std::fmt::Debug {
    /// A local directory for spooling uploads before `put`; for the disk adapter it is on
    /// the same filesystem as the files, so a put from a temp file is a rename, not a copy.
    fn staging_dir(&self) -> &Path;

    /// Stores new content under a fresh name and returns it.
    async fn put(&self, source: PutSource, options: PutOptions) -> Result<StoredFile>;

    /// Atomically replaces the content of an existing file, keeping its name (used by
    /// `hubbub media optimize`). Readers see the old bytes or the new ones, never a mix.
    /// [`MediaError::NotFound`] if there is no such file. Returns the new size.
    async fn replace(&self, name: &StoredName, source: PutSource) -> Result<u64>;

    /// Opens a file for reading the given range. [`MediaError::NotFound`] or
    /// [`MediaError::RangeNotSatisfiable`].
    async fn open(&self, name: &StoredName, range: ByteRange) -> Result<OpenedFile>;

    /// Size and mtime, or `None` if there is no such file (for `HEAD` and existence checks).
    async fn stat(&self, name: &StoredName) -> Result<Option<FileMeta>>;

    /// Whether a file exists.
    async fn exists(&self, name: &StoredName) -> Result<bool> {
        Ok(self.stat(name).await?.is_some())
    }

    /// Deletes a file. `Ok(false)` if it was already gone (deletes are idempotent so that a
    /// sweep can be retried after a crash).
    async fn delete(&self, name: &StoredName) -> Result<bool>;

    /// Every stored name (for an orphan sweep). Temp files are not listed.
    async fn list(&self) -> Result<Vec<StoredName>>;

    /// Reads a whole file, refusing files over `max_len` with [`MediaError::TooLarge`].
    async fn read_all(&self, name: &StoredName, max_len: u64) -> Result<Vec<u8>> {
        let file = self.open(name, ByteRange::Full).await?;
        if file.total_len > max_len {
            return Err(MediaError::TooLarge { limit: max_len });
        }
        file.read_to_vec().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_resolve() {
        assert_eq!(ByteRange::parse_header("bytes=0-99"), Some(ByteRange::Inclusive(0, 99)));
        assert_eq!(ByteRange::parse_header("bytes=100-"), Some(ByteRange::From(100)));
        assert_eq!(ByteRange::parse_header("bytes=-5"), Some(ByteRange::Suffix(5)));
        assert_eq!(ByteRange::parse_header("bytes=0-1,4-5"), None);
        assert_eq!(ByteRange::parse_header("bytes=9-1"), None);
        assert_eq!(ByteRange::parse_header("items=0-1"), None);
        assert_eq!(ByteRange::Inclusive(0, 99).resolve(50).unwrap(), 0..50);
        assert_eq!(ByteRange::Suffix(500).resolve(50).unwrap(), 0..50);
        assert_eq!(ByteRange::From(49).resolve(50).unwrap(), 49..50);
        assert!(matches!(ByteRange::From(50).resolve(50), Err(MediaError::RangeNotSatisfiable { len: 50 })));
        assert!(ByteRange::Suffix(0).resolve(50).is_err());
        assert_eq!(ByteRange::Full.resolve(0).unwrap(), 0..0);
    }
}
