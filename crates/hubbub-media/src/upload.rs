//! Spooling an upload body to a temp file with a hard size limit.
//!
//! The HTTP layer feeds chunks as they arrive; nothing is buffered whole, and the first
//! chunk that would cross the limit fails with [`MediaError::TooLarge`] before it is written,
//! so the caller can stop reading the body and answer 413 at once.
//!
//! The temp file is owned by a [`tempfile::TempPath`], which deletes it on drop: on an error
//! return, on a panic, and when the request future is dropped because the client went away.
//! No path through this module leaves a file behind.

use std::path::Path;

use bytes::Bytes;
use futures_core::Stream;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::error::{MediaError, Result};

/// The default upload limit from the contract: 20 MiB.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// Prefix of spooled uploads, so a sweep can recognise (and the storage never lists) them.
pub(crate) const TEMP_PREFIX: &str = ".upload-";

/// Writes an incoming upload to a temp file, enforcing a size limit.
#[derive(Debug)]
pub struct UploadSink {
    // `None` once the sink has failed and its file was removed.
    state: Option<(tokio::fs::File, TempPath)>,
    written: u64,
    limit: u64,
}

impl UploadSink {
    /// Creates an empty temp file in `dir` (use [`FileStorage::staging_dir`]) that accepts at
    /// most `limit` bytes.
    ///
    /// [`FileStorage::staging_dir`]: crate::FileStorage::staging_dir
    pub async fn create(dir: &Path, limit: u64) -> Result<Self> {
        let dir = dir.to_owned();
        let named = tokio::task::spawn_blocking(move || {
            tempfile::Builder::new().prefix(TEMP_PREFIX).suffix(".part").tempfile_in(dir)
        })
        .await
        .map_err(|e| MediaError::Internal(e.to_string()))??;
        let (file, path) = named.into_parts();
        Ok(UploadSink { state: Some((tokio::fs::File::from_std(file), path)), written: 0, limit })
    }

    /// Bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Appends a chunk. Fails with [`MediaError::TooLarge`] (removing the temp file) if the
    /// chunk would take the total over the limit; nothing of that chunk is written.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let Some((file, _)) = self.state.as_mut() else {
            return Err(MediaError::Internal("write to a failed upload".into()));
        };
        let total = self.written.saturating_add(chunk.len() as u64);
        if total > self.limit {
            self.discard();
            return Err(MediaError::TooLarge { limit: self.limit });
        }
        if let Err(e) = file.write_all(chunk).await {
            self.discard();
            return Err(e.into());
        }
        self.written = total;
        Ok(())
    }

    /// Closes the file and hands it over for a put. Does not fsync: the storage syncs the
    /// final file, and a temp file lost in a crash is just a failed upload.
    pub async fn finish(mut self) -> Result<TempUpload> {
        let Some((mut file, path)) = self.state.take() else {
            return Err(MediaError::Internal("finish of a failed upload".into()));
        };
        // On error `path` is dropped here, which removes the file.
        file.flush().await?;
        drop(file);
        Ok(TempUpload { path, len: self.written })
    }

    /// Drains a byte stream (e.g. an axum multipart field or a request body) into a temp
    /// file. Stops reading at the first chunk over the limit. A stream error becomes
    /// [`MediaError::UploadAborted`] (→ 400).
    pub async fn from_stream<S, B, E>(dir: &Path, limit: u64, stream: S) -> Result<TempUpload>
    where
        S: Stream<Item = std::result::Result<B, E>>,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let mut sink = UploadSink::create(dir, limit).await?;
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            let chunk = chunk.map_err(|e| MediaError::UploadAborted(e.to_string()))?;
            sink.write(chunk.as_ref()).await?;
        }
        sink.finish().await
    }

    /// Spools bytes already in memory (tests, the CLI).
    pub async fn from_bytes(dir: &Path, limit: u64, bytes: &[u8]) -> Result<TempUpload> {
        let mut sink = UploadSink::create(dir, limit).await?;
        sink.write(bytes).await?;
        sink.finish().await
    }

    fn discard(&mut self) {
        // Dropping the TempPath unlinks the file; close the handle first for Windows' sake.
        if let Some((file, path)) = self.state.take() {
            drop(file);
            drop(path);
        }
    }
}

/// A complete upload in a temp file. Deleted on drop unless a storage adapter moved it into
/// place.
#[derive(Debug)]
pub struct TempUpload {
    pub(crate) path: TempPath,
    len: u64,
}

impl TempUpload {
    /// Where the bytes are.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the upload is zero bytes long.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads the upload into memory.
    pub async fn read(&self) -> Result<Bytes> {
        Ok(Bytes::from(tokio::fs::read(&self.path).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[tokio::test]
    async fn limit_is_enforced_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = UploadSink::create(dir.path(), 10).await.unwrap();
        sink.write(b"12345").await.unwrap();
        sink.write(b"67890").await.unwrap();
        assert_eq!(files_in(dir.path()), 1);
        let err = sink.write(b"x").await.unwrap_err();
        assert!(matches!(err, MediaError::TooLarge { limit: 10 }));
        assert_eq!(files_in(dir.path()), 0, "temp file removed on TooLarge");
        assert!(sink.write(b"").await.is_err(), "a failed sink stays failed");
    }

    #[tokio::test]
    async fn finished_upload_is_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let up = UploadSink::from_bytes(dir.path(), 10, b"hello").await.unwrap();
        assert_eq!(up.len(), 5);
        assert_eq!(&up.read().await.unwrap()[..], b"hello");
        drop(up);
        assert_eq!(files_in(dir.path()), 0);
    }

    #[tokio::test]
    async fn dropped_mid_upload_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = UploadSink::create(dir.path(), 10).await.unwrap();
        sink.write(b"abc").await.unwrap();
        drop(sink);
        assert_eq!(files_in(dir.path()), 0);
    }
}
