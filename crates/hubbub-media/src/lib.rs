//! Hubbub's photo handling: a storage port, a local-disk adapter, upload spooling with a hard
//! size limit, an image pipeline that makes every stored photo upright, small and free of
//! metadata, and `DiskMediaFiles`, the adapter of the app's `MediaFiles` port (through which
//! the use cases delete the files they no longer reference).
//!
//! Wiring, for the server:
//!
//! ```no_run
//! # async fn wire() -> hubbub_media::Result<()> {
//! use std::sync::Arc;
//! use hubbub_media::*;
//!
//! let disk = Arc::new(LocalDiskStorage::new("data/media").await?);
//! let media: Arc<dyn FileStorage> = Arc::new(ImageOptimizer::new(disk));
//!
//! // Upload: stream the multipart field to a temp file (413 as soon as it is too big)…
//! let chunks = futures_util_stream_of_the_field();
//! let upload = UploadSink::from_stream(media.staging_dir(), DEFAULT_UPLOAD_LIMIT, chunks).await?;
//! // …then put: decoded, oriented, stripped, resized, re-encoded, stored under a fresh name.
//! let stored = media.put(upload.into(), PutOptions::new(MediaPurpose::Message)).await?;
//! println!("{} {} {}x{:?}", stored.name, stored.content_type, stored.size, stored.width);
//!
//! // Serving `GET /media/{name}` with `Range`:
//! let name = StoredName::parse("0b6f5d7e-8c1a-4c1e-9d1e-3f2a1b0c9d8e.jpg")?;
//! let range = ByteRange::parse_header("bytes=0-1023").unwrap_or(ByteRange::Full);
//! let file = media.open(&name, range).await?;
//! # let _ = file; Ok(()) }
//! # fn futures_util_stream_of_the_field() -> impl futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
//! #     struct S; impl futures_core::Stream for S { type Item = Result<bytes::Bytes, std::io::Error>;
//! #     fn poll_next(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> { std::task::Poll::Ready(None) } } S }
//! ```

pub mod error;
pub mod files;
pub mod kind;
pub mod local;
pub mod optimizer;
pub mod pipeline;
pub mod storage;
pub mod strip;
pub mod upload;

pub use error::{MediaError, Result};
pub use files::DiskMediaFiles;
pub use kind::{ContentKind, MediaPurpose, StoredName};
pub use local::LocalDiskStorage;
pub use optimizer::{ImageFacts, ImageOptimizer, OptimizerConfig, ReoptimizeOutcome, Reoptimized, StoredImage};
pub use pipeline::{Method, Optimized, PipelineConfig};
pub use storage::{ByteRange, FileMeta, FileStorage, OpenedFile, PutOptions, PutSource, StoredFile};
pub use upload::{DEFAULT_UPLOAD_LIMIT, TempUpload, UploadSink};
